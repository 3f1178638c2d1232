"""Analysis windows (rectangular, Hann, Hamming; periodic or symmetric) and centring a window in an FFT frame.
Re-exported by ``audio.functional``."""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F_nn

from sightsound.audio._engine import positive_int
from sightsound.errors import ParameterError

WindowSpec = str | torch.Tensor
PadMode = Literal["constant", "reflect", "edge", "replicate", "symmetric"]  # numpy's pad-mode names


def get_window(
    window: WindowSpec,
    win_length: int,
    *,
    periodic: bool = True,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """A window of ``win_length`` samples: ``"rectangular"``, ``"hann"`` or ``"hamming"``.

    ``periodic=True`` (librosa's and scipy's ``fftbins=True``) is the DFT-even window used for
    spectral analysis; ``periodic=False`` is the symmetric window used for filter design.
    Hamming: ``w[n] = 0.54 - 0.46 cos(2 pi n / N)``, Hann: ``0.5 - 0.5 cos(2 pi n / N)``, with
    ``N = win_length`` (periodic) or ``win_length - 1`` (symmetric). Computed in float64, then cast.
    A tensor is returned as it is (its length must be ``win_length``).

    Returns: (win_length,) tensor of ``dtype``.
    """
    positive_int("win_length", win_length)
    if isinstance(window, torch.Tensor):
        if window.ndim != 1 or window.shape[0] != win_length:
            raise ParameterError(
                f"window tensor must have shape ({win_length},), got {tuple(window.shape)}"
            )
        return window.to(dtype=dtype, device=device)
    name = str(window).lower()
    if name in ("rectangular", "rect", "boxcar", "ones"):
        return torch.ones(win_length, dtype=dtype, device=device)
    coefficients = {"hann": 0.5, "hanning": 0.5, "hamming": 0.54}
    if name not in coefficients:
        raise ParameterError(f"unknown window {window!r}; choose rectangular, hann or hamming")
    if win_length == 1:
        return torch.ones(1, dtype=dtype, device=device)
    alpha = coefficients[name]
    denominator = win_length if periodic else win_length - 1
    n = torch.arange(win_length, dtype=torch.float64, device=device)
    w = alpha - (1.0 - alpha) * torch.cos(2.0 * math.pi * n / denominator)
    return w.to(dtype)


def pad_center(data: torch.Tensor, size: int) -> torch.Tensor:
    """Zero-pad the last axis of ``data`` on both sides to ``size`` (the extra sample goes right).

    Shapes: (..., n) -> (..., size).
    """
    n = data.shape[-1]
    if size < n:
        raise ParameterError(f"cannot pad a length-{n} window to a shorter size {size}")
    left = (size - n) // 2
    return F_nn.pad(data, (left, size - n - left))


def fft_window_for(
    window: WindowSpec, win_length: int, n_fft: int, dtype: torch.dtype, device: torch.device
) -> torch.Tensor:
    """The analysis window, centred and zero-padded to n_fft. Shape (n_fft,)."""
    return pad_center(get_window(window, win_length, dtype=dtype, device=device), n_fft)
