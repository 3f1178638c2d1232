"""Pure tensor functions for sound representation: waveform -> spectrum -> STFT -> mel -> and back.

Every function takes and returns ``torch.Tensor`` s, works batched over any leading dimensions,
in float32 or float64, on CPU or CUDA, and is differentiable wherever the maths is (``stft``,
``istft``, ``spectrogram``, ``melspectrogram``, ``power_to_db`` ...). Parameter names follow
librosa's (``n_fft``, ``hop_length``, ``win_length``, ``window``, ``center``, ``pad_mode``,
``n_mels``, ``fmin``, ``fmax``, ``htk``, ``norm``, ``power``, ``momentum``, ``n_iter``) and the
results match librosa 0.11 to float rounding (see ``tests/audio/test_functional_reference.py``).

Axis legend: S samples, F frequency bins (``1 + n_fft // 2``), T frames, M mel bands; ``...`` is
any number of leading (batch, channel) dimensions.
"""

from __future__ import annotations

import math
from typing import Callable, Literal

import torch
import torch.nn.functional as F_nn

from sightsound.audio import _engine as E
from sightsound.audio._engine import check_signal, positive_int, real_dtype, stft_sizes
from sightsound.audio.coding import (
    de_emphasis,
    mu_law_decode,
    mu_law_encode,
    pre_emphasis,
)
from sightsound.audio.phase import (
    griffin_lim,
    mel_to_linear,
    phase_gradient_heap_integration,
    spectral_convergence,
)
from sightsound.audio.windows import (
    PadMode,
    WindowSpec,
    fft_window_for,
    get_window,
    pad_center,
)
from sightsound.errors import ParameterError

__all__ = [
    "get_window",
    "pad_center",
    "frame",
    "fft_frequencies",
    "power_spectrum",
    "stft",
    "istft",
    "spectrogram",
    "hz_to_mel",
    "mel_to_hz",
    "mel_frequencies",
    "mel_filterbank",
    "melspectrogram",
    "power_to_db",
    "amplitude_to_db",
    "db_to_power",
    "db_to_amplitude",
    "mfcc",
    "modulation_spectrum",
    "mel_to_linear",
    "spectral_convergence",
    "griffin_lim",
    "phase_gradient_heap_integration",
    "mu_law_encode",
    "mu_law_decode",
    "pre_emphasis",
    "de_emphasis",
    "resample",
    "si_sdr",
]


# --------------------------------------------------------------------------------------------
# windows and framing


def frame(y: torch.Tensor, frame_length: int, hop_length: int) -> torch.Tensor:
    """Slice a signal into overlapping frames without copying (a strided view).

    Frame ``t`` holds samples ``[t * hop_length, t * hop_length + frame_length)``; a partial last
    frame is dropped (as librosa.util.frame).

    Shapes: y (..., S) -> (..., frame_length, T) with ``T = 1 + (S - frame_length) // hop_length``.
    """
    positive_int("frame_length", frame_length)
    positive_int("hop_length", hop_length)
    if y.shape[-1] < frame_length:
        raise ParameterError(
            f"signal of {y.shape[-1]} samples is shorter than one frame ({frame_length})"
        )
    return y.unfold(-1, frame_length, hop_length).transpose(-1, -2)  # (..., T, L) -> (..., L, T)


def fft_frequencies(sr: float, n_fft: int, *, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Centre frequencies in Hz of the ``1 + n_fft // 2`` bins of a real FFT. Shape (F,)."""
    positive_int("n_fft", n_fft)
    return torch.linspace(0.0, float(sr) / 2.0, 1 + n_fft // 2, dtype=dtype)


def power_spectrum(
    y: torch.Tensor, n_fft: int | None = None, window: WindowSpec = "rectangular"
) -> torch.Tensor:
    """Power spectrum of the whole signal: ``|DFT(w * y)|^2`` on the ``1 + n_fft // 2`` bins.

    The signal is windowed as a whole (``window`` of its full length), then zero-padded or cut to
    ``n_fft`` (default: its length). With the rectangular window Parseval holds:
    ``sum(y**2) = (P[0] + 2 * sum(P[1:-1]) + P[-1]) / n_fft`` for even ``n_fft``.

    Shapes: y (..., S) -> (..., F).
    """
    n_samples = y.shape[-1]
    if n_samples == 0:
        raise ParameterError("power_spectrum of an empty signal")
    n_fft = n_samples if n_fft is None else positive_int("n_fft", n_fft)
    w = get_window(window, n_samples, dtype=real_dtype(y), device=y.device)
    spectrum = torch.fft.rfft(y * w, n=n_fft, dim=-1)  # (..., S) -> (..., F)
    return spectrum.real.square() + spectrum.imag.square()


# --------------------------------------------------------------------------------------------
# short-time Fourier transform


def _centre_padding(y: torch.Tensor, n_fft: int, center: bool, pad_mode: str) -> int:
    """Check that ``y`` can be framed (after centring) and return the padding per side."""
    pad = n_fft // 2 if center else 0
    if center and pad_mode not in ("constant", "reflect", "edge", "replicate", "symmetric"):
        raise ParameterError(f"unknown pad_mode {pad_mode!r}; choose constant, reflect, edge or symmetric")
    if center and pad_mode in ("reflect", "symmetric") and y.shape[-1] <= pad:
        E.pad_signal(y, pad, pad_mode)  # raises its clear error for too short a signal
    if y.shape[-1] + 2 * pad < n_fft:
        raise ParameterError(f"signal of {y.shape[-1]} samples is shorter than n_fft={n_fft}; "
                             "use center=True or a smaller n_fft")
    return pad



def _spectrogram_tf(
    y: torch.Tensor, n_fft: int, hop_length: int | None, win_length: int | None, window: WindowSpec,
    center: bool, pad_mode: str, power: float, mel_basis: torch.Tensor | None = None,
) -> torch.Tensor:
    """|STFT|^power, optionally projected on a mel basis (M, F), time-major: (..., S) -> (..., T, F or M)."""
    if power <= 0:
        raise ParameterError(f"power must be > 0, got {power}")
    n_fft, hop_length, win_length = stft_sizes(n_fft, hop_length, win_length)
    check_signal(y)
    pad = _centre_padding(y, n_fft, center, pad_mode)
    dtype = real_dtype(y)
    fft_window = fft_window_for(window, win_length, n_fft, dtype, y.device)
    if mel_basis is not None and mel_basis.shape[-1] != n_fft // 2 + 1:
        raise ParameterError(f"mel_basis has {mel_basis.shape[-1]} frequency bins, the spectrogram {n_fft // 2 + 1}")
    return E.spectrogram_tf(y.to(dtype), fft_window, hop_length, pad, pad_mode, power, mel_basis)


def stft(
    y: torch.Tensor,
    n_fft: int = 2048,
    hop_length: int | None = None,
    win_length: int | None = None,
    window: WindowSpec = "hann",
    center: bool = True,
    pad_mode: PadMode = "constant",
) -> torch.Tensor:
    """Short-time Fourier transform, as ``librosa.stft``.

    ``D[..., f, t] = sum_n w[n] y[t * hop_length + n] exp(-2j pi f n / n_fft)``, where ``w`` is
    ``window`` of ``win_length`` samples centred in ``n_fft``. With ``center=True`` the signal is
    first padded by ``n_fft // 2`` on each side (``pad_mode``), so frame ``t`` is centred at sample
    ``t * hop_length``. The lecture's speech setting is ``n_fft=512, win_length=400, hop_length=160,
    window="hamming"`` at 16 kHz (25 ms window, 10 ms hop).

    Shapes: y (..., S) real -> (..., F, T) complex, ``F = 1 + n_fft // 2``.
    """
    n_fft, hop_length, win_length = stft_sizes(n_fft, hop_length, win_length)
    check_signal(y)
    pad = _centre_padding(y, n_fft, center, pad_mode)
    fft_window = fft_window_for(window, win_length, n_fft, real_dtype(y), y.device)
    D = E.blocked_spectra(y.to(fft_window.dtype), fft_window, hop_length, None, n_fft // 2 + 1, pad, pad_mode)  # (..., T, F)
    return D.transpose(-1, -2)  # (..., T, F) -> (..., F, T) view


def istft(
    stft_matrix: torch.Tensor,
    hop_length: int | None = None,
    win_length: int | None = None,
    n_fft: int | None = None,
    window: WindowSpec = "hann",
    center: bool = True,
    length: int | None = None,
) -> torch.Tensor:
    """Inverse STFT by weighted overlap-add (Griffin & Lim 1984, Eq. 6), as ``librosa.istft``.

    Frames are inverse-FFT'd, multiplied by the window, overlap-added and divided by the sum of
    squared windows, which inverts ``stft`` exactly wherever that sum is non-zero (NOLA).
    ``length`` cuts or zero-pads the output to exactly that many samples.

    Shapes: (..., F, T) complex -> (..., S) real.
    """
    if not stft_matrix.is_complex():
        raise ParameterError("istft expects a complex STFT matrix")
    if n_fft is None:
        n_fft = 2 * (stft_matrix.shape[-2] - 1)
    n_fft, hop_length, win_length = stft_sizes(n_fft, hop_length, win_length)
    if stft_matrix.shape[-2] != 1 + n_fft // 2:
        raise ParameterError(
            f"STFT has {stft_matrix.shape[-2]} frequency bins, expected 1 + n_fft // 2 = {1 + n_fft // 2}"
        )
    if length is not None:
        positive_int("length", length)
    fft_window = fft_window_for(window, win_length, n_fft, real_dtype(stft_matrix), stft_matrix.device)
    stft_tf = stft_matrix.transpose(-1, -2).contiguous()  # (..., F, T) -> (..., T, F) for a last-axis irfft
    return E.istft_from_parts(stft_tf, fft_window, hop_length, center, length)


def spectrogram(
    y: torch.Tensor,
    n_fft: int = 2048,
    hop_length: int | None = None,
    win_length: int | None = None,
    window: WindowSpec = "hann",
    center: bool = True,
    pad_mode: PadMode = "constant",
    power: float = 1.0,
) -> torch.Tensor:
    """``|stft(y)| ** power``: magnitude (power=1) or power (power=2) spectrogram.

    Shapes: (..., S) -> (..., F, T) real.
    """
    return _spectrogram_tf(y, n_fft, hop_length, win_length, window, center, pad_mode, power).transpose(-1, -2)


# --------------------------------------------------------------------------------------------
# mel scale

_F_SP = 200.0 / 3  # Slaney: Hz per mel below 1 kHz
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP  # 15 mels
_LOGSTEP = math.log(6.4) / 27.0  # Slaney: log-spaced above 1 kHz


def hz_to_mel(frequencies: torch.Tensor | float, htk: bool = False) -> torch.Tensor:
    """Hz -> mel. HTK: ``2595 log10(1 + f / 700)``; Slaney (default): linear below 1 kHz, log above."""
    f = torch.as_tensor(frequencies, dtype=torch.float64)
    if htk:
        return 2595.0 * torch.log10(1.0 + f / 700.0)
    linear = f / _F_SP
    logarithmic = _MIN_LOG_MEL + torch.log(torch.clamp(f, min=_MIN_LOG_HZ) / _MIN_LOG_HZ) / _LOGSTEP
    return torch.where(f >= _MIN_LOG_HZ, logarithmic, linear)


def mel_to_hz(mels: torch.Tensor | float, htk: bool = False) -> torch.Tensor:
    """mel -> Hz, the inverse of :func:`hz_to_mel`."""
    m = torch.as_tensor(mels, dtype=torch.float64)
    if htk:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)
    linear = _F_SP * m
    logarithmic = _MIN_LOG_HZ * torch.exp(_LOGSTEP * (m - _MIN_LOG_MEL))
    return torch.where(m >= _MIN_LOG_MEL, logarithmic, linear)


def mel_frequencies(n_mels: int = 128, fmin: float = 0.0, fmax: float = 11025.0, htk: bool = False) -> torch.Tensor:
    """``n_mels`` frequencies (Hz) evenly spaced on the mel scale from fmin to fmax. Shape (n_mels,)."""
    mels = torch.linspace(float(hz_to_mel(fmin, htk)), float(hz_to_mel(fmax, htk)), n_mels, dtype=torch.float64)
    return mel_to_hz(mels, htk)


def mel_filterbank(
    sr: float,
    n_fft: int,
    n_mels: int = 128,
    fmin: float = 0.0,
    fmax: float | None = None,
    htk: bool = False,
    norm: Literal["slaney"] | float | None = "slaney",
    *,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Triangular mel filters, as ``librosa.filters.mel``.

    Filter ``m`` rises linearly from mel frequency ``m`` to ``m + 1`` and falls to ``m + 2``
    (``n_mels + 2`` points evenly spaced in mel from fmin to fmax). ``norm="slaney"`` scales each
    filter by ``2 / (f[m+2] - f[m])`` (constant energy per band); a number p scales each row to unit
    p-norm; None keeps peaks at 1. Computed in float64, then cast.

    Returns: (M, F) with ``F = 1 + n_fft // 2``.
    """
    if sr <= 0:
        raise ParameterError(f"sr must be > 0, got {sr}")
    positive_int("n_fft", n_fft)
    positive_int("n_mels", n_mels)
    fmax = float(sr) / 2.0 if fmax is None else float(fmax)
    if not 0.0 <= fmin < fmax:
        raise ParameterError(f"need 0 <= fmin < fmax, got fmin={fmin}, fmax={fmax}")
    if fmax > sr / 2.0 + 1e-9:
        raise ParameterError(f"fmax ({fmax} Hz) is above the Nyquist frequency ({sr / 2} Hz)")
    fftfreqs = fft_frequencies(sr, n_fft)  # (F,)
    mel_f = mel_frequencies(n_mels + 2, fmin, fmax, htk)  # (M + 2,)
    fdiff = mel_f[1:] - mel_f[:-1]  # (M + 1,)
    ramps = mel_f.unsqueeze(1) - fftfreqs.unsqueeze(0)  # (M + 2, F)
    lower = -ramps[:-2] / fdiff[:-1].unsqueeze(1)  # (M, F) rising edge
    upper = ramps[2:] / fdiff[1:].unsqueeze(1)  # (M, F) falling edge
    weights = torch.clamp(torch.minimum(lower, upper), min=0.0)
    if isinstance(norm, str):
        if norm != "slaney":
            raise ParameterError(f"unsupported norm {norm!r}; use 'slaney', a number or None")
        enorm = 2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels])  # (M,)
        weights = weights * enorm.unsqueeze(1)
    elif norm is not None:
        lengths = torch.linalg.vector_norm(weights, ord=float(norm), dim=-1, keepdim=True)
        weights = weights / torch.where(lengths > 0, lengths, 1.0)
    return weights.to(dtype=dtype, device=device)


def melspectrogram(
    y: torch.Tensor,
    sr: float = 22050,
    n_fft: int = 2048,
    hop_length: int | None = 512,
    win_length: int | None = None,
    window: WindowSpec = "hann",
    center: bool = True,
    pad_mode: PadMode = "constant",
    power: float = 2.0,
    n_mels: int = 128,
    fmin: float = 0.0,
    fmax: float | None = None,
    htk: bool = False,
    norm: Literal["slaney"] | float | None = "slaney",
    mel_basis: torch.Tensor | None = None,
) -> torch.Tensor:
    """Mel spectrogram ``mel_basis @ |stft(y)| ** power``, as ``librosa.feature.melspectrogram``.

    Pass a precomputed ``mel_basis`` (M, F) to skip building the filterbank (what
    :class:`sightsound.audio.transforms.MelSpectrogram` does).

    Shapes: (..., S) -> (..., M, T).
    """
    if mel_basis is None:
        dtype = real_dtype(y)
        mel_basis = mel_filterbank(sr, n_fft, n_mels, fmin, fmax, htk, norm, dtype=dtype, device=y.device)
    M = _spectrogram_tf(y, n_fft, hop_length, win_length, window, center, pad_mode, power, mel_basis)  # (..., T, M)
    return M.transpose(-1, -2)  # (..., T, M) -> (..., M, T) view


# --------------------------------------------------------------------------------------------
# decibels

Reference = float | torch.Tensor | Callable[[torch.Tensor], torch.Tensor]


def _item_dims(x: torch.Tensor) -> tuple[int, ...]:
    """The axes of one spectrogram: the last two, or the last one of a 1-D spectrum."""
    return tuple(range(-min(x.ndim, 2), 0))


def _reference_value(x: torch.Tensor, ref: Reference) -> torch.Tensor:
    """``ref`` evaluated per spectrogram: a callable on each item, or a number/tensor as given."""
    if not callable(ref):
        return torch.as_tensor(ref, dtype=x.dtype, device=x.device).abs()
    dims = _item_dims(x)
    if ref in (torch.amax, torch.max):
        return x.amax(dim=dims, keepdim=True)
    lead = x.shape[: x.ndim - len(dims)]
    items = x.reshape(-1, *x.shape[x.ndim - len(dims) :])
    values = torch.stack([torch.as_tensor(ref(item), dtype=x.dtype, device=x.device) for item in items])
    return values.reshape(*lead, *([1] * len(dims)))


def power_to_db(
    S: torch.Tensor, ref: Reference = 1.0, amin: float = 1e-10, top_db: float | None = 80.0
) -> torch.Tensor:
    """``10 log10(max(S, amin) / max(ref, amin))``, floored at ``max - top_db``, as librosa.

    ``ref`` is a number, a tensor broadcastable to S, or a callable applied to each spectrogram
    (e.g. ``torch.amax`` for "relative to the peak"). The ``top_db`` floor and a callable ``ref``
    act per spectrogram (over the last two axes, or the last axis of a 1-D spectrum), so a batch
    gives the same result as its items one by one.

    Shapes: any -> same.
    """
    if amin <= 0:
        raise ParameterError(f"amin must be > 0, got {amin}")
    if top_db is not None and top_db < 0:
        raise ParameterError(f"top_db must be >= 0, got {top_db}")
    magnitude = S.abs() if S.is_complex() else S
    log_spec = 10.0 * torch.log10(torch.clamp(magnitude, min=amin))
    log_spec = log_spec - 10.0 * torch.log10(torch.clamp(_reference_value(magnitude, ref), min=amin))
    if top_db is not None:
        peak = log_spec.amax(dim=_item_dims(log_spec), keepdim=True)
        log_spec = torch.maximum(log_spec, peak - top_db)
    return log_spec


def mfcc(S_db: torch.Tensor, n_mfcc: int = 20) -> torch.Tensor:
    """Mel-frequency cepstral coefficients of a dB mel spectrogram, as ``librosa.feature.mfcc(S=S_db)``: the
    orthonormal DCT-II along the mel axis, first ``n_mfcc`` coefficients. Shapes: (..., M, T) -> (..., n_mfcc, T).
    """
    n_mels = S_db.shape[-2]
    if not 1 <= positive_int("n_mfcc", n_mfcc) <= n_mels:
        raise ParameterError(f"n_mfcc must be in 1..{n_mels} (the number of mel bands), got {n_mfcc}")
    m = torch.arange(n_mels, dtype=torch.float64)
    k = torch.arange(n_mfcc, dtype=torch.float64)[:, None]
    basis = torch.cos(math.pi / n_mels * (m + 0.5) * k) * math.sqrt(2.0 / n_mels)  # (n_mfcc, M)
    basis[0] /= math.sqrt(2.0)
    return basis.to(S_db.dtype).to(S_db.device) @ S_db


def modulation_spectrum(envelope: torch.Tensor, frame_rate: float, fmin: float = 1.0, fmax: float = 10.0,
                        n_fft: int = 1024) -> torch.Tensor:
    """The modulation spectrum of an envelope (e.g. a clip's frame energy in dB): how strongly it rises and falls
    at each rate between ``fmin`` and ``fmax`` Hz (syllables come at about 3-8 Hz). The envelope less its mean,
    Hann-windowed, zero-padded (or cut) to ``n_fft`` frames; |rFFT| in those bins, normalised to sum 1.
    Shapes: (..., T) -> (..., K) with K fixed by ``frame_rate``, the band and ``n_fft``."""
    if not 0 < fmin < fmax <= frame_rate / 2:
        raise ParameterError(f"need 0 < fmin < fmax <= frame_rate / 2, got {fmin}, {fmax}, {frame_rate}")
    x = envelope[..., :n_fft]
    x = (x - x.mean(dim=-1, keepdim=True)) * torch.hann_window(x.shape[-1], periodic=False, dtype=x.dtype,
                                                                device=x.device)
    magnitude = torch.fft.rfft(x, n=n_fft).abs()                                   # (..., n_fft // 2 + 1)
    freqs = torch.fft.rfftfreq(n_fft, 1.0 / frame_rate)
    band = magnitude[..., (freqs >= fmin) & (freqs <= fmax)]                       # (..., K)
    return band / band.sum(dim=-1, keepdim=True).clamp_min(1e-12)


def amplitude_to_db(
    S: torch.Tensor, ref: Reference = 1.0, amin: float = 1e-5, top_db: float | None = 80.0
) -> torch.Tensor:
    """``20 log10(|S| / ref)`` with floor ``amin`` and dynamic range ``top_db``, as librosa.

    Equal to ``power_to_db(|S|**2, ref**2, amin**2, top_db)``; a callable ``ref`` sees magnitudes.
    """
    magnitude = S.abs() if S.is_complex() else S
    ref_value = _reference_value(magnitude, ref)
    return power_to_db(magnitude.square(), ref=ref_value.square(), amin=amin**2, top_db=top_db)


def db_to_power(S_db: torch.Tensor, ref: float = 1.0) -> torch.Tensor:
    """Inverse of :func:`power_to_db` (without its clipping): ``ref * 10 ** (S_db / 10)``."""
    return ref * torch.pow(10.0, S_db * 0.1)


def db_to_amplitude(S_db: torch.Tensor, ref: float = 1.0) -> torch.Tensor:
    """Inverse of :func:`amplitude_to_db` (without its clipping): ``ref * 10 ** (S_db / 20)``."""
    return db_to_power(S_db, ref=ref**2).sqrt()


def si_sdr(reference: torch.Tensor, estimate: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """Scale-invariant signal-to-distortion ratio in dB (Le Roux et al., ICASSP 2019, Eq. (1)-(3)): both made
    zero-mean, ``alpha = <s_hat, s> / ||s||^2``, ``10 log10(||alpha s||^2 / ||alpha s - s_hat||^2)``.

    Shapes: reference, estimate (..., S) -> (...).
    """
    s = reference - reference.mean(dim=-1, keepdim=True)
    s_hat = estimate - estimate.mean(dim=-1, keepdim=True)
    alpha = (s_hat * s).sum(-1, keepdim=True) / ((s * s).sum(-1, keepdim=True) + eps)
    target = alpha * s
    return 10 * torch.log10((target.pow(2).sum(-1) + eps) / ((target - s_hat).pow(2).sum(-1) + eps))


# --------------------------------------------------------------------------------------------
# resampling


def resample(
    y: torch.Tensor,
    orig_sr: int,
    target_sr: int,
    *,
    lowpass_filter_width: int = 24,
    rolloff: float = 0.945,
    beta: float = 14.769656459379492,
) -> torch.Tensor:
    """Band-limited resampling by polyphase Kaiser-windowed sinc interpolation.

    The algorithm: reduce the ratio by the gcd (``orig/new``); every output sample is an
    inner product of the input with a sinc low-pass at ``rolloff * min(1, new/orig)`` of the lower
    Nyquist frequency, ``lowpass_filter_width`` zero crossings wide each side, tapered by a Kaiser
    window (``beta`` 14.77, about 140 dB stop-band). All ``new`` phases run as one strided conv1d.
    Output length is ``ceil(S * target_sr / orig_sr)``. Checked against ``scipy.signal.resample_poly``
    and ``soxr`` in ``tests/audio/test_io.py``.

    Shapes: (..., S) -> (..., ceil(S * target_sr / orig_sr)).
    """
    positive_int("orig_sr", orig_sr)
    positive_int("target_sr", target_sr)
    if orig_sr == target_sr:
        return y
    if not 0 < rolloff <= 1:
        raise ParameterError(f"rolloff must be in (0, 1], got {rolloff}")
    g = math.gcd(orig_sr, target_sr)
    orig, new = orig_sr // g, target_sr // g
    dtype = real_dtype(y)
    kernels, pad = E.kaiser_sinc_kernels(orig, new, lowpass_filter_width, rolloff, beta, dtype, y.device)
    lead, n = y.shape[:-1], y.shape[-1]
    x = y.reshape(-1, 1, n).to(dtype)  # (..., S) -> (N, 1, S)
    n_out = -(-n * new // orig)
    n_blocks = -(-n_out // new)
    # input samples needed: up to (n_blocks - 1) * orig + orig + pad; left pad `pad` for i = -pad
    right = max(0, (n_blocks - 1) * orig + orig + pad - n)
    x = F_nn.pad(x, (pad, right))
    out = F_nn.conv1d(x, kernels, stride=orig)[..., :n_blocks]  # (N, new, n_blocks): phase j of block q
    out = out.transpose(1, 2).reshape(x.shape[0], -1)[:, :n_out]  # (N, n_blocks * new) -> (N, S_out)
    return out.reshape(*lead, n_out)
