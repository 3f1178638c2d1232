"""Talking faces from speech with a trained lip-motion model (``models/lip_motion.py``) and the mouth renderer
(``vision/mouth_render.py``); the evaluation is ``evaluation/lips.py``.

``LipAnimator.from_pretrained("lip-motion-grid" | run folder)``: speech (any file the audio loader reads,
resampled to 16 kHz) -> 25 fps mouth shapes -> frames of a reference face whose mouth moves -> an MP4 with the
speech. The shipped model carries its reference face: a frame of GRID speaker s1 (``reference.jpg``, CC BY 4.0)
with its 68 landmarks (``reference.json``); ``face=`` takes another photo or video (its first frame with a face;
dlib finds the landmarks), moved by the predicted displacement from the model's rest mouth.

Refused with one line: speech shorter than ``MIN_SECONDS`` or longer than ``MAX_SECONDS``, silent speech, a
reference in which no face is found.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from sightsound.audio import io as audio_io
from sightsound.errors import UserInputError
from sightsound.models.lip_motion import LipMotion

MIN_SECONDS = 0.2
MAX_SECONDS = 120.0
SAMPLE_RATE = 16000
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".pgm", ".webp")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm")


@dataclass
class Animation:
    """frames (V, H, W, 3) uint8, mouths (V, 20, 2) face frame, the speech (S,) at ``sample_rate``."""

    frames: np.ndarray
    mouths: torch.Tensor
    speech: torch.Tensor
    fps: float
    sample_rate: int = SAMPLE_RATE

    def save(self, path: str | Path, overwrite: bool = False) -> Path:
        """An MP4 (H.264 + AAC) of the frames and the speech (scaled to peak at most 0.99)."""
        from sightsound.vision.video import write_video

        speech = self.speech / max(1.0, float(self.speech.abs().max()) / 0.99)
        return write_video(path, self.frames, self.fps, speech.numpy(), self.sample_rate, overwrite=overwrite)


def face_from_file(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(RGB uint8 (H, W, 3), 68 landmarks (68, 2) pixels) of a photo, or of a video's first frame with a face."""
    from sightsound.vision.landmarks import LandmarkDetector

    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        from sightsound.vision.io import load_image

        candidates = [(load_image(path).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)]
    elif suffix in VIDEO_SUFFIXES:
        from sightsound.vision.video import read_rgb_frames

        frames, _ = read_rgb_frames(path, limit=125)
        candidates = list(frames[::5])
    else:
        raise UserInputError(f"{path}: expected a photo ({', '.join(IMAGE_SUFFIXES)}) or a video "
                             f"({', '.join(VIDEO_SUFFIXES)})")
    detector = LandmarkDetector(every=1)
    for image in candidates:
        grey = (0.299 * image[..., 0] + 0.587 * image[..., 1] + 0.114 * image[..., 2]).round().astype(np.uint8)
        try:
            return image, detector(grey[None], name=str(path))[0]
        except UserInputError:
            continue
    raise UserInputError(f"{path}: no face found" + (" in its first 5 s" if suffix in VIDEO_SUFFIXES else ""))


class LipAnimator:
    def __init__(self, model: LipMotion, reference: np.ndarray | None = None, landmarks: np.ndarray | None = None,
                 name: str = ""):
        self.model, self.name = model.eval(), name
        self.reference, self.landmarks = reference, landmarks

    @classmethod
    def from_pretrained(cls, name: str | os.PathLike = "lip-motion-grid") -> "LipAnimator":
        from sightsound.pretrained import REGISTRY, load_pretrained

        model = load_pretrained(name, expect=(LipMotion, "a lip-motion model"))
        folder = REGISTRY.get(str(name), Path(name))
        reference = landmarks = None
        if (folder / "reference.jpg").is_file() and (folder / "reference.json").is_file():
            from sightsound.vision.io import load_image

            reference = (load_image(folder / "reference.jpg").permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
            landmarks = np.asarray(json.loads((folder / "reference.json").read_text())["landmarks"], dtype=np.float32)
        return cls(model, reference, landmarks, str(name))

    @property
    def fps(self) -> float:
        return self.model.config.fps

    @property
    def samples_per_frame(self) -> int:
        return int(round(SAMPLE_RATE / self.fps))

    def load_speech(self, path: str | Path) -> torch.Tensor:
        wave, _ = audio_io.load(path, sr=SAMPLE_RATE)
        return self.check_speech(wave, str(path))

    def check_speech(self, wave: torch.Tensor, where: str = "the speech") -> torch.Tensor:
        seconds = wave.shape[-1] / SAMPLE_RATE
        if not torch.isfinite(wave).all():
            raise UserInputError(f"{where}: holds NaN or infinite samples")
        if seconds < MIN_SECONDS:
            raise UserInputError(f"{where}: {seconds:.2f} s is too short (at least {MIN_SECONDS} s)")
        if seconds > MAX_SECONDS:
            raise UserInputError(f"{where}: {seconds:.0f} s is too long (at most {MAX_SECONDS:.0f} s; cut it)")
        if float(wave.abs().max()) < 1e-4:
            raise UserInputError(f"{where}: is silent")
        return wave

    @torch.no_grad()
    def mouths(self, wave: torch.Tensor) -> torch.Tensor:
        """(S,) speech at 16 kHz -> (V, 20, 2) mouth shapes, V = S // 640 (frame k: samples 640k ... 640k+639)."""
        from sightsound.data.lip_motion import Config, clip_mel

        frames = wave.shape[-1] // self.samples_per_frame
        if frames < 1:
            raise UserInputError("the speech is shorter than one video frame")
        mel = clip_mel(wave, frames, Config(preset=self.model.config.audio_preset, fps=self.fps))
        return self.model(mel[None])[0]

    def renderer(self, face: str | Path | None = None):
        from sightsound.vision.mouth_render import MouthRenderer

        if face is None:
            if self.reference is None:
                raise UserInputError(f"{self.name}: carries no reference face; give one with --face")
            return MouthRenderer(self.reference, self.landmarks)   # the speaker's own face: absolute shapes
        image, landmarks = face_from_file(face)
        return MouthRenderer(image, landmarks, rest=self.model.rest)

    def animate(self, wave: torch.Tensor, face: str | Path | None = None, progress: bool = False) -> Animation:
        renderer = self.renderer(face)
        mouths = self.mouths(wave)
        return Animation(renderer.render(mouths, progress=progress), mouths,
                         wave[: len(mouths) * self.samples_per_frame], self.fps)
