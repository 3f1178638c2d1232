"""Three GPT-1 fine-tuning tasks built from tinyshakespeare (Radford et al. 2018, Fig. 1 formats).

* classification — which play an utterance comes from: *Coriolanus* (its 8 main speakers) or
  *Romeo and Juliet* (its 9); the speaker's name is removed. Split: a seeded 80/20 shuffle of the
  utterances (the play labels are spread over the whole text).
* similarity — are two lines consecutive (1) or a random pairing (0)? Half and half.
* multiple_choice — given a line, pick the true next line among four (three drawn at random).
  For similarity and multiple choice, examples from the first ``train_fraction`` of the text train,
  from the rest validate (the part the character LM never trained on).

Sequences use the model's character vocabulary plus three special ids (start = V, delim = V + 1,
extract = V + 2), right-padded to ``block_size``; items are (ids, lengths, label).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from torch.utils.data import Dataset

from sightsound.data.charlm import CharVocab
from sightsound.errors import ParameterError, UserInputError

CORIOLANUS = {"CORIOLANUS", "MENENIUS", "SICINIUS", "BRUTUS", "COMINIUS", "VOLUMNIA", "AUFIDIUS", "MARCIUS"}
ROMEO_AND_JULIET = {"ROMEO", "JULIET", "Nurse", "BENVOLIO", "MERCUTIO", "FRIAR LAURENCE", "CAPULET", "LADY CAPULET",
                    "TYBALT"}


@dataclass(frozen=True)
class Config:
    path: str = "tinyshakespeare/input.txt"
    task: str = "classification"
    block_size: int = 64
    train_fraction: float = 0.9
    choices: int = 4
    seed: int = 0
    limit: int | None = None        # at most this many training examples


class TaskExamples(Dataset):
    def __init__(self, items: list[tuple[list[list[int]], int]], block_size: int):
        self.items, self.block_size = items, block_size

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int):
        sequences, label = self.items[i]
        ids = torch.zeros(len(sequences), self.block_size, dtype=torch.long)
        lengths = torch.tensor([len(s) for s in sequences])
        for j, s in enumerate(sequences):
            ids[j, : len(s)] = torch.tensor(s)
        if len(sequences) == 1:  # classification: (L,), length ()
            return ids[0], lengths[0], torch.tensor(label)
        return ids, lengths, torch.tensor(label)


def _utterances(text: str) -> list[tuple[str, str, int]]:
    """(speaker, speech, character offset) for every block of the play text."""
    out, offset = [], 0
    for block in text.split("\n\n"):
        lines = block.strip("\n").split("\n")
        if len(lines) >= 2 and lines[0].endswith(":"):
            out.append((lines[0][:-1], " ".join(line.strip() for line in lines[1:]), offset))
        offset += len(block) + 2
    return out


def _lines(text: str) -> list[tuple[str, str, int]]:
    """Consecutive line pairs inside one speech: (line, next line, offset)."""
    pairs, offset = [], 0
    for block in text.split("\n\n"):
        lines = [line.strip() for line in block.strip("\n").split("\n")[1:] if line.strip()]
        for a, b in zip(lines, lines[1:]):
            pairs.append((a, b, offset))
        offset += len(block) + 2
    return pairs


def build(root: Path, config: Config):
    path = Path(root) / config.path
    if not path.is_file():
        raise UserInputError(f"{path}: text file not found (pass --data or set SIGHTSOUND_DATA)")
    text = path.read_text(encoding="utf-8")
    vocab = CharVocab.from_text(text)
    V = len(vocab)
    start, delim, extract = V, V + 1, V + 2
    rng = random.Random(config.seed)
    budget = config.block_size - 3
    half = budget // 2

    def enc(s: str, n: int) -> list[int]:
        return vocab.encode(s[:n]).tolist()

    train: list = []
    val: list = []
    if config.task == "classification":
        examples = [(speech, 0 if speaker in CORIOLANUS else 1) for speaker, speech, _ in _utterances(text)
                    if speaker in CORIOLANUS or speaker in ROMEO_AND_JULIET]
        rng.shuffle(examples)
        cut = int(0.8 * len(examples))
        for i, (speech, label) in enumerate(examples):
            (train if i < cut else val).append(([[start, *enc(speech, budget + 1), extract]], label))
    elif config.task in ("similarity", "multiple_choice"):
        pairs = _lines(text)
        boundary = int(len(text) * config.train_fraction)
        pools = {"train": [p for p in pairs if p[2] < boundary], "val": [p for p in pairs if p[2] >= boundary]}
        for split, pool in pools.items():
            target = train if split == "train" else val
            nexts = [b for _, b, _ in pool]
            for a, b, _ in pool:
                if config.task == "similarity":
                    positive = rng.random() < 0.5
                    other = b if positive else rng.choice(nexts)
                    x, y = enc(a, half), enc(other, half)
                    target.append(([[start, *x, delim, *y, extract], [start, *y, delim, *x, extract]], int(positive)))
                else:
                    options = [b] + [rng.choice(nexts) for _ in range(config.choices - 1)]
                    order = list(range(config.choices))
                    rng.shuffle(order)
                    seqs = [[start, *enc(a, half), delim, *enc(options[k], half), extract] for k in order]
                    target.append((seqs, order.index(0)))
    else:
        raise ParameterError(f"unknown task {config.task!r}; choose classification, similarity or multiple_choice")
    if config.limit is not None:
        train = train[: config.limit]
    if not train or not val:
        raise UserInputError(f"{path}: the {config.task} task found no examples (is it the Shakespeare text?)")
    train_set = TaskExamples(train, config.block_size)
    train_set.model_overrides = lambda c: replace(c, task=config.task, body=replace(c.body, vocab_size=V,
                                                                                      block_size=config.block_size))
    return train_set, TaskExamples(val, config.block_size), None


def write_synthetic(root: Path) -> Path:
    """A small play-formatted text with speakers of both plays (for tests)."""
    path = Path(root) / Config.path
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(0)
    blocks = []
    words_a = "war rome people consul voices wounds honour city senate".split()
    words_b = "love night star kiss banish verona sweet moon lady".split()
    for i in range(160):
        speaker, words = (("CORIOLANUS", words_a) if i % 2 == 0 else ("ROMEO", words_b))
        lines = [" ".join(rng.choice(words) for _ in range(6)) for _ in range(3)]
        blocks.append(f"{speaker}:\n" + "\n".join(lines))
    path.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
    return path
