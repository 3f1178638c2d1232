"""``nn.Module`` wrappers around :mod:`sightsound.audio.functional`.

They hold the window and mel filterbank as buffers (so ``.to(device)`` / ``.double()`` move them)
and call the functional core; no maths lives here.
"""

from __future__ import annotations

import torch
from torch import nn

from sightsound.audio import functional as F
from sightsound.audio._engine import stft_sizes
from sightsound.audio.presets import AudioPreset
from sightsound.errors import ParameterError


class Spectrogram(nn.Module):
    """``|stft(y)| ** power``. (..., S) -> (..., F, T)."""

    def __init__(self, n_fft: int = 2048, hop_length: int | None = None, win_length: int | None = None,
                 window: str = "hann", center: bool = True, pad_mode: str = "constant", power: float = 1.0):
        super().__init__()
        n_fft, hop_length, win_length = stft_sizes(n_fft, hop_length, win_length)
        self.n_fft, self.hop_length, self.win_length = n_fft, hop_length, win_length
        self.center, self.pad_mode, self.power = center, pad_mode, power
        self.register_buffer("window", F.get_window(window, win_length, dtype=torch.float64), persistent=False)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        return F.spectrogram(y, self.n_fft, self.hop_length, self.win_length, self.window.to(y.dtype),
                             self.center, self.pad_mode, self.power)


class MelSpectrogram(nn.Module):
    """Mel spectrogram with a cached filterbank. (..., S) -> (..., M, T)."""

    def __init__(self, sample_rate: int = 22050, n_fft: int = 2048, hop_length: int | None = 512,
                 win_length: int | None = None, window: str = "hann", center: bool = True,
                 pad_mode: str = "constant", power: float = 2.0, n_mels: int = 128, fmin: float = 0.0,
                 fmax: float | None = None, htk: bool = False, norm: str | float | None = "slaney"):
        super().__init__()
        self.spectrogram = Spectrogram(n_fft, hop_length, win_length, window, center, pad_mode, power)
        self.sample_rate = sample_rate
        self.register_buffer(
            "mel_basis", F.mel_filterbank(sample_rate, n_fft, n_mels, fmin, fmax, htk, norm, dtype=torch.float64),
            persistent=False,
        )

    @classmethod
    def from_preset(cls, preset: AudioPreset) -> "MelSpectrogram":
        return cls(preset.sample_rate, pad_mode=preset.pad_mode, power=preset.power,
                   **preset.stft_kwargs, **preset.mel_kwargs)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        s = self.spectrogram
        return F.melspectrogram(y, self.sample_rate, s.n_fft, s.hop_length, s.win_length, s.window.to(y.dtype),
                                s.center, s.pad_mode, s.power, mel_basis=self.mel_basis.to(y.dtype))


class AmplitudeToDB(nn.Module):
    """Decibels of a power (``stype="power"``) or magnitude spectrogram. Shape kept."""

    def __init__(self, stype: str = "power", top_db: float | None = 80.0):
        super().__init__()
        if stype not in ("power", "magnitude"):
            raise ParameterError(f"stype must be 'power' or 'magnitude', got {stype!r}")
        self.stype, self.top_db = stype, top_db

    def forward(self, S: torch.Tensor) -> torch.Tensor:
        if self.stype == "power":
            return F.power_to_db(S, top_db=self.top_db)
        return F.amplitude_to_db(S, top_db=self.top_db)


class InverseMel(nn.Module):
    """Mel spectrogram -> linear magnitude spectrogram (NNLS or pseudo-inverse). (..., M, T) -> (..., F, T)."""

    def __init__(self, sample_rate: int, n_fft: int, n_mels: int = 128, fmin: float = 0.0,
                 fmax: float | None = None, htk: bool = False, norm: str | float | None = "slaney",
                 power: float = 2.0, method: str = "nnls", n_iter: int = 200):
        super().__init__()
        self.power, self.method, self.n_iter = power, method, n_iter
        self.register_buffer(
            "mel_basis", F.mel_filterbank(sample_rate, n_fft, n_mels, fmin, fmax, htk, norm, dtype=torch.float64),
            persistent=False,
        )

    @classmethod
    def from_preset(cls, preset: AudioPreset, **kwargs) -> "InverseMel":
        return cls(preset.sample_rate, preset.n_fft, power=preset.power, **preset.mel_kwargs, **kwargs)

    def forward(self, M: torch.Tensor) -> torch.Tensor:
        return F.mel_to_linear(M, self.mel_basis.to(M.dtype), power=self.power, method=self.method, n_iter=self.n_iter)


class GriffinLim(nn.Module):
    """Magnitude spectrogram -> waveform by (fast) Griffin-Lim. (..., F, T) -> (..., S)."""

    def __init__(self, n_fft: int = 2048, n_iter: int = 32, hop_length: int | None = None,
                 win_length: int | None = None, window: str = "hann", center: bool = True,
                 pad_mode: str = "constant", momentum: float = 0.99, init: str | None = "random"):
        super().__init__()
        n_fft, hop_length, win_length = stft_sizes(n_fft, hop_length, win_length)
        self.n_fft, self.n_iter, self.hop_length, self.win_length = n_fft, n_iter, hop_length, win_length
        self.center, self.pad_mode, self.momentum, self.init = center, pad_mode, momentum, init
        self.register_buffer("window", F.get_window(window, win_length, dtype=torch.float64), persistent=False)

    @classmethod
    def from_preset(cls, preset: AudioPreset, **kwargs) -> "GriffinLim":
        return cls(pad_mode=preset.pad_mode, **preset.stft_kwargs, **kwargs)

    def forward(self, S: torch.Tensor, length: int | None = None,
                generator: torch.Generator | None = None) -> torch.Tensor:
        return F.griffin_lim(S, self.n_iter, self.hop_length, self.win_length, self.n_fft,
                             self.window.to(S.dtype), self.center, length, self.pad_mode,
                             self.momentum, self.init, generator)


class MuLawEncoding(nn.Module):
    """Waveform in [-1, 1] -> mu-law class indices in [0, Q - 1]."""

    def __init__(self, quantization_channels: int = 256):
        super().__init__()
        self.quantization_channels = quantization_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.mu_law_encode(x, self.quantization_channels)


class MuLawDecoding(nn.Module):
    """mu-law class indices -> waveform in [-1, 1]."""

    def __init__(self, quantization_channels: int = 256):
        super().__init__()
        self.quantization_channels = quantization_channels

    def forward(self, q: torch.Tensor) -> torch.Tensor:
        return F.mu_law_decode(q, self.quantization_channels)
