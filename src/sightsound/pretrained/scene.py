"""Hearing a scene with a trained audio-visual embedding (``models/av_embedding.py``): a sound file's class with
probabilities, and the photos nearest it in the shared space (the evaluation is ``evaluation/scene.py``).

``SceneListener.from_pretrained("av-esc10" | run folder)``. A clip longer than the model's training length is
cut into windows of that length (hop: half a window) whose embeddings are averaged; a shorter one is
zero-padded. Photos are embedded from their cached EfficientNet-Lite0 features (``vision/features.py``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from sightsound.audio import io as audio_io
from sightsound.errors import UserInputError
from sightsound.models.av_embedding import AVEmbedding

SILENCE_PEAK = 1e-4  # a clip whose peak stays below this (-80 dBFS) has nothing to hear
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp")


@dataclass
class Hearing:
    clip: str
    probabilities: dict[str, float]  # class -> probability, most likely first
    photos: list[tuple[str, float]]  # (photo path, cosine similarity), nearest first

    @property
    def label(self) -> str | None:
        return next(iter(self.probabilities), None)

    def to_json(self) -> dict:
        return {"clip": self.clip, "class": self.label,
                "probabilities": {k: round(v, 4) for k, v in self.probabilities.items()},
                "photos": [{"photo": p, "similarity": round(s, 4)} for p, s in self.photos]}


def image_files(folder: str | Path) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise UserInputError(f"{folder}: not a folder of images")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise UserInputError(f"{folder}: no images ({', '.join(IMAGE_SUFFIXES)})")
    return files


def clip_windows(wave: torch.Tensor, length: int) -> torch.Tensor:
    """(S,) -> (W, L) windows of length L (hop L/2; the last one ends at the clip's end); a clip shorter than L
    is zero-padded to one window."""
    if wave.shape[-1] <= length:
        return F.pad(wave, (0, length - wave.shape[-1]))[None]
    starts = list(range(0, wave.shape[-1] - length + 1, length // 2))
    if starts[-1] != wave.shape[-1] - length:
        starts.append(wave.shape[-1] - length)
    return torch.stack([wave[s:s + length] for s in starts])


class SceneListener:
    def __init__(self, model: AVEmbedding, name: str = "", cache_dir: str | None = None):
        self.model, self.name, self.cache_dir = model.eval(), name, cache_dir

    @classmethod
    def from_pretrained(cls, name: str | os.PathLike = "av-esc10", cache_dir: str | None = None) -> "SceneListener":
        from sightsound.pretrained import load_pretrained

        model = load_pretrained(name, expect=(AVEmbedding, "an audio-visual embedding model"))
        return cls(model, str(name), cache_dir)

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.model.config.class_names

    @property
    def sample_rate(self) -> int:
        return self.model.config.preset.sample_rate

    def load_clip(self, path: str | Path) -> torch.Tensor:
        """(S,) at the model's rate; one-line errors for unreadable and silent files."""
        wave, _ = audio_io.load(path, sr=self.sample_rate)
        if float(wave.abs().max()) < SILENCE_PEAK:
            raise UserInputError(f"{path}: the clip is silent (peak below -80 dBFS): nothing to hear")
        return wave

    def windows(self, wave: torch.Tensor) -> torch.Tensor:
        """(S,) -> (W, L) windows of the training length L (``clip_windows``)."""
        return clip_windows(wave, self.model.config.clip_samples)

    @torch.no_grad()
    def embed_waves(self, waves: list[torch.Tensor]) -> torch.Tensor:
        """Waveforms at the model's rate -> (N, D) unit embeddings (windows averaged)."""
        out = [F.normalize(self.model.embed_sound(self.windows(w)).mean(0), dim=-1) for w in waves]
        return torch.stack(out) if out else torch.zeros(0, self.model.config.embed_dim)

    @torch.no_grad()
    def probabilities(self, embeddings: torch.Tensor) -> torch.Tensor:
        """(N, D) -> (N, K) class probabilities (softmax of the scaled similarities to the class anchors)."""
        if not self.class_names:
            raise UserInputError(f"{self.name}: this model has no scene classes (a spoken-caption model)")
        return self.model.class_logits(embeddings).softmax(-1)

    @torch.no_grad()
    def embed_photos(self, paths: list[Path], progress: bool = True) -> torch.Tensor:
        """Photo files -> (N, D) unit embeddings (EfficientNet-Lite0 features cached on disk)."""
        from sightsound.vision.encoders import EfficientNetLite0Encoder
        from sightsound.vision.features import FeatureCache

        if self.model.config.image_weight == 0:
            raise UserInputError(f"{self.name}: this model was trained without photos; it cannot rank images")

        cache = FeatureCache(EfficientNetLite0Encoder(self.model.config.photo_size), self.cache_dir)
        features = cache.get(list(paths), progress=progress).float().mean(dim=1)  # (N, C)
        return self.model.embed_image(features)

    def hear(self, clip: str | Path, photos: list[Path] | None = None, top: int = 5,
             photo_embeddings: torch.Tensor | None = None) -> Hearing:
        sound = self.embed_waves([self.load_clip(clip)])  # (1, D)
        probs = self.probabilities(sound)[0] if self.class_names else torch.zeros(0)
        order = probs.argsort(descending=True).tolist()
        nearest: list[tuple[str, float]] = []
        if photos:
            embedded = self.embed_photos(photos) if photo_embeddings is None else photo_embeddings
            sim = (embedded @ sound[0]).tolist()
            ranked = sorted(range(len(photos)), key=lambda i: -sim[i])[:top]
            nearest = [(str(photos[i]), sim[i]) for i in ranked]
        return Hearing(str(clip), {self.class_names[i]: float(probs[i]) for i in order}, nearest)
