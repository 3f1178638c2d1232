"""Environmental sound folders in the ESC layout: ``meta.csv`` (``filename,fold,target,category``) + ``audio/``.

ESC-10 / ESC-50 (Piczak 2015) ship this way, and AudioSet/VGGSound-style collections can be written in it (one
row per clip, ``fold`` used for splits). Clips cut from one Freesound recording share the middle part of their
name (``1-100032-A.ogg``: fold 1, recording 100032, take A) and stay in one fold.

Splits (fixed, documented): ``test_folds`` are never loaded (cross-validation's held-out fold); of the other
folds, every ``select_every``-th recording of each class (sorted by recording id) is the selection split
(checkpoints are chosen on it), the rest is training. Items: (waveform (S,) float32, label int64).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import Dataset

from sightsound.audio import io as audio_io
from sightsound.audio.presets import get_preset
from sightsound.data import Built
from sightsound.errors import UserInputError

COLUMNS = ("filename", "fold", "target", "category")


@dataclass(frozen=True)
class Clip:
    path: Path
    fold: int
    target: int
    category: str

    @property
    def recording(self) -> str:
        """The source recording: ``1-100032-A.ogg`` -> ``100032`` (else the file name's stem)."""
        parts = self.path.stem.split("-")
        return parts[1] if len(parts) == 3 else self.path.stem


def read_esc_folder(folder: str | Path) -> tuple[list[Clip], tuple[str, ...]]:
    """(clips, class names indexed by target) of an ESC-layout folder; one-line errors for a missing or
    malformed ``meta.csv``, missing audio files and targets that disagree with their category."""
    folder = Path(folder)
    meta = folder / "meta.csv"
    if not meta.is_file():
        raise UserInputError(f"{folder}: no meta.csv (an ESC-style folder has meta.csv with "
                             f"{','.join(COLUMNS)} and the clips under audio/)")
    try:
        with open(meta, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise UserInputError(f"{meta}: cannot read ({error})") from None
    if not rows or any(c not in rows[0] for c in COLUMNS):
        raise UserInputError(f"{meta}: needs a header with the columns {', '.join(COLUMNS)} and at least one row")
    clips, names = [], {}
    for line, row in enumerate(rows, start=2):
        try:
            fold, target = int(row["fold"]), int(row["target"])
        except (TypeError, ValueError):
            raise UserInputError(f"{meta}, line {line}: fold and target must be integers") from None
        category = (row["category"] or "").strip()
        if target < 0 or not category:
            raise UserInputError(f"{meta}, line {line}: needs a target >= 0 and a category")
        if names.setdefault(target, category) != category:
            raise UserInputError(f"{meta}, line {line}: target {target} is {names[target]!r} elsewhere, "
                                 f"not {category!r}")
        clips.append(Clip(folder / "audio" / row["filename"], fold, target, category))
    missing = [c.path.name for c in clips if not c.path.is_file()]
    if missing:
        raise UserInputError(f"{folder / 'audio'}: {len(missing)} clip(s) listed in meta.csv are missing, "
                             f"e.g. {missing[0]}")
    if sorted(names) != list(range(len(names))):
        raise UserInputError(f"{meta}: targets must be 0..K-1, got {sorted(names)}")
    return clips, tuple(names[t] for t in range(len(names)))


def split_clips(clips: list[Clip], test_folds: tuple[int, ...], select_every: int) -> tuple[list[Clip], list[Clip]]:
    """(training, selection) clips outside ``test_folds``: every ``select_every``-th recording of each class
    (sorted by recording id) goes to selection, whole recordings at a time."""
    kept = [c for c in clips if c.fold not in test_folds]
    chosen: set[tuple[int, str]] = set()
    for target in sorted({c.target for c in kept}):
        recordings = sorted({c.recording for c in kept if c.target == target})
        chosen |= {(target, r) for i, r in enumerate(recordings) if i % select_every == select_every - 1}
    select = [c for c in kept if (c.target, c.recording) in chosen]
    train = [c for c in kept if (c.target, c.recording) not in chosen]
    return train, select


def load_waves(clips: list[Clip], sample_rate: int, samples: int, progress: bool = True) -> torch.Tensor:
    """(N, samples): every clip decoded, resampled, cropped or zero-padded, peak-normalised."""
    from tqdm import tqdm

    out = torch.zeros(len(clips), samples)
    for i, clip in enumerate(tqdm(clips, desc="clips", unit="clip", disable=not progress, leave=False)):
        y, _ = audio_io.load(clip.path, sr=sample_rate)
        y = y[:samples]
        out[i, : len(y)] = y / y.abs().max().clamp_min(1e-6)
    return out


class Sounds(Dataset):
    """Items: (waveform (S,), label). ``shift``: training augmentation, a random circular time shift."""

    def __init__(self, waves: torch.Tensor, labels: torch.Tensor, shift: bool = False):
        self.waves, self.labels, self.shift = waves, labels, shift

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        y = self.waves[i]
        if self.shift:
            y = torch.roll(y, int(torch.randint(0, y.shape[-1], ()).item()))
        return y, self.labels[i]


@dataclass(frozen=True)
class Config:
    subdir: str = "esc10"
    preset: str = "speech"            # the audio preset whose sample rate the clips are read at
    seconds: float = 5.0
    test_folds: tuple[int, ...] = ()  # never loaded: the held-out fold of a cross-validation round
    select_every: int = 5             # every 5th recording of each class: the selection split
    shift: bool = True                # random circular time shift (training only)


def build_clips(root: Path, config) -> tuple[list[Clip], list[Clip], tuple[str, ...]]:
    clips, names = read_esc_folder(Path(root) / config.subdir)
    train, select = split_clips(clips, tuple(config.test_folds), config.select_every)
    if not train or not select:
        raise UserInputError(f"{Path(root) / config.subdir}: the split left no training or no selection clips "
                             f"(test_folds={tuple(config.test_folds)}, select_every={config.select_every})")
    return train, select, names


def build(root: Path, config: Config):
    train, select, names = build_clips(root, config)
    rate = get_preset(config.preset).sample_rate
    samples = int(round(config.seconds * rate))
    labels = lambda clips: torch.tensor([c.target for c in clips])  # noqa: E731
    return Built(Sounds(load_waves(train, rate, samples), labels(train), config.shift),
                 Sounds(load_waves(select, rate, samples), labels(select)),
                 model_values={"n_classes": len(names)})


def write_synthetic(root: str | Path, categories: tuple[str, ...] = ("dog_bark", "rain"), per_class: int = 12,
                    folds: int = 4, sample_rate: int = 16000, seconds: float = 0.25, seed: int = 0,
                    subdir: str = "esc") -> Path:
    """``root/subdir``: an ESC-layout folder of synthetic scenes (the tests' world): class k (named
    ``categories[k]``, so its text anchor is a real prompt) is a noisy tone at 500 (k + 1) Hz with an amplitude
    wobble; one recording per clip, spread over ``folds`` folds. Returns the folder."""
    folder = Path(root) / subdir
    (folder / "audio").mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(seed)
    n = int(sample_rate * seconds)
    t = torch.arange(n) / sample_rate
    rows = []
    for k, category in enumerate(categories):
        for j in range(per_class):
            fold = j % folds + 1
            f0 = 500.0 * (k + 1) * (1 + 0.03 * torch.rand((), generator=g).item())
            wobble = 1 + 0.3 * torch.sin(2 * math.pi * (3 + 4 * torch.rand((), generator=g).item()) * t)
            y = 0.5 * wobble * torch.sin(2 * math.pi * f0 * t) + 0.05 * torch.randn(n, generator=g)
            name = f"{fold}-{1000 * k + j}-A.wav"
            audio_io.save(folder / "audio" / name, y.clamp(-1, 1), sample_rate, overwrite=True)
            rows.append((name, fold, k, category))
    with open(folder / "meta.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    return folder
