"""Whole analyses built from the functional core: what the figures and commands show.

``analyse`` computes every view of a sound the lecture walks through (waveform, whole-signal power
spectrum, linear and mel spectrograms, window leakage on one frame); ``resynthesize`` goes the way
back with Griffin-Lim and measures how close it gets.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch

from sightsound.audio import functional as F
from sightsound.audio.presets import AudioPreset
from sightsound.errors import ParameterError, UserInputError


@dataclass(frozen=True)
class SoundAnalysis:
    """Every array a sound-representation figure needs (float64 CPU tensors).

    waveform (S,); power_spectrum_db (F_full,) with freqs_full (F_full,); spectrogram_db (F, T) with
    freqs (F,) and times (T,); mel_db (M, T) with mel_freqs (M,); leakage_freqs (K,),
    leakage_db[window] (K,) for the loudest frame, whose index is ``leakage_frame``.
    """

    sample_rate: int
    preset: AudioPreset
    waveform: torch.Tensor
    freqs_full: torch.Tensor
    power_spectrum_db: torch.Tensor
    freqs: torch.Tensor
    times: torch.Tensor
    spectrogram_db: torch.Tensor
    mel_freqs: torch.Tensor
    mel_db: torch.Tensor
    leakage_frame: int
    leakage_freqs: torch.Tensor
    leakage_db: dict[str, torch.Tensor] = field(default_factory=dict)

    def arrays(self) -> dict[str, torch.Tensor]:
        """Flat name -> tensor mapping (what ``--npz`` writes)."""
        out = {name: getattr(self, name) for name in (
            "waveform", "freqs_full", "power_spectrum_db", "freqs", "times", "spectrogram_db",
            "mel_freqs", "mel_db", "leakage_freqs")}
        out.update({f"leakage_db_{name}": value for name, value in self.leakage_db.items()})
        out["sample_rate"] = torch.tensor(self.sample_rate)
        out["leakage_frame"] = torch.tensor(self.leakage_frame)
        return out


def check_audible(y: torch.Tensor, name: str = "input") -> None:
    """Raise a clear error for a signal that is empty, not finite or silent."""
    if y.numel() == 0:
        raise UserInputError(f"{name}: contains no samples")
    if not torch.isfinite(y).all():
        raise UserInputError(f"{name}: contains NaN or infinite samples")
    if y.abs().max() < 1e-6:
        raise UserInputError(f"{name}: is silent (every sample is below 1e-6)")


def analyse(y: torch.Tensor, preset: AudioPreset, top_db: float = 80.0, leakage_windows=("rectangular", "hamming")) -> SoundAnalysis:
    """All the views of a mono waveform ``y`` (S,) sampled at ``preset.sample_rate``."""
    if y.ndim != 1:
        raise ParameterError(f"analyse expects a mono waveform (S,), got shape {tuple(y.shape)}")
    y = y.to(torch.float64)
    sr = preset.sample_rate
    if len(y) < preset.win_length:
        raise UserInputError(
            f"input is {len(y)} samples long, shorter than one analysis window ({preset.win_length} samples)"
        )
    n_full = len(y)
    P = F.power_spectrum(y, window="hann")  # (F_full,)
    S = F.spectrogram(y, power=2.0, pad_mode=preset.pad_mode, **preset.stft_kwargs)  # (F, T)
    basis = F.mel_filterbank(sr, preset.n_fft, dtype=torch.float64, **preset.mel_kwargs)  # (M, F)
    mel = basis @ S  # (M, F) @ (F, T) -> (M, T)
    # loudest frame, analysed with each window over win_length samples, zero-padded 8x for a smooth curve
    energy = S.sum(dim=0)
    t = int(energy.argmax())
    start = max(0, t * preset.hop_length - (preset.win_length // 2 if preset.center else 0))
    segment = y[start : start + preset.win_length]
    segment = torch.nn.functional.pad(segment, (0, preset.win_length - len(segment)))
    n_zoom = 8 * preset.n_fft
    leakage = {}
    for name in leakage_windows:
        spectrum = F.power_spectrum(segment, n_fft=n_zoom, window=name)
        leakage[name] = F.power_to_db(spectrum, ref=torch.amax, top_db=120.0)
    return SoundAnalysis(
        sample_rate=sr,
        preset=preset,
        waveform=y,
        freqs_full=F.fft_frequencies(sr, n_full),
        power_spectrum_db=F.power_to_db(P, ref=torch.amax, top_db=top_db + 20),
        freqs=F.fft_frequencies(sr, preset.n_fft),
        times=torch.arange(S.shape[-1], dtype=torch.float64) * preset.hop_length / sr,
        spectrogram_db=F.power_to_db(S, ref=torch.amax, top_db=top_db),
        mel_freqs=F.mel_frequencies(preset.n_mels + 2, preset.fmin, preset.fmax or sr / 2, preset.htk)[1:-1],
        mel_db=F.power_to_db(mel, ref=torch.amax, top_db=top_db),
        leakage_frame=t,
        leakage_freqs=F.fft_frequencies(sr, n_zoom),
        leakage_db=leakage,
    )


@dataclass(frozen=True)
class Resynthesis:
    """Griffin-Lim result: the waveform, its spectral convergence against the original magnitude
    spectrogram, the wall-clock seconds of the way back (mel inversion included), and the settings."""

    waveform: torch.Tensor
    spectral_convergence: float
    seconds: float
    source: str
    n_iter: int
    momentum: float
    sample_rate: int

    def report(self) -> dict:
        return {
            "spectral_convergence": round(self.spectral_convergence, 6),
            "seconds": round(self.seconds, 4),
            "from": self.source,
            "n_iter": self.n_iter,
            "momentum": self.momentum,
            "sample_rate": self.sample_rate,
            "duration_s": round(self.waveform.shape[-1] / self.sample_rate, 3),
        }


def resynthesize(
    y: torch.Tensor,
    preset: AudioPreset,
    source: str = "linear",
    n_iter: int = 32,
    momentum: float = 0.99,
    seed: int = 0,
    init: str = "random",
) -> Resynthesis:
    """Analyse ``y`` with ``preset``, then rebuild a waveform from the magnitude alone.

    ``source="linear"`` inverts the magnitude spectrogram; ``source="mel"`` first maps the mel
    spectrogram back to linear frequency (NNLS), as a TTS system must. The spectral convergence
    ``||S - |STFT(y_hat)|||_F / ||S||_F`` is measured against the original linear magnitude S.
    """
    if source not in ("linear", "mel"):
        raise ParameterError(f"source must be 'linear' or 'mel', got {source!r}")
    y = y.to(torch.float32)
    S = F.spectrogram(y, power=1.0, pad_mode=preset.pad_mode, **preset.stft_kwargs)  # (F, T)
    generator = torch.Generator(device=y.device).manual_seed(seed)
    started = time.perf_counter()
    target = S
    if source == "mel":
        basis = F.mel_filterbank(preset.sample_rate, preset.n_fft, dtype=S.dtype, device=S.device, **preset.mel_kwargs)
        M = basis @ S.pow(preset.power)  # (M, F) @ (F, T) -> (M, T)
        target = F.mel_to_linear(M, basis, power=preset.power)
    y_hat = F.griffin_lim(target, n_iter, pad_mode=preset.pad_mode, length=len(y), momentum=momentum,
                          init=init, generator=generator, **preset.stft_kwargs)
    seconds = time.perf_counter() - started
    S_hat = F.spectrogram(y_hat, power=1.0, pad_mode=preset.pad_mode, **preset.stft_kwargs)
    sc = float(F.spectral_convergence(S.double(), S_hat.double()))
    return Resynthesis(y_hat, sc, seconds, source, n_iter, momentum, preset.sample_rate)
