"""Scene recognition by sound end to end on a synthetic ESC-layout world: the folder reader and its splits, a
tiny preset that learns two classes it is then tested on (a held-out fold), ``hear`` (with photos), ``eval
scene`` and the one-line errors for bad clips, folders and image sets."""

from __future__ import annotations

import json

import pytest
import torch

from sightsound.audio import io as audio_io
from sightsound.cli import main
from sightsound.data import captions as caption_data
from sightsound.data.esc import read_esc_folder, split_clips, write_synthetic
from sightsound.errors import UserInputError
from sightsound.evaluation.scene import (
    cross_validation,
    evaluate_scene,
    fit_logistic_regression,
    mfcc_features,
)
from sightsound.pretrained.scene import SceneListener
from sightsound.training import recipes
from tests.conftest import ROOT

RECIPE = ROOT / "recipes" / "av_embedding_esc10.py"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("scenes")
    write_synthetic(root)
    run = root / "run"
    recipes.run(recipes.resolve(RECIPE, "tiny", ["data.test_folds=[4]"]), str(root), run, progress=False)
    return root, run


def test_the_reader_keeps_recordings_together_and_never_loads_test_folds(tmp_path):
    folder = write_synthetic(tmp_path, per_class=8)
    clips, names = read_esc_folder(folder)
    assert names == ("dog_bark", "rain") and len(clips) == 16
    train, select = split_clips(clips, (4,), 3)
    assert all(c.fold != 4 for c in train + select)
    assert {c.recording for c in train}.isdisjoint({c.recording for c in select})
    assert {c.target for c in select} == {0, 1}


@pytest.mark.parametrize("meta, message", [
    (None, "no meta.csv"),
    ("name,fold\nx.wav,1\n", "needs a header"),
    ("filename,fold,target,category\nnope.wav,1,0,dog\n", "missing"),
    ("filename,fold,target,category\n1-1-A.wav,one,0,dog\n", "integers"),
])
def test_bad_folders_give_one_line_errors(tmp_path, meta, message):
    folder = write_synthetic(tmp_path, per_class=2)
    if meta is None:
        (folder / "meta.csv").unlink()
    else:
        (folder / "meta.csv").write_text(meta)
    with pytest.raises(UserInputError, match=message):
        read_esc_folder(folder)


def test_a_target_naming_two_categories_is_refused(tmp_path):
    folder = write_synthetic(tmp_path, per_class=2)
    rows = (folder / "meta.csv").read_text().splitlines()
    rows[1] = rows[1].rsplit(",", 1)[0] + ",cat"
    (folder / "meta.csv").write_text("\n".join(rows) + "\n")
    with pytest.raises(UserInputError, match="target 0"):
        read_esc_folder(folder)


def test_the_tiny_preset_learns_two_classes_and_is_tested_on_a_fold_it_never_saw(world):
    root, run = world
    listener = SceneListener.from_pretrained(run)
    report = evaluate_scene(listener, root / "esc", folds=(4,), progress=False)
    assert report["seen_in_training"] == 0 and report["trained_on_folds"] == [1, 2, 3]
    assert report["clips"] == 6 and report["accuracy"] >= 0.9
    assert sum(map(sum, report["confusion"])) == 6
    seen = evaluate_scene(listener, root / "esc", progress=False)
    assert seen["seen_in_training"] == 18  # folds 1-3: flagged, not a test


def test_hear_prints_the_class_and_eval_scene_draws_the_confusion(world, tmp_path, capsys):
    root, run = world
    clip = sorted((root / "esc" / "audio").glob("4-*.wav"))[0]
    assert main(["hear", str(clip), "--model", str(run), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["class"] in ("dog_bark", "rain") and abs(sum(result["probabilities"].values()) - 1) < 1e-3
    out = tmp_path / "confusion.png"
    assert main(["eval", "scene", "--model", str(run), "--data", str(root / "esc"), "--folds", "4",
                 "--confusion", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["confusion_png"] == str(out) and out.stat().st_size > 1000
    assert main(["eval", "scene", "--model", str(run), "--data", str(root / "esc"), "--confusion", str(out)]) == 2
    assert "exists" in capsys.readouterr().err


def test_bad_clips_and_image_folders_end_in_one_line(world, tmp_path, capsys):
    root, run = world
    silent = tmp_path / "silent.wav"
    audio_io.save(silent, torch.zeros(8000), 16000)
    corrupt = tmp_path / "corrupt.ogg"
    corrupt.write_bytes(b"OggS not really")
    empty = tmp_path / "no-images"
    empty.mkdir()
    clip = sorted((root / "esc" / "audio").glob("*.wav"))[0]
    cases = [
        ([str(tmp_path / "missing.wav")], "no such file"),
        ([str(corrupt)], "cannot decode"),
        ([str(silent)], "silent"),
        ([str(tmp_path / "clip.txt")], "expected a sound file"),
        ([str(clip), "--images", str(empty)], "no images"),
        ([str(clip), "--images", str(root / "esc" / "audio")], "no images"),
        ([str(clip), "--top", "0"], "a number of photos"),
        ([str(clip), "--images", str(root / "esc")], "no images"),
    ]
    for extra, message in cases:
        code = main(["hear", *extra, "--model", str(run)]) if "--top" not in extra else None
        if code is None:
            with pytest.raises(SystemExit) as stop:
                main(["hear", *extra, "--model", str(run)])
            code = stop.value.code
        err = capsys.readouterr().err
        assert code == 2, extra
        assert message in err and len(err.strip().splitlines()) == 1, (extra, err)
    photos = tmp_path / "photos"
    caption_data.write_synthetic(photos, n=3)
    assert main(["hear", str(clip), "--model", str(run), "--images", str(photos / "flickr8k-1k" / "images")]) == 2
    assert "without photos" in capsys.readouterr().err
    other = write_synthetic(tmp_path / "other", categories=("cat", "rain"), per_class=2)
    assert main(["eval", "scene", "--model", str(run), "--data", str(other)]) == 2
    assert "not the model's" in capsys.readouterr().err


@pytest.fixture(scope="module")
def with_photos(tmp_path_factory):
    pytest.importorskip("efficientnet_lite_pytorch")
    root = tmp_path_factory.mktemp("scenes-photos")
    write_synthetic(root)
    caption_data.write_synthetic(root, n=12)
    run = root / "run"
    recipes.run(recipes.resolve(RECIPE, "tiny", ["data.photos='flickr8k-1k'", "data.image_size=64",
                                                 "data.photo_select_every=4"]), str(root), run, progress=False)
    return root, run


def test_hear_with_photos_draws_the_strip(with_photos, tmp_path, capsys):
    root, run = with_photos
    clip = sorted((root / "esc" / "audio").glob("*.wav"))[0]
    out = tmp_path / "hear.png"
    images = root / "flickr8k-1k" / "images"
    assert main(["hear", str(clip), "--model", str(run), "--images", str(images), "--top", "3", "-o", str(out),
                 "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert len(result["photos"]) == 3 and out.stat().st_size > 5000
    scores = [p["similarity"] for p in result["photos"]]
    assert scores == sorted(scores, reverse=True)


def test_the_tour_section_plays_clips_and_maps_the_space(with_photos, tmp_path):
    from sightsound.viz.tour.page import TourContext
    from sightsound.viz.tour.scene import section_scene
    from tests.conftest import SPEECH_FILE

    root, run = with_photos
    report = {"cross_validation": {"folds": [1, 2], "classes": ["dog_bark", "rain"], "rounds": [
        {"test_fold": 1, "clips": 6, "embedding": 1.0, "supervised_cnn": 0.5, "mfcc_logistic": 0.5},
        {"test_fold": 2, "clips": 6, "embedding": 0.5, "supervised_cnn": 0.5, "mfcc_logistic": 1.0}],
        "mean_accuracy": {"embedding": 0.75, "supervised_cnn": 0.5, "mfcc_logistic": 0.75},
        "embedding_confusion": [[5, 1], [2, 4]],
        "sound_to_photo": {"k": 10, "photos": 100, "min_photos": 10, "per_class": {
            "dog_bark": {"clips": 32, "precision_at_k": 0.8125, "chance": 0.33}}}},
        "spoken_captions": {"photos": 100, "transcript_wer": 0.55, "speech_to_photo": {"r1": 0.1, "r5": 0.4, "r10": 0.6},
                            "chance": {"r1": 0.01, "r5": 0.05, "r10": 0.1}}}
    (tmp_path / "assets").mkdir()
    ctx = TourContext(tmp_path, SPEECH_FILE, scene=(SceneListener.from_pretrained(run), report), esc=root / "esc",
                      flickr=root / "flickr8k-1k")
    section = section_scene(ctx)
    assert section.anchor == "scene-by-sound" and "<th>0.750</th>" in section.body
    assert "dog bark 0.81 (chance 0.33)" in section.body and "R@10 0.60" in section.body
    for name in ("scene_0.wav", "scene_0.jpg", "scene_map.png", "scene_confusion.png"):
        assert (tmp_path / "assets" / name).stat().st_size > 1000, name
        assert f"assets/{name}" in section.body
    empty = section_scene(TourContext(tmp_path, SPEECH_FILE))
    assert "sightsound train recipes/av_embedding_esc10.py" in empty.body


def test_mfcc_logistic_baseline_separates_two_tones(tmp_path):
    t = torch.arange(16000) / 16000
    waves = torch.stack([torch.sin(2 * torch.pi * (300 if i % 2 else 2000) * t) + 0.1 * torch.randn(16000)
                         for i in range(12)])
    labels = torch.tensor([i % 2 for i in range(12)])
    x = mfcc_features(waves)
    assert x.shape == (12, 80)
    predict = fit_logistic_regression(x[:8], labels[:8], 2)
    assert predict(x[8:]).tolist() == labels[8:].tolist()


def test_cross_validation_trains_each_round_without_its_test_fold(world, tmp_path):
    root, _ = world
    report = cross_validation(root, tmp_path / "cv", folds=(1, 2), recipe=str(RECIPE),
                              baseline=str(ROOT / "recipes" / "esc10_supervised.py"), preset="tiny", subdir="esc",
                              photo_subdir="", progress=False)
    assert [r["test_fold"] for r in report["rounds"]] == [1, 2]
    for r in report["rounds"]:
        config = json.loads((tmp_path / "cv" / f"embedding-fold{r['test_fold']}" / "config.json").read_text())
        assert config["data"]["config"]["test_folds"] == [r["test_fold"]]
        assert r["test_fold"] not in config["model"]["config"]["train_folds"]
        assert 0 <= r["mfcc_logistic"] <= 1 and sum(map(sum, r["embedding_confusion"])) == r["clips"] == 6
    assert set(report["mean_accuracy"]) == {"embedding", "supervised_cnn", "mfcc_logistic"}


def test_the_spoken_caption_recipe_trains_end_to_end_and_is_scored(tmp_path, capsys):
    pytest.importorskip("efficientnet_lite_pytorch")
    from sightsound.data.spoken_captions import write_synthetic as write_spoken

    folder = write_spoken(tmp_path)
    run = tmp_path / "run"
    recipes.run(recipes.resolve(ROOT / "recipes" / "av_spoken_captions.py", "tiny"), str(tmp_path), run, progress=False)
    assert main(["eval", "av-retrieval", "--model", str(run), "--data", str(folder), "--method", "end-to-end",
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)["spoken_captions"]
    assert report["photos"] == 2 and report["chance"]["r1"] == 0.5 and report["transcript_wer"] is None
    assert set(report["speech_to_photo"]) == {"r1", "r5", "r10"}
    clip = folder / "spoken" / f"{sorted((folder / 'images').iterdir())[0].stem}.mp3"
    assert main(["hear", str(clip), "--model", str(run)]) == 0
    assert "no scene classes" in capsys.readouterr().out


def test_the_shipped_model_loads_with_its_report():
    pytest.importorskip("efficientnet_lite_pytorch")
    from sightsound.pretrained import shipped_scene

    listener, report = shipped_scene()
    assert listener.class_names[0] == "dog_bark" and len(listener.class_names) == 10
    assert listener.model.config.train_folds == (1, 2, 3, 4)  # every fold we have: its test is fold 5
    assert listener.embed_waves([torch.randn(16000)]).shape == (1, 384)
    cv = report["cross_validation"]
    assert [r["test_fold"] for r in cv["rounds"]] == [1, 2, 3, 4]
    assert set(report["spoken_captions"]["speech_to_photo"]) == {"r1", "r5", "r10"}
