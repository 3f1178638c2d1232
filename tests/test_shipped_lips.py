"""The shipped lip-motion model and sync expert: they load as what they claim to be, the lip model carries its
reference face, the recorded evaluation is present, on the test split, with the issue's targets; its first
held-out clips scored again here give the same numbers (when the data folder and dlib are present)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sightsound.models.lip_motion import LipMotion
from sightsound.models.sync_expert import SyncExpert
from sightsound.pretrained import REGISTRY, load_pretrained
from sightsound.pretrained.lips import LipAnimator
from tests.conftest import shared_data


def _report() -> dict:
    return json.loads((REGISTRY["lip-motion-grid"] / "eval.json").read_text())


def test_shipped_models_load_with_the_reference_face():
    animator = LipAnimator.from_pretrained("lip-motion-grid")
    assert isinstance(animator.model, LipMotion) and animator.fps == 25.0
    assert animator.reference.shape == (288, 360, 3) and animator.landmarks.shape == (68, 2)
    eyes = animator.landmarks[36:48]
    assert 40 < np.linalg.norm(eyes[:6].mean(0) - eyes[6:].mean(0)) < 80      # GRID s1: about 57 px apart
    assert isinstance(load_pretrained("sync-expert-grid"), SyncExpert)


def test_recorded_evaluation_is_on_the_test_split_with_the_targets():
    report = _report()
    assert report["split"] == "test" and report["clips"] == 50 and len(report["rows"]) == 50
    assert set(report["targets"]) == {"distance_at_most_0.7x_nearest_clip", "opening_corr_at_least_0.8",
                                      "sync_real_found_at_least_0.9", "sync_generated_found_at_least_0.8"}
    d = report["landmark_distance"]
    assert report["targets"]["distance_at_most_0.7x_nearest_clip"]["value"] == pytest.approx(d["model"] / d["nearest"])
    assert json.loads((REGISTRY["sync-expert-grid"] / "eval.json").read_text())["sync"] == report["sync"]


def test_recorded_evaluation_reproduces(tmp_path, monkeypatch):
    data = shared_data()
    if data is None or not (data / "grid-s1" / "video").is_dir():
        pytest.skip("needs the GRID data folder")
    pytest.importorskip("dlib")
    from sightsound.evaluation.lips import evaluate_lips

    again = evaluate_lips(data=data, limit=2, train_limit=10, progress=False)["rows"]   # a small baseline pool
    recorded = _report()["rows"][:2]
    assert [r["name"] for r in again] == [r["name"] for r in recorded]
    for new, old in zip(again, recorded):
        for key in ("model_distance", "model_opening_corr", "mean_distance"):
            assert new[key] == pytest.approx(old[key], abs=1e-3), key
        for key in ("real_offset", "shifted_offset", "generated_offset"):
            assert new[key] == old[key], key
