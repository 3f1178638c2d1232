"""Speech2Face end to end on a tiny world: the tiny preset trains, ``eval speech2face`` scores held-out speakers,
``face-from-voice`` draws and ranks a gallery, ``voices`` writes a world, and every bad input ends in one line
with exit code 2 (no speech, too short, unreadable, existing output). Real faces are found when the data is
there."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from sightsound.audio import io as audio_io
from sightsound.data import speaker_world as world
from sightsound.data.speech2face import write_synthetic
from sightsound.errors import UserInputError
from sightsound.evaluation.speech2face import pearson, roc_auc
from sightsound.training import recipes
from sightsound.vision import faces
from tests.conftest import ROOT
from tests.test_cli import assert_clean_failure, run

RECIPE = ROOT / "recipes" / "speech2face.py"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("s2f")
    write_synthetic(root)
    world.write_world(root / "world", 40, seed=0, clips=1, photos=2, seconds=1.0, progress=False)
    faces_run, out = root / "faces", root / "run"
    recipes.run(recipes.resolve(RECIPE, "tiny"), str(root), faces_run, progress=False)
    recipes.run(recipes.resolve(RECIPE, "tiny", ["model.stage='voice'", f"train.init_from='{faces_run}'"]),
                str(root), out, progress=False)
    return root, out


def test_the_voice_stage_learns_with_the_face_side_frozen(trained):
    from sightsound.pretrained import load_pretrained

    root, out = trained
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    losses = [r["train/loss"] for r in records if "train/loss" in r]
    assert losses[-1] < 0.8 * losses[0]
    before, after = load_pretrained(root / "faces"), load_pretrained(out)
    for name in ("face_encoder", "classifier", "decoder"):
        for p, q in zip(getattr(before, name).state_dict().values(), getattr(after, name).state_dict().values()):
            assert torch.equal(p, q), name
    assert not all(torch.equal(p, q) for p, q in zip(before.voice_encoder.parameters(),
                                                     after.voice_encoder.parameters()))



def test_a_voice_stage_on_a_bigger_world_keeps_the_face_sides_classifier(trained, tmp_path):
    """``--set model.identities=N`` beats the data's count: the voice stage trains on more speakers than the
    frozen face side has classes for (its distillation teacher reads the face, not the label); any stage that
    trains the classifier on labels beyond it stops with one clear error."""
    from sightsound.errors import ParameterError
    from sightsound.pretrained import load_pretrained

    root, _ = trained
    faces_run = root / "faces"
    classes = load_pretrained(faces_run).config.identities
    sets = ["model.stage='voice'", f"train.init_from='{faces_run}'", "data.speakers=50", f"model.identities={classes}",
            "train.max_steps=10", "train.eval_every=10", "train.save_every=10"]
    recipes.run(recipes.resolve(RECIPE, "tiny", sets), str(root), tmp_path / "more", progress=False)
    assert load_pretrained(tmp_path / "more").config.identities == classes
    with pytest.raises(ParameterError, match="no class"):
        recipes.run(recipes.resolve(RECIPE, "tiny", ["data.speakers=50", f"model.identities={classes}"]),
                    str(root), tmp_path / "joint", progress=False)

def test_eval_speech2face_scores_the_held_out_speakers(trained):
    root, model = trained
    result = run("eval", "speech2face", "--model", str(model), "--data", str(root / "world"), "--judge-steps", "20",
                 "--rounds", "2", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["test_speakers"] == 4 and report["queries"] == 4
    assert report["retrieval"]["candidates"] == 4
    assert 0 <= report["retrieval"]["r1"] <= report["retrieval"]["r5"] <= 1
    assert set(report["attribute_correlation"]) == set(world.ATTRIBUTES + world.NUISANCE)


def test_face_from_voice_draws_and_ranks_a_gallery(trained, tmp_path):
    root, model = trained
    voice = sorted((root / "world" / "voices").glob("*.wav"))[0]
    out = tmp_path / "face.png"
    result = run("face-from-voice", str(voice), "-o", str(out), "--model", str(model),
                 "--gallery", str(root / "world" / "faces"), "--top", "3", "--json")
    assert result.returncode == 0, result.stderr
    assert out.stat().st_size > 1000
    report = json.loads(result.stdout)
    assert len(report["gallery"]) == 3
    sims = [g["similarity"] for g in report["gallery"]]
    assert sims == sorted(sims, reverse=True)


def test_face_from_voice_bad_input_is_one_line(trained, tmp_path):
    _, model = trained
    silent, short, broken = tmp_path / "silent.wav", tmp_path / "short.wav", tmp_path / "broken.wav"
    audio_io.save(silent, torch.zeros(32000), 16000)
    audio_io.save(short, 0.3 * torch.randn(8000), 16000)
    broken.write_bytes(b"RIFF....not a wave file")
    for clip, message in ((silent, "silent"), (short, "at least 1 s"), (broken, "cannot decode")):
        result = run("face-from-voice", str(clip), "-o", str(tmp_path / "x.png"), "--model", str(model))
        assert_clean_failure(result, message)
    assert not (tmp_path / "x.png").exists()
    existing = tmp_path / "keep.png"
    existing.write_bytes(b"mine")
    voice = tmp_path / "voice.wav"
    audio_io.save(voice, torch.from_numpy(world.speak(world.speaker(9), 0, 1.5)[0]), 16000)
    assert_clean_failure(run("face-from-voice", str(voice), "-o", str(existing), "--model", str(model)), "exists")
    assert existing.read_bytes() == b"mine"
    assert_clean_failure(run("face-from-voice", str(voice), "-o", str(tmp_path / "y.png"), "--model", str(model),
                             "--gallery", str(tmp_path / "nowhere")), "not a folder")


def test_voices_writes_a_world_and_never_writes_into_a_full_folder(tmp_path):
    result = run("voices", "--out", str(tmp_path / "w"), "--speakers", "3", "--clips", "1", "--photos", "1",
                 "--seconds", "1", "--quiet")
    assert result.returncode == 0, result.stderr
    assert len(world.read_world(tmp_path / "w")) == 3
    assert_clean_failure(run("voices", "--out", str(tmp_path / "w"), "--speakers", "3"), "not empty")
    assert_clean_failure(run("eval", "speech2face", "--data", str(tmp_path)), "expected a speaker world")


def test_pearson_and_auc_on_hand_made_cases():
    x = torch.arange(10.0)
    assert pearson(x, 2 * x + 1) == pytest.approx(1.0)
    assert pearson(x, -x) == pytest.approx(-1.0)
    assert pearson(x, torch.ones(10)) == 0.0
    assert roc_auc(torch.tensor([3.0, 2.0, 1.0, 0.0]), torch.tensor([True, True, False, False])) == 1.0
    assert roc_auc(torch.tensor([1.0, 1.0]), torch.tensor([True, False])) == 0.5


def test_portrait_crops_and_pads_with_black():
    image = torch.ones(40, 40)
    crop = faces.crop_square(image, 0.0, 0.0, 40.0, 20)          # centred on the corner: 3/4 outside
    assert crop.shape == (1, 20, 20)
    assert float(crop[0, :8, :8].max()) < 0.05 and float(crop[0, 12:, 12:].min()) > 0.95
    pytest.importorskip("cv2")
    flat = torch.full((3, 80, 60), 0.5)
    with pytest.raises(UserInputError, match="no frontal face"):
        faces.portrait(flat, 32)
    whole, found = faces.portrait(flat, 32, require_face=False)
    assert not found and whole.shape == (1, 32, 32)


def test_real_faces_are_found_in_the_talking_face_clips(real_data):
    pytest.importorskip("cv2")
    from sightsound.data.speech2face import real_pairs

    pairs = real_pairs(real_data, 64, 16000)
    assert len(pairs) >= 20
    assert sum(p[3] for p in pairs) >= 0.9 * len(pairs)
    assert all(p[1].shape == (1, 64, 64) and p[2].ndim == 1 and len(p[2]) > 16000 for p in pairs)
    assert np.isclose(float(pairs[0][1].max()), 1.0, atol=0.5)


def test_a_paired_folder_feeds_the_paper_preset_layout(tmp_path):
    pytest.importorskip("cv2")
    from PIL import Image

    from sightsound.data.speech2face import Config, build

    (tmp_path / "faces").mkdir()
    for i in range(20):
        spk = world.speaker(i, seed=3)
        Image.fromarray((world.draw_face(spk, 0) * 255).astype(np.uint8)).save(tmp_path / "faces" / f"c{i:02d}.png")
        audio_io.save(tmp_path / "audio" / f"c{i:02d}.wav", torch.from_numpy(world.speak(spk, 0, 0.6)[0]), 16000)
    built = build(tmp_path, Config(layout="paired", orl="", face_size=32, preset="tiny", seconds=0.5))
    assert len(built.val) == 2 and len(built.train) == 18
    assert built.model_values["identities"] == 18
    item = built.train[0]
    assert item["photo"].shape == (1, 32, 32) and item["wave"].shape == (8000,) and bool(item["has_voice"])
    with pytest.raises(UserInputError, match="paired folder"):
        build(tmp_path / "faces", Config(layout="paired", orl=""))


def test_the_shipped_model_loads_with_its_report():
    from sightsound.pretrained import shipped_speech2face

    pipeline, report = shipped_speech2face()
    assert pipeline.face_size == 64 and pipeline.model.config.stage in ("joint", "voice")
    voice = torch.from_numpy(world.speak(world.speaker(9), 0)[0])
    face = pipeline.draw(pipeline.voice_features([voice]))
    assert face.shape == (1, 1, 64, 64)
    assert report["synthetic"]["split"] == "test" and report["synthetic"]["retrieval"]["candidates"] == 10
    assert report["real"]["identities"] == len(report["real"]["ranks"])
