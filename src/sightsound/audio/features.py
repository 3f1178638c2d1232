"""The log-mel representation shared by the vocoders and Tacotron 2, and the way back by Griffin-Lim.

``log_mel``: ``log(max(mel, floor))`` of a magnitude (or power) mel spectrogram (Shen et al. 2018, Sec. 2.1:
"log dynamic range compression", floor 0.01 in the paper's units; 1e-5 here as in NVIDIA's code).
``log_mel_to_wave``: exp, non-negative least-squares mel inversion, then Griffin-Lim.
"""

from __future__ import annotations

import torch

from sightsound.audio import functional as AF
from sightsound.audio.presets import AudioPreset

LOG_MEL_FLOOR = 1e-5


def mel_basis(preset: AudioPreset, dtype: torch.dtype = torch.float32, device=None) -> torch.Tensor:
    """The preset's mel filterbank (M, F)."""
    return AF.mel_filterbank(preset.sample_rate, preset.n_fft, dtype=dtype, device=device, **preset.mel_kwargs)


def log_mel(y: torch.Tensor, preset: AudioPreset, floor: float = LOG_MEL_FLOOR,
            basis: torch.Tensor | None = None) -> torch.Tensor:
    """Waveform (..., S) at ``preset.sample_rate`` -> log-mel (..., M, T) with T = 1 + S // hop (centred frames)."""
    basis = mel_basis(preset, y.dtype, y.device) if basis is None else basis
    mel = AF.melspectrogram(y, preset.sample_rate, pad_mode=preset.pad_mode, power=preset.power,
                            mel_basis=basis, **preset.stft_kwargs)
    return torch.log(torch.clamp(mel, min=floor))


def log_mel_to_wave(logmel: torch.Tensor, preset: AudioPreset, n_iter: int = 32, init: str = "pghi",
                    length: int | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
    """Log-mel (..., M, T) -> waveform (..., S): NNLS mel inversion, then ``n_iter`` fast Griffin-Lim
    iterations (phase-gradient initialisation by default). The baseline every vocoder is judged against."""
    basis = mel_basis(preset, logmel.dtype, logmel.device)
    magnitude = AF.mel_to_linear(torch.exp(logmel), basis, power=preset.power, method="nnls")  # (..., F, T)
    return AF.griffin_lim(magnitude, n_iter=n_iter, init=init, length=length, generator=generator,
                          pad_mode=preset.pad_mode, **preset.stft_kwargs)
