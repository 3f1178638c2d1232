"""BERT's uncased WordPiece tokenizer (Wu et al. 2016; Devlin et al. 2019), reading a ``vocab.txt``.

Basic tokenisation: clean control characters, lower-case, strip accents (NFD, drop combining
marks), put spaces around CJK characters, split on whitespace and punctuation. Then WordPiece:
greedy longest-match-first sub-words, continuation pieces prefixed with ``##``; a word with no
segmentation (or over 100 characters) becomes ``[UNK]``.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import torch

from sightsound.errors import UserInputError


def _is_punctuation(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp: int) -> bool:
    return any(lo <= cp <= hi for lo, hi in ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
                                             (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)))


class WordPieceTokenizer:
    def __init__(self, vocab: list[str], lowercase: bool = True, max_length: int = 256):
        self.vocab = vocab
        self.index = {token: i for i, token in enumerate(vocab)}
        self.lowercase, self.max_length = lowercase, max_length
        for special in ("[CLS]", "[SEP]", "[UNK]", "[PAD]"):
            if special not in self.index:
                raise UserInputError(f"the vocabulary lacks {special}")
        self.cls_id, self.sep_id = self.index["[CLS]"], self.index["[SEP]"]
        self.unk_id, self.pad_id = self.index["[UNK]"], self.index["[PAD]"]

    @classmethod
    def from_file(cls, path: str | Path, **kwargs) -> "WordPieceTokenizer":
        path = Path(path)
        if not path.is_file():
            raise UserInputError(f"{path}: vocabulary file not found")
        return cls(path.read_text(encoding="utf-8").splitlines(), **kwargs)

    def basic_tokens(self, text: str) -> list[str]:
        cleaned = []
        for ch in text:
            cp = ord(ch)
            if cp == 0 or cp == 0xFFFD or (unicodedata.category(ch).startswith("C") and ch not in "\t\n\r"):
                continue
            if _is_cjk(cp):
                cleaned.append(f" {ch} ")
            elif ch.isspace():
                cleaned.append(" ")
            else:
                cleaned.append(ch)
        words = []
        for word in "".join(cleaned).split():
            if self.lowercase:
                word = "".join(c for c in unicodedata.normalize("NFD", word.lower()) if unicodedata.category(c) != "Mn")
            current = ""
            for ch in word:
                if _is_punctuation(ch):
                    if current:
                        words.append(current)
                    words.append(ch)
                    current = ""
                else:
                    current += ch
            if current:
                words.append(current)
        return words

    def wordpieces(self, word: str) -> list[str]:
        if len(word) > 100:
            return ["[UNK]"]
        pieces, start = [], 0
        while start < len(word):
            end, found = len(word), None
            while start < end:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.index:
                    found = piece
                    break
                end -= 1
            if found is None:
                return ["[UNK]"]
            pieces.append(found)
            start = end
        return pieces

    def tokenize(self, text: str) -> list[str]:
        return [piece for word in self.basic_tokens(text) for piece in self.wordpieces(word)]

    def encode(self, text: str) -> list[int]:
        """[CLS] pieces [SEP], truncated to ``max_length`` ids."""
        ids = [self.index.get(p, self.unk_id) for p in self.tokenize(text)][: self.max_length - 2]
        return [self.cls_id, *ids, self.sep_id]

    def batch(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Padded ids (B, L) and attention mask (B, L) for a list of texts."""
        encoded = [self.encode(t) for t in texts]
        width = max(len(e) for e in encoded)
        ids = torch.full((len(texts), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros(len(texts), width, dtype=torch.long)
        for i, e in enumerate(encoded):
            ids[i, : len(e)] = torch.tensor(e)
            mask[i, : len(e)] = 1
        return ids, mask
