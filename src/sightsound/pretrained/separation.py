"""Pulling one voice out of a mixture with a trained Looking-to-Listen model (``models/av_separation.py``; the
evaluation is ``evaluation/separation.py``).

``Separator.from_pretrained("looking-to-listen-grid" | run folder)``: a mixture (any length, resampled to the
model's rate) and the target speaker's face video (the mouth crops, tracked and cached by
``vision/mouths.py``) -> the target's voice and the rest. The audio-only baseline
(``audio-only-separation-grid``) takes no video and returns its two outputs in its own order.

Refused with one line: a silent mixture, a mixture shorter than ``MIN_SECONDS`` or longer than ``MAX_SECONDS``, and a video whose length
differs from the audio's by more than ``LENGTH_TOLERANCE_S`` (the two would not be in sync).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch

from sightsound.audio import io as audio_io
from sightsound.errors import UserInputError
from sightsound.models.av_separation import AVSeparation

MIN_SECONDS = 0.4
MAX_SECONDS = 300.0          # five minutes in one pass (about 1 GB of activations)
LENGTH_TOLERANCE_S = 0.2
SILENCE_PEAK = 1e-4          # -80 dBFS


@dataclass
class Separated:
    """target, rest (S,) waveforms; mixture (S,) as separated (cut to whole video frames); masks (K, 2, T, F);
    mixture_spec and estimate_spec (T, F) / (K, T, F) complex."""

    target: torch.Tensor
    rest: torch.Tensor
    mixture: torch.Tensor
    masks: torch.Tensor
    mixture_spec: torch.Tensor
    estimate_spec: torch.Tensor
    sample_rate: int


class Separator:
    def __init__(self, model: AVSeparation, name: str = ""):
        self.model, self.name = model.eval(), name

    @classmethod
    def from_pretrained(cls, name: str | os.PathLike = "looking-to-listen-grid") -> "Separator":
        from sightsound.pretrained import load_pretrained

        return cls(load_pretrained(name, expect=(AVSeparation, "a speech-separation model")), str(name))

    @property
    def sample_rate(self) -> int:
        return self.model.config.sample_rate

    @property
    def visual(self) -> bool:
        return self.model.config.visual

    def load_mixture(self, path: str | Path) -> torch.Tensor:
        """(S,) at the model's rate; one-line errors for unreadable, silent or too short files."""
        wave, _ = audio_io.load(path, sr=self.sample_rate)
        return self.check_mixture(wave, str(path))

    def check_mixture(self, wave: torch.Tensor, where: str = "the mixture") -> torch.Tensor:
        seconds = wave.shape[-1] / self.sample_rate
        if seconds < MIN_SECONDS:
            raise UserInputError(f"{where}: lasts {seconds:.2f} s; at least {MIN_SECONDS} s is needed")
        if seconds > MAX_SECONDS:
            raise UserInputError(f"{where}: lasts {seconds:.0f} s; cut it into pieces of at most {MAX_SECONDS:.0f} s")
        if not torch.isfinite(wave).all():
            raise UserInputError(f"{where}: holds NaN or infinite samples")
        if float(wave.abs().max()) < SILENCE_PEAK:
            raise UserInputError(f"{where}: the mixture is silent (peak below -80 dBFS): no voice to separate")
        return wave

    def mouths(self, video: str | Path, cache_dir: str | None = None) -> torch.Tensor:
        """(V, h, w) floats in [0, 1]: the face video's mouth crops at 25 fps (cached)."""
        from sightsound.vision.mouths import MouthCache

        return torch.from_numpy(MouthCache(tuple(self.model.config.mouth_size), cache_dir).get(video)).float() / 255

    def align(self, wave: torch.Tensor, mouths: torch.Tensor | None, where: str = "the video") -> tuple:
        """Audio cut (or padded) to whole video frames; a length mismatch beyond the tolerance is an error."""
        hop = self.model.config.samples_per_video_frame
        if mouths is None:
            frames = max(1, round(wave.shape[-1] / hop))
        else:
            frames = mouths.shape[0]
            gap = abs(frames * hop - wave.shape[-1]) / self.sample_rate
            if gap > LENGTH_TOLERANCE_S:
                raise UserInputError(f"{where} lasts {frames * hop / self.sample_rate:.2f} s and the audio "
                                     f"{wave.shape[-1] / self.sample_rate:.2f} s: video and audio must cover the "
                                     "same time")
        n = frames * hop
        wave = wave[:n] if wave.shape[-1] >= n else torch.nn.functional.pad(wave, (0, n - wave.shape[-1]))
        return wave, mouths

    @torch.no_grad()
    def separate(self, wave: torch.Tensor, mouths: torch.Tensor | None = None) -> Separated:
        """A mixture (S,) (+ mouths (V, h, w) for the audio-visual model) -> ``Separated``."""
        if self.visual and mouths is None:
            raise UserInputError("this model separates the voice of a face: give the face video (--face)")
        wave, mouths = self.align(wave, mouths if self.visual else None)
        out = self.model(wave[None], mouths[None] if mouths is not None else None)
        estimates = out["estimates"][0]                              # (K, S)
        rest = estimates[1] if estimates.shape[0] > 1 else wave - estimates[0]
        return Separated(estimates[0], rest, wave, out["masks"][0], out["mixture_spec"][0], out["estimate_spec"][0],
                         self.sample_rate)
