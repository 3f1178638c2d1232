"""Captioning end to end: `sightsound shapes`, `caption` (picture + JSON maps), `eval caption` (coco-caption
scores + attention correctness), and one-line errors for bad images, outputs and models."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from PIL import Image

from sightsound.cli import main
from sightsound.training import recipes
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("captions")
    run = root / "run"
    recipes.run(recipes.resolve(ROOT / "recipes" / "captioner_shapes.py", "tiny"), None, run, progress=False)
    assert main(["shapes", "--out", str(root / "scenes"), "--images", "6", "--seed", "9", "--size", "32"]) == 0
    return root, run


def test_caption_writes_the_picture_and_json_maps(tiny, capsys, tmp_path):
    root, run = tiny
    image = sorted((root / "scenes" / "images").glob("*.png"))[0]
    out = tmp_path / "att.png"
    assert main(["caption", str(image), "--model", str(run), "--beam", "2", "-o", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert out.stat().st_size > 1000
    assert result["grid"] == [8, 8] and len(result["maps"]) == len(result["words"])
    for m in result["maps"]:
        assert abs(np.sum(m) - 1) < 1e-3
    assert main(["caption", str(image), "--model", str(run), "-o", str(out)]) == 2  # exists, no --force
    assert "exists" in capsys.readouterr().err


@pytest.mark.parametrize("mode", ["L", "RGBA", "P"])
def test_other_image_modes_are_captioned(tiny, capsys, tmp_path, mode):
    _, run = tiny
    path = tmp_path / "x.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (50, 70, 3), dtype=np.uint8)).convert(mode).save(path)
    assert main(["caption", str(path), "--model", str(run)]) == 0
    assert capsys.readouterr().out.strip() != ""


def test_bad_inputs_get_one_line_and_exit_2(tiny, capsys, tmp_path):
    root, run = tiny
    (tmp_path / "notes.jpg").write_text("hello")
    Image.new("RGB", (1, 1)).save(tmp_path / "dot.png")
    image = sorted((root / "scenes" / "images").glob("*.png"))[0]
    cases = [["caption", str(tmp_path / "notes.jpg"), "--model", str(run)],
             ["caption", str(tmp_path / "dot.png"), "--model", str(run)],
             ["caption", str(tmp_path / "missing.png"), "--model", str(run)],
             ["caption", str(image), "--model", str(tmp_path)],
             ["caption", str(image), "--model", str(run), "-o", str(image)],
             ["caption", str(image), "--model", str(run), "--beam", "0"],
             ["eval", "caption", "--model", str(run), "--data", str(tmp_path)],
             ["shapes", "--out", str(root / "scenes"), "--images", "2"]]
    for argv in cases:
        try:
            code = main(argv)
        except SystemExit as stop:  # argparse's own errors
            code = stop.code
        assert code == 2, argv
        err = capsys.readouterr().err.strip()
        assert err and "\n" not in err and "Traceback" not in err, (argv, err)


@pytest.mark.skipif(shutil.which("java") is None, reason="coco-caption needs Java")
def test_eval_caption_scores_and_attention_correctness(tiny, capsys):
    pytest.importorskip("pycocoevalcap")
    root, run = tiny
    assert main(["eval", "caption", "--model", str(run), "--data", str(root / "scenes"), "--beam", "2",
                 "--no-meteor", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["images"] == 6 and set(report["scores"]) == {"BLEU-1", "BLEU-2", "BLEU-3", "BLEU-4", "ROUGE-L",
                                                               "CIDEr"}
    assert "attention" in report and report["attention"]["scored_words"] + report["attention"]["unmatched_words"] >= 0
