"""Character-level language-model data: a text file, a character vocabulary, windows of tokens.

Split (fixed): the first ``train_fraction`` of the characters train, the rest validate (for
tinyshakespeare, 90% / 10% as in nanoGPT). Training items are windows at every offset (the sampler
shuffles them); validation items are non-overlapping windows, so evaluation covers the held-out text once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import Dataset

from sightsound.data import Built
from sightsound.errors import UserInputError
from sightsound.fileio import read_text as read_text_file


@dataclass(frozen=True)
class Config:
    path: str = "tinyshakespeare/input.txt"
    block_size: int = 64
    train_fraction: float = 0.9


class CharVocab:
    """Sorted set of the characters of a text; ids are positions in it."""

    def __init__(self, chars: list[str]):
        self.chars = list(chars)
        self.index = {c: i for i, c in enumerate(self.chars)}

    @classmethod
    def from_text(cls, text: str) -> "CharVocab":
        return cls(sorted(set(text)))

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> torch.Tensor:
        unknown = sorted({c for c in text if c not in self.index})
        if unknown:
            raise UserInputError(f"characters not in the model's vocabulary: {''.join(unknown)!r}")
        return torch.tensor([self.index[c] for c in text], dtype=torch.long)

    def decode(self, ids) -> str:
        return "".join(self.chars[int(i)] for i in ids)

    def to_json(self) -> str:
        return json.dumps({"type": "char", "chars": self.chars})

    @classmethod
    def from_json(cls, text: str) -> "CharVocab":
        return cls(json.loads(text)["chars"])


class Windows(Dataset):
    """(inputs (L,), targets (L,)) = tokens [o, o + L) and [o + 1, o + L + 1) for offsets o."""

    def __init__(self, tokens: torch.Tensor, block_size: int, stride: int = 1):
        if len(tokens) <= block_size:
            raise UserInputError(f"the text ({len(tokens)} characters) is shorter than one block ({block_size + 1})")
        self.tokens, self.block_size, self.stride = tokens, block_size, stride

    def __len__(self) -> int:
        return (len(self.tokens) - self.block_size - 1) // self.stride + 1

    def __getitem__(self, i: int):
        o = i * self.stride
        chunk = self.tokens[o : o + self.block_size + 1]
        return chunk[:-1], chunk[1:]


def read_text(root: Path, relative: str) -> tuple[str, CharVocab]:
    """The text at ``root/relative`` and its character vocabulary (sorted, so always the same ids)."""
    path = Path(root) / relative
    if not path.is_file():
        raise UserInputError(f"{path}: text file not found (pass --data or set SIGHTSOUND_DATA)")
    text = read_text_file(path, "training text")
    return text, CharVocab.from_text(text)


def build(root: Path, config: Config):
    text, vocab = read_text(root, config.path)
    tokens = vocab.encode(text)
    n_train = int(len(tokens) * config.train_fraction)
    train = Windows(tokens[:n_train], config.block_size)
    val = Windows(tokens[n_train:], config.block_size, stride=config.block_size)
    return Built(train, val, None, {"vocab_size": len(vocab), "block_size": config.block_size},
                 artifacts={"vocab.json": vocab.to_json()})


def write_synthetic(root: Path) -> Path:
    """A small text in the real layout (for tests): a few repeated verses."""
    path = Path(root) / Config.path
    path.parent.mkdir(parents=True, exist_ok=True)
    verse = ("To be, or not to be, that is the question:\nWhether 'tis nobler in the mind to suffer\n"
             "The slings and arrows of outrageous fortune,\nOr to take arms against a sea of troubles.\n")
    path.write_text(verse * 60, encoding="utf-8")
    return path
