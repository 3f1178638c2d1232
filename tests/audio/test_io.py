"""sightsound.audio.io: formats roundtrip, resampling against soxr and scipy, clear errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from sightsound.audio import functional as F
from sightsound.audio import io
from sightsound.errors import UserInputError
from tests.conftest import SPEECH_FILE


def tone(sr: int, seconds: float = 0.5, freqs=(440.0, 3000.0)) -> torch.Tensor:
    t = torch.arange(int(sr * seconds), dtype=torch.float64) / sr
    return sum(0.4 * torch.sin(2 * math.pi * f * t) for f in freqs)


@pytest.mark.parametrize("ext,tol", [(".wav", 1e-4), (".flac", 1e-4), (".ogg", 0.05), (".mp3", 0.05)])
def test_roundtrip_formats(tmp_path, ext, tol):
    y = tone(16000).float()
    path = io.save(tmp_path / f"x{ext}", y, 16000)
    back, sr = io.load(path)
    assert sr == 16000
    if ext in (".wav", ".flac"):
        assert back.shape == y.shape
        assert torch.max(torch.abs(back - y)) <= tol
    else:  # lossy codecs: the encoder may add priming samples; compare spectra
        n = min(len(back), len(y))
        S1 = F.spectrogram(y[:n], 512, 256)
        S2 = F.spectrogram(back[:n], 512, 256)
        assert S2.shape[-1] > 0 and abs(S1.sum() - S2.sum()) / S1.sum() < 0.1


def test_load_stereo_mono_and_resample(tmp_path):
    stereo = torch.stack([tone(22050), 0.5 * tone(22050)]).float()
    path = io.save(tmp_path / "s.wav", stereo, 22050)
    y2, _ = io.load(path, mono=False)
    assert y2.shape == (2, stereo.shape[-1])
    y1, sr = io.load(path, sr=16000)
    assert sr == 16000 and y1.ndim == 1 and len(y1) == math.ceil(stereo.shape[-1] * 16000 / 22050)


@pytest.mark.reference
@pytest.mark.parametrize("orig,target", [(24000, 16000), (16000, 22050), (44100, 16000), (8000, 16000), (22050, 16000)])
def test_resample_reference_soxr_and_resample_poly(orig, target):
    soxr = pytest.importorskip("soxr")
    signal = pytest.importorskip("scipy.signal")
    x = tone(orig, 1.0)
    y = F.resample(x, orig, target).numpy()
    ideal = tone(target, 1.0).numpy()[: len(y)]
    inner = slice(200, -200)  # away from the edges, where each method pads differently
    assert np.abs(y - ideal)[inner].max() < 1e-6  # a band-limited tone is reproduced almost exactly
    ref_soxr = soxr.resample(x.numpy(), orig, target, "VHQ")
    assert len(ref_soxr) == len(y)
    assert np.abs(y - ref_soxr)[inner].max() < 2e-5
    g = math.gcd(orig, target)
    ref_poly = signal.resample_poly(x.numpy(), target // g, orig // g)
    assert len(ref_poly) == len(y)
    assert np.abs(y - ref_poly)[inner].max() < 5e-3  # resample_poly's default filter is shorter


def test_resample_removes_content_above_new_nyquist():
    x = tone(16000, 1.0, freqs=(6000.0,))  # above 4 kHz, the new Nyquist frequency
    y = F.resample(x, 16000, 8000)
    assert y[200:-200].abs().max() < 1e-3


def test_load_real_mp3_and_speech(real_data):
    mp3 = sorted((real_data / "flickr8k-1k" / "spoken").glob("*.mp3"))[0]
    y, sr = io.load(mp3, sr=16000)
    assert sr == 16000 and y.ndim == 1 and y.abs().max() > 0.01


def test_shipped_speech_loads():
    y, sr = io.load(SPEECH_FILE)
    assert sr == 16000 and 2.0 < len(y) / sr < 6.0


def test_errors(tmp_path):
    with pytest.raises(UserInputError, match="no such file"):
        io.load(tmp_path / "missing.wav")
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(UserInputError, match="empty"):
        io.load(tmp_path / "empty.wav")
    (tmp_path / "corrupt.wav").write_bytes(b"RIFF....WAVEfmt garbage" * 10)
    with pytest.raises(UserInputError, match="cannot decode"):
        io.load(tmp_path / "corrupt.wav")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(UserInputError, match="unsupported audio format"):
        io.load(tmp_path / "notes.txt")
    target = io.save(tmp_path / "keep.wav", tone(8000).float(), 8000)
    before = target.read_bytes()
    with pytest.raises(UserInputError, match="exists"):
        io.save(target, torch.zeros(100), 8000)
    assert target.read_bytes() == before
    io.save(target, torch.zeros(100), 8000, overwrite=True)
    assert io.load(target)[0].abs().max() == 0
