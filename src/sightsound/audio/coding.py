"""Sample coding for a vocoder's output: mu-law companding (WaveNet's 8-bit softmax) and pre-/de-emphasis (noise
shaping). Re-exported by ``audio.functional``."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F_nn

from sightsound.audio._engine import positive_int
from sightsound.errors import ParameterError


def mu_law_encode(x: torch.Tensor, quantization_channels: int = 256) -> torch.Tensor:
    """mu-law companding then quantisation to ``quantization_channels`` classes (ITU-T G.711;
    van den Oord et al. 2016, Eq. 2): ``f(x) = sign(x) ln(1 + mu |x|) / ln(1 + mu)``, ``mu = Q - 1``.

    Input in [-1, 1] (clipped); output int64 in ``[0, Q - 1]``. Shapes: any -> same.
    """
    positive_int("quantization_channels", quantization_channels)
    mu = float(quantization_channels - 1)
    x = torch.clamp(x, -1.0, 1.0)
    companded = torch.sign(x) * torch.log1p(mu * x.abs()) / math.log1p(mu)
    return torch.floor((companded + 1.0) / 2.0 * mu + 0.5).to(torch.int64)


def mu_law_decode(q: torch.Tensor, quantization_channels: int = 256, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Inverse of :func:`mu_law_encode`: class index in ``[0, Q - 1]`` -> amplitude in [-1, 1]."""
    positive_int("quantization_channels", quantization_channels)
    mu = float(quantization_channels - 1)
    companded = 2.0 * q.to(dtype) / mu - 1.0
    return torch.sign(companded) * torch.expm1(companded.abs() * math.log1p(mu)) / mu


# --------------------------------------------------------------------------------------------
# pre-emphasis (noise shaping for a vocoder's output)


def pre_emphasis(x: torch.Tensor, coef: float = 0.97) -> torch.Tensor:
    """First-difference filter ``e[n] = x[n] - coef x[n - 1]`` along the last axis, ``x[-1] = 0``
    (``scipy.signal.lfilter([1, -coef], [1], x)``). It tilts the spectrum up ~6 dB/octave, so that noise
    added to ``e`` (a vocoder's quantisation or sampling noise) comes back from :func:`de_emphasis` shaped
    like speech, low-pass. Shapes: (..., S) -> (..., S)."""
    _emphasis_coef(coef)
    out = x.clone()
    out[..., 1:] -= coef * x[..., :-1]
    return out


def de_emphasis(e: torch.Tensor, coef: float = 0.97, block: int = 64) -> torch.Tensor:
    """Inverse of :func:`pre_emphasis`: the one-pole recursion ``x[n] = e[n] + coef x[n - 1]``, ``x[-1] = 0``
    (``scipy.signal.lfilter([1], [1, -coef], e)``), exact up to rounding. No per-sample loop: each block of
    ``block`` samples is answered from a zero state by one product with the lower-triangular matrix
    ``coef^(i - j)``; the state carried into each block is the same recursion, with coefficient
    ``coef^block``, over the blocks' last samples (so recursion depth log_block S). (..., S) -> (..., S)."""
    _emphasis_coef(coef)
    S = e.shape[-1]
    if coef == 0.0 or S == 0:
        return e.clone()
    work = e.to(torch.float64)
    n_blocks = -(-S // block)
    blocks = F_nn.pad(work, (0, n_blocks * block - S)).unflatten(-1, (n_blocks, block))  # (..., N, L)
    i = torch.arange(block, dtype=torch.float64, device=e.device)
    lag = i[:, None] - i[None, :]
    powers = torch.where(lag >= 0, coef ** lag.clamp_min(0), torch.zeros((), dtype=torch.float64))  # (L, L)
    zero_state = blocks @ powers.T  # (..., N, L): each block's response from rest
    if n_blocks > 1:
        ends = de_emphasis(zero_state[..., -1], coef ** block, block)  # (..., N): x at each block's end
        carry = F_nn.pad(ends[..., :-1], (1, 0))  # (..., N): the state entering each block
        zero_state = zero_state + carry[..., None] * coef ** (i + 1)
    return zero_state.flatten(-2)[..., :S].to(e.dtype)


def _emphasis_coef(coef: float) -> None:
    if not 0.0 <= coef < 1.0:
        raise ParameterError(f"the emphasis coefficient must be in [0, 1), got {coef}")
