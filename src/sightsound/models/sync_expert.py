"""A lip-sync expert in the style of SyncNet (Chung & Zisserman, "Out of time", ACCV 2016 workshops): an audio
window and the mouth crops of the same 0.2 s go to two encoders whose embeddings are close when the two are in
sync. Used as a metric: for a clip, the audio-video offset at which the expert is most confident.

* video: each 25 fps grey mouth crop (``vision/mouths.py``, 32 x 48), standardised per clip, through a small CNN
  -> a 1-D convolution over ``2 context + 1`` frames (SyncNet stacks 5 frames: 0.2 s) -> embedding v_t;
* audio: the clip's log-mel (normalised as in ``models/lip_motion.py``), a convolution at the mel rate, one of
  kernel and stride 4 to the video rate, then one over ``2 context + 1`` frames -> embedding a_t;
* training (SyncNet trains on in-sync vs shifted pairs with a contrastive loss; here its multi-way form, as in
  SyncNet's later "perfect match" training): within a window of one clip, the cosine similarities
  s(t, u) = cos(v_t, a_u) times a learnt scale, for |t - u| <= ``max_offset``, and a cross-entropy that picks
  u = t among the candidates (and t = u, symmetric): the negatives are the same person's other moments;
* the offset of a clip: the shift d in [-max_offset, max_offset] that maximises the mean over t of
  cos(v_t, a_{t+d}) (Sec. 4 of SyncNet: the offset with the lowest mean distance); a confidence is the gap
  between that mean and the median over shifts.

Axis legend: B batch, V video frames, M mel bands, D embedding width.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from sightsound.errors import UserInputError
from sightsound.models.lip_motion import normalise_mel


@dataclass(frozen=True)
class SyncExpertConfig:
    audio_preset: str = "speech"    # the log-mel analysis (audio/presets.py), set from the data
    n_mels: int = 80
    mel_per_frame: int = 4
    mouth_size: tuple = (32, 48)
    channels: int = 16              # the crop CNN's first width (doubles twice)
    audio_channels: int = 128
    dim: int = 128
    context: int = 2                # frames on either side (5 frames = 0.2 s)
    max_offset: int = 15            # shifts considered, in video frames (+-0.6 s)

    @classmethod
    def tiny(cls) -> "SyncExpertConfig":
        return cls(mouth_size=(8, 12), channels=4, audio_channels=16, dim=16, max_offset=6)

    @classmethod
    def cpu(cls) -> "SyncExpertConfig":
        return cls()

    @classmethod
    def paper(cls) -> "SyncExpertConfig":
        return cls(mouth_size=(64, 96), channels=64, audio_channels=256, dim=512)


# ------------------------------------------------------------------------------------------------------------
# functional core


def offset_curve(video: torch.Tensor, audio: torch.Tensor, max_offset: int) -> torch.Tensor:
    """Unit embeddings (V, D) of one clip -> (2 max_offset + 1,) mean cos(v_t, a_{t+d}) for d = -max..max."""
    V = len(video)
    if V <= max_offset:
        raise UserInputError(f"the clip has {V} frames: too short to search +-{max_offset} frames of offset")
    similarity = video @ audio.T                                          # (V, V): [t, u]
    curve = []
    for d in range(-max_offset, max_offset + 1):
        diagonal = torch.diagonal(similarity, offset=d)                   # u - t = d
        curve.append(diagonal.mean())
    return torch.stack(curve)


def best_offset(curve: torch.Tensor) -> tuple[int, float]:
    """(offset in frames, confidence = peak minus median) of an offset curve."""
    max_offset = (len(curve) - 1) // 2
    k = int(curve.argmax())
    return k - max_offset, float(curve[k] - curve.median())


# ------------------------------------------------------------------------------------------------------------


class SyncExpert(nn.Module):
    def __init__(self, config: SyncExpertConfig):
        super().__init__()
        self.config = config
        c, width = config.channels, 2 * config.context + 1
        self.crop_cnn = nn.Sequential(
            nn.Conv2d(1, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c, 2 * c, 3, padding=1), nn.BatchNorm2d(2 * c), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(2 * c, 4 * c, 3, padding=1), nn.BatchNorm2d(4 * c), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
        self.video_time = nn.Sequential(nn.Conv1d(4 * c, config.dim, width, padding=config.context), nn.ReLU(),
                                        nn.Conv1d(config.dim, config.dim, 1))
        a = config.audio_channels
        self.audio = nn.Sequential(
            nn.Conv1d(config.n_mels, a, 5, padding=2), nn.ReLU(),
            nn.Conv1d(a, a, config.mel_per_frame, stride=config.mel_per_frame), nn.ReLU(),
            nn.Conv1d(a, config.dim, width, padding=config.context), nn.ReLU(), nn.Conv1d(config.dim, config.dim, 1))
        self.log_scale = nn.Parameter(torch.tensor(2.3))                  # e^2.3 = 10: the softmax temperature

    def embed(self, mel: torch.Tensor, crops: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-mel (B, M, 4V), crops (B, V, h, w) uint8 or [0, 1] -> unit embeddings video, audio (B, V, D)."""
        if crops.ndim != 4 or tuple(crops.shape[2:]) != tuple(self.config.mouth_size):
            raise UserInputError(f"expected mouth crops (B, V, {self.config.mouth_size[0]}, "
                                 f"{self.config.mouth_size[1]}), got {tuple(crops.shape)}")
        B, V = crops.shape[:2]
        x = crops.float()
        x = (x - x.mean(dim=(1, 2, 3), keepdim=True)) / x.std(dim=(1, 2, 3), keepdim=True).clamp_min(1e-3)
        frames = self.crop_cnn(x.reshape(B * V, 1, *x.shape[2:])).reshape(B, V, -1)   # (B, V, 4c)
        video = self.video_time(frames.transpose(1, 2)).transpose(1, 2)                # (B, V, D)
        audio = self.audio(normalise_mel(mel)).transpose(1, 2)[:, :V]                  # (B, V, D)
        if audio.shape[1] < V:
            raise UserInputError("the audio is shorter than the video")
        return F.normalize(video, dim=-1), F.normalize(audio, dim=-1)

    def loss(self, batch: dict) -> tuple[torch.Tensor, dict]:
        video, audio = self.embed(batch["mel"], batch["crops"])
        V = video.shape[1]
        logits = torch.einsum("btd,bud->btu", video, audio) * self.log_scale.exp()     # (B, V, V)
        t = torch.arange(V)
        near = (t[:, None] - t[None, :]).abs() <= self.config.max_offset
        logits = logits.masked_fill(~near, float("-inf"))
        target = t.expand(video.shape[0], V)                                           # (B, V)
        loss = (F.cross_entropy(logits.transpose(1, 2), target) + F.cross_entropy(logits, target)) / 2
        accuracy = (logits.argmax(dim=-1) == target).float().mean()
        return loss, {"loss": float(loss.detach()), "accuracy": float(accuracy)}

    @torch.no_grad()
    def offsets(self, mel: torch.Tensor, crops: torch.Tensor) -> list[tuple[int, float]]:
        """(offset, confidence) of each clip of a batch; offset d > 0: the video at t matches the audio at t + d (the sound comes d frames late)."""
        video, audio = self.embed(mel, crops)
        return [best_offset(offset_curve(v, a, self.config.max_offset)) for v, a in zip(video, audio)]

    @torch.no_grad()
    def evaluate(self, batches) -> dict[str, float]:
        """``found``: the share of selection clips whose offset is found within +-1 frame of 0; ``confidence``: the
        mean peak-over-median of their offset curves; ``score`` = found + confidence / 100 (ties in ``found``,
        common once it reaches 1, go to the more confident expert)."""
        found, confidences = [], []
        for batch in batches:
            for offset, confidence in self.offsets(batch["mel"], batch["crops"]):
                found.append(abs(offset) <= 1)
                confidences.append(confidence)
        share, confidence = sum(found) / len(found), sum(confidences) / len(confidences)
        return {"found": share, "confidence": confidence, "score": share + confidence / 100}
