"""GRID audio-visual corpus, one speaker (``grid-s1``): ``audio/NAME.flac`` (16 kHz), ``align/NAME.align``
(``start end word`` in 1/25000 s, ``sil`` = silence), ``video/NAME.mp4``.

Split (fixed, documented, shared by the vocoder and Tacotron 2): clips sorted by name; every
``val_every``-th clip (the 0th, 18th, 36th, ...: 50 of 900) is validation, the rest training. The
corpus' sentences follow ``command color preposition letter digit adverb`` ("bin blue at f two now").

Task ``vocoder`` (WaveNet): training items are random windows of ``window_frames`` mel frames with the
matching ``window_frames * hop`` samples (and ``context`` extra mel frames on each side, edges
repeated); validation items are the middle ``val_frames`` of each validation clip, fixed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from sightsound.audio import io as audio_io
from sightsound.audio.features import log_mel, mel_basis
from sightsound.audio.presets import get_preset
from sightsound.data import Built
from sightsound.errors import UserInputError
from sightsound.fileio import read_text

ALIGN_UNITS_PER_SECOND = 25000
# the GRID grammar (Cooke et al. 2006, Table 1): command colour preposition letter digit adverb
GRID_GRAMMAR = (
    ("bin", "lay", "place", "set"),
    ("blue", "green", "red", "white"),
    ("at", "by", "in", "with"),
    tuple("abcdefghijklmnopqrstuvxyz"),  # no "w"
    ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
    ("again", "now", "please", "soon"),
)
GRID_SLOTS = ("command", "colour", "preposition", "letter", "digit", "adverb")


@dataclass(frozen=True)
class Config:
    subdir: str = "grid-s1"
    preset: str = "tts16k"          # the mel analysis (sightsound.audio.presets)
    task: str = "vocoder"
    val_every: int = 18             # every 18th clip (sorted by name) validates: 50 of 900
    window_frames: int = 24         # vocoder training windows: 24 frames = 4,800 samples = 0.3 s
    val_frames: int = 64            # vocoder validation: the middle 64 frames (0.8 s) of each clip
    context: int = 2                # mel frames of context on each side (the model's cond_context)
    limit: int | None = None        # use at most this many training clips (quick runs)


def read_align(path: Path) -> list[tuple[float, float, str]]:
    """``start end word`` lines -> [(start_s, end_s, word)], silences included."""
    words = []
    for n, line in enumerate(read_text(path, "alignment file").splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 3:
            raise UserInputError(f"{path}:{n}: expected 'start end word', got {line!r}")
        start, end, word = parts
        words.append((int(start) / ALIGN_UNITS_PER_SECOND, int(end) / ALIGN_UNITS_PER_SECOND, word))
    return words


def transcript(path: Path) -> str:
    """The sentence of an ``.align`` file, silences dropped: "bin blue at f two now"."""
    return " ".join(word for _, _, word in read_align(path) if word not in ("sil", "sp"))


def clip_names(root: Path, config: Config) -> tuple[list[str], list[str]]:
    """(training names, validation names) of the clips with audio, by the fixed split."""
    folder = Path(root) / config.subdir / "audio"
    if not folder.is_dir():
        raise UserInputError(f"{folder}: GRID audio folder not found (pass --data or set SIGHTSOUND_DATA)")
    names = sorted(p.stem for p in folder.glob("*.flac"))
    if not names:
        raise UserInputError(f"{folder}: no .flac clips")
    val = names[:: config.val_every]
    chosen = set(val)
    train = [n for n in names if n not in chosen]
    if config.limit is not None:
        train = train[: config.limit]
    if not train or not val:
        raise UserInputError(f"{folder}: the split left no training or no validation clips")
    return train, val


def load_clips(root: Path, names: list[str], config: Config, desc: str = "GRID clips"):
    """[(wave (S,) float32, log-mel (M, T) float32)] at the preset's rate."""
    preset = get_preset(config.preset)
    folder = Path(root) / config.subdir / "audio"
    basis = mel_basis(preset)
    clips = []
    for name in tqdm(names, desc=desc, unit="clip", leave=False, disable=len(names) < 50):
        y, _ = audio_io.load(folder / f"{name}.flac", sr=preset.sample_rate)
        clips.append((y, log_mel(y, preset, basis=basis)))
    return clips


def _padded(mel: torch.Tensor, context: int) -> torch.Tensor:
    if context == 0:
        return mel
    return torch.cat([mel[:, :1].expand(-1, context), mel, mel[:, -1:].expand(-1, context)], dim=1)


class VocoderWindows(Dataset):
    """Items: (wave (W*hop,), log-mel (M, W + 2 context), speaker 0). Training: a random window per
    item (global torch RNG: seeded and checkpointed by the training loop); validation: the middle one."""

    def __init__(self, clips, config: Config, train: bool):
        preset = get_preset(config.preset)
        self.hop, self.config, self.train = preset.hop_length, config, train
        self.frames = config.window_frames if train else config.val_frames
        self.items = []
        for y, mel in clips:
            n_frames = min(mel.shape[1], y.shape[0] // self.hop)  # frames whose samples all exist
            if n_frames < self.frames:
                raise UserInputError(f"a clip of {y.shape[0]} samples is shorter than a window of "
                                     f"{self.frames} frames")
            self.items.append((y[: n_frames * self.hop], _padded(mel[:, :n_frames], config.context)))

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int):
        y, mel = self.items[i]
        n_frames = mel.shape[1] - 2 * self.config.context
        if self.train:
            start = int(torch.randint(0, n_frames - self.frames + 1, ()).item())
        else:
            start = (n_frames - self.frames) // 2
        wave = y[start * self.hop: (start + self.frames) * self.hop]
        return wave, mel[:, start: start + self.frames + 2 * self.config.context], 0


def collate_vocoder(items):
    """-> (wave (B, S), log-mel (B, M, W + 2c), speaker None: one voice)."""
    waves, mels, _ = zip(*items)
    return torch.stack(waves), torch.stack(mels), None


def build(root: Path, config: Config):
    if config.task != "vocoder":
        raise UserInputError(f"unknown GRID task {config.task!r}; choose vocoder")
    train_names, val_names = clip_names(root, config)
    train = VocoderWindows(load_clips(root, train_names, config, "GRID training clips"), config, train=True)
    val = VocoderWindows(load_clips(root, val_names, config, "GRID validation clips"), config, train=False)
    return Built(train, val, collate_vocoder, {"cond_context": config.context})


def write_synthetic(root: Path, n_clips: int = 12, seconds: float = 1.0, sample_rate: int = 16000) -> Path:
    """A tiny GRID-format folder: voiced "words" (two-harmonic tones, pitch set by the word, one per word of a
    grammar sentence) between silences, with ``.align`` files: the same code paths as the real corpus."""
    folder = Path(root) / "grid-s1"
    (folder / "audio").mkdir(parents=True, exist_ok=True)
    (folder / "align").mkdir(parents=True, exist_ok=True)
    gen = torch.Generator().manual_seed(0)
    n = int(seconds * sample_rate)
    t = torch.arange(n) / sample_rate
    for i in range(n_clips):
        words = [options[int(torch.randint(len(options), (), generator=gen))] for options in GRID_GRAMMAR]
        y = torch.zeros(n)
        edges = torch.linspace(0.1, seconds - 0.1, len(words) + 1)
        lines = [f"0 {int(edges[0] * ALIGN_UNITS_PER_SECOND)} sil"]
        for k, word in enumerate(words):
            a, b = float(edges[k]), float(edges[k + 1])
            a, b = a + 0.25 * (b - a), b - 0.25 * (b - a)  # the word in the middle half of its slot, pauses around
            inside = ((t >= a) & (t < b)).float()
            f0 = 100 + 10 * (sum(map(ord, word)) % 8) + (20 * i) % 40
            tone = torch.sin(2 * torch.pi * f0 * t) + 0.3 * torch.sin(4 * torch.pi * f0 * t)
            y += 0.1 * tone * inside
            lines.append(f"{int(a * ALIGN_UNITS_PER_SECOND)} {int(b * ALIGN_UNITS_PER_SECOND)} {word}")
        lines.append(f"{int(edges[-1] * ALIGN_UNITS_PER_SECOND)} {int(seconds * ALIGN_UNITS_PER_SECOND)} sil")
        y += 0.0003 * torch.randn(n, generator=gen)  # a quiet noise floor
        name = f"s{i:03d}x"
        audio_io.save(folder / "audio" / f"{name}.flac", y, sample_rate, overwrite=True)
        (folder / "align" / f"{name}.align").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder
