"""GPT: a decoder-only transformer language model with an exact KV cache, sampling and its LM loss.

Radford et al. 2018 ("Improving Language Understanding by Generative Pre-Training"), Sec. 3.1: a stack of
transformer decoder blocks (Vaswani et al. 2017; ``attention.layers.TransformerBlock``) trained to predict
the next token. The GPT-1 fine-tuning heads are ``models/gpt_tasks.py``; the compiled cached step is
``models/gpt_fast.py``.

Axis legend: B batch, L tokens, D model width, H heads, V vocabulary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F_nn
from torch import nn

from sightsound.attention.layers import KVCache, TransformerBlock
from sightsound.errors import ParameterError
from sightsound.models import gpt_fast as fast


@dataclass(frozen=True)
class GPTConfig:
    vocab_size: int = 65
    block_size: int = 64            # the longest context the model attends to
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    bias: bool = True
    pre_ln: bool = True             # GPT-2 style; False = post-LN blocks (GPT-1, BERT)
    position: str = "learned"       # learned | sinusoidal
    tie_weights: bool = True        # output projection shares the token embedding

    def __post_init__(self):
        if self.n_embd % self.n_head:
            raise ParameterError(f"n_embd ({self.n_embd}) must divide by n_head ({self.n_head})")
        if self.position not in ("learned", "sinusoidal"):
            raise ParameterError(f"position must be learned or sinusoidal, got {self.position!r}")

    @classmethod
    def tiny(cls) -> "GPTConfig":
        return cls(block_size=32, n_layer=2, n_head=2, n_embd=32)

    @classmethod
    def cpu(cls) -> "GPTConfig":
        return cls(block_size=64, n_layer=4, n_head=4, n_embd=128)

    @classmethod
    def small(cls) -> "GPTConfig":
        return cls(block_size=256, n_layer=6, n_head=6, n_embd=384, dropout=0.2)

    @classmethod
    def base(cls) -> "GPTConfig":
        return cls(block_size=512, n_layer=12, n_head=12, n_embd=768, dropout=0.1)

    paper = base


def sinusoidal_positions(n_positions: int, d_model: int) -> torch.Tensor:
    """PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(...) (Vaswani et al. 2017, Sec. 3.5). (L, D)."""
    position = torch.arange(n_positions, dtype=torch.float64).unsqueeze(1)
    div = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float64) * (-math.log(10000.0) / d_model))
    pe = torch.zeros(n_positions, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(position * div)
    pe[:, 1::2] = torch.cos(position * div[: d_model // 2])
    return pe.float()


class GPT(nn.Module):
    """Decoder-only transformer language model (Radford et al. 2018, Sec. 3.1).

    ``forward(idx, caches=None, need_weights=False)`` -> logits (B, L, V), per-layer attention
    weights (each (B, H, L, S)) or None, new per-layer caches. With ``caches`` the tokens continue
    a prefix whose keys and values are cached (positions start at the cache length).
    """

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = c = config
        self.tok_emb = nn.Embedding(c.vocab_size, c.n_embd)
        if c.position == "learned":
            self.pos_emb = nn.Embedding(c.block_size, c.n_embd)
        else:
            self.register_buffer("pos_table", sinusoidal_positions(c.block_size, c.n_embd), persistent=False)
        self.drop = nn.Dropout(c.dropout)
        self.blocks = nn.ModuleList(TransformerBlock(c.n_embd, c.n_head, c.dropout, c.bias, c.pre_ln, causal=True)
                                    for _ in range(c.n_layer))
        self.ln_f = nn.LayerNorm(c.n_embd, bias=c.bias) if c.pre_ln else nn.Identity()
        self.lm_head = nn.Linear(c.n_embd, c.vocab_size, bias=False)
        if c.tie_weights:
            self.lm_head.weight = self.tok_emb.weight
        self.apply(self._init)
        for name, p in self.named_parameters():  # GPT-2 scaled init of the residual projections
            if name.endswith("proj.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * c.n_layer))

    @staticmethod
    def _init(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, 0.0, 0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def hidden_states(self, idx, caches=None, need_weights=False, mask=None):
        """Final hidden states (B, L, D), attention weights per layer, new caches."""
        B, L = idx.shape
        start = caches[0].length if caches else 0
        if start + L > self.config.block_size:
            raise ParameterError(f"{start + L} tokens exceed the block size {self.config.block_size}")
        pos = torch.arange(start, start + L, device=idx.device)
        pos_emb = self.pos_emb(pos) if self.config.position == "learned" else self.pos_table[pos]
        x = self.drop(self.tok_emb(idx) + pos_emb)  # (B, L, D)
        weights, new_caches = [], []
        for i, block in enumerate(self.blocks):
            x, w, cache = block(x, mask, caches[i] if caches else None, need_weights)
            weights.append(w)
            new_caches.append(cache)
        return self.ln_f(x), (weights if need_weights else None), new_caches

    def forward(self, idx: torch.Tensor, caches: list[KVCache] | None = None, need_weights: bool = False):
        h, weights, caches = self.hidden_states(idx, caches, need_weights)
        return self.lm_head(h), weights, caches  # (B, L, V)

    def loss(self, batch) -> tuple[torch.Tensor, dict[str, float]]:
        """Next-token cross-entropy. batch = (inputs (B, L), targets (B, L))."""
        idx, targets = batch
        logits, _, _ = self(idx)
        loss = F_nn.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        return loss, {"bits_per_token": float(loss.detach()) / math.log(2)}

    @torch.inference_mode()
    def generate(self, idx: torch.Tensor, max_new_tokens: int, temperature: float = 1.0, top_k: int | None = None,
                 top_p: float | None = None, generator: torch.Generator | None = None, use_cache: bool = True,
                 backend: str = "auto"):
        """Sample ``max_new_tokens`` tokens after ``idx`` (B, L0). Returns (B, L0 + max_new_tokens).

        With the cache, each new token costs one position's worth of work. The context is the last
        ``block_size`` tokens, as when recomputing: once the sequence is longer than the block, the
        window slides and its positions shift, so the window is re-encoded (cached keys would carry
        the old positions) — the same semantics as recomputation, with or without the cache.
        ``backend`` runs the cached steps: "torch" (:meth:`_decode_step`), "numba" (one compiled call per
        step, ``models/gpt_fast.py``; CPU) or "auto" (numba on the CPU when installed).
        """
        if temperature < 0:
            raise ParameterError(f"temperature must be >= 0, got {temperature}")
        block = self.config.block_size
        caches = None
        logits = None
        c = self.config
        compiled = use_cache and self._compiled_decode(backend, idx)
        weights = (fast.pack(self) if compiled else self._decode_weights()) if use_cache else None
        for _ in range(max_new_tokens):
            if not use_cache or caches is None or idx.shape[1] > block:
                window = idx[:, -block:]
                fresh = [KVCache(idx.shape[0], c.n_head, c.n_embd // c.n_head, block, self.tok_emb.weight)
                         for _ in range(c.n_layer)] if use_cache else None
                out, _, caches = self(window, fresh)
                if idx.shape[1] > block:
                    caches = None  # a sliding window cannot reuse keys computed at other positions
                logits = out[:, -1]
            next_token = sample_next(logits, temperature, top_k, top_p, generator)  # (B, 1)
            idx = torch.cat([idx, next_token], dim=1)
            if use_cache and caches is not None:
                if idx.shape[1] > block:
                    caches = None
                    continue
                logits = (fast.decode_step(self, next_token, caches, weights) if compiled
                          else self._decode_step(next_token, caches, weights))
        return idx

    def _compiled_decode(self, backend: str, idx: torch.Tensor) -> bool:
        """Whether the cached steps run in numba (see ``generate``)."""
        if backend not in ("auto", "numba", "torch"):
            raise ParameterError(f"unknown backend {backend!r}; choose auto, numba or torch")
        dtype = self.tok_emb.weight.dtype
        possible = idx.device.type == "cpu" and dtype in (torch.float32, torch.float64)
        if backend == "numba":
            if not possible:
                raise ParameterError("backend='numba' runs float32/float64 models on the CPU; use backend='torch'")
            if not fast.numba_available():
                raise ParameterError("backend='numba' needs numba and scipy (pip install sightsound[fast])")
            return True
        return backend == "auto" and possible and fast.numba_available()

    def _decode_weights(self) -> list[tuple]:
        """Per block, the tensors the decode step uses (looked up once per generation, not per token)."""
        out = []
        for block in self.blocks:
            attn, mlp = block.attn, block.mlp
            # weights transposed once to (in, out): addmm on a single row is cheaper than linear's (out, in)
            out.append((block.ln1.weight, block.ln1.bias, block.ln1.eps, attn.qkv.weight.t().contiguous(),
                        attn.qkv.bias, attn.proj.weight.t().contiguous(), attn.proj.bias, block.ln2.weight,
                        block.ln2.bias, block.ln2.eps, mlp.fc.weight.t().contiguous(), mlp.fc.bias,
                        mlp.proj.weight.t().contiguous(), mlp.proj.bias))
        return out

    def _decode_step(self, token: torch.Tensor, caches: list[KVCache], weights: list[tuple] | None = None) -> torch.Tensor:
        """One cached generation step, (B, 1) -> logits (B, V): the same maths as ``forward`` written
        with functional calls (no module dispatch, no dropout: inference only). For a small model a
        cached step is mostly per-operation overhead, so this cuts its cost by about a third; the tests
        check it against uncached generation."""
        c = self.config
        B, H, D = token.shape[0], c.n_head, c.n_embd
        pos = caches[0].length
        pos_emb = self.pos_emb.weight[pos] if c.position == "learned" else self.pos_table[pos]
        x = F_nn.embedding(token, self.tok_emb.weight) + pos_emb  # (B, 1, D)
        def dense(v, w_t, b):  # (B, 1, in) @ (in, out) + b -> (B, 1, out)
            return (torch.addmm(b, v.view(B, -1), w_t) if b is not None else v.view(B, -1) @ w_t).view(B, 1, -1)

        for (ln1_w, ln1_b, ln1_eps, qkv_w, qkv_b, proj_w, proj_b, ln2_w, ln2_b, ln2_eps, fc_w, fc_b, mp_w, mp_b), cache \
                in zip(weights or self._decode_weights(), caches):
            h = F_nn.layer_norm(x, (D,), ln1_w, ln1_b, ln1_eps) if c.pre_ln else x
            qkv = dense(h, qkv_w, qkv_b).view(B, 3, H, 1, D // H)  # (B, 1, 3D) -> (B, 3, H, 1, Dh)
            keys, values = cache.append(qkv[:, 1], qkv[:, 2])  # (B, H, S, Dh)
            a = F_nn.scaled_dot_product_attention(qkv[:, 0], keys, values)  # (B, H, 1, Dh)
            a = dense(a, proj_w, proj_b)
            if c.pre_ln:
                x = x + a
                h = F_nn.layer_norm(x, (D,), ln2_w, ln2_b, ln2_eps)
                x = x + dense(F_nn.gelu(dense(h, fc_w, fc_b)), mp_w, mp_b)
            else:
                x = F_nn.layer_norm(x + a, (D,), ln1_w, ln1_b, ln1_eps)
                m = dense(F_nn.gelu(dense(x, fc_w, fc_b)), mp_w, mp_b)
                x = F_nn.layer_norm(x + m, (D,), ln2_w, ln2_b, ln2_eps)
        x = self.ln_f(x)
        return F_nn.linear(x, self.lm_head.weight)[:, -1]  # (B, V)


def sample_next(logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """One token per row from logits (B, V): greedy at temperature 0, else softmax(logits / T)
    restricted to the top-k tokens and/or the smallest set with probability >= top_p. -> (B, 1)."""
    if temperature == 0:
        return logits.argmax(dim=-1, keepdim=True)
    logits = logits / temperature
    if top_k is not None:
        kth = torch.topk(logits, min(top_k, logits.shape[-1]), dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p is not None:
        sorted_logits, order = torch.sort(logits, descending=True, dim=-1)
        cumulative = torch.softmax(sorted_logits, dim=-1).cumsum(dim=-1)
        remove = cumulative - torch.softmax(sorted_logits, dim=-1) >= top_p  # keep the token that crosses top_p
        sorted_logits = sorted_logits.masked_fill(remove, float("-inf"))
        logits = torch.full_like(logits, float("-inf")).scatter(-1, order, sorted_logits)
    # inverse-CDF sampling: one uniform per row against the cumulative distribution (exact, and about 10x
    # cheaper than torch.multinomial for one draw; a measurable share of a cached decode step)
    cdf = torch.softmax(logits.float(), dim=-1).cumsum(dim=-1)  # (B, V)
    u = torch.rand(cdf.shape[0], 1, generator=generator, device=cdf.device) * cdf[:, -1:]
    return torch.searchsorted(cdf, u, right=True).clamp_(max=cdf.shape[-1] - 1)  # (B, 1)


@torch.no_grad()
def language_model_loss(model: GPT, tokens: torch.Tensor, batch_size: int = 32) -> tuple[float, int]:
    """Mean next-token cross-entropy (nats) of ``tokens`` (N,) in non-overlapping windows of the
    block size (as the training recipes validate), and the number of predicted tokens."""
    block = model.config.block_size
    if len(tokens) < 2:
        raise ParameterError("need at least two tokens to evaluate")
    starts = list(range(0, len(tokens) - 1, block))
    total, count = 0.0, 0
    device = next(model.parameters()).device
    for i in range(0, len(starts), batch_size):
        chunk = [tokens[s : s + block + 1] for s in starts[i : i + batch_size]]
        for piece in chunk:  # ragged last window: evaluate alone
            if len(piece) != block + 1:
                logits, _, _ = model(piece[:-1].unsqueeze(0).to(device))
                total += float(F_nn.cross_entropy(logits[0], piece[1:].to(device), reduction="sum"))
                count += len(piece) - 1
        full = [p for p in chunk if len(p) == block + 1]
        if full:
            x = torch.stack(full).to(device)  # (B, block + 1)
            logits, _, _ = model(x[:, :-1])
            total += float(F_nn.cross_entropy(logits.reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1), reduction="sum"))
            count += x.shape[0] * block
    return total / count, count
