"""The way back: mel -> linear magnitude -> waveform. The pseudo-inverse / NNLS mel inversion, phase-gradient heap
integration (PGHI) and Griffin-Lim, as librosa's. Re-exported by ``audio.functional`` (``F.griffin_lim`` ...).

Axis legend: S samples, F frequency bins, T frames, M mel bands; ``...`` any leading dimensions.
"""

from __future__ import annotations

import math
from typing import Literal

import torch

from sightsound.audio import _engine as E
from sightsound.audio._engine import positive_int, real_dtype, stft_sizes
from sightsound.audio.windows import PadMode, WindowSpec, fft_window_for
from sightsound.errors import ParameterError


def mel_to_linear(
    M: torch.Tensor,
    mel_basis: torch.Tensor,
    *,
    power: float = 2.0,
    method: Literal["nnls", "pinv"] = "nnls",
    n_iter: int = 200,
) -> torch.Tensor:
    """Approximate the linear-frequency **magnitude** spectrogram behind a mel spectrogram.

    Solves ``mel_basis @ X ~= M`` with ``X >= 0`` for the power-``power`` spectrogram X, then returns
    ``X ** (1 / power)`` (as ``librosa.feature.inverse.mel_to_stft``). ``method="pinv"`` is the
    clipped pseudo-inverse solution (one matmul); ``"nnls"`` refines it by accelerated projected
    gradient (FISTA, Beck & Teboulle 2009) on ``||mel_basis X - M||_F^2``, batched over all frames.

    Shapes: M (..., M, T), mel_basis (M, F) -> (..., F, T).
    """
    if mel_basis.ndim != 2 or mel_basis.shape[0] != M.shape[-2]:
        raise ParameterError(
            f"mel_basis of shape {tuple(mel_basis.shape)} does not fit a mel spectrogram with {M.shape[-2]} bands"
        )
    if power <= 0:
        raise ParameterError(f"power must be > 0, got {power}")
    B = mel_basis.to(M.dtype)
    X = torch.clamp(torch.matmul(torch.linalg.pinv(B), M), min=0.0)  # (F, M) @ (..., M, T) -> (..., F, T)
    if method == "nnls":
        positive_int("n_iter", n_iter)
        lipschitz = torch.linalg.matrix_norm(B, ord=2).square()  # largest eigenvalue of B^T B
        step = 1.0 / lipschitz
        Bt = B.transpose(0, 1)  # (F, M)
        Y, t = X, 1.0
        for _ in range(n_iter):
            grad = torch.matmul(Bt, torch.matmul(B, Y) - M)  # (..., F, T)
            X_next = torch.clamp(Y - step * grad, min=0.0)
            t_next = (1.0 + math.sqrt(1.0 + 4.0 * t * t)) / 2.0
            Y = X_next + ((t - 1.0) / t_next) * (X_next - X)
            X, t = X_next, t_next
    elif method != "pinv":
        raise ParameterError(f"unknown method {method!r}; choose nnls or pinv")
    return X.pow(1.0 / power)


def spectral_convergence(S: torch.Tensor, S_hat: torch.Tensor) -> torch.Tensor:
    """``||S - S_hat||_F / ||S||_F`` per spectrogram (over the last two axes). (..., F, T) -> (...)."""
    T = min(S.shape[-1], S_hat.shape[-1])
    S, S_hat = S[..., :T], S_hat[..., :T]
    num = torch.linalg.matrix_norm(S - S_hat, ord="fro")
    return num / torch.linalg.matrix_norm(S, ord="fro").clamp_min(torch.finfo(S.dtype).tiny)


# Phase-gradient heap integration (Prusa, Balazs & Sondergaard 2017): a phase estimate from the
# magnitude alone, for a Gaussian-like window g(t) = exp(-pi t^2 / lam). With s = log|STFT| and
# the frame-local phase convention of `stft`, Eqs. (29)-(30) of the paper become, per frame step of
# `a` samples and per bin step of 1/M cycles per sample:
#   d phi / d frame = a * (M / lam * ds/dbin + 2 pi bin / M)
#   d phi / d bin   = -lam / (M a) * ds/dframe - pi
# lam for Hann / Hamming windows of L samples: the best-fitting Gaussian (ltfat's pghi constants).
_PGHI_LAMBDA = {"hann": 0.25645, "hanning": 0.25645, "hamming": 0.29794}


def phase_gradient_heap_integration(
    S: torch.Tensor,
    hop_length: int,
    win_length: int,
    window: str = "hann",
    n_fft: int | None = None,
    tol: float = 1e-5,
) -> torch.Tensor:
    """Phase estimate of a magnitude spectrogram by phase-gradient heap integration (PGHI).

    Prusa, Balazs & Sondergaard, "A noniterative method for reconstruction of phase from STFT
    magnitude", IEEE/ACM TASLP 2017. The phase derivatives of a Gaussian-window STFT follow from
    the log-magnitude's derivatives; integrating them from the loudest coefficients outwards gives
    a phase close to consistent, a far better start for Griffin-Lim than random phase.
    Coefficients more than ``tol`` (relative magnitude) below the peak get phase 0. Uses numba if
    installed (the heap walk is sequential), else plain Python (about 1 s per 10 s of speech).

    Shapes: S (..., F, T) magnitude -> (..., F, T) phase in radians (float64).
    """
    name = str(window).lower()
    if name not in _PGHI_LAMBDA:
        raise ParameterError(f"PGHI needs a Gaussian-like window (hann or hamming), got {window!r}")
    n_fft = 2 * (S.shape[-2] - 1) if n_fft is None else n_fft
    n_fft, hop_length, win_length = stft_sizes(n_fft, hop_length, win_length)
    lam = _PGHI_LAMBDA[name] * win_length**2
    mag = S.detach().to("cpu", torch.float64).transpose(-1, -2)  # (..., F, T) -> (..., T, F)
    log_mag = torch.log(mag.clamp_min(1e-300))
    ds_dt = torch.gradient(log_mag, dim=-2)[0] if log_mag.shape[-2] > 1 else torch.zeros_like(log_mag)
    ds_dk = torch.gradient(log_mag, dim=-1)[0]
    bins = torch.arange(log_mag.shape[-1], dtype=torch.float64)
    dphi_t = hop_length * (n_fft / lam * ds_dk + 2.0 * math.pi * bins / n_fft)  # Eq. (29), per frame
    dphi_f = -lam / (n_fft * hop_length) * ds_dt - math.pi  # Eq. (30), per bin
    integrate = E.heap_integrator()
    flat = log_mag.reshape(-1, *log_mag.shape[-2:])
    phases = []
    for i in range(flat.shape[0]):
        item = flat[i]
        floor = float(item.max()) + math.log(tol)
        phases.append(torch.from_numpy(integrate(
            item.numpy(), dphi_t.reshape(flat.shape)[i].numpy(), dphi_f.reshape(flat.shape)[i].numpy(), floor)))
    phase = torch.stack(phases).reshape(log_mag.shape)
    return phase.transpose(-1, -2).to(S.device)  # (..., T, F) -> (..., F, T)


InitSpec = Literal["random", "zeros", "pghi"] | None | torch.Tensor
GRIFFIN_LIM_INITS = ("random", "zeros", "pghi")


def griffin_lim(
    S: torch.Tensor,
    n_iter: int = 32,
    hop_length: int | None = None,
    win_length: int | None = None,
    n_fft: int | None = None,
    window: WindowSpec = "hann",
    center: bool = True,
    length: int | None = None,
    pad_mode: PadMode = "constant",
    momentum: float = 0.99,
    init: InitSpec = "random",
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Waveform from a magnitude spectrogram by Griffin-Lim phase retrieval, as ``librosa.griffinlim``.

    Alternates projections: impose the magnitude ``S`` on the current phase, go to the time
    domain (istft) and back (stft) (Griffin & Lim 1984). ``momentum > 0`` is the fast variant
    (Perraudin et al. 2013): the new estimate is ``rebuilt_k - momentum / (1 + momentum) * rebuilt_{k-1}``;
    ``momentum=0`` is the classic algorithm. ``init``: ``"random"`` (uniform phase, drawn from
    ``generator``), ``"zeros"``/None (zero phase), ``"pghi"`` (phase-gradient heap integration,
    :func:`phase_gradient_heap_integration`; Hann or Hamming windows), or a tensor of initial
    phase angles (radians, real, shape of S) or of unit phasors (complex, shape of S).

    Shapes: S (..., F, T) -> (..., S_samples).
    """
    if S.is_complex():
        raise ParameterError("griffin_lim expects a magnitude spectrogram (real, >= 0)")
    if momentum < 0:
        raise ParameterError(f"momentum must be >= 0, got {momentum}")
    if isinstance(n_iter, bool) or not isinstance(n_iter, int) or n_iter < 0:
        raise ParameterError(f"n_iter must be a non-negative integer, got {n_iter!r}")
    if n_fft is None:
        n_fft = 2 * (S.shape[-2] - 1)
    n_fft, hop_length, win_length = stft_sizes(n_fft, hop_length, win_length)
    if S.shape[-2] != 1 + n_fft // 2:
        raise ParameterError(
            f"spectrogram has {S.shape[-2]} frequency bins, expected 1 + n_fft // 2 = {1 + n_fft // 2}"
        )
    real = real_dtype(S)
    S = S.detach().to(real)  # phase retrieval is iterative and in place: not differentiable
    complex_dtype = torch.complex128 if real == torch.float64 else torch.complex64
    if isinstance(init, torch.Tensor):
        if init.shape != S.shape:
            raise ParameterError(f"init has shape {tuple(init.shape)}, S has {tuple(S.shape)}")
        angles = init.to(complex_dtype) if init.is_complex() else torch.polar(torch.ones_like(S), init.to(real))
    elif init == "random":
        phase = torch.rand(S.shape, generator=generator, dtype=torch.float64, device=S.device)
        angles = torch.polar(torch.ones_like(S), (2.0 * math.pi * phase).to(real))
    elif init in (None, "zeros"):
        angles = torch.ones(S.shape, dtype=complex_dtype, device=S.device)
    elif init == "pghi":
        if not isinstance(window, str):
            raise ParameterError("init='pghi' needs the window by name (hann or hamming)")
        phase = phase_gradient_heap_integration(S, hop_length, win_length, window, n_fft)
        angles = torch.polar(torch.ones_like(S), phase.to(real))
    else:
        raise ParameterError(f"unknown init {init!r}; choose random, zeros, pghi or pass a phase tensor")

    fft_window = fft_window_for(window, win_length, n_fft, real, S.device)
    magnitude = S.transpose(-1, -2).contiguous()  # (..., F, T) -> (..., T, F): the internal layout
    y = E.istft_from_parts(angles.transpose(-1, -2) * magnitude, fft_window, hop_length, center, length)
    if n_iter == 0:
        return y
    return E.griffin_lim_iterations(y, magnitude, fft_window, hop_length, center, length, pad_mode, momentum, n_iter)
