"""Transformers: blocks, a GPT language model with an exact KV cache, and the GPT-1 task heads.

Radford et al. 2018 ("Improving Language Understanding by Generative Pre-Training"): a stack of
transformer decoder blocks (Vaswani et al. 2017) trained as a language model, then fine-tuned
through one linear layer per task.

Axis legend: B batch, L tokens, D model width, H heads, V vocabulary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from dataclasses import replace as dataclasses_replace

import torch
import torch.nn.functional as F_nn
from torch import nn

from sightsound.attention.layers import KVCache, MultiHeadAttention
from sightsound.errors import ParameterError
from sightsound.models import transformer_decode as decode


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


class MLP(nn.Module):
    def __init__(self, d: int, dropout: float, bias: bool):
        super().__init__()
        self.fc = nn.Linear(d, 4 * d, bias=bias)
        self.proj = nn.Linear(4 * d, d, bias=bias)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.proj(F_nn.gelu(self.fc(x))))  # (B, L, D) -> (B, L, 4D) -> (B, L, D)


class Block(nn.Module):
    """Self-attention and feed-forward, each with a skip connection and layer norm.

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
        self.blocks = nn.ModuleList(Block(c.n_embd, c.n_head, c.dropout, c.bias, c.pre_ln, causal=True)
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
        step, ``models/transformer_decode.py``; CPU) or "auto" (numba on the CPU when installed).
        """
        if temperature < 0:
            raise ParameterError(f"temperature must be >= 0, got {temperature}")
        block = self.config.block_size
        caches = None
        logits = None
        c = self.config
        compiled = use_cache and self._compiled_decode(backend, idx)
        weights = (decode.pack(self) if compiled else self._decode_weights()) if use_cache else None
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
                logits = (decode.decode_step(self, next_token, caches, weights) if compiled
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
            if not decode.numba_available():
                raise ParameterError("backend='numba' needs numba and scipy (pip install sightsound[fast])")
            return True
        return backend == "auto" and possible and decode.numba_available()

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


@dataclass(frozen=True)
class EncoderConfig:
    """BERT-style encoder (Devlin et al. 2019): post-LN blocks, learned positions, token types."""

    vocab_size: int = 30522
    max_positions: int = 512
    type_vocab_size: int = 2
    n_layer: int = 6
    n_head: int = 12
    n_embd: int = 384
    dropout: float = 0.1
    ln_eps: float = 1e-12

    @classmethod
    def minilm_l6(cls) -> "EncoderConfig":
        """all-MiniLM-L6-v2: 6 layers, 12 heads, 384 dims, 1536 feed-forward, uncased WordPiece."""
        return cls()


class TransformerEncoder(nn.Module):
    """Bidirectional transformer encoder with masked mean pooling for sentence embeddings.

    ``forward(ids, attention_mask)`` -> hidden states (B, L, D); ``embed`` -> L2-normalised mean of
    the non-padding hidden states (B, D), the sentence-transformers recipe (Reimers & Gurevych 2019).
    """

    def __init__(self, config: EncoderConfig):
        super().__init__()
        self.config = c = config
        self.tok_emb = nn.Embedding(c.vocab_size, c.n_embd)
        self.pos_emb = nn.Embedding(c.max_positions, c.n_embd)
        self.type_emb = nn.Embedding(c.type_vocab_size, c.n_embd)
        self.ln_emb = nn.LayerNorm(c.n_embd, eps=c.ln_eps)
        self.drop = nn.Dropout(c.dropout)
        self.blocks = nn.ModuleList(Block(c.n_embd, c.n_head, c.dropout, True, pre_ln=False, causal=False,
                                          ln_eps=c.ln_eps) for _ in range(c.n_layer))

    def forward(self, ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                token_types: torch.Tensor | None = None, need_weights: bool = False):
        B, L = ids.shape
        if L > self.config.max_positions:
            raise ParameterError(f"{L} tokens exceed the encoder's {self.config.max_positions} positions")
        pos = torch.arange(L, device=ids.device)
        types = torch.zeros_like(ids) if token_types is None else token_types
        x = self.drop(self.ln_emb(self.tok_emb(ids) + self.pos_emb(pos) + self.type_emb(types)))  # (B, L, D)
        mask = None if attention_mask is None else attention_mask.bool()[:, None, None, :]  # (B, 1, 1, L)
        weights = []
        for block in self.blocks:
            x, w, _ = block(x, mask, None, need_weights)
            weights.append(w)
        return (x, weights) if need_weights else x

    def embed(self, ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Sentence embeddings: masked mean pooling, then L2 normalisation. (B, L) -> (B, D)."""
        hidden = self(ids, attention_mask)
        m = attention_mask.unsqueeze(-1).to(hidden.dtype)  # (B, L, 1)
        pooled = (hidden * m).sum(1) / m.sum(1).clamp_min(1e-9)
        return F_nn.normalize(pooled, p=2, dim=-1)

    def load_bert_weights(self, state: dict[str, torch.Tensor]) -> None:
        """Load a Hugging Face ``BertModel`` state dict (names as in its safetensors file); the three
        query/key/value projections are concatenated into our fused QKV projection."""
        mine = {
            "tok_emb.weight": state["embeddings.word_embeddings.weight"],
            "pos_emb.weight": state["embeddings.position_embeddings.weight"],
            "type_emb.weight": state["embeddings.token_type_embeddings.weight"],
            "ln_emb.weight": state["embeddings.LayerNorm.weight"],
            "ln_emb.bias": state["embeddings.LayerNorm.bias"],
        }
        for i in range(self.config.n_layer):
            p = f"encoder.layer.{i}."
            for kind in ("weight", "bias"):
                mine[f"blocks.{i}.attn.qkv.{kind}"] = torch.cat(
                    [state[f"{p}attention.self.{n}.{kind}"] for n in ("query", "key", "value")], dim=0)
                mine[f"blocks.{i}.attn.proj.{kind}"] = state[f"{p}attention.output.dense.{kind}"]
                mine[f"blocks.{i}.ln1.{kind}"] = state[f"{p}attention.output.LayerNorm.{kind}"]
                mine[f"blocks.{i}.mlp.fc.{kind}"] = state[f"{p}intermediate.dense.{kind}"]
                mine[f"blocks.{i}.mlp.proj.{kind}"] = state[f"{p}output.dense.{kind}"]
                mine[f"blocks.{i}.ln2.{kind}"] = state[f"{p}output.LayerNorm.{kind}"]
        self.load_state_dict(mine)


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


TASKS = ("classification", "similarity", "multiple_choice")


@dataclass(frozen=True)
class GPTTaskConfig:
    """A pretrained GPT body plus one task head (Radford et al. 2018, Sec. 3.3 and Fig. 1)."""

    body: GPTConfig = GPTConfig()
    task: str = "classification"
    n_classes: int = 2              # classification / similarity classes (multiple choice: 1 score per choice)
    lm_weight: float = 0.5          # lambda of the auxiliary language-model loss, Eq. (5)
    head_dropout: float = 0.1

    def __post_init__(self):
        if isinstance(self.body, dict):  # from JSON
            object.__setattr__(self, "body", GPTConfig(**self.body))
        if self.task not in TASKS:
            raise ParameterError(f"task must be one of {', '.join(TASKS)}, got {self.task!r}")

    @classmethod
    def tiny(cls) -> "GPTTaskConfig":
        return cls(body=GPTConfig.tiny())

    @classmethod
    def cpu(cls) -> "GPTTaskConfig":
        return cls(body=GPTConfig.cpu())

    @classmethod
    def paper(cls) -> "GPTTaskConfig":
        return cls(body=GPTConfig.base())


class GPTForTask(nn.Module):
    """GPT-1 fine-tuning: the inputs are token sequences framed by the three special tokens the
    body's vocabulary is extended with — ``start`` = V, ``delim`` = V + 1, ``extract`` = V + 2 —
    and a linear layer reads the final hidden state at the ``extract`` token:

    * classification: ``[start] text [extract]`` -> softmax over classes;
    * similarity: both orders ``[start] A [delim] B [extract]`` and ``[start] B [delim] A [extract]``,
      their extract states summed element-wise -> softmax over classes;
    * multiple choice: ``[start] context [delim] answer_k [extract]`` for each k -> one score each,
      softmax over the choices.

    The loss is ``L_task + lm_weight * L_LM`` (Eq. 5), the LM term on the same sequences.
    batch = (ids, lengths, labels): ids (B, L) for classification, (B, 2, L) for similarity (the two
    orders), (B, K, L) for multiple choice; right-padded; lengths count tokens up to ``extract``.
    """

    def __init__(self, config: GPTTaskConfig):
        super().__init__()
        self.config = config
        body = dataclasses_replace(config.body, vocab_size=config.body.vocab_size + 3)
        self.body = GPT(body)
        self.base_vocab = config.body.vocab_size
        self.start_id, self.delim_id, self.extract_id = self.base_vocab, self.base_vocab + 1, self.base_vocab + 2
        self.dropout = nn.Dropout(config.head_dropout)
        n_out = 1 if config.task == "multiple_choice" else config.n_classes
        self.head = nn.Linear(body.n_embd, n_out)
        nn.init.normal_(self.head.weight, 0.0, 0.02)
        nn.init.zeros_(self.head.bias)

    def init_from_state(self, state: dict[str, torch.Tensor]) -> None:
        """Load a pretrained GPT's weights into the body; the 3 new token embeddings keep their init."""
        own = self.body.state_dict()
        for name, value in state.items():
            if name not in own:
                raise ParameterError(f"pretrained weight {name} does not fit the body")
            if name in ("tok_emb.weight", "lm_head.weight"):
                own[name][: value.shape[0]] = value
            else:
                own[name].copy_(value)
        self.body.load_state_dict(own)

    def _extract_states(self, ids: torch.Tensor, lengths: torch.Tensor):
        flat_ids = ids.reshape(-1, ids.shape[-1])  # (B * K, L)
        flat_len = lengths.reshape(-1)
        h, _, _ = self.body.hidden_states(flat_ids)  # (B * K, L, D)
        last = h[torch.arange(h.shape[0], device=h.device), flat_len - 1]  # (B * K, D) at the extract token
        return h, last.reshape(*ids.shape[:-1], -1)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Task logits: (B, n_classes), or (B, K) scores for multiple choice."""
        _, states = self._extract_states(ids, lengths)
        if self.config.task == "similarity":
            states = states.sum(dim=1)  # (B, 2, D) -> (B, D): both orders
        logits = self.head(self.dropout(states))
        return logits.squeeze(-1) if self.config.task == "multiple_choice" else logits

    def loss(self, batch):
        ids, lengths, labels = batch
        h, states = self._extract_states(ids, lengths)
        if self.config.task == "similarity":
            states = states.sum(dim=1)
        logits = self.head(self.dropout(states))
        if self.config.task == "multiple_choice":
            logits = logits.squeeze(-1)  # (B, K)
        task_loss = F_nn.cross_entropy(logits, labels)
        # auxiliary LM loss on every real next token of every sequence (not the padding)
        flat_ids = ids.reshape(-1, ids.shape[-1])
        lm_logits = self.body.lm_head(h[:, :-1])  # (B * K, L - 1, V)
        targets = flat_ids[:, 1:].clone()
        positions = torch.arange(1, flat_ids.shape[1], device=ids.device).unsqueeze(0)
        targets[positions >= lengths.reshape(-1, 1)] = -100
        lm_loss = F_nn.cross_entropy(lm_logits.reshape(-1, lm_logits.shape[-1]), targets.reshape(-1), ignore_index=-100)
        accuracy = (logits.argmax(-1) == labels).float().mean()
        total = task_loss + self.config.lm_weight * lm_loss
        return total, {"task_loss": float(task_loss.detach()), "lm_loss": float(lm_loss.detach()),
                       "accuracy": float(accuracy)}

    @torch.no_grad()
    def evaluate(self, batches) -> dict[str, float]:
        correct, total, loss_sum = 0, 0, 0.0
        for ids, lengths, labels in batches:
            logits = self(ids, lengths)
            loss_sum += float(F_nn.cross_entropy(logits, labels, reduction="sum"))
            correct += int((logits.argmax(-1) == labels).sum())
            total += len(labels)
        return {"loss": loss_sum / max(1, total), "accuracy": correct / max(1, total)}
