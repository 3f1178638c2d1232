"""A small contrastive text-image model (CLIP at the scale of the shapes world): DALL-E's re-ranker.

Radford et al. 2021 ("Learning Transferable Visual Models From Natural Language Supervision"), Sec. 2.3: an
image encoder and a text encoder map a matched pair close together and the other pairs of the batch apart
(a symmetric cross-entropy over the cosine similarities divided by a learned temperature). DALL-E
(Ramesh et al. 2021, Sec. 2.5) draws N samples per caption and keeps those this score ranks first. Here the
text side is a GRU over word embeddings (word order matters: "a red circle above a blue square" is not "a blue
square above a red circle"), and each caption also brings one hard negative — the same caption with one
attribute or the relation changed — that its image must score below its own caption.

Axis legend: B batch, L words, D embedding width.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class TextImageConfig:
    text_vocab: int = 20
    dim: int = 128
    channels: int = 48
    init_temperature: float = 0.07


def conv_stack(channels: int, depth: int) -> nn.Sequential:
    """(B, 3, H, W) -> (B, 2C, H / 2^depth, W / 2^depth): stride-2 conv + BatchNorm + ReLU, ``depth`` times."""
    layers, width = [], 3
    for level in range(depth):
        out = channels * (2 if level else 1)
        layers += [nn.Conv2d(width, out, 3, stride=2, padding=1), nn.BatchNorm2d(out), nn.ReLU(),
                   nn.Conv2d(out, out, 3, padding=1), nn.BatchNorm2d(out), nn.ReLU()]
        width = out
    return nn.Sequential(*layers)


class TextImage(nn.Module):
    """``image_embedding`` (B, 3, H, W) in [0, 1] -> (B, D) unit vectors; ``text_embedding`` (B, L) ids with
    padding id 0 -> (B, D); ``score`` cosine similarity of pairs (B,)."""

    def __init__(self, config: TextImageConfig):
        super().__init__()
        self.config = c = config
        self.image_net = conv_stack(c.channels, 3)
        self.image_proj = nn.Linear(2 * c.channels, c.dim)
        self.words = nn.Embedding(c.text_vocab, c.dim, padding_idx=0)
        self.gru = nn.GRU(c.dim, c.dim, batch_first=True)
        self.text_proj = nn.Linear(c.dim, c.dim)
        self.log_scale = nn.Parameter(torch.tensor(math.log(1.0 / c.init_temperature)))

    def image_embedding(self, image: torch.Tensor) -> torch.Tensor:
        h = self.image_net(image * 2 - 1).amax(dim=(2, 3))  # (B, 2C, G, G) -> (B, 2C): max over places
        return F.normalize(self.image_proj(h), dim=-1)

    def text_embedding(self, text: torch.Tensor) -> torch.Tensor:
        lengths = (text != 0).sum(dim=1).clamp(min=1)                     # (B,)
        states, _ = self.gru(self.words(text))                            # (B, L, D)
        last = states[torch.arange(text.shape[0]), lengths - 1]           # the state after the last word
        return F.normalize(self.text_proj(last), dim=-1)

    def score(self, image: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        """Cosine similarity of each image with its text: (B,)."""
        return (self.image_embedding(image) * self.text_embedding(text)).sum(-1)

    def loss(self, image: torch.Tensor, text: torch.Tensor, negative: torch.Tensor):
        """Symmetric InfoNCE over the batch (pairs with identical captions left out); the image side also sees
        the hard negatives as extra captions. image (B, 3, H, W), text and negative (B, L) -> loss, metrics."""
        v, t, n = self.image_embedding(image), self.text_embedding(text), self.text_embedding(negative)
        scale = self.log_scale.clamp(max=math.log(100.0)).exp()
        target = torch.arange(v.shape[0], device=v.device)
        # another image with the very same caption is not a negative: leave such pairs out
        twin = (text[:, None, :] == text[None, :, :]).all(-1) & ~torch.eye(len(text), dtype=torch.bool,
                                                                          device=text.device)  # (B, B)
        text_to_image = (scale * t @ v.T).masked_fill(twin, float("-inf"))  # (B, B)
        image_to_text = torch.cat([text_to_image.T, scale * v @ n.T], dim=1)  # (B, 2B): captions, negatives
        loss = (F.cross_entropy(image_to_text, target) + F.cross_entropy(text_to_image, target)) / 2
        correct = (v * t).sum(-1) > (v * n).sum(-1)
        return loss, {"hard_negative_acc": correct.float().mean().detach()}
