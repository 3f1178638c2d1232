"""Three GPT-1 fine-tuning tasks built from tinyshakespeare (Radford et al. 2018, Fig. 1 formats).

* classification — which play an utterance comes from: *Coriolanus* (its 8 main speakers) or
  *Romeo and Juliet* (its 9); the speaker's name is removed. Split: a seeded 80/20 shuffle of the
  utterances (the play labels are spread over the whole text).
* similarity — are two text fragments consecutive (1: the text is cut at a random point, the
  fragments are what precedes and follows the cut) or unrelated (0: the second comes from elsewhere)?
  Half and half; the model reads both orders, as GPT-1 does for similarity.
* multiple_choice — given the fragment before a random cut, pick the true continuation among four
  (three fragments drawn at random from the same part of the text).
  For similarity and multiple choice, cuts in the first ``train_fraction`` of the text train, cuts in
  the rest validate (the part the character LM never trained on).

Sequences use the model's character vocabulary plus three special ids (start = V, delim = V + 1,
extract = V + 2), right-padded to ``block_size``; items are (ids, lengths, label).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import Dataset

from sightsound.data import Built
from sightsound.data.charlm import read_text
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
    examples: int = 20000           # similarity / multiple choice training examples (validation: a tenth)
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


def build(root: Path, config: Config):
    text, vocab = read_text(root, config.path)
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
        boundary = int(len(text) * config.train_fraction)
        regions = {"train": (0, boundary), "val": (boundary, len(text))}
        counts = {"train": config.examples, "val": max(200, config.examples // 10)}
        for split, (lo, hi) in regions.items():
            target = train if split == "train" else val

            def fragment() -> int:  # a random position with room for two fragments
                return rng.randrange(lo + half, hi - half)

            for _ in range(counts[split]):
                cut = fragment()
                before, after = enc(text[cut - half : cut], half), enc(text[cut : cut + half], half)
                if config.task == "similarity":
                    positive = rng.random() < 0.5
                    if not positive:
                        other = fragment()
                        after = enc(text[other : other + half], half)
                    target.append(([[start, *before, delim, *after, extract], [start, *after, delim, *before, extract]],
                                   int(positive)))
                else:
                    others = [fragment() for _ in range(config.choices - 1)]
                    options = [after] + [enc(text[o : o + half], half) for o in others]
                    order = list(range(config.choices))
                    rng.shuffle(order)
                    target.append(([[start, *before, delim, *options[k], extract] for k in order], order.index(0)))
    else:
        raise ParameterError(f"unknown task {config.task!r}; choose classification, similarity or multiple_choice")
    if config.limit is not None:
        train = train[: config.limit]
    if not train or not val:
        raise UserInputError(f"{config.path}: the {config.task} task found no examples (is it the Shakespeare text?)")
    values = {"task": config.task, "body": {"vocab_size": V, "block_size": config.block_size}}
    return Built(TaskExamples(train, config.block_size), TaskExamples(val, config.block_size), None, values)


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
