"""Spoken-word classification from log-mel spectrograms: the sound-representation front-end put to work.

waveform (B, S) -> log-mel (B, M, T) -> conv blocks (3x3 Conv2d, GroupNorm, ReLU, 2x2 max-pool)
-> mean over time (frequency is kept: where the energy sits is the point) -> linear -> class
logits (B, n_classes). A small, honest baseline
for the Free Spoken Digit Dataset, and the first model the training engine trains.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F_nn
from torch import nn

from sightsound.audio import functional as AF


@dataclass(frozen=True)
class MelClassifierConfig:
    sample_rate: int = 8000
    n_fft: int = 256
    hop_length: int = 80        # 10 ms at 8 kHz
    win_length: int = 200       # 25 ms at 8 kHz (the lecture's analysis window)
    window: str = "hamming"
    n_mels: int = 40
    channels: int = 32
    n_blocks: int = 3
    dropout: float = 0.1
    n_classes: int = 10

    @classmethod
    def tiny(cls) -> "MelClassifierConfig":
        return cls(n_mels=16, channels=8, n_blocks=1, dropout=0.0)

    @classmethod
    def cpu(cls) -> "MelClassifierConfig":
        return cls(n_mels=40, channels=32, n_blocks=3, dropout=0.1)

    @classmethod
    def paper(cls) -> "MelClassifierConfig":
        return cls(n_mels=64, channels=96, n_blocks=4, dropout=0.2)


class MelClassifier(nn.Module):
    def __init__(self, config: MelClassifierConfig):
        super().__init__()
        self.config = config
        c = config
        basis = AF.mel_filterbank(c.sample_rate, c.n_fft, c.n_mels, dtype=torch.float32)
        self.register_buffer("mel_basis", basis, persistent=False)
        blocks, in_ch = [], 1
        for i in range(c.n_blocks):
            out_ch = c.channels * 2**i
            # no conv bias: the GroupNorm right after removes it (and Adam would amplify its zero gradient)
            blocks += [nn.Conv2d(in_ch, out_ch, 3, padding=1, bias=False), nn.GroupNorm(min(8, out_ch), out_ch), nn.ReLU(),
                       nn.MaxPool2d(2)]
            in_ch = out_ch
        self.blocks = nn.Sequential(*blocks)
        self.dropout = nn.Dropout(c.dropout)
        self.head = nn.Linear(in_ch * (c.n_mels // 2**c.n_blocks), c.n_classes)

    def features(self, waveform: torch.Tensor) -> torch.Tensor:
        """(B, S) -> log-mel (B, M, T), shifted to zero mean per utterance (keeps the spectral shape)."""
        c = self.config
        mel = AF.melspectrogram(waveform, c.sample_rate, c.n_fft, c.hop_length, c.win_length, c.window,
                                mel_basis=self.mel_basis)  # (B, M, T)
        logmel = torch.log(mel + 1e-6)
        return logmel - logmel.mean(dim=(-2, -1), keepdim=True)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        x = self.features(waveform).unsqueeze(1)  # (B, M, T) -> (B, 1, M, T)
        x = self.blocks(x)  # (B, D, M', T')
        x = x.mean(dim=-1).flatten(1)  # (B, D, M') -> (B, D * M')
        return self.head(self.dropout(x))  # (B, n_classes)

    def loss(self, batch) -> tuple[torch.Tensor, dict[str, float]]:
        waveform, labels = batch
        logits = self(waveform)
        loss = F_nn.cross_entropy(logits, labels)
        accuracy = (logits.argmax(-1) == labels).float().mean()
        return loss, {"accuracy": float(accuracy)}

    @torch.no_grad()
    def evaluate(self, batches) -> dict[str, float]:
        total, correct, loss_sum = 0, 0, 0.0
        for waveform, labels in batches:
            logits = self(waveform)
            loss_sum += float(F_nn.cross_entropy(logits, labels, reduction="sum"))
            correct += int((logits.argmax(-1) == labels).sum())
            total += len(labels)
        return {"loss": loss_sum / max(1, total), "accuracy": correct / max(1, total)}
