"""Attention as pure tensor functions.

Scaled dot-product attention (Vaswani et al. 2017, Eq. 1): ``softmax(Q K^T / sqrt(d_k)) V``.
Additive attention (Bahdanau et al. 2015; Xu et al. 2015 Eq. 4-5): ``e_i = w^T tanh(W_a a_i + W_h h)``.
Location features (Chorowski et al. 2015, Eq. 8-9): convolve the previous (cumulative) alignment.

Axis legend: B batch, H heads, L query tokens, S key tokens, Dh head size, N locations, D channels.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F_nn

from sightsound.errors import ParameterError


def lengths_to_mask(lengths: torch.Tensor, max_len: int | None = None) -> torch.Tensor:
    """Boolean mask of valid positions from lengths. (B,) -> (B, max_len), True = keep."""
    max_len = int(lengths.max()) if max_len is None else max_len
    return torch.arange(max_len, device=lengths.device).unsqueeze(0) < lengths.unsqueeze(1)


def causal_mask(n_queries: int, n_keys: int, device=None) -> torch.Tensor:
    """(L, S) boolean, True = keep: query i sees keys up to i + (S - L) (the cache offset)."""
    offset = n_keys - n_queries
    q = torch.arange(n_queries, device=device).unsqueeze(1)
    k = torch.arange(n_keys, device=device).unsqueeze(0)
    return k <= q + offset


def scaled_dot_product_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None = None,
    causal: bool = False,
    return_weights: bool = False,
    dropout_p: float = 0.0,
    training: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """``softmax(q k^T / sqrt(d_k) + mask) v``, written out (Eq. 1 of Vaswani et al. 2017).

    ``mask``: boolean (True = attend) or additive float, broadcastable to (..., L, S).
    ``causal``: query i attends to keys <= i (aligned at the end when S > L, as with a KV cache).
    A query whose keys are all masked gets zero output (and zero weights) rather than NaN.

    Shapes: q (..., L, Dh), k (..., S, Dh), v (..., S, Dv) -> (..., L, Dv) [, weights (..., L, S)].
    """
    if q.shape[-1] != k.shape[-1]:
        raise ParameterError(f"query size {q.shape[-1]} differs from key size {k.shape[-1]}")
    scores = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(q.shape[-1])  # (..., L, S)
    keep = None
    if causal:
        keep = causal_mask(q.shape[-2], k.shape[-2], q.device)
    if mask is not None:
        if mask.dtype == torch.bool:
            keep = mask if keep is None else keep & mask
        else:
            scores = scores + mask
    if keep is not None:
        scores = scores.masked_fill(~keep, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    weights = torch.nan_to_num(weights, nan=0.0)  # fully masked rows
    if dropout_p > 0.0 and training:
        weights = F_nn.dropout(weights, dropout_p)
    out = torch.matmul(weights, v)  # (..., L, S) @ (..., S, Dv) -> (..., L, Dv)
    return (out, weights) if return_weights else out


def additive_scores(keys_projected: torch.Tensor, query_projected: torch.Tensor, w: torch.Tensor,
                    bias: torch.Tensor | None = None) -> torch.Tensor:
    """Bahdanau / soft visual attention energies ``e_i = w . tanh(W_a a_i + W_h h)``.

    The projections are done by the caller (they are parameters): ``keys_projected = W_a a``
    (B, N, A) is computed once per sequence, ``query_projected = W_h h`` (B, A) at each step.
    Shapes: (B, N, A), (B, A), w (A,) -> energies (B, N).
    """
    hidden = torch.tanh(keys_projected + query_projected.unsqueeze(-2))  # (B, N, A)
    energies = torch.matmul(hidden, w)  # (B, N, A) @ (A,) -> (B, N)
    return energies if bias is None else energies + bias


def masked_softmax(energies: torch.Tensor, mask: torch.Tensor | None = None, dim: int = -1) -> torch.Tensor:
    """Softmax with a boolean keep-mask (masked positions get exactly 0)."""
    if mask is not None:
        energies = energies.masked_fill(~mask, float("-inf"))
    return torch.nan_to_num(torch.softmax(energies, dim=dim), nan=0.0)


def attention_entropy(weights: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Mean entropy (nats) of attention distributions, ``H = -sum_i a_i log a_i`` over the last axis,
    averaged over the (masked) rest: weights (..., N), mask (...) bool (True = counted) -> scalar. Zero for
    one-hot weights, log N for uniform ones; as a loss term it makes the attention sharper."""
    H = -(weights * torch.log(weights.clamp_min(1e-12))).sum(-1)  # (...)
    if mask is None:
        return H.mean()
    mask = mask.to(H.dtype)
    return (H * mask).sum() / mask.sum().clamp_min(1)


def location_features(previous_weights: torch.Tensor, conv_weight: torch.Tensor) -> torch.Tensor:
    """Location features ``f = F * alpha_{i-1}`` (Chorowski et al. 2015, Eq. 8): convolve the previous
    alignment (Tacotron 2 stacks the previous and the cumulative one as 2 channels).

    Shapes: previous_weights (B, C, S), conv_weight (F, C, K) with odd K -> (B, S, F).
    """
    kernel = conv_weight.shape[-1]
    if kernel % 2 == 0:
        raise ParameterError(f"the location kernel size must be odd, got {kernel}")
    features = F_nn.conv1d(previous_weights, conv_weight, padding=kernel // 2)  # (B, F, S)
    return features.transpose(1, 2)  # (B, F, S) -> (B, S, F)


def upsample_attention_map(alpha: torch.Tensor, size: tuple[int, int], sigma: float | None = None) -> torch.Tensor:
    """A G x G attention map spread over an H x W image for display: bilinear interpolation to (H, W)
    (align_corners=False: each weight sits at its cell centre), then Gaussian smoothing with ``sigma``
    pixels (default: half a cell), then renormalised to sum to 1. Shapes: (..., G, G) -> (..., H, W)."""
    lead, (g1, g2) = alpha.shape[:-2], alpha.shape[-2:]
    height, width = size
    x = alpha.reshape(-1, 1, g1, g2).float()
    x = torch.nn.functional.interpolate(x, size=(height, width), mode="bilinear", align_corners=False)
    sigma = 0.5 * max(height / g1, width / g2) if sigma is None else sigma
    if sigma > 0:
        radius = max(1, int(3 * sigma))
        offsets = torch.arange(-radius, radius + 1, dtype=x.dtype)
        kernel = torch.exp(-0.5 * (offsets / sigma) ** 2)
        kernel = kernel / kernel.sum()
        pad_h, pad_w = min(radius, height - 1), min(radius, width - 1)
        k_h = kernel[radius - pad_h: radius + pad_h + 1]
        k_w = kernel[radius - pad_w: radius + pad_w + 1]
        x = torch.nn.functional.pad(x, (0, 0, pad_h, pad_h), mode="reflect")
        x = torch.nn.functional.conv2d(x, (k_h / k_h.sum()).view(1, 1, -1, 1))
        x = torch.nn.functional.pad(x, (pad_w, pad_w, 0, 0), mode="reflect")
        x = torch.nn.functional.conv2d(x, (k_w / k_w.sum()).view(1, 1, 1, -1))
    x = x / x.sum(dim=(-2, -1), keepdim=True).clamp_min(1e-12)
    return x.reshape(*lead, height, width)
