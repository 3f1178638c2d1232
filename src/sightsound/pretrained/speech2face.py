"""From a voice to a face with a trained Speech2Face model (``models/speech2face.py``; the evaluation is
``evaluation/speech2face.py``).

``FaceFromVoice.from_pretrained("speech2face-voices" | run folder)``: a speech file -> the predicted face
feature (windows of the model's training length, hop half a window, features averaged) -> the drawn canonical
face, and the gallery faces nearest the feature (cosine). Gallery images are cut to portraits by the face
detector (``vision/faces.py``) when it finds a face, else used whole (e.g. faces of the synthetic world).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from sightsound.audio import io as audio_io
from sightsound.errors import UserInputError
from sightsound.models.speech2face import Speech2Face, normalized_features
from sightsound.pretrained.scene import SILENCE_PEAK, clip_windows, image_files

MIN_SECONDS = 1.0          # shorter clips hold too little of a voice
SPEECH_DB = 40.0           # frames within this many dB of the loudest count as sound


class FaceFromVoice:
    def __init__(self, model: Speech2Face, name: str = ""):
        self.model, self.name = model.eval(), name

    @classmethod
    def from_pretrained(cls, name: str | os.PathLike = "speech2face-voices") -> "FaceFromVoice":
        from sightsound.pretrained import load_pretrained

        return cls(load_pretrained(name, expect=(Speech2Face, "a Speech2Face model")), str(name))

    @property
    def sample_rate(self) -> int:
        return self.model.config.preset.sample_rate

    @property
    def face_size(self) -> int:
        return self.model.config.face_size

    def check_voice(self, wave: torch.Tensor, where: str) -> torch.Tensor:
        """One-line errors for a silent clip, one shorter than ``MIN_SECONDS`` or with under that much sound."""
        seconds = wave.shape[-1] / self.sample_rate
        if seconds < MIN_SECONDS:
            raise UserInputError(f"{where}: the clip lasts {seconds:.2f} s; at least {MIN_SECONDS:.0f} s of speech "
                                 "is needed")
        if float(wave.abs().max()) < SILENCE_PEAK:
            raise UserInputError(f"{where}: the clip is silent (peak below -80 dBFS): no speech to hear")
        frame = self.sample_rate // 100
        energy = wave[: wave.shape[-1] // frame * frame].view(-1, frame).pow(2).mean(-1)  # (T,) 10 ms frames
        loud = (10 * torch.log10(energy.clamp_min(1e-12) / energy.max())) > -SPEECH_DB
        if float(loud.sum()) * 0.01 < MIN_SECONDS / 2:
            raise UserInputError(f"{where}: under {MIN_SECONDS / 2:.1f} s of the clip holds sound; no speech to hear")
        return wave

    def load_voice(self, path: str | Path) -> torch.Tensor:
        """(S,) at the model's rate, peak-normalised; one-line errors for unreadable, silent and short files."""
        wave, _ = audio_io.load(path, sr=self.sample_rate)
        self.check_voice(wave, str(path))
        return wave / wave.abs().max()

    @torch.no_grad()
    def voice_features(self, waves: list[torch.Tensor]) -> torch.Tensor:
        """Waveforms at the model's rate -> predicted face features v_s (N, D) (windows averaged)."""
        length = self.model.config.clip_samples
        out = [self.model.voice_feature(clip_windows(w, length)).mean(0) for w in waves]
        return torch.stack(out) if out else torch.zeros(0, self.model.config.feature_dim)

    @torch.no_grad()
    def face_features(self, faces: torch.Tensor) -> torch.Tensor:
        """(N, 1, H, W) portraits in [0, 1] -> face features v_f (N, D)."""
        return torch.cat([self.model.face_feature(faces[i:i + 256]) for i in range(0, len(faces), 256)])

    @torch.no_grad()
    def draw(self, features: torch.Tensor) -> torch.Tensor:
        """(N, D) -> canonical faces (N, 1, H, W) in [0, 1]."""
        return self.model.draw(features)

    def gallery(self, folder: str | Path) -> tuple[list[Path], torch.Tensor]:
        """(image paths, portraits (N, 1, H, W)) of a folder of face images."""
        from sightsound.vision.faces import portrait
        from sightsound.vision.io import load_image

        paths = image_files(folder)
        return paths, torch.stack([portrait(load_image(p), self.face_size, require_face=False)[0] for p in paths])

    def nearest(self, feature: torch.Tensor, gallery_features: torch.Tensor, top: int) -> list[tuple[int, float]]:
        """(index, cosine similarity) of the ``top`` gallery faces nearest a feature (D,)."""
        sim = normalized_features(gallery_features) @ normalized_features(feature[None])[0]  # (N,)
        order = sim.argsort(descending=True)[:top].tolist()
        return [(i, float(sim[i])) for i in order]
