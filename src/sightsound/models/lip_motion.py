"""Lip motion from speech: log-mel -> the 20 mouth landmarks of every 25 fps video frame.

An audio-to-landmark model in the spirit of "Synthesizing Obama" (Suwajanakorn et al., SIGGRAPH 2017: audio
features -> mouth shape per frame, then a renderer), with a convolutional network instead of their LSTM:

* input: the log-mel of the speech (B, M, 4V) (``audio.presets.SPEECH``: 10 ms hop, 4 mel frames per video frame),
  normalised per utterance (each band minus its mean over the utterance, over the utterance's standard deviation:
  loudness and channel do not matter, only how the spectrum moves);
* a 5-wide convolution at the mel rate, then a convolution of kernel and stride 4 down to the video rate (mel
  frames 4k..4k+3 -> video frame k, the frame's own audio);
* residual dilated 1-D convolutions at the video rate (kernel 3, dilations ``dilations``): each output frame
  sees ``context_frames`` video frames of audio on either side (the cpu preset: +-23.5 frames, +-0.94 s; the
  first layers alone span +-0.1 s, and a +-0.46 s variant did a little worse on the selection clips:
  docs/experiments/2026-12-07-lip-motion.md). These layers are the temporal smoothing, learned rather than a
  fixed filter;
* a 1x1 convolution to 40 numbers per frame: the displacement of the 20 mouth points (x, y) from the rest mouth
  (the training mean, ``rest_mouth``), in the face frame of ``vision/landmarks.py`` (unit: inter-ocular distance).

Loss (Sec. 3.1 of Suwajanakorn et al. is an L2 on PCA coefficients; here directly on the points): the mean
Euclidean distance between predicted and true points (the landmark-distance metric itself) plus ``velocity``
times the same distance between their frame-to-frame velocities (penalises jitter the position term allows).

Axis legend: B batch, M mel bands, V video frames, C channels, P = 20 mouth points.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from sightsound.errors import ParameterError, UserInputError

POINTS = 20


@dataclass(frozen=True)
class LipMotionConfig:
    audio_preset: str = "speech"    # the log-mel analysis (audio/presets.py), set from the data
    n_mels: int = 80
    mel_per_frame: int = 4          # mel frames per video frame (16 kHz, 10 ms hop, 25 fps)
    fps: float = 25.0
    channels: int = 192
    dilations: tuple = (1, 2, 4, 8, 1, 2, 4)
    dropout: float = 0.1
    velocity: float = 1.0           # weight of the velocity term of the loss
    rest_mouth: tuple = ()          # the mean training mouth, 40 floats (x0, y0, x1, y1, ...); set by the data

    def __post_init__(self) -> None:
        if self.rest_mouth and len(self.rest_mouth) != 2 * POINTS:
            raise ParameterError(f"rest_mouth needs {2 * POINTS} numbers, got {len(self.rest_mouth)}")
        if self.mel_per_frame < 1 or self.channels < 1:
            raise ParameterError("mel_per_frame and channels must be positive")

    @property
    def context_frames(self) -> float:
        """How many video frames of audio each output sees on either side."""
        return sum(self.dilations) + (2 + self.mel_per_frame) / self.mel_per_frame

    @classmethod
    def tiny(cls) -> "LipMotionConfig":
        return cls(channels=32, dilations=(1, 2), dropout=0.0)

    @classmethod
    def cpu(cls) -> "LipMotionConfig":
        return cls()

    @classmethod
    def paper(cls) -> "LipMotionConfig":
        return cls(channels=512, dilations=(1, 2, 4, 8, 1, 2, 4, 8), dropout=0.2)


# ------------------------------------------------------------------------------------------------------------
# functional core


def normalise_mel(mel: torch.Tensor) -> torch.Tensor:
    """(B, M, T) log-mel -> each band minus its mean over time, over the utterance's standard deviation."""
    centred = mel - mel.mean(dim=-1, keepdim=True)
    return centred / centred.flatten(1).std(dim=1).clamp_min(1e-3)[:, None, None]


def landmark_distance(predicted: torch.Tensor, true: torch.Tensor) -> torch.Tensor:
    """Mean Euclidean distance between point sets (..., P, 2) over the points -> (...)."""
    return (predicted - true).pow(2).sum(dim=-1).add(1e-12).sqrt().mean(dim=-1)


def pearson(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Correlation of (..., V) series along the last axis (0 where either is constant)."""
    a, b = a - a.mean(dim=-1, keepdim=True), b - b.mean(dim=-1, keepdim=True)
    denominator = (a.pow(2).sum(dim=-1) * b.pow(2).sum(dim=-1)).sqrt()
    return torch.where(denominator > 0, (a * b).sum(dim=-1) / denominator.clamp_min(1e-12), torch.zeros_like(denominator))


# ------------------------------------------------------------------------------------------------------------


class LipMotion(nn.Module):
    def __init__(self, config: LipMotionConfig):
        super().__init__()
        self.config = config
        c = config.channels
        self.front = nn.Conv1d(config.n_mels, c, 5, padding=2)
        self.down = nn.Conv1d(c, c, config.mel_per_frame, stride=config.mel_per_frame)
        self.blocks = nn.ModuleList(nn.Conv1d(c, c, 3, dilation=d, padding=d) for d in config.dilations)
        self.norms = nn.ModuleList(nn.GroupNorm(1, c) for _ in config.dilations)
        self.drop = nn.Dropout(config.dropout)
        self.out = nn.Conv1d(c, 2 * POINTS, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        rest = torch.tensor(config.rest_mouth, dtype=torch.float32) if config.rest_mouth else torch.zeros(2 * POINTS)
        self.register_buffer("rest", rest.reshape(POINTS, 2), persistent=False)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        """Log-mel (B, M, 4V) -> mouth shapes (B, V, 20, 2) in the face frame."""
        if mel.ndim != 3 or mel.shape[1] != self.config.n_mels:
            raise UserInputError(f"expected log-mel (B, {self.config.n_mels}, T), got {tuple(mel.shape)}")
        if mel.shape[-1] < self.config.mel_per_frame:
            raise UserInputError("the audio is shorter than one video frame")
        h = F.gelu(self.front(normalise_mel(mel)))                        # (B, C, 4V)
        h = F.gelu(self.down(h))                                          # (B, C, V)
        for conv, norm in zip(self.blocks, self.norms):
            h = h + self.drop(F.gelu(conv(norm(h))))                      # (B, C, V)
        moves = self.out(h).transpose(1, 2)                               # (B, V, 40)
        return self.rest + moves.reshape(*moves.shape[:2], POINTS, 2)     # (B, V, 20, 2)

    def loss(self, batch: dict) -> tuple[torch.Tensor, dict]:
        predicted, true = self.forward(batch["mel"]), batch["mouth"]
        frames = min(predicted.shape[1], true.shape[1])
        predicted, true = predicted[:, :frames], true[:, :frames]
        position = landmark_distance(predicted, true).mean()
        velocity = landmark_distance(predicted.diff(dim=1), true.diff(dim=1)).mean()
        loss = position + self.config.velocity * velocity
        return loss, {"loss": float(loss.detach()), "distance": float(position.detach())}

    @torch.no_grad()
    def evaluate(self, batches) -> dict[str, float]:
        """Mean landmark distance (inter-ocular units) and mean per-clip correlation of the mouth opening over the
        selection clips; ``score`` = the opening correlation."""
        from sightsound.vision.landmarks import mouth_opening

        distances, correlations = [], []
        for batch in batches:
            predicted = self.forward(batch["mel"])
            frames = min(predicted.shape[1], batch["mouth"].shape[1])
            predicted, true = predicted[:, :frames], batch["mouth"][:, :frames]
            distances += landmark_distance(predicted, true).mean(dim=1).tolist()
            correlations += pearson(mouth_opening(predicted), mouth_opening(true)).tolist()
        distance = sum(distances) / len(distances)
        correlation = sum(correlations) / len(correlations)
        return {"distance": distance, "opening_corr": correlation, "score": correlation}
