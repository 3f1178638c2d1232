"""Caption text: PTB-style tokenisation and a word vocabulary with a minimum count and ``<unk>``.

``tokenize`` follows what the coco-caption scorer's PTB tokenizer produces for English captions:
lower case, clitics split off ("dog's" -> "dog 's", "don't" -> "do n't"), punctuation dropped.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field

from sightsound.errors import ParameterError

PAD, START, END, UNK = "<pad>", "<start>", "<end>", "<unk>"
SPECIALS = (PAD, START, END, UNK)  # ids 0..3 in every vocabulary

_CLITIC = re.compile(r"(?i)\b(\w+)(n't|'s|'re|'ve|'ll|'d|'m)\b")
_WORD = re.compile(r"n't|'s|'re|'ve|'ll|'d|'m|[a-z0-9]+(?:[-.][a-z0-9]+)*")


def tokenize(text: str) -> list[str]:
    """'A dog's ball, on the grass.' -> ['a', 'dog', "'s", 'ball', 'on', 'the', 'grass']"""
    text = text.lower().replace("\u2019", "'").replace("`", "'")
    text = _CLITIC.sub(lambda m: f"{m.group(1)} {m.group(2)}" if m.group(2) != "n't" or m.group(1) != "ca"
                       else "can n't", text)
    return [t.strip(".") for t in _WORD.findall(text) if t.strip(".")]


@dataclass
class Vocabulary:
    """Words <-> ids. Ids 0-3 are ``<pad> <start> <end> <unk>``; the rest are training words seen at least
    ``min_count`` times, most frequent first (ties alphabetical, so the ids are reproducible)."""

    words: list[str] = field(default_factory=lambda: list(SPECIALS))

    def __post_init__(self):
        if tuple(self.words[:4]) != SPECIALS:
            raise ParameterError("a vocabulary starts with <pad> <start> <end> <unk>")
        self.index = {w: i for i, w in enumerate(self.words)}

    pad_id, start_id, end_id, unk_id = 0, 1, 2, 3

    @classmethod
    def build(cls, tokenized: list[list[str]], min_count: int = 1) -> "Vocabulary":
        counts = Counter(w for sentence in tokenized for w in sentence)
        kept = sorted((w for w, c in counts.items() if c >= min_count and w not in SPECIALS),
                      key=lambda w: (-counts[w], w))
        return cls(list(SPECIALS) + kept)

    def __len__(self) -> int:
        return len(self.words)

    def encode(self, tokens: list[str], max_len: int | None = None) -> list[int]:
        """``<start> w1 ... wn <end>`` ids; words beyond ``max_len`` are cut (the ``<end>`` is kept)."""
        ids = [self.index.get(t, self.unk_id) for t in tokens]
        if max_len is not None:
            ids = ids[:max_len]
        return [self.start_id] + ids + [self.end_id]

    def decode(self, ids) -> list[str]:
        """Words up to the first ``<end>`` (``<start>`` and ``<pad>`` skipped)."""
        out = []
        for i in ids:
            i = int(i)
            if i == self.end_id:
                break
            if i in (self.start_id, self.pad_id):
                continue
            out.append(self.words[i] if 0 <= i < len(self.words) else UNK)
        return out

    def to_json(self) -> str:
        return json.dumps({"words": self.words}, indent=0)

    @classmethod
    def from_json(cls, text: str) -> "Vocabulary":
        return cls(list(json.loads(text)["words"]))
