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

import heapq
import math
from typing import Callable, Literal

import numpy as np
import torch
import torch.nn.functional as F_nn

from sightsound.errors import ParameterError

WindowSpec = str | torch.Tensor
PadMode = Literal["constant", "reflect", "edge", "replicate", "symmetric"]

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
    "mel_to_linear",
    "spectral_convergence",
    "griffin_lim",
    "phase_gradient_heap_integration",
    "mu_law_encode",
    "mu_law_decode",
    "pre_emphasis",
    "de_emphasis",
    "resample",
]


# --------------------------------------------------------------------------------------------
# checks


def _positive_int(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ParameterError(f"{name} must be a positive integer, got {value!r}")
    return value


def _stft_sizes(
    n_fft: int, hop_length: int | None, win_length: int | None
) -> tuple[int, int, int]:
    """Resolve librosa's defaults (win_length = n_fft, hop_length = win_length // 4) and check them."""
    _positive_int("n_fft", n_fft)
    win_length = n_fft if win_length is None else _positive_int("win_length", win_length)
    if win_length > n_fft:
        raise ParameterError(f"win_length ({win_length}) must be <= n_fft ({n_fft})")
    hop_length = win_length // 4 if hop_length is None else hop_length
    _positive_int("hop_length", hop_length)
    return n_fft, hop_length, win_length


def _real_dtype(x: torch.Tensor) -> torch.dtype:
    if x.is_complex():
        return torch.float64 if x.dtype == torch.complex128 else torch.float32
    return x.dtype if x.dtype in (torch.float32, torch.float64, torch.float16, torch.bfloat16) else torch.float32


# --------------------------------------------------------------------------------------------
# windows and framing


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
    _positive_int("win_length", win_length)
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


def frame(y: torch.Tensor, frame_length: int, hop_length: int) -> torch.Tensor:
    """Slice a signal into overlapping frames without copying (a strided view).

    Frame ``t`` holds samples ``[t * hop_length, t * hop_length + frame_length)``; a partial last
    frame is dropped (as librosa.util.frame).

    Shapes: y (..., S) -> (..., frame_length, T) with ``T = 1 + (S - frame_length) // hop_length``.
    """
    _positive_int("frame_length", frame_length)
    _positive_int("hop_length", hop_length)
    if y.shape[-1] < frame_length:
        raise ParameterError(
            f"signal of {y.shape[-1]} samples is shorter than one frame ({frame_length})"
        )
    return y.unfold(-1, frame_length, hop_length).transpose(-1, -2)  # (..., T, L) -> (..., L, T)


def fft_frequencies(sr: float, n_fft: int, *, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Centre frequencies in Hz of the ``1 + n_fft // 2`` bins of a real FFT. Shape (F,)."""
    _positive_int("n_fft", n_fft)
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
    n_fft = n_samples if n_fft is None else _positive_int("n_fft", n_fft)
    w = get_window(window, n_samples, dtype=_real_dtype(y), device=y.device)
    spectrum = torch.fft.rfft(y * w, n=n_fft, dim=-1)  # (..., S) -> (..., F)
    return spectrum.real.square() + spectrum.imag.square()


# --------------------------------------------------------------------------------------------
# short-time Fourier transform


def _pad_signal(y: torch.Tensor, pad: int, mode: str) -> torch.Tensor:
    """Pad the last axis by ``pad`` samples on each side, with numpy's pad-mode names."""
    if pad == 0:
        return y
    if mode == "constant":
        return F_nn.pad(y, (pad, pad))
    shape = y.shape
    flat = y.reshape(-1, 1, shape[-1])  # (..., S) -> (N, 1, S) for F.pad's non-constant modes
    if mode == "reflect":
        if pad >= shape[-1]:
            raise ParameterError(
                f"pad_mode='reflect' needs a signal longer than n_fft // 2 = {pad} samples, "
                f"got {shape[-1]}; use pad_mode='constant'"
            )
        out = F_nn.pad(flat, (pad, pad), mode="reflect")
    elif mode in ("edge", "replicate"):
        out = F_nn.pad(flat, (pad, pad), mode="replicate")
    elif mode == "symmetric":
        if pad > shape[-1]:
            raise ParameterError(f"pad_mode='symmetric' needs at least {pad} samples, got {shape[-1]}")
        left = flat[..., :pad].flip(-1)
        right = flat[..., -pad:].flip(-1)
        out = torch.cat([left, flat, right], dim=-1)
    else:
        raise ParameterError(
            f"unknown pad_mode {mode!r}; choose constant, reflect, edge or symmetric"
        )
    return out.reshape(*shape[:-1], shape[-1] + 2 * pad)


def _fft_window(
    window: WindowSpec, win_length: int, n_fft: int, dtype: torch.dtype, device: torch.device
) -> torch.Tensor:
    """The analysis window, centred and zero-padded to n_fft. Shape (n_fft,)."""
    return pad_center(get_window(window, win_length, dtype=dtype, device=device), n_fft)


def _magnitude(X: torch.Tensor) -> torch.Tensor:
    """|X| of a complex tensor via hypot on its real view (3x faster than complex abs on CPU)."""
    parts = torch.view_as_real(X)  # (..., 2)
    return torch.hypot(parts[..., 0], parts[..., 1])


def _power(X: torch.Tensor) -> torch.Tensor:
    """|X|^2 of a complex tensor, as re*re + im*im on its real view."""
    parts = torch.view_as_real(X)
    re, im = parts[..., 0], parts[..., 1]
    return torch.addcmul(re * re, im, im)


_BLOCK_SAMPLES = 1 << 19  # windowed samples per block (2 MiB in float32): a block's temporaries stay in cache


def _frames_per_block(n_items: int, n_fft: int) -> int:
    """How many frames to transform at once, for ``n_items`` signals side by side."""
    return max(8, _BLOCK_SAMPLES // (max(1, n_items) * n_fft))


def _centre_padding(y: torch.Tensor, n_fft: int, center: bool, pad_mode: str) -> int:
    """Check that ``y`` can be framed (after centring) and return the padding per side."""
    pad = n_fft // 2 if center else 0
    if center and pad_mode not in ("constant", "reflect", "edge", "replicate", "symmetric"):
        raise ParameterError(f"unknown pad_mode {pad_mode!r}; choose constant, reflect, edge or symmetric")
    if center and pad_mode in ("reflect", "symmetric") and y.shape[-1] <= pad:
        _pad_signal(y, pad, pad_mode)  # raises its clear error for too short a signal
    if y.shape[-1] + 2 * pad < n_fft:
        raise ParameterError(f"signal of {y.shape[-1]} samples is shorter than n_fft={n_fft}; "
                             "use center=True or a smaller n_fft")
    return pad


def _frame_pieces(y: torch.Tensor, n_fft: int, hop_length: int, pad: int, pad_mode: str):
    """The frames of ``y`` padded by ``pad`` on each side, without padding the whole signal.

    Returns [(first_frame, frames (..., n, n_fft))]: the frames that lie inside ``y`` as one strided
    view of ``y`` itself, and the few frames that overhang either end from small padded pieces
    (the pad mode only needs the samples next to each end). Frame t covers padded samples
    ``[t * hop, t * hop + n_fft)``, i.e. ``y[t * hop - pad : t * hop - pad + n_fft]``.
    """
    S = y.shape[-1]
    n_frames = 1 + (S + 2 * pad - n_fft) // hop_length
    first_inside = -(-pad // hop_length)  # ceil(pad / hop)
    last_inside = (S + pad - n_fft) // hop_length
    if pad == 0:
        return [(0, y.unfold(-1, n_fft, hop_length))]
    if first_inside > last_inside:  # a short signal: pad it whole
        return [(0, _pad_signal(y, pad, pad_mode).unfold(-1, n_fft, hop_length))]
    pieces = [(first_inside, y[..., first_inside * hop_length - pad :].unfold(-1, n_fft, hop_length)
               [..., : last_inside - first_inside + 1, :])]
    # head: padded samples [0, (first_inside - 1) * hop + n_fft), from y's first samples
    head_len = (first_inside - 1) * hop_length + n_fft - pad
    local = _pad_signal(y[..., : min(S, head_len + pad + 1)], pad, pad_mode)[..., : pad + head_len]
    pieces.append((0, local.unfold(-1, n_fft, hop_length)[..., :first_inside, :]))
    # tail: frames after last_inside, from y's last samples
    if last_inside + 1 < n_frames:
        start = (last_inside + 1) * hop_length - pad  # in y's coordinates (may be < 0 for tiny signals)
        lo = max(0, start - pad - 1)
        local = _pad_signal(y[..., lo:], pad, pad_mode)[..., pad + start - lo :]
        pieces.append((last_inside + 1, local.unfold(-1, n_fft, hop_length)[..., : n_frames - last_inside - 1, :]))
    return pieces


def _blocked_spectra(
    y: torch.Tensor, fft_window: torch.Tensor, hop_length: int,
    reduce: Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor] | None, n_out: int, pad: int = 0,
    pad_mode: str = "constant",
) -> torch.Tensor:
    """``reduce(rfft(window * frame))`` block by block. (..., S) -> (..., T, n_out).

    ``reduce(X, out)`` maps spectra (..., b, F) to (..., b, n_out), into ``out`` when it is given (a
    contiguous slice of the result, outside autograd); ``reduce=None`` keeps the complex spectra
    (the STFT itself). ``pad`` samples of ``pad_mode``
    padding are added on each side (librosa's centring) without copying the signal.

    Working on blocks of frames keeps the windowed frames and their spectra in cache and never
    materialises the full complex STFT: 2-3x faster on CPU than transforming everything at once.
    """
    n_fft = fft_window.shape[-1]
    n_frames = 1 + (y.shape[-1] + 2 * pad - n_fft) // hop_length
    dtype = y.dtype if reduce is not None else (torch.complex128 if y.dtype == torch.float64 else torch.complex64)
    out = y.new_empty(*y.shape[:-1], n_frames, n_out, dtype=dtype)
    step = _frames_per_block(y[..., 0].numel(), n_fft)
    grad = y.requires_grad or fft_window.requires_grad
    # Outside autograd one buffer takes every block's windowed frames (a fresh 2 MiB temporary per block
    # costs page faults; a buffer for the spectra too did not help: rfft with out= copies). Its zero
    # margins, where a window shorter than n_fft is padded, are written once: only the support [a, z) is
    # multiplied.
    support = torch.nonzero(fft_window).flatten() if not grad else None
    a, z = (int(support[0]), int(support[-1]) + 1) if support is not None and len(support) else (0, n_fft)
    windowed = None if grad else y.new_zeros(*y.shape[:-1], min(step, n_frames), n_fft)
    for first, frames in _frame_pieces(y, n_fft, hop_length, pad, pad_mode):  # frames (..., n, n_fft)
        for s in range(0, frames.shape[-2], step):
            block = frames[..., s : s + step, :]
            b = block.shape[-2]
            if grad:
                w = block * fft_window
            else:
                w = windowed[..., :b, :]
                torch.mul(block[..., a:z], fft_window[a:z], out=w[..., a:z])
            X = torch.fft.rfft(w, dim=-1)  # (..., b, F)
            target = out[..., first + s : first + s + b, :]
            if reduce is None:
                target.copy_(X)
            elif target.is_contiguous() and not X.requires_grad:
                reduce(X, target)  # written in place (no temporary, no copy)
            else:
                target.copy_(reduce(X, None))
    return out


def _spectrogram_tf(
    y: torch.Tensor, n_fft: int, hop_length: int | None, win_length: int | None, window: WindowSpec,
    center: bool, pad_mode: str, power: float, mel_basis: torch.Tensor | None = None,
) -> torch.Tensor:
    """|STFT|^power, optionally projected on a mel basis (M, F), time-major: (..., S) -> (..., T, F or M)."""
    if power <= 0:
        raise ParameterError(f"power must be > 0, got {power}")
    n_fft, hop_length, win_length = _stft_sizes(n_fft, hop_length, win_length)
    if y.is_complex():
        raise ParameterError("expected a real signal")
    pad = _centre_padding(y, n_fft, center, pad_mode)
    dtype = _real_dtype(y)
    fft_window = _fft_window(window, win_length, n_fft, dtype, y.device)

    def magnitude_power(X: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        if power == 2.0:
            parts = torch.view_as_real(X)
            re, im = parts[..., 0], parts[..., 1]
            return torch.mul(re, re, out=out).addcmul_(im, im) if out is not None else _power(X)
        S = _magnitude(X) if power == 1.0 else _magnitude(X).pow(power)
        return S if out is None else out.copy_(S)

    if mel_basis is None:
        return _blocked_spectra(y.to(dtype), fft_window, hop_length, magnitude_power, n_fft // 2 + 1, pad, pad_mode)
    if mel_basis.shape[-1] != n_fft // 2 + 1:
        raise ParameterError(f"mel_basis has {mel_basis.shape[-1]} frequency bins, the spectrogram {n_fft // 2 + 1}")
    lo, hi, basis_t, bands = _mel_projection(mel_basis, dtype, y.device)
    bands = bands if power == 2.0 else None

    def project(X: torch.Tensor, out: torch.Tensor | None) -> torch.Tensor:
        if basis_t.requires_grad:  # a filterbank being learnt: no out= (it would cut the graph)
            projected = torch.matmul(magnitude_power(X[..., lo:hi]), basis_t)
            return projected if out is None else out.copy_(projected)
        if bands is None or out is None:  # autograd, or another power: |X|^p @ basis
            return torch.matmul(magnitude_power(X[..., lo:hi]), basis_t, out=out)
        # X is this block's temporary: square its real view in place, then each band of filters reads only
        # the bins it covers, (re^2, im^2) interleaved against a basis with each row repeated
        squares = torch.view_as_real(X[..., lo:hi]).square_().flatten(-2)  # (..., b, 2 F_used)
        for first, last, b_lo, b_hi, weights in bands:
            torch.matmul(squares[..., 2 * b_lo : 2 * b_hi], weights, out=out[..., first:last])
        return out

    return _blocked_spectra(y.to(dtype), fft_window, hop_length, project, mel_basis.shape[0], pad, pad_mode)


_PROJECTIONS: dict[tuple, tuple] = {}  # a few recently used filterbanks, prepared for _spectrogram_tf


def _mel_projection(mel_basis: torch.Tensor, dtype: torch.dtype, device: torch.device):
    """(lo, hi, basis_t (F_used, M), bands or None) for a filterbank (M, F): bins outside every filter
    (above fmax, below fmin) are dropped, and the banded products prepared (``_mel_bands``). Remembered
    per filterbank tensor (its storage and in-place version), as a transform calls with the same one."""
    if mel_basis.requires_grad:  # learnt: every weight gets its gradient, zeros included
        return 0, mel_basis.shape[-1], mel_basis.to(dtype=dtype, device=device).transpose(0, 1), None
    key = (mel_basis.data_ptr(), mel_basis._version, tuple(mel_basis.shape), mel_basis.dtype, dtype, str(device))
    entry = _PROJECTIONS.get(key)
    if entry is None:
        basis_t = mel_basis.detach().to(dtype=dtype, device=device).transpose(0, 1)  # (F, M)
        used = torch.nonzero(basis_t.abs().sum(dim=1) > 0).flatten()
        lo, hi = (int(used[0]), int(used[-1]) + 1) if len(used) else (0, 1)
        basis_t = basis_t[lo:hi].contiguous()  # (F_used, M)
        # the entry keeps mel_basis alive, so its memory (the key) cannot be reused by another tensor
        entry = (lo, hi, basis_t, _mel_bands(basis_t), mel_basis)
        while len(_PROJECTIONS) >= 8:
            _PROJECTIONS.pop(next(iter(_PROJECTIONS)), None)
        _PROJECTIONS[key] = entry
    return entry[:4]


def _mel_bands(basis_t: torch.Tensor, max_bands: int = 6) -> list[tuple[int, int, int, int, torch.Tensor]] | None:
    """Split a filterbank (F, M) into bands of neighbouring filters, each with the bin range it covers.

    A mel filter is non-zero on a few neighbouring bins, so filters ``first:last`` need only bins
    ``b_lo:b_hi``: a handful of small products instead of one dense (F x M) one (4-5x fewer operations
    for 80 filters on 257 bins). Returns [(first, last, b_lo, b_hi, weights (2 (b_hi - b_lo), last -
    first))], the weights' rows repeated for the interleaved (re^2, im^2) of a complex spectrum, or None
    when banding saves little (a dense basis).
    """
    F, M = basis_t.shape
    nonzero = basis_t != 0  # (F, M)
    if M < 2 * max_bands or not bool(nonzero.any(0).all()):
        return None
    bins = torch.arange(F, device=basis_t.device)[:, None]
    low = torch.where(nonzero, bins, F).amin(0).tolist()  # (M,) first bin of each filter
    high = (torch.where(nonzero, bins, -1).amax(0) + 1).tolist()  # (M,) one past its last bin
    edges = [round(M * i / max_bands) for i in range(max_bands + 1)]
    bands, cost = [], 0
    for first, last in zip(edges[:-1], edges[1:]):
        b_lo, b_hi = min(low[first:last]), max(high[first:last])
        cost += (b_hi - b_lo) * (last - first)
        weights = basis_t[b_lo:b_hi, first:last].repeat_interleave(2, dim=0).contiguous()
        bands.append((first, last, b_lo, b_hi, weights))
    return bands if cost < 0.25 * F * M else None


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
    n_fft, hop_length, win_length = _stft_sizes(n_fft, hop_length, win_length)
    if y.is_complex():
        raise ParameterError("stft expects a real signal")
    pad = _centre_padding(y, n_fft, center, pad_mode)
    fft_window = _fft_window(window, win_length, n_fft, _real_dtype(y), y.device)
    D = _blocked_spectra(y.to(fft_window.dtype), fft_window, hop_length, None, n_fft // 2 + 1, pad, pad_mode)  # (..., T, F)
    return D.transpose(-1, -2)  # (..., T, F) -> (..., F, T) view


def _overlap_add(frames: torch.Tensor, hop_length: int) -> torch.Tensor:
    """Overlap-add time-major frames at a hop. (..., T, n_fft) -> (..., n_fft + hop_length * (T - 1)).

    Each frame is cut into ``C = ceil(n_fft / hop)`` hop-long chunks; the output, seen as rows of
    ``hop`` samples, receives chunk ``c`` of frame ``t`` in row ``t + c``: C strided adds in all.
    """
    n_frames, n_fft = frames.shape[-2], frames.shape[-1]
    n_chunks = -(-n_fft // hop_length)
    if n_chunks * hop_length != n_fft:
        frames = F_nn.pad(frames, (0, n_chunks * hop_length - n_fft))
    chunks = frames.reshape(*frames.shape[:-1], n_chunks, hop_length)  # (..., T, C, hop)
    out = frames.new_zeros(*frames.shape[:-2], n_frames + n_chunks - 1, hop_length)  # (..., rows, hop)
    for c in range(n_chunks):
        out[..., c : c + n_frames, :] += chunks[..., c, :]
    out = out.reshape(*frames.shape[:-2], -1)  # (..., rows * hop)
    return out[..., : n_fft + hop_length * (n_frames - 1)]


def _window_sumsquare(fft_window: torch.Tensor, n_frames: int, hop_length: int) -> torch.Tensor:
    """Sum of squared shifted windows, the istft normaliser. -> (n_fft + hop_length * (T - 1),)."""
    n_fft = fft_window.shape[-1]
    n_chunks = -(-n_fft // hop_length)
    squared = F_nn.pad(fft_window.square(), (0, n_chunks * hop_length - n_fft)).reshape(n_chunks, hop_length)
    out = fft_window.new_zeros(n_frames + n_chunks - 1, hop_length)
    for c in range(n_chunks):
        out[c : c + n_frames] += squared[c]
    return out.reshape(-1)[: n_fft + hop_length * (n_frames - 1)]


def _istft_normaliser(
    fft_window: torch.Tensor, n_frames: int, hop_length: int, center: bool, length: int | None
) -> tuple[int, torch.Tensor]:
    """For an istft of ``n_frames`` frames: the number of frames used and the reciprocal window
    sum-square over the output samples (1 where the sum is below the smallest normal float, as
    librosa leaves those samples undivided). -> (n_frames_used, inv_wss (S,))."""
    n_fft = fft_window.shape[-1]
    if length:
        padded_length = length + 2 * (n_fft // 2) if center else length
        n_frames = min(n_frames, math.ceil(padded_length / hop_length))
    wss = _window_sumsquare(fft_window, n_frames, hop_length)
    start = n_fft // 2 if center else 0
    out_len = length if length else wss.shape[-1] - 2 * start
    wss = F_nn.pad(wss[start : start + out_len], (0, max(0, out_len - (wss.shape[-1] - start))))
    tiny = torch.finfo(wss.dtype).tiny
    return n_frames, torch.where(wss > tiny, 1.0 / torch.where(wss > tiny, wss, 1.0), 1.0)


def _istft_from_parts(
    stft_tf: torch.Tensor,
    fft_window: torch.Tensor,
    hop_length: int,
    center: bool,
    length: int | None,
    normaliser: tuple[int, torch.Tensor] | None = None,
) -> torch.Tensor:
    """istft of a time-major STFT (..., T, F) -> (..., S); ``normaliser`` from _istft_normaliser."""
    n_fft = fft_window.shape[-1]
    if normaliser is None:
        normaliser = _istft_normaliser(fft_window, stft_tf.shape[-2], hop_length, center, length)
    n_frames, inv_wss = normaliser
    stft_tf = stft_tf[..., :n_frames, :]
    frames = torch.fft.irfft(stft_tf, n=n_fft, dim=-1).mul_(fft_window)  # (..., T, n_fft)
    y = _overlap_add(frames, hop_length)  # (..., n_fft + hop * (T - 1))
    start = n_fft // 2 if center else 0
    out_len = inv_wss.shape[-1]
    y = y[..., start : start + out_len]
    if y.shape[-1] < out_len:  # the frames do not cover `length`: zero-fill as librosa
        y = F_nn.pad(y, (0, out_len - y.shape[-1]))
    return y * inv_wss


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
    n_fft, hop_length, win_length = _stft_sizes(n_fft, hop_length, win_length)
    if stft_matrix.shape[-2] != 1 + n_fft // 2:
        raise ParameterError(
            f"STFT has {stft_matrix.shape[-2]} frequency bins, expected 1 + n_fft // 2 = {1 + n_fft // 2}"
        )
    if length is not None:
        _positive_int("length", length)
    fft_window = _fft_window(window, win_length, n_fft, _real_dtype(stft_matrix), stft_matrix.device)
    stft_tf = stft_matrix.transpose(-1, -2).contiguous()  # (..., F, T) -> (..., T, F) for a last-axis irfft
    return _istft_from_parts(stft_tf, fft_window, hop_length, center, length)


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
    _positive_int("n_fft", n_fft)
    _positive_int("n_mels", n_mels)
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
        dtype = _real_dtype(y)
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


# --------------------------------------------------------------------------------------------
# the way back: mel -> linear -> waveform


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
        _positive_int("n_iter", n_iter)
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


def _heap_integrate(log_mag, dphi_t, dphi_f, floor):
    """Integrate phase gradients outwards from the largest coefficients (Algorithm 1 of the paper).

    All arguments are float64 numpy arrays (T, F) except ``floor`` (a float): coefficients with a
    log-magnitude below it keep phase 0. Written in the subset of Python that numba compiles.
    """
    n_t, n_f = log_mag.shape
    phase = np.zeros((n_t, n_f))
    done = log_mag < floor
    order = np.argsort(-log_mag.ravel())
    heap = [(0.0, 0)]
    heap.pop()
    for seed in order:
        t0, k0 = seed // n_f, seed % n_f
        if done[t0, k0]:
            continue
        done[t0, k0] = True
        heapq.heappush(heap, (-log_mag[t0, k0], seed))
        while len(heap) > 0:
            item = heapq.heappop(heap)
            t, k = item[1] // n_f, item[1] % n_f
            if t + 1 < n_t and not done[t + 1, k]:
                phase[t + 1, k] = phase[t, k] + 0.5 * (dphi_t[t, k] + dphi_t[t + 1, k])
                done[t + 1, k] = True
                heapq.heappush(heap, (-log_mag[t + 1, k], (t + 1) * n_f + k))
            if t - 1 >= 0 and not done[t - 1, k]:
                phase[t - 1, k] = phase[t, k] - 0.5 * (dphi_t[t, k] + dphi_t[t - 1, k])
                done[t - 1, k] = True
                heapq.heappush(heap, (-log_mag[t - 1, k], (t - 1) * n_f + k))
            if k + 1 < n_f and not done[t, k + 1]:
                phase[t, k + 1] = phase[t, k] + 0.5 * (dphi_f[t, k] + dphi_f[t, k + 1])
                done[t, k + 1] = True
                heapq.heappush(heap, (-log_mag[t, k + 1], t * n_f + k + 1))
            if k - 1 >= 0 and not done[t, k - 1]:
                phase[t, k - 1] = phase[t, k] - 0.5 * (dphi_f[t, k] + dphi_f[t, k - 1])
                done[t, k - 1] = True
                heapq.heappush(heap, (-log_mag[t, k - 1], t * n_f + k - 1))
    return phase


_HEAP_INTEGRATE = None


def _heap_integrator():
    """numba-compiled heap integration when numba is installed (about 50x faster), else Python."""
    global _HEAP_INTEGRATE
    if _HEAP_INTEGRATE is None:
        try:
            import numba

            _HEAP_INTEGRATE = numba.njit(cache=True)(_heap_integrate)
        except ImportError:
            _HEAP_INTEGRATE = _heap_integrate
    return _HEAP_INTEGRATE


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
    n_fft, hop_length, win_length = _stft_sizes(n_fft, hop_length, win_length)
    lam = _PGHI_LAMBDA[name] * win_length**2
    mag = S.detach().to("cpu", torch.float64).transpose(-1, -2)  # (..., F, T) -> (..., T, F)
    log_mag = torch.log(mag.clamp_min(1e-300))
    ds_dt = torch.gradient(log_mag, dim=-2)[0] if log_mag.shape[-2] > 1 else torch.zeros_like(log_mag)
    ds_dk = torch.gradient(log_mag, dim=-1)[0]
    bins = torch.arange(log_mag.shape[-1], dtype=torch.float64)
    dphi_t = hop_length * (n_fft / lam * ds_dk + 2.0 * math.pi * bins / n_fft)  # Eq. (29), per frame
    dphi_f = -lam / (n_fft * hop_length) * ds_dt - math.pi  # Eq. (30), per bin
    integrate = _heap_integrator()
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
    n_fft, hop_length, win_length = _stft_sizes(n_fft, hop_length, win_length)
    if S.shape[-2] != 1 + n_fft // 2:
        raise ParameterError(
            f"spectrogram has {S.shape[-2]} frequency bins, expected 1 + n_fft // 2 = {1 + n_fft // 2}"
        )
    real = _real_dtype(S)
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

    fft_window = _fft_window(window, win_length, n_fft, real, S.device)
    magnitude = S.transpose(-1, -2).contiguous()  # (..., F, T) -> (..., T, F): the internal layout
    y = _istft_from_parts(angles.transpose(-1, -2) * magnitude, fft_window, hop_length, center, length)
    if n_iter == 0:
        return y
    return _griffin_lim_iterations(y, magnitude, fft_window, hop_length, center, length, pad_mode, momentum, n_iter)


def _griffin_lim_iterations(
    y: torch.Tensor, magnitude: torch.Tensor, fft_window: torch.Tensor, hop_length: int, center: bool,
    length: int | None, pad_mode: str, momentum: float, n_iter: int,
) -> torch.Tensor:
    """``n_iter`` Griffin-Lim iterations from the waveform ``y`` (..., S) of the initial estimate.

    Each iteration is one pass over blocks of frames that does, per block: stft of the current
    waveform, the momentum step, imposing the known magnitude, istft and overlap-add into the next
    waveform. Every temporary is block-sized (cache-resident); the only full-size buffers are the
    previous spectrum (for momentum), the overlap-add rows and the padded signal, reused throughout.
    ``magnitude`` is time-major (..., T, F).
    """
    n_fft = fft_window.shape[-1]
    n_frames = magnitude.shape[-2]
    pad = n_fft // 2 if center else 0
    used_frames, inv_wss = _istft_normaliser(fft_window, n_frames, hop_length, center, length)
    out_len = inv_wss.shape[-1]
    if used_frames != n_frames or 1 + (out_len + 2 * pad - n_fft) // hop_length != n_frames:
        raise ParameterError(f"length={length} does not match the spectrogram's {n_frames} frames")
    n_chunks = -(-n_fft // hop_length)
    ola = y.new_zeros(*y.shape[:-1], n_frames + n_chunks - 1, hop_length)  # (..., rows, hop)
    ola_flat = ola.view(*y.shape[:-1], -1)  # (..., rows * hop)
    covered = min(out_len, ola_flat.shape[-1] - pad)
    padded = y.new_zeros(*y.shape[:-1], out_len + 2 * pad)  # (..., S + 2 pad)
    padded[..., pad : pad + out_len] = y
    previous = torch.empty(magnitude.shape, dtype=torch.complex128 if y.dtype == torch.float64 else torch.complex64,
                           device=magnitude.device)  # (..., T, F) the last rebuilt spectrum
    beta = momentum / (1.0 + momentum)
    floor = math.sqrt(torch.finfo(y.dtype).tiny)  # |X| below this would underflow in re^2 + im^2
    step = _frames_per_block(magnitude[..., 0, 0].numel(), n_fft)
    for iteration in range(n_iter):
        if pad and pad_mode != "constant":
            padded = _pad_signal(padded[..., pad : pad + out_len], pad, pad_mode)
        frames = padded.unfold(-1, n_fft, hop_length)  # (..., T, n_fft), a view
        ola.zero_()
        for s in range(0, n_frames, step):
            e = min(s + step, n_frames)
            rebuilt = torch.fft.rfft(frames[..., s:e, :] * fft_window, dim=-1)  # (..., b, F)
            # Perraudin et al. 2013: c_n = t_n - momentum / (1 + momentum) * t_{n-1}
            if iteration == 0:
                previous[..., s:e, :] = rebuilt
                estimate = rebuilt
            else:
                estimate = torch.view_as_complex(torch.sub(
                    torch.view_as_real(rebuilt), torch.view_as_real(previous[..., s:e, :]), alpha=beta))
                previous[..., s:e, :] = rebuilt
            # keep the phase, impose the known magnitude: estimate / |estimate| * S (real view, in place)
            parts = torch.view_as_real(estimate)  # (..., b, F, 2)
            re, im = parts[..., 0], parts[..., 1]
            scale = (re * re).addcmul_(im, im).sqrt_().clamp_min_(floor)
            scale = torch.div(magnitude[..., s:e, :], scale, out=scale)
            re.mul_(scale)
            im.mul_(scale)
            block = torch.fft.irfft(estimate, n=n_fft, dim=-1).mul_(fft_window)  # (..., b, n_fft)
            if n_chunks * hop_length != n_fft:
                block = F_nn.pad(block, (0, n_chunks * hop_length - n_fft))
            chunks = block.reshape(*block.shape[:-1], n_chunks, hop_length)  # (..., b, C, hop)
            for c in range(n_chunks):
                ola[..., s + c : e + c, :] += chunks[..., c, :]
        # the next waveform: crop the overlap-add, divide by the window sum-square, re-pad
        torch.mul(ola_flat[..., pad : pad + covered], inv_wss[:covered], out=padded[..., pad : pad + covered])
    return padded[..., pad : pad + out_len].clone()


# --------------------------------------------------------------------------------------------
# mu-law companding (WaveNet's 8-bit output)


def mu_law_encode(x: torch.Tensor, quantization_channels: int = 256) -> torch.Tensor:
    """mu-law companding then quantisation to ``quantization_channels`` classes (ITU-T G.711;
    van den Oord et al. 2016, Eq. 2): ``f(x) = sign(x) ln(1 + mu |x|) / ln(1 + mu)``, ``mu = Q - 1``.

    Input in [-1, 1] (clipped); output int64 in ``[0, Q - 1]``. Shapes: any -> same.
    """
    _positive_int("quantization_channels", quantization_channels)
    mu = float(quantization_channels - 1)
    x = torch.clamp(x, -1.0, 1.0)
    companded = torch.sign(x) * torch.log1p(mu * x.abs()) / math.log1p(mu)
    return torch.floor((companded + 1.0) / 2.0 * mu + 0.5).to(torch.int64)


def mu_law_decode(q: torch.Tensor, quantization_channels: int = 256, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Inverse of :func:`mu_law_encode`: class index in ``[0, Q - 1]`` -> amplitude in [-1, 1]."""
    _positive_int("quantization_channels", quantization_channels)
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


# --------------------------------------------------------------------------------------------
# resampling


def _kaiser_sinc_kernels(
    orig: int, new: int, width: int, rolloff: float, beta: float, dtype: torch.dtype, device
) -> tuple[torch.Tensor, int]:
    """Polyphase low-pass kernels for a rate change orig -> new (reduced by their gcd).

    Output sample ``q * new + j`` sits at input time ``q * orig + j * orig / new``. Phase ``j`` is a
    conv1d kernel over input samples ``q * orig + i`` for ``i`` in ``[-pad, orig + pad)``, with taps
    ``h(i - j * orig / new)``, where ``h(tau) = c sinc(c tau) kaiser(tau)`` and ``c`` is the cutoff in
    cycles per input sample times 2 (``rolloff * min(1, new / orig)``).
    Returns: kernels (new, 1, K), pad.
    """
    cutoff = rolloff * min(1.0, new / orig)
    half_width = width / cutoff  # in input samples: `width` zero crossings of the sinc each side
    pad = int(math.ceil(half_width))
    i = torch.arange(-pad, orig + pad, dtype=torch.float64, device=device)  # (K,)
    j = torch.arange(new, dtype=torch.float64, device=device).unsqueeze(1)  # (new, 1)
    tau = i.unsqueeze(0) - j * orig / new  # (new, K) distance in input samples
    inside = tau.abs() <= half_width
    ratio = torch.clamp(tau / half_width, -1.0, 1.0)
    kaiser = torch.special.i0(beta * torch.sqrt(1.0 - ratio.square())) / torch.special.i0(torch.tensor(beta, dtype=torch.float64))
    taps = cutoff * torch.sinc(cutoff * tau) * kaiser * inside
    return taps.to(dtype).unsqueeze(1), pad  # (new, 1, K)


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
    _positive_int("orig_sr", orig_sr)
    _positive_int("target_sr", target_sr)
    if orig_sr == target_sr:
        return y
    if not 0 < rolloff <= 1:
        raise ParameterError(f"rolloff must be in (0, 1], got {rolloff}")
    g = math.gcd(orig_sr, target_sr)
    orig, new = orig_sr // g, target_sr // g
    dtype = _real_dtype(y)
    kernels, pad = _kaiser_sinc_kernels(orig, new, lowpass_filter_width, rolloff, beta, dtype, y.device)
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
