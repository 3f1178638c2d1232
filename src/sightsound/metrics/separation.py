"""How well one voice was separated from a mixture: SI-SDR (and its improvement), BSS-eval SDR, STOI, PESQ.

* SI-SDR (Le Roux et al., "SDR - half-baked or well done?", ICASSP 2019, Eq. (1)-(3)): both signals made
  zero-mean, the reference scaled by ``alpha = <s_hat, s> / ||s||^2``, then
  ``10 log10(||alpha s||^2 / ||alpha s - s_hat||^2)``. Scaling the estimate changes nothing. The improvement
  (SI-SDRi) subtracts the SI-SDR of the unprocessed mixture against the same reference.
* SDR (Vincent, Gribonval & Fevotte, "Performance measurement in blind audio source separation", 2006; the
  BSS-eval v3 "sources" flavour that ``mir_eval.separation.bss_eval_sources`` computes): the estimate is
  projected on the reference and its delays by 0..``filter_length``-1 samples (a time-invariant distortion
  filter is allowed), ``SDR = 10 log10(||P s_hat||^2 / ||s_hat - P s_hat||^2)``. For one target it does not
  depend on which other sources are given.
* STOI (Taal et al. 2011) through ``pystoi``; PESQ (ITU-T P.862.2 wide band) through ``pesq`` when installed.

All take 1-D float signals (S,) of equal length (the estimate is cut or zero-padded to the reference).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from sightsound.audio import functional as AF
from sightsound.errors import ParameterError, UserInputError

EPS = 1e-12


def _pair(reference: torch.Tensor, estimate: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    reference = torch.as_tensor(reference).detach().to(torch.float64).flatten()
    estimate = torch.as_tensor(estimate).detach().to(torch.float64).flatten()
    if reference.numel() == 0:
        raise ParameterError("the reference signal is empty")
    n = reference.numel()
    if estimate.numel() < n:
        estimate = torch.nn.functional.pad(estimate, (0, n - estimate.numel()))
    return reference, estimate[:n]


def si_sdr(reference: torch.Tensor, estimate: torch.Tensor) -> float:
    """Scale-invariant SDR in dB (Le Roux et al. 2019, Eq. (1)-(3); ``audio.functional.si_sdr``, in float64)."""
    s, s_hat = _pair(reference, estimate)
    return float(AF.si_sdr(s, s_hat, eps=EPS))


def si_sdr_improvement(reference: torch.Tensor, estimate: torch.Tensor, mixture: torch.Tensor) -> float:
    """SI-SDR(estimate) - SI-SDR(mixture), both against ``reference``, dB."""
    return si_sdr(reference, estimate) - si_sdr(reference, mixture)


def sdr(reference: torch.Tensor, estimate: torch.Tensor, filter_length: int = 512) -> float:
    """BSS-eval SDR in dB with a ``filter_length``-tap distortion filter (as ``mir_eval``'s
    ``bss_eval_sources`` for this source)."""
    s, s_hat = _pair(reference, estimate)
    n, L = s.numel(), filter_length
    size = 1 << math.ceil(math.log2(n + L - 1))
    S, E = torch.fft.rfft(s, size), torch.fft.rfft(s_hat, size)
    auto = torch.fft.irfft(S * S.conj(), size)           # r_ss[k] = sum_n s[n] s[n + k] (circular, no wrap)
    cross = torch.fft.irfft(E * S.conj(), size)          # r_es[k] = sum_n s_hat[n + k] s[n]
    lags = torch.arange(L)
    gram = auto[(lags[:, None] - lags[None, :]).abs()]   # (L, L) Toeplitz: <s delayed i, s delayed j>
    gram = gram + 1e-10 * gram.diagonal().mean().clamp_min(EPS) * torch.eye(L, dtype=gram.dtype)
    coefficients = torch.linalg.solve(gram, cross[:L])   # the best filter, (L,)
    projection = torch.fft.irfft(S * torch.fft.rfft(coefficients, size), size)[: n + L - 1]
    padded = torch.nn.functional.pad(s_hat, (0, L - 1))
    error = padded - projection
    return float(10 * torch.log10((projection @ projection + EPS) / (error @ error + EPS)))


def stoi(reference: torch.Tensor, estimate: torch.Tensor, sample_rate: int) -> float:
    """Short-Time Objective Intelligibility (Taal et al. 2011) in [0, 1], via ``pystoi``."""
    try:
        from pystoi import stoi as _stoi
    except ImportError:
        raise UserInputError("STOI needs pystoi (pip install pystoi)") from None
    s, s_hat = _pair(reference, estimate)
    return float(_stoi(s.numpy(), s_hat.numpy(), sample_rate, extended=False))


def pesq_wb(reference: torch.Tensor, estimate: torch.Tensor, sample_rate: int = 16000) -> float | None:
    """Wide-band PESQ (MOS-LQO, about 1.0-4.6) via the ``pesq`` package; None when it is not installed or
    the reference holds no speech it can measure."""
    try:
        from pesq import pesq as _pesq
    except ImportError:
        return None
    if sample_rate != 16000:
        raise ParameterError(f"wide-band PESQ is defined at 16 kHz, got {sample_rate} Hz")
    s, s_hat = _pair(reference, estimate)
    try:
        return float(_pesq(sample_rate, s.numpy().astype(np.float32), s_hat.numpy().astype(np.float32), "wb"))
    except Exception:  # pesq raises its own NoUtterancesError / BufferTooShortError types
        return None
