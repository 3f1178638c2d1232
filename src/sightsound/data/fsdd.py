"""Free Spoken Digit Dataset: ``recordings/{digit}_{speaker}_{index}.wav``, 8 kHz mono.

Split (fixed, documented): clips with index in ``val_indices`` (default 5-9, every speaker and
digit) are validation, the rest training. The corpus' usual test clips (indices 0-4) are not in the
development copy; they stay unseen.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import Dataset

from sightsound.audio import io as audio_io
from sightsound.data import Built
from sightsound.errors import UserInputError

NAME = re.compile(r"^(\d)_([a-z]+)_(\d+)\.wav$")


@dataclass(frozen=True)
class Config:
    subdir: str = "fsdd/recordings"
    sample_rate: int = 8000
    seconds: float = 1.0            # clips are cropped or zero-padded to this length
    val_indices: tuple[int, int] = (5, 9)
    shift: float = 0.1              # training augmentation: random time shift, as a fraction of the length
    limit: int | None = None        # use at most this many training clips, evenly spread (quick runs)


class FSDD(Dataset):
    """Items: (waveform (S,) float32, label int64). All clips are decoded once and kept in memory."""

    def __init__(self, files: list[Path], config: Config, train: bool):
        self.config, self.train = config, train
        self.length = int(round(config.seconds * config.sample_rate))
        self.labels = torch.tensor([int(NAME.match(f.name).group(1)) for f in files])
        self.waves = torch.zeros(len(files), self.length)
        for i, f in enumerate(files):
            y, _ = audio_io.load(f, sr=config.sample_rate)
            y = y[: self.length]
            self.waves[i, : len(y)] = y / y.abs().max().clamp_min(1e-6)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        y = self.waves[i]
        if self.train and self.config.shift > 0:
            limit = int(self.config.shift * self.length)
            y = torch.roll(y, int(torch.randint(-limit, limit + 1, ()).item()))
        return y, self.labels[i]


def build(root: Path, config: Config):
    folder = Path(root) / config.subdir
    if not folder.is_dir():
        raise UserInputError(f"{folder}: FSDD recordings folder not found (pass --data or set SIGHTSOUND_DATA)")
    files = sorted(f for f in folder.glob("*.wav") if NAME.match(f.name))
    if not files:
        raise UserInputError(f"{folder}: no files named like 3_george_12.wav")
    lo, hi = config.val_indices
    val = [f for f in files if lo <= int(NAME.match(f.name).group(3)) <= hi]
    train = [f for f in files if f not in set(val)]
    if config.limit is not None and config.limit < len(train):
        stride = len(train) / config.limit  # evenly spread over digits and speakers
        train = [train[int(i * stride)] for i in range(config.limit)]
    if not train or not val:
        raise UserInputError(f"{folder}: the split left no training or no validation clips")
    return Built(FSDD(train, config, train=True), FSDD(val, config, train=False))


def write_synthetic(root: Path, speakers=("alice", "bob"), indices=range(0, 12), sample_rate: int = 8000) -> Path:
    """Write a tiny FSDD-format folder of synthetic "digits" (two-tone chords whose pitches depend
    on the digit, with speaker-dependent detuning and noise): the same code path as the real data."""
    folder = Path(root) / "fsdd" / "recordings"
    folder.mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(0)
    for digit in range(10):
        for s, speaker in enumerate(speakers):
            for index in indices:
                n = int(sample_rate * (0.4 + 0.3 * torch.rand((), generator=g).item()))
                t = torch.arange(n) / sample_rate
                detune = 1.0 + 0.03 * s
                f1, f2 = (300 + 90 * digit) * detune, (1100 + 170 * digit) * detune
                y = 0.5 * torch.sin(2 * math.pi * f1 * t) + 0.3 * torch.sin(2 * math.pi * f2 * t)
                y = y * torch.hann_window(n, periodic=False) + 0.02 * torch.randn(n, generator=g)
                audio_io.save(folder / f"{digit}_{speaker}_{index}.wav", y, sample_rate, overwrite=True)
    return folder
