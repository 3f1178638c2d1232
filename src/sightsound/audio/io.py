"""Reading and writing sound files (wav, flac, ogg, mp3 through libsndfile), with resampling.

Resampling uses :func:`sightsound.audio.functional.resample` (polyphase Kaiser-windowed sinc).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import soundfile
import torch

from sightsound.audio.functional import resample
from sightsound.errors import ParameterError, UserInputError
from sightsound.fileio import atomic_path

FORMATS = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG", ".mp3": "MP3"}


def _format_of(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UserInputError(
            f"{path}: unsupported audio format {path.suffix or '(no extension)'!r}; use one of {', '.join(FORMATS)}"
        )
    return fmt


def load(
    path: str | os.PathLike, sr: int | None = None, mono: bool = True, dtype: torch.dtype = torch.float32
) -> tuple[torch.Tensor, int]:
    """Read a sound file.

    Args:
        path: a .wav, .flac, .ogg or .mp3 file.
        sr: resample to this rate (Hz); None keeps the file's rate.
        mono: average the channels.
    Returns:
        (waveform, sample_rate): waveform (S,) if mono else (C, S), float in [-1, 1].
    Raises:
        UserInputError for a missing, empty, corrupt or unsupported file.
    """
    path = Path(path)
    _format_of(path)
    if not path.exists():
        raise UserInputError(f"{path}: no such file")
    if path.is_dir():
        raise UserInputError(f"{path}: is a directory, not a sound file")
    if path.stat().st_size == 0:
        raise UserInputError(f"{path}: file is empty")
    try:
        data, file_sr = soundfile.read(str(path), dtype="float32", always_2d=True)  # (S, C)
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as error:
        raise UserInputError(f"{path}: cannot decode audio ({str(error).strip() or type(error).__name__})") from None
    if data.shape[0] == 0:
        raise UserInputError(f"{path}: contains no samples")
    y = torch.from_numpy(np.ascontiguousarray(data.T)).to(dtype)  # (S, C) -> (C, S)
    if mono:
        y = y.mean(dim=0)  # (C, S) -> (S,)
    if sr is not None and sr != file_sr:
        if isinstance(sr, bool) or not isinstance(sr, int) or sr <= 0:
            raise ParameterError(f"sr must be a positive integer, got {sr!r}")
        y = resample(y, file_sr, sr)
        file_sr = sr
    return y, int(file_sr)


def save(path: str | os.PathLike, y: torch.Tensor, sr: int, *, overwrite: bool = False) -> Path:
    """Write a waveform (S,) or (C, S) in [-1, 1]; the format follows the extension.

    The file is written to a temporary name in the same folder and renamed into place, so an
    existing file is never left half-written. Refuses to replace an existing file unless
    ``overwrite=True``. WAV is 16-bit PCM when values fit, MP3 at libsndfile's default bitrate.
    """
    path = Path(path)
    fmt = _format_of(path)
    if path.exists() and not overwrite:
        raise UserInputError(f"{path}: exists; pass --force (overwrite=True) to replace it")
    if isinstance(sr, bool) or not isinstance(sr, int) or sr <= 0:
        raise ParameterError(f"sr must be a positive integer, got {sr!r}")
    y = y.detach().to("cpu", torch.float32)
    if y.ndim not in (1, 2):
        raise ParameterError(f"expected a waveform of shape (S,) or (C, S), got {tuple(y.shape)}")
    data = y.numpy() if y.ndim == 1 else y.numpy().T  # (C, S) -> (S, C)
    data = np.clip(data, -1.0, 1.0)
    subtype = {"WAV": "PCM_16", "FLAC": "PCM_16", "OGG": "VORBIS", "MP3": "MPEG_LAYER_III"}[fmt]
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, overwrite=overwrite) as tmp:
        try:
            soundfile.write(str(tmp), data, sr, format=fmt, subtype=subtype)
        except (soundfile.LibsndfileError, RuntimeError) as error:  # e.g. a full disk (libsndfile: "System error.")
            free = shutil.disk_usage(path.parent).free
            space = f"; {free:,} bytes free there" if free < 50_000_000 else ""
            raise UserInputError(f"{path}: cannot write ({str(error).splitlines()[0]}{space})") from None
    return path
