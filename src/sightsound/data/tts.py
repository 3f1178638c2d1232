"""Text-to-speech corpora: (transcript, recording) pairs -> (symbol ids, log-mel) for Tacotron 2.

Sources (``Config.source``):
- ``grid``: a GRID speaker folder (``grid-s1``): ``audio/NAME.flac`` + ``align/NAME.align``; the transcript is
  the aligned words without ``sil``; silence is trimmed to the first and last word (+ ``margin`` s).
  Split: the fixed GRID split of ``sightsound.data.grid`` (every 18th clip validates).
- ``ljspeech``: an LJSpeech-format folder: ``metadata.csv`` (``id|text|normalized``, no header) and
  ``wavs/ID.wav`` or ``wavs/ID.flac`` (``kathleen/``); the normalised text is used. Split: every
  ``val_every``-th line selects, every ``val_every``-th from the ``val_every // 2``-th is held out for testing.
- ``flickr``: ``flickr8k-1k``: ``spoken/IMAGE.mp3`` reads the image's FIRST caption in ``captions.txt``.
  Split: every ``val_every``-th image (sorted) validates.
Energy-based trimming (``top_db`` below the loudest frame) for the last two; ``peak_db`` scales each utterance
to a peak level (quiet recordings). The mel analysis is the preset shared with the vocoder (``tts16k``).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from sightsound.audio import functional as AF
from sightsound.audio import io as audio_io
from sightsound.audio.features import log_mel, mel_basis
from sightsound.audio.presets import get_preset
from sightsound.data import Built, grid
from sightsound.errors import UserInputError
from sightsound.fileio import read_text
from sightsound.text import symbols as S

SOURCES = {"grid": "grid-s1", "ljspeech": "LJSpeech-1.1", "flickr": "flickr8k-1k"}


@dataclass(frozen=True)
class Config:
    source: str = "grid"
    subdir: str | None = None       # default: SOURCES[source]
    preset: str = "tts16k"
    phonemes: bool = False
    letter_names: bool = False      # one-letter words read as letter names (GRID spells letters)
    reduction: int = 2              # frames per decoder step: batches are padded to a multiple of it
    val_every: int = 18
    margin: float = 0.1             # seconds kept around the words (GRID) / the loud part (others)
    top_db: float = 40.0            # energy trimming threshold (ljspeech, flickr)
    peak_db: float | None = None    # scale each trimmed utterance to this peak level (dBFS): quiet corpora
    limit: int | None = None        # at most this many training utterances


def trim_silence(y: torch.Tensor, sample_rate: int, top_db: float, margin: float) -> torch.Tensor:
    """Cut the leading and trailing parts quieter than ``top_db`` below the loudest 25 ms frame."""
    frame, hop = int(0.025 * sample_rate), int(0.010 * sample_rate)
    if len(y) < frame:
        return y
    energy = AF.frame(y, frame, hop).square().mean(0)  # (T,)
    db = 10 * torch.log10(energy + 1e-12)
    loud = torch.nonzero(db > db.max() - top_db).flatten()
    start = max(0, int(loud[0]) * hop - int(margin * sample_rate))
    end = min(len(y), int(loud[-1]) * hop + frame + int(margin * sample_rate))
    return y[start:end]


def _grid_items(folder: Path, config: Config):
    gconfig = grid.Config(subdir=".", val_every=config.val_every)
    train, val = grid.clip_names(folder, gconfig)

    def item(name):
        words = [(a, b, w) for a, b, w in grid.read_align(folder / "align" / f"{name}.align") if w not in ("sil", "sp")]
        return folder / "audio" / f"{name}.flac", " ".join(w for *_, w in words), (words[0][0], words[-1][1])

    return [item(n) for n in train], [item(n) for n in val]


def _ljspeech_items(folder: Path, config: Config):
    splits = ljspeech_split(folder, config)
    return splits["train"], splits["select"]


def ljspeech_audio(folder: Path, name: str) -> Path:
    """``wavs/NAME.wav``, else ``wavs/NAME.flac``, else ``wavs/NAME.wav`` (so the error names the usual file)."""
    for suffix in (".wav", ".flac"):
        path = folder / "wavs" / f"{name}{suffix}"
        if path.is_file():
            return path
    return folder / "wavs" / f"{name}.wav"


def ljspeech_split(folder: Path, config: Config) -> dict[str, list]:
    """{"train", "select", "test"} lists of (audio path, normalised text, None) of an LJSpeech-layout folder:
    line i (in file order) selects when ``i % val_every == 0``, is held out for testing when ``i % val_every ==
    val_every // 2`` (never loaded for training), and trains otherwise. Audio is ``wavs/ID.wav`` or
    ``wavs/ID.flac``."""
    meta = Path(folder) / "metadata.csv"
    if not meta.is_file():
        raise UserInputError(f"{meta}: not found (an LJSpeech folder has metadata.csv and wavs/)")
    rows = list(csv.reader(io.StringIO(read_text(meta, "metadata file")), delimiter="|", quoting=csv.QUOTE_NONE))
    items = [(ljspeech_audio(Path(folder), r[0]), r[2] if len(r) > 2 and r[2] else r[1], None) for r in rows if r]
    every = config.val_every
    held = every // 2 if every > 1 else None
    return {"train": [x for i, x in enumerate(items) if i % every and i % every != held],
            "select": items[::every], "test": [x for i, x in enumerate(items) if held is not None and i % every == held]}


def _flickr_items(folder: Path, config: Config):
    captions = folder / "captions.txt"
    if not captions.is_file() or not (folder / "spoken").is_dir():
        raise UserInputError(f"{folder}: expected captions.txt and spoken/*.mp3")
    first: dict[str, str] = {}
    for row in csv.DictReader(io.StringIO(read_text(captions, "captions file"))):
        first.setdefault(Path(row["image"]).stem, row["caption"])
    names = sorted(p.stem for p in (folder / "spoken").glob("*.mp3") if p.stem in first)
    items = [(folder / "spoken" / f"{n}.mp3", first[n], None) for n in names]
    return [x for i, x in enumerate(items) if i % config.val_every], items[:: config.val_every]


def detect_source(folder: Path) -> str | None:
    """The TTS source a folder is laid out as ("grid", "ljspeech", "flickr"), or None."""
    folder = Path(folder)
    if (folder / "audio").is_dir() and (folder / "align").is_dir():
        return "grid"
    if (folder / "metadata.csv").is_file():
        return "ljspeech"
    if (folder / "captions.txt").is_file() and (folder / "spoken").is_dir():
        return "flickr"
    return None


def utterance_lists(root: Path, config: Config):
    """(train, val) lists of (audio path, transcript, (start_s, end_s) or None)."""
    if config.source not in SOURCES:
        raise UserInputError(f"unknown TTS source {config.source!r}; choose from {', '.join(SOURCES)}")
    folder = Path(root) / (config.subdir or SOURCES[config.source])
    if not folder.is_dir():
        raise UserInputError(f"{folder}: not found (pass --data or set SIGHTSOUND_DATA)")
    train, val = {"grid": _grid_items, "ljspeech": _ljspeech_items, "flickr": _flickr_items}[config.source](folder, config)
    if config.limit is not None:
        train = train[: config.limit]
    if not train or not val:
        raise UserInputError(f"{folder}: the split left no training or no validation utterances")
    return train, val


def load_utterance(path: Path, span, config: Config) -> torch.Tensor:
    """The trimmed waveform of one utterance at the preset's rate."""
    sr = get_preset(config.preset).sample_rate
    y, _ = audio_io.load(path, sr=sr)
    if span is not None:
        start, end = span
        y = y[max(0, int((start - config.margin) * sr)): int((end + config.margin) * sr)]
    else:
        y = trim_silence(y, sr, config.top_db, config.margin)
    if config.peak_db is not None:
        peak = float(y.abs().max())
        if peak > 0:
            y = y * (10 ** (config.peak_db / 20) / peak)
    return y


class Utterances(Dataset):
    """Items: (symbol ids (L,), log-mel (M, T)); all decoded and analysed once, in memory."""

    def __init__(self, items, config: Config, desc: str):
        preset = get_preset(config.preset)
        basis = mel_basis(preset)
        self.texts, self.symbols, self.mels = [], [], []
        for path, text, span in tqdm(items, desc=desc, unit="utt", leave=False, disable=len(items) < 50):
            y = load_utterance(path, span, config)
            self.texts.append(text)
            self.symbols.append(S.encode(text, config.phonemes, config.letter_names))
            self.mels.append(log_mel(y, preset, basis=basis))

    def __len__(self) -> int:
        return len(self.symbols)

    def __getitem__(self, i: int):
        return self.symbols[i], self.mels[i]


def make_collate(reduction: int):
    def collate(items):
        """-> (symbols (B, L) zero-padded, symbol lengths (B,), log-mel (B, M, T) padded with the floor value
        to a multiple of r, frame lengths (B,))."""
        symbols, mels = zip(*items)
        L = max(len(s) for s in symbols)
        T = max(m.shape[1] for m in mels)
        T += (-T) % reduction
        floor = float(torch.log(torch.tensor(1e-5)))
        batch_symbols = torch.zeros(len(items), L, dtype=torch.long)
        batch_mels = torch.full((len(items), mels[0].shape[0], T), floor)
        for i, (s, m) in enumerate(zip(symbols, mels)):
            batch_symbols[i, : len(s)] = s
            batch_mels[i, :, : m.shape[1]] = m
        return (batch_symbols, torch.tensor([len(s) for s in symbols]), batch_mels,
                torch.tensor([m.shape[1] for m in mels]))

    return collate


def build(root: Path, config: Config):
    train_items, val_items = utterance_lists(root, config)
    train = Utterances(train_items, config, "TTS training utterances")
    val = Utterances(val_items, config, "TTS validation utterances")
    values = {"reduction": config.reduction, "phonemes": config.phonemes, "letter_names": config.letter_names}
    return Built(train, val, make_collate(config.reduction), values,
                 {"vocabulary.json": vocabulary_json(train.texts, closed=config.source == "grid")})


def vocabulary_json(texts: list[str], closed: bool) -> str:
    """The words a voice was trained on (normalised), stored beside its weights: ``closed`` says that only these
    words can be said (GRID's 51-word grammar); otherwise any word with a pronunciation can."""
    import json

    from sightsound.text.normalize import normalize

    words = sorted({w for t in texts for w in S.words(normalize(t))})
    return json.dumps({"closed": closed, "words": words}) + "\n"


def write_synthetic(root: Path) -> Path:
    """The synthetic GRID folder (``sightsound.data.grid.write_synthetic``) serves the ``grid`` source; its
    clips, quietened to -14 dBFS peaks and stored as FLAC with their transcripts in an LJSpeech ``metadata.csv``,
    make ``kathleen/`` (unless one is there already)."""
    root = Path(root)
    grid.write_synthetic(root)
    kathleen = root / "kathleen"
    if (kathleen / "metadata.csv").is_file():
        return root
    (kathleen / "wavs").mkdir(parents=True, exist_ok=True)
    folder = root / "grid-s1"
    lines = []
    for i, path in enumerate(sorted((folder / "audio").glob("*.flac"))):
        y, sr = audio_io.load(path)
        audio_io.save(kathleen / "wavs" / f"synth_{i:04d}.flac", y * (10 ** (-14 / 20) / float(y.abs().max())), sr,
                      overwrite=True)
        text = grid.transcript(folder / "align" / f"{path.stem}.align")
        lines.append(f"synth_{i:04d}|{text}|{text}")
    (kathleen / "metadata.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root
