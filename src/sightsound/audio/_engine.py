"""The blocked CPU engine behind ``audio/functional.py`` (private): STFT blocks that stay in cache, banded mel
products, overlap-add, the fused Griffin-Lim pass, PGHI's heap walk and the resampler's kernels.

The argument checks the public modules share come first; the engine's functions assume checked inputs and
only compute. The one cache (prepared mel projections, ``mel_projection``) holds at most 8 filterbanks.
"""

from __future__ import annotations

import heapq
import math
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F_nn

from sightsound.errors import ParameterError
from sightsound.jit import compiled, numba_available

# -- argument checks shared by functional, windows, phase and coding ---------------------------------------

def positive_int(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ParameterError(f"{name} must be a positive integer, got {value!r}")
    return value


def stft_sizes(
    n_fft: int, hop_length: int | None, win_length: int | None
) -> tuple[int, int, int]:
    """Resolve librosa's defaults (win_length = n_fft, hop_length = win_length // 4) and check them."""
    positive_int("n_fft", n_fft)
    win_length = n_fft if win_length is None else positive_int("win_length", win_length)
    if win_length > n_fft:
        raise ParameterError(f"win_length ({win_length}) must be <= n_fft ({n_fft})")
    hop_length = win_length // 4 if hop_length is None else hop_length
    positive_int("hop_length", hop_length)
    return n_fft, hop_length, win_length


def check_signal(y: torch.Tensor) -> None:
    """A signal to analyse: real floating point and finite everywhere (as librosa's ``valid_audio``)."""
    if y.is_complex():
        raise ParameterError("expected a real signal, got a complex tensor")
    if not y.is_floating_point():
        raise ParameterError(f"audio must be floating point, got {y.dtype} (convert integer PCM, e.g. y / 32768)")
    if not bool(torch.isfinite(y).all()):
        raise ParameterError("audio is not finite everywhere (it holds NaN or Inf)")


def real_dtype(x: torch.Tensor) -> torch.dtype:
    if x.is_complex():
        return torch.float64 if x.dtype == torch.complex128 else torch.float32
    return x.dtype if x.dtype in (torch.float32, torch.float64, torch.float16, torch.bfloat16) else torch.float32


# -- the blocked engine ----------------------------------------------------------------------------------


def pad_signal(y: torch.Tensor, pad: int, mode: str) -> torch.Tensor:
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


def abs_magnitude(X: torch.Tensor) -> torch.Tensor:
    """|X| of a complex tensor via hypot on its real view (3x faster than complex abs on CPU)."""
    parts = torch.view_as_real(X)  # (..., 2)
    return torch.hypot(parts[..., 0], parts[..., 1])


def squared_magnitude(X: torch.Tensor) -> torch.Tensor:
    """|X|^2 of a complex tensor, as re*re + im*im on its real view."""
    parts = torch.view_as_real(X)
    re, im = parts[..., 0], parts[..., 1]
    return torch.addcmul(re * re, im, im)


BLOCK_SAMPLES = 1 << 19  # windowed samples per block (2 MiB in float32): a block's temporaries stay in cache


def frames_per_block(n_items: int, n_fft: int) -> int:
    """How many frames to transform at once, for ``n_items`` signals side by side."""
    return max(8, BLOCK_SAMPLES // (max(1, n_items) * n_fft))


def frame_pieces(y: torch.Tensor, n_fft: int, hop_length: int, pad: int, pad_mode: str):
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
        return [(0, pad_signal(y, pad, pad_mode).unfold(-1, n_fft, hop_length))]
    pieces = [(first_inside, y[..., first_inside * hop_length - pad :].unfold(-1, n_fft, hop_length)
               [..., : last_inside - first_inside + 1, :])]
    # head: padded samples [0, (first_inside - 1) * hop + n_fft), from y's first samples
    head_len = (first_inside - 1) * hop_length + n_fft - pad
    local = pad_signal(y[..., : min(S, head_len + pad + 1)], pad, pad_mode)[..., : pad + head_len]
    pieces.append((0, local.unfold(-1, n_fft, hop_length)[..., :first_inside, :]))
    # tail: frames after last_inside, from y's last samples
    if last_inside + 1 < n_frames:
        start = (last_inside + 1) * hop_length - pad  # in y's coordinates (may be < 0 for tiny signals)
        lo = max(0, start - pad - 1)
        local = pad_signal(y[..., lo:], pad, pad_mode)[..., pad + start - lo :]
        pieces.append((last_inside + 1, local.unfold(-1, n_fft, hop_length)[..., : n_frames - last_inside - 1, :]))
    return pieces


def blocked_spectra(
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
    step = frames_per_block(y[..., 0].numel(), n_fft)
    grad = y.requires_grad or fft_window.requires_grad
    # Outside autograd one buffer takes every block's windowed frames (a fresh 2 MiB temporary per block
    # costs page faults; a buffer for the spectra too did not help: rfft with out= copies). Its zero
    # margins, where a window shorter than n_fft is padded, are written once: only the support [a, z) is
    # multiplied.
    support = torch.nonzero(fft_window).flatten() if not grad else None
    a, z = (int(support[0]), int(support[-1]) + 1) if support is not None and len(support) else (0, n_fft)
    windowed = None if grad else y.new_zeros(*y.shape[:-1], min(step, n_frames), n_fft)
    for first, frames in frame_pieces(y, n_fft, hop_length, pad, pad_mode):  # frames (..., n, n_fft)
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


def spectrogram_tf(
    y: torch.Tensor, fft_window: torch.Tensor, hop_length: int, pad: int, pad_mode: str, power: float,
    mel_basis: torch.Tensor | None = None,
) -> torch.Tensor:
    """|STFT|^power of a checked real signal (..., S) with its window (n_fft,), optionally projected on a mel
    basis (M, F), time-major: -> (..., T, F or M). Block by block, the mel products banded (``mel_bands``)."""
    n_fft, dtype = fft_window.shape[-1], y.dtype

    def magnitude_power(X: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        if power == 2.0:
            parts = torch.view_as_real(X)
            re, im = parts[..., 0], parts[..., 1]
            return torch.mul(re, re, out=out).addcmul_(im, im) if out is not None else squared_magnitude(X)
        S = abs_magnitude(X) if power == 1.0 else abs_magnitude(X).pow(power)
        return S if out is None else out.copy_(S)

    if mel_basis is None:
        return blocked_spectra(y, fft_window, hop_length, magnitude_power, n_fft // 2 + 1, pad, pad_mode)
    lo, hi, basis_t, bands = mel_projection(mel_basis, dtype, y.device)
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

    return blocked_spectra(y, fft_window, hop_length, project, mel_basis.shape[0], pad, pad_mode)


_PROJECTIONS: dict[tuple, tuple] = {}  # a few recently used filterbanks, prepared for _spectrogram_tf


def mel_projection(mel_basis: torch.Tensor, dtype: torch.dtype, device: torch.device):
    """(lo, hi, basis_t (F_used, M), bands or None) for a filterbank (M, F): bins outside every filter
    (above fmax, below fmin) are dropped, and the banded products prepared (``mel_bands``). Remembered
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
        entry = (lo, hi, basis_t, mel_bands(basis_t), mel_basis)
        while len(_PROJECTIONS) >= 8:
            _PROJECTIONS.pop(next(iter(_PROJECTIONS)), None)
        _PROJECTIONS[key] = entry
    return entry[:4]


def mel_bands(basis_t: torch.Tensor, max_bands: int = 6) -> list[tuple[int, int, int, int, torch.Tensor]] | None:
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

def overlap_add(frames: torch.Tensor, hop_length: int) -> torch.Tensor:
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


def window_sumsquare(fft_window: torch.Tensor, n_frames: int, hop_length: int) -> torch.Tensor:
    """Sum of squared shifted windows, the istft normaliser. -> (n_fft + hop_length * (T - 1),)."""
    n_fft = fft_window.shape[-1]
    n_chunks = -(-n_fft // hop_length)
    squared = F_nn.pad(fft_window.square(), (0, n_chunks * hop_length - n_fft)).reshape(n_chunks, hop_length)
    out = fft_window.new_zeros(n_frames + n_chunks - 1, hop_length)
    for c in range(n_chunks):
        out[c : c + n_frames] += squared[c]
    return out.reshape(-1)[: n_fft + hop_length * (n_frames - 1)]


def istft_normaliser(
    fft_window: torch.Tensor, n_frames: int, hop_length: int, center: bool, length: int | None
) -> tuple[int, torch.Tensor]:
    """For an istft of ``n_frames`` frames: the number of frames used and the reciprocal window
    sum-square over the output samples (1 where the sum is below the smallest normal float, as
    librosa leaves those samples undivided). -> (n_frames_used, inv_wss (S,))."""
    n_fft = fft_window.shape[-1]
    if length:
        padded_length = length + 2 * (n_fft // 2) if center else length
        n_frames = min(n_frames, math.ceil(padded_length / hop_length))
    wss = window_sumsquare(fft_window, n_frames, hop_length)
    start = n_fft // 2 if center else 0
    out_len = length if length else wss.shape[-1] - 2 * start
    wss = F_nn.pad(wss[start : start + out_len], (0, max(0, out_len - (wss.shape[-1] - start))))
    tiny = torch.finfo(wss.dtype).tiny
    return n_frames, torch.where(wss > tiny, 1.0 / torch.where(wss > tiny, wss, 1.0), 1.0)


def istft_from_parts(
    stft_tf: torch.Tensor,
    fft_window: torch.Tensor,
    hop_length: int,
    center: bool,
    length: int | None,
    normaliser: tuple[int, torch.Tensor] | None = None,
) -> torch.Tensor:
    """istft of a time-major STFT (..., T, F) -> (..., S); ``normaliser`` from istft_normaliser."""
    n_fft = fft_window.shape[-1]
    if normaliser is None:
        normaliser = istft_normaliser(fft_window, stft_tf.shape[-2], hop_length, center, length)
    n_frames, inv_wss = normaliser
    stft_tf = stft_tf[..., :n_frames, :]
    frames = torch.fft.irfft(stft_tf, n=n_fft, dim=-1).mul_(fft_window)  # (..., T, n_fft)
    y = overlap_add(frames, hop_length)  # (..., n_fft + hop * (T - 1))
    start = n_fft // 2 if center else 0
    out_len = inv_wss.shape[-1]
    y = y[..., start : start + out_len]
    if y.shape[-1] < out_len:  # the frames do not cover `length`: zero-fill as librosa
        y = F_nn.pad(y, (0, out_len - y.shape[-1]))
    return y * inv_wss

def heap_integrate(log_mag, dphi_t, dphi_f, floor):
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


def heap_integrator():
    """numba-compiled heap integration when numba is installed (about 50x faster), else Python."""
    return compiled(heap_integrate) if numba_available() else heap_integrate

def griffin_lim_iterations(
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
    used_frames, inv_wss = istft_normaliser(fft_window, n_frames, hop_length, center, length)
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
    step = frames_per_block(magnitude[..., 0, 0].numel(), n_fft)
    for iteration in range(n_iter):
        if pad and pad_mode != "constant":
            padded = pad_signal(padded[..., pad : pad + out_len], pad, pad_mode)
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

def kaiser_sinc_kernels(
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
