"""What every command group shares: the one-line-error parser, argument types, and output checks."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from sightsound.errors import UserInputError

IMAGE_SUFFIXES = (".png", ".pdf", ".svg")


class Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit code 2 (argparse prints usage too)
        self.exit(2, f"{self.prog}: error: {message}\n")


def _bounded(kind, minimum, what: str):
    """An argparse type: ``kind(text)`` that is at least ``minimum``, else the message ``what``."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not value >= minimum:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text}")
        return value

    return parse


positive_int = _bounded(int, 1, "a positive integer")
non_negative_int = _bounded(int, 0, "an integer >= 0")
non_negative_float = _bounded(float, 0.0, "a number >= 0")
temperature_float = _bounded(float, 0.01, "a temperature >= 0.01")


def seed_int(text: str) -> int:
    """A random seed: an integer in [0, 2**63) (what torch's generators take)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer seed, got {text!r}") from None
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"a seed must be in [0, 2**63), got {text}")
    return value


def bounded_int(low: int, high: int, what: str):
    """An argparse type: an integer in [low, high] (sizes that would exhaust memory are refused up front)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected {what} in [{low}, {high}], got {text}")
        return value

    return parse


def check_output(path: Path, inputs: list[Path], force: bool, suffixes: tuple[str, ...]) -> Path:
    """Refuse an output that is an input, has the wrong type, or exists (without --force)."""
    if path.suffix.lower() not in suffixes:
        raise UserInputError(f"{path}: output must end in one of {', '.join(suffixes)}")
    for source in inputs:
        if path.resolve() == source.resolve():
            raise UserInputError(f"{path}: output path is the input file; choose another output")
    if path.is_dir():
        raise UserInputError(f"{path}: is a directory")
    if path.exists() and not force:
        raise UserInputError(f"{path}: exists; pass --force to overwrite it")
    if not path.parent.exists():
        raise UserInputError(f"{path.parent}: output folder does not exist")
    if not path.parent.is_dir():
        raise UserInputError(f"{path.parent}: is not a folder; cannot write {path.name} there")
    if not os.access(path.parent, os.W_OK):
        raise UserInputError(f"{path.parent}: cannot write there (no permission)")
    return path


def preset_from_args(args):
    from sightsound.audio.presets import get_preset

    changes = {k: v for k, v in (("n_fft", args.n_fft), ("hop_length", args.hop_length),
                                 ("win_length", args.win_length), ("n_mels", args.n_mels),
                                 ("window", getattr(args, "window", None))) if v is not None}
    return get_preset(args.preset).with_(**changes)


def load_checked(path: Path, sample_rate: int):
    from sightsound.audio import io
    from sightsound.audio.analysis import check_audible

    y, sr = io.load(path, sr=sample_rate)
    check_audible(y, str(path))
    return y


def output_folder(path: str | None, force: bool) -> Path | None:
    """A folder to write many files into: created if missing; a non-empty one needs --force."""
    if path is None:
        return None
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise UserInputError(f"{folder}: exists and is not a folder")
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise UserInputError(f"{folder}: exists and is not empty; pass --force to write into it")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def add_analysis_options(p: argparse.ArgumentParser, window: bool = True) -> None:
    p.add_argument("--preset", choices=["speech", "tts"], default="speech",
                   help="speech: 16 kHz, 25 ms Hamming, 10 ms hop, 80 mels; tts: Tacotron 2's 22.05 kHz settings")
    if window:
        p.add_argument("--window", choices=["hamming", "hann", "rectangular"], help="override the preset's window")
    p.add_argument("--n-fft", type=bounded_int(2, 65536, "an FFT size"))
    p.add_argument("--hop-length", type=bounded_int(1, 65536, "a hop in samples"))
    p.add_argument("--win-length", type=bounded_int(1, 65536, "a window length in samples"))
    p.add_argument("--n-mels", type=bounded_int(1, 512, "a number of mel bands"))
    p.add_argument("--force", action="store_true", help="overwrite existing output files")


def print_target_report(report: dict, targets, summary_lines, args) -> int:
    """Print an evaluation report with its targets (``targets(report)``): JSON with ``--json`` (every row with
    ``--rows``), else ``summary_lines(report)``. The report's ``examples`` (signals for the tour) are dropped."""
    import json

    report.pop("examples", None)
    rows = report.pop("rows")
    report["targets"] = targets(report)
    if args.rows:
        report["rows"] = rows
    print(json.dumps(report) if args.json else "\n".join(summary_lines(report)))
    return 0
