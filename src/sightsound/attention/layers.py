"""Attention modules: multi-head self-attention (with a KV cache), soft visual attention (Show,
Attend and Tell), location-sensitive attention (Tacotron 2), and the transformer block (self-attention +
MLP, shared by GPT and the text encoder). The maths is in ``functional``."""

from __future__ import annotations

import torch
import torch.nn.functional as F_nn
from torch import nn

from sightsound.attention import functional as AF
from sightsound.errors import ParameterError


class KVCache:
    """Keys and values of the tokens seen so far for one attention layer, in preallocated buffers
    (appending writes in place; the buffers double when full). ``k``, ``v``: (B, H, S, Dh) views."""

    def __init__(self, batch: int, heads: int, head_dim: int, capacity: int, like: torch.Tensor):
        self._k = like.new_empty(batch, heads, max(1, capacity), head_dim)
        self._v = like.new_empty(batch, heads, max(1, capacity), head_dim)
        self.length = 0

    @property
    def k(self) -> torch.Tensor:
        return self._k[:, :, : self.length]

    @property
    def v(self) -> torch.Tensor:
        return self._v[:, :, : self.length]

    def reserve(self, n: int) -> None:
        """Make room for ``n`` more positions (the buffers double when full)."""
        end = self.length + n
        if end > self._k.shape[-2]:
            grow = max(end, 2 * self._k.shape[-2])
            for name in ("_k", "_v"):
                old = getattr(self, name)
                new = old.new_empty(*old.shape[:2], grow, old.shape[-1])
                new[:, :, : self.length] = old[:, :, : self.length]
                setattr(self, name, new)

    def append(self, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Add (B, H, L, Dh) keys and values; returns all keys and values so far."""
        end = self.length + k.shape[-2]
        self.reserve(k.shape[-2])
        self._k[:, :, self.length : end] = k
        self._v[:, :, self.length : end] = v
        self.length = end
        return self.k, self.v


class MultiHeadAttention(nn.Module):
    """Multi-head self-attention with one fused QKV projection (Vaswani et al. 2017, Sec. 3.2.2).

    ``forward(x, mask, cache, need_weights)``: with ``need_weights=False`` it runs
    ``torch.nn.functional.scaled_dot_product_attention`` (fused kernels); with ``True`` the explicit
    :func:`~sightsound.attention.functional.scaled_dot_product_attention` and returns the weights.
    Both agree to <= 1e-5 (tests/attention). A ``cache`` (KVCache) holds earlier tokens' keys and
    values: the new tokens attend to them, are appended to it (in place), and it is returned.

    Shapes: x (B, L, D) -> (B, L, D), weights (B, H, L, S) or None, KVCache.
    """

    def __init__(self, d_model: int, n_heads: int, dropout: float = 0.0, bias: bool = True, causal: bool = False):
        super().__init__()
        if d_model % n_heads:
            raise ParameterError(f"d_model ({d_model}) must divide by n_heads ({n_heads})")
        self.d_model, self.n_heads, self.causal, self.dropout = d_model, n_heads, causal, dropout
        self.qkv = nn.Linear(d_model, 3 * d_model, bias=bias)
        self.proj = nn.Linear(d_model, d_model, bias=bias)
        self.resid_dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None, cache: KVCache | None = None,
                need_weights: bool = False) -> tuple[torch.Tensor, torch.Tensor | None, KVCache]:
        B, L, D = x.shape
        H = self.n_heads
        q, k, v = self.qkv(x).split(D, dim=-1)  # (B, L, D) each
        q, k, v = (t.view(B, L, H, D // H).transpose(1, 2) for t in (q, k, v))  # (B, L, D) -> (B, H, L, Dh)
        if cache is None:
            cache = KVCache(B, H, D // H, L, x)
        k, v = cache.append(k, v)  # (B, H, S, Dh): the cached tokens and these
        new_cache = cache
        S = k.shape[-2]
        p = self.dropout if self.training else 0.0
        if need_weights:
            out, weights = AF.scaled_dot_product_attention(q, k, v, mask=mask, causal=self.causal,
                                                           return_weights=True, dropout_p=p, training=self.training)
        else:
            weights = None
            attn_mask = mask
            is_causal = self.causal and mask is None and L == S
            if self.causal and L == 1:  # one new token sees every cached key: nothing to mask
                is_causal = False
            elif self.causal and not is_causal:  # cache offset or extra mask: spell the causal part out
                keep = AF.causal_mask(L, S, x.device)
                attn_mask = keep if mask is None else (keep & mask if mask.dtype == torch.bool else
                                                       mask.masked_fill(~keep, float("-inf")))
            out = F_nn.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, dropout_p=p, is_causal=is_causal)
        out = out.transpose(1, 2).reshape(B, L, D)  # (B, H, L, Dh) -> (B, L, D)
        return self.resid_dropout(self.proj(out)), weights, new_cache


class SoftAttention(nn.Module):
    """Deterministic soft attention over image locations (Xu et al. 2015, Sec. 4.2, Eq. 4-6).

    ``e_ti = w . tanh(W_a a_i + W_h h_{t-1})``, ``alpha_t = softmax(e_t)``, ``z_t = sum_i alpha_ti a_i``.
    ``project_features`` computes ``W_a a`` once per image; ``forward`` does one decoding step.

    Shapes: features (B, N, D_enc), hidden (B, D_dec) -> context (B, D_enc), alpha (B, N).
    """

    def __init__(self, encoder_dim: int, decoder_dim: int, attention_dim: int):
        super().__init__()
        self.encoder_proj = nn.Linear(encoder_dim, attention_dim)
        self.decoder_proj = nn.Linear(decoder_dim, attention_dim)
        self.w = nn.Parameter(torch.empty(attention_dim).uniform_(-attention_dim**-0.5, attention_dim**-0.5))

    def project_features(self, features: torch.Tensor) -> torch.Tensor:
        return self.encoder_proj(features)  # (B, N, D_enc) -> (B, N, A)

    def forward(self, features: torch.Tensor, hidden: torch.Tensor, projected: torch.Tensor | None = None,
                mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        projected = self.project_features(features) if projected is None else projected
        energies = AF.additive_scores(projected, self.decoder_proj(hidden), self.w)  # (B, N)
        alpha = AF.masked_softmax(energies, mask)  # (B, N)
        context = torch.bmm(alpha.unsqueeze(1), features).squeeze(1)  # (B, 1, N) @ (B, N, D) -> (B, D)
        return context, alpha


class LocationSensitiveAttention(nn.Module):
    """Location-sensitive attention (Chorowski et al. 2015; Tacotron 2, Shen et al. 2018, Sec. 2.2).

    ``e_j = v . tanh(W s + V h_j + U f_j)`` with location features ``f = F * [alpha_{prev}; alpha_cum]``
    (32 filters, kernel 31 in Tacotron 2). Shapes: query (B, D_q), memory (B, S, D_m), previous and
    cumulative weights (B, S) -> context (B, D_m), alpha (B, S).
    """

    def __init__(self, query_dim: int, memory_dim: int, attention_dim: int = 128, n_filters: int = 32,
                 kernel_size: int = 31):
        super().__init__()
        self.query_proj = nn.Linear(query_dim, attention_dim, bias=False)
        self.memory_proj = nn.Linear(memory_dim, attention_dim, bias=False)
        self.location_conv = nn.Parameter(torch.empty(n_filters, 2, kernel_size))
        nn.init.xavier_uniform_(self.location_conv)
        self.location_proj = nn.Linear(n_filters, attention_dim, bias=False)
        self.v = nn.Parameter(torch.empty(attention_dim).uniform_(-attention_dim**-0.5, attention_dim**-0.5))

    def project_memory(self, memory: torch.Tensor) -> torch.Tensor:
        return self.memory_proj(memory)  # (B, S, D_m) -> (B, S, A)

    def forward(self, query: torch.Tensor, memory: torch.Tensor, previous: torch.Tensor, cumulative: torch.Tensor,
                projected_memory: torch.Tensor | None = None, mask: torch.Tensor | None = None):
        projected_memory = self.project_memory(memory) if projected_memory is None else projected_memory
        stacked = torch.stack([previous, cumulative], dim=1)  # (B, 2, S)
        location = self.location_proj(AF.location_features(stacked, self.location_conv))  # (B, S, A)
        energies = AF.additive_scores(projected_memory + location, self.query_proj(query), self.v)  # (B, S)
        alpha = AF.masked_softmax(energies, mask)
        context = torch.bmm(alpha.unsqueeze(1), memory).squeeze(1)  # (B, D_m)
        return context, alpha


class MLP(nn.Module):
    """The position-wise feed-forward network of a transformer block (Vaswani et al. 2017, Eq. 2), with GELU
    (GPT, BERT): ``W2 gelu(W1 x + b1) + b2``, 4x wider inside."""

    def __init__(self, d: int, dropout: float, bias: bool):
        super().__init__()
        self.fc = nn.Linear(d, 4 * d, bias=bias)
        self.proj = nn.Linear(4 * d, d, bias=bias)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.proj(F_nn.gelu(self.fc(x))))  # (B, L, D) -> (B, L, 4D) -> (B, L, D)


class TransformerBlock(nn.Module):
    """The transformer block (Vaswani et al. 2017, Sec. 3.1), shared by GPT and the text encoder:
    multi-head self-attention and the feed-forward MLP, each with a skip connection and layer norm.

    pre-LN: ``x + f(LN(x))``; post-LN (the original transformer, GPT-1, BERT): ``LN(x + f(x))``.
    """

    def __init__(self, d: int, n_head: int, dropout: float, bias: bool, pre_ln: bool, causal: bool,
                 ln_eps: float = 1e-5):
        super().__init__()
        self.pre_ln = pre_ln
        self.ln1 = nn.LayerNorm(d, eps=ln_eps, bias=bias)
        self.attn = MultiHeadAttention(d, n_head, dropout, bias, causal)
        self.ln2 = nn.LayerNorm(d, eps=ln_eps, bias=bias)
        self.mlp = MLP(d, dropout, bias)

    def forward(self, x, mask=None, cache=None, need_weights=False):
        if self.pre_ln:
            a, weights, cache = self.attn(self.ln1(x), mask, cache, need_weights)
            x = x + a
            x = x + self.mlp(self.ln2(x))
        else:
            a, weights, cache = self.attn(x, mask, cache, need_weights)
            x = self.ln1(x + a)
            x = self.ln2(x + self.mlp(x))
        return x, weights, cache
