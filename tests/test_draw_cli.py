"""DALL-E end to end on a tiny two-colour world: the tiny recipe (dVAE, then the transformer) learns to follow the
colour words; `draw` writes its grid (re-ranked best first); `eval draw` scores prompts with a judge; bad input
(an empty prompt, words outside the vocabulary, a bad prompts file, an existing output) -> one line, exit 2."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F

from sightsound.data import dalle_shapes as world
from sightsound.pretrained.dalle import Drawer
from sightsound.training import recipes
from tests.test_cli import assert_clean_failure, run


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("dalle")
    dvae = recipes.resolve("recipes/dalle_shapes.py", "tiny", [])
    recipes.run(dvae, None, root / "dvae", progress=False)
    prior = recipes.resolve("recipes/dalle_shapes.py", "tiny", ["model.stage='prior'", "train.max_steps=150", "train.lr=3e-3",
                                                                f"train.init_from='{root / 'dvae'}'"])
    recipes.run(prior, None, root / "prior", progress=False)
    judge = recipes.resolve("recipes/shape_judge.py", "tiny", [])
    recipes.run(judge, None, root / "judge", progress=False)
    return root


def _swap(caption: str) -> str:
    return caption.replace("red", "_").replace("blue", "red").replace("_", "blue")


def test_tiny_preset_learns_a_two_colour_world(tiny_runs):
    """The transformer predicts held-apart scenes' image tokens better from their own caption than from the
    caption with red and blue swapped: it reads the colour words."""
    model = Drawer.from_pretrained(tiny_runs / "prior").model
    images, scenes = world.split_world(world.Config(image_size=32, object_scale=0.9, colours=("red", "blue")),
                                       "test", 64)
    tokens = model.dvae.encode(torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255).flatten(1)
    losses = []
    for captions in ([s.caption for s in scenes], [_swap(s.caption) for s in scenes]):
        with torch.no_grad():
            _, logits = model(torch.stack([world.encode_text(c) for c in captions]), tokens)
        losses.append(float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tokens.reshape(-1))))
    right, swapped = losses
    assert right < 0.95 * swapped, losses


def test_draw_writes_a_grid_reranked_best_first(tiny_runs, tmp_path):
    out = tmp_path / "grid.png"
    result = run("draw", "a large red circle", "-n", "4", "--rerank", "--tokens", "-o", str(out), "--model",
                 str(tiny_runs / "prior"), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert out.stat().st_size > 1000 and len(report["scores"]) == 4
    assert report["scores"] == sorted(report["scores"], reverse=True)


def test_draw_bad_input(tiny_runs, tmp_path):
    model = ["--model", str(tiny_runs / "prior")]
    assert_clean_failure(run("draw", "  ", "-o", str(tmp_path / "a.png"), *model), "empty")
    assert_clean_failure(run("draw", "a pink hexagon above a red circle", "-o", str(tmp_path / "a.png"), *model),
                         "hexagon, pink")
    assert_clean_failure(run("draw", "a red circle", "-n", "0", "-o", str(tmp_path / "a.png"), *model), "-n")
    kept = tmp_path / "kept.png"
    kept.write_bytes(b"mine")
    assert_clean_failure(run("draw", "a red circle", "-o", str(kept), *model), "exists")
    assert kept.read_bytes() == b"mine"
    assert_clean_failure(run("draw", "a red circle", "-o", str(tmp_path / "a.png"), "--model", str(tmp_path)),
                         "not a model folder")


def test_tour_refuses_a_prompt_outside_the_vocabulary(tmp_path):
    assert_clean_failure(run("tour", "--out", str(tmp_path / "t"), "--prompt", "a teal blob"), "blob, teal")
    assert not (tmp_path / "t").exists()


def test_eval_draw_with_a_prompts_file(tiny_runs, tmp_path):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("# two prompts\na large red circle\na small blue square above a large red circle\n")
    result = run("eval", "draw", "--prompts", str(prompts), "-n", "2", "--model", str(tiny_runs / "prior"),
                 "--judge", str(tiny_runs / "judge"), "--judge-scenes", "10", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["one_object"]["prompts"] == 1 and report["two_objects"]["prompts"] == 1
    for kind in ("one_object", "two_objects"):
        assert 0.0 <= report[kind]["unranked"] <= report[kind]["any_of_n"] <= 1.0
    assert set(report["judge"]) == {"originals", "reconstructions", "scenes"}
    bad = tmp_path / "bad.txt"
    bad.write_text("a large red circle\na large red blob\n")
    assert_clean_failure(run("eval", "draw", "--prompts", str(bad), "--model", str(tiny_runs / "prior")),
                         "line 2")
    empty = tmp_path / "empty.txt"
    empty.write_text("\n# nothing\n")
    assert_clean_failure(run("eval", "draw", "--prompts", str(empty)), "no prompts")
