"""Regenerates librosa_reference.npz: librosa 0.11 outputs on seeded synthetic signals and a speech clip.

Run:  .venv/bin/python tests/audio/reference/make_reference.py
The parity tests read the .npz, so they run where librosa is absent; where librosa is present,
``test_functional_reference.py`` also compares against it live.
"""

from __future__ import annotations

import sys
from pathlib import Path

import librosa
import numpy as np
import soundfile

HERE = Path(__file__).resolve().parent
SPEECH = HERE.parents[2] / "src" / "sightsound" / "pretrained" / "samples" / "speech_flite_16k.flac"
SR = 16000

# (name, n_fft, hop_length, win_length, window, center, pad_mode)
STFT_GRID = [
    ("speech25ms", 512, 160, 400, "hamming", True, "constant"),
    ("hann_default_hop", 1024, None, None, "hann", True, "constant"),
    ("hann_reflect", 1024, 256, 1024, "hann", True, "reflect"),
    ("rect_edge", 256, 128, 256, "rectangular", True, "edge"),
    ("hamming_nocenter", 512, 128, 512, "hamming", False, "constant"),
    ("odd_hop", 400, 100, 300, "hann", True, "symmetric"),
]
MEL_GRID = [  # (name, n_fft, n_mels, fmin, fmax, htk, norm)
    ("slaney_slaney", 512, 80, 0.0, 8000.0, False, "slaney"),
    ("slaney_none", 512, 40, 60.0, 7600.0, False, None),
    ("htk_slaney", 1024, 80, 0.0, 8000.0, True, "slaney"),
    ("htk_none", 1024, 128, 20.0, None, True, None),
]


def signals() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1234)
    n = SR // 8
    t = np.arange(n) / SR
    chirp = np.sin(2 * np.pi * (100 * t + 0.5 * (6000 - 100) / t[-1] * t**2))
    clicks = np.zeros(n)
    clicks[rng.integers(0, n, 12)] = rng.uniform(-1, 1, 12)
    noise = 0.3 * rng.standard_normal(n)
    speech, sr = soundfile.read(SPEECH, dtype="float64")
    assert sr == SR
    return {"chirp": chirp, "clicks": clicks, "noise": noise, "speech": speech[12000 : 12000 + SR // 4]}


def librosa_window(name: str) -> str:
    return "boxcar" if name == "rectangular" else name


def main() -> int:
    out: dict[str, np.ndarray] = {}
    sig = signals()
    for name, y in sig.items():
        out[f"signal/{name}"] = y
    for setting, n_fft, hop, win, window, center, pad in STFT_GRID:
        for name, y in sig.items():
            D = librosa.stft(y, n_fft=n_fft, hop_length=hop, win_length=win, window=librosa_window(window),
                             center=center, pad_mode=pad)
            out[f"stft/{setting}/{name}"] = D
            out[f"istft/{setting}/{name}"] = librosa.istft(
                D, hop_length=hop, win_length=win, n_fft=n_fft, window=librosa_window(window), center=center,
                length=len(y))
    for setting, n_fft, n_mels, fmin, fmax, htk, norm in MEL_GRID:
        basis = librosa.filters.mel(sr=SR, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk,
                                    norm=norm, dtype=np.float64)
        out[f"mel_filterbank/{setting}"] = basis
        for name in ("chirp", "speech"):
            y = sig[name]
            out[f"melspectrogram/{setting}/{name}"] = librosa.feature.melspectrogram(
                y=y, sr=SR, n_fft=n_fft, hop_length=n_fft // 4, n_mels=n_mels, fmin=fmin, fmax=fmax,
                htk=htk, norm=norm, dtype=np.float64)
    mel = out["melspectrogram/slaney_slaney/speech"]
    out["power_to_db/ref1"] = librosa.power_to_db(mel, ref=1.0, top_db=80.0)
    out["power_to_db/refmax"] = librosa.power_to_db(mel, ref=np.max, top_db=60.0)
    out["amplitude_to_db/refmax"] = librosa.amplitude_to_db(np.sqrt(mel), ref=np.max, top_db=80.0)
    # Griffin-Lim from a fixed initial phase: librosa draws it as 2 pi * rng.random(S.shape).
    for name in ("speech", "chirp"):
        S = np.abs(librosa.stft(sig[name], n_fft=512, hop_length=128))
        phase = 2 * np.pi * np.random.default_rng(7).random(S.shape)
        out[f"griffin_lim/{name}/S"] = S
        out[f"griffin_lim/{name}/init"] = phase
        for momentum in (0.0, 0.99):
            out[f"griffin_lim/{name}/m{momentum}"] = librosa.griffinlim(
                S, n_iter=16, hop_length=128, n_fft=512, momentum=momentum,
                random_state=np.random.default_rng(7))
    out["librosa_version"] = np.array(librosa.__version__)
    np.savez_compressed(HERE / "librosa_reference.npz", **out)
    print(f"wrote {len(out)} arrays to {HERE / 'librosa_reference.npz'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
