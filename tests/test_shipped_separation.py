"""The shipped Looking-to-Listen models: they load as what they claim to be, the recorded evaluation is present,
honest about its split and reproducible: its first held-out mixtures scored again here give the same numbers
(when the data folder is present; skipped otherwise)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from sightsound.pretrained import REGISTRY
from sightsound.pretrained.separation import Separator

DATA = Path(os.environ.get("SIGHTSOUND_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")


def _report() -> dict:
    return json.loads((REGISTRY["looking-to-listen-grid"] / "eval.json").read_text())


def test_shipped_models_load_as_what_they_claim():
    av, ao = Separator.from_pretrained("looking-to-listen-grid"), Separator.from_pretrained("audio-only-separation-grid")
    assert av.visual and not ao.visual
    assert av.sample_rate == ao.sample_rate == 16000 and av.model.config.mouth_size == ao.model.config.mouth_size


def test_recorded_evaluation_is_on_the_test_split_with_both_kinds():
    report = _report()
    assert report["split"] == "test" and report["mixtures"] == 100
    for kind in ("different", "same"):
        k = report["kinds"][kind]
        assert k["count"] == 50
        for key in ("av_si_sdri", "av_sdr", "av_stoi", "ao_si_sdri", "ao_first_si_sdri", "wer_clean", "wer_av"):
            assert isinstance(k[key], float), key
    assert set(report["targets"]) >= {"av_si_sdri_different_at_least_10", "same_speaker_av_wer_at_most_2x_clean"}


@pytest.mark.skipif(not (DATA / "grid-s1" / "video").is_dir(), reason="needs the GRID data folder")
def test_recorded_evaluation_reproduces(tmp_path, monkeypatch):
    from sightsound.evaluation.separation import evaluate_separation

    monkeypatch.setenv("SIGHTSOUND_CACHE", str(tmp_path / "cache"))
    again = evaluate_separation(data=DATA, limit=1, wer=False, pesq=False, progress=False)["rows"]
    recorded = _report()["rows"][:2]
    assert [r["name"] for r in again] == [r["name"] for r in recorded]
    for new, old in zip(again, recorded):
        for key in ("mixture_si_sdr", "av_si_sdri", "ao_si_sdri", "av_stoi"):
            assert new[key] == pytest.approx(old[key], abs=0.02), key
