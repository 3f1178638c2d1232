"""The shipped WaveNet and Tacotron 2 load by name and work; their recorded evaluations are present."""

from __future__ import annotations

import json

import pytest
import torch

from sightsound.pretrained import REGISTRY
from sightsound.pretrained.tts import Synthesizer
from sightsound.pretrained.vocoder import Vocoder


def test_shipped_wavenet_fasts():
    vocoder = Vocoder.from_pretrained("wavenet-grid")
    c = vocoder.model.config
    assert (c.n_layers, c.residual_channels, c.gate_channels, c.skip_channels) == (12, 64, 128, 64)
    mel = torch.full((80, 3), -6.0)
    wave = vocoder(mel, seed=1)
    assert wave.shape == (600,) and torch.isfinite(wave).all() and wave.abs().max() <= 1.0
    report = json.loads((REGISTRY["wavenet-grid"] / "eval.json").read_text())
    assert set(report["systems"]) == {"original", "griffinlim", "wavenet"} and report["clips"] == 50


def test_shipped_tacotron2_speaks_and_stops():
    tts = Synthesizer.from_pretrained("tacotron2-grid")
    result = tts(["bin blue at f two now", "lay white with z nine again"])
    assert result.hit_limit == [False, False]
    for wave, mel, alignment in zip(result.waves, result.mels, result.alignments):
        assert 0.6 < len(wave) / 16000 < 3.5 and torch.isfinite(wave).all()
        # attention is focused, not spread over the sentence (held-out focus rate 0.89, README)
        assert alignment.max(-1).values.mean() > 0.8
        # the attention moves forward: its peak ends in the last third of the sentence
        assert alignment[-1].argmax() >= 2 * alignment.shape[1] // 3
    report = json.loads((REGISTRY["tacotron2-grid"] / "eval.json").read_text())
    assert report["sentences"] == 50 and report["focus_rate"] >= 0.85 and report["hit_step_limit"] == 0


@pytest.mark.parametrize("name", ["wavenet-grid", "tacotron2-grid"])
def test_shipped_checkpoints_are_small_safetensors(name):
    folder = REGISTRY[name]
    assert (folder / "model.safetensors").stat().st_size < 15e6
    assert not any(p.suffix in (".pt", ".pth", ".pkl", ".bin") for p in folder.iterdir())
