"""The shapes judge: a small one-stage detector that reads an image of the shapes world back into an object list.

It is the independent referee of DALL-E's drawings (``evaluation/dalle.py``): trained only on rendered scenes
with their ground truth (``data/dalle_shapes``), never on generated images. In the manner of YOLO (Redmon et al.
2016, Sec. 2) the image is divided into a G x G grid; the cell that holds an object's centre predicts that it
does (objectness), the object's colour, shape and size, and the centre's offset within the cell. Training
images are degraded at random (blur, noise, a colour cast) so that the judge reads soft, generated-looking
pictures as well as crisp ones.

Axis legend: B batch, G grid side, A attribute logits per cell.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from sightsound.data.dalle_shapes import GRID
from sightsound.data.shapes import COLOURS, SHAPES, SIZES
from sightsound.models.text_image import conv_stack

HEADS = {"objectness": 1, "colour": len(COLOURS), "shape": len(SHAPES), "size": len(SIZES), "offset": 2}


@dataclass(frozen=True)
class ShapeJudgeConfig:
    image_size: int = 64
    channels: int = 32
    context_layers: int = 2           # 3x3 convolutions at the grid resolution (receptive field for shape)
    blur: float = 1.5                 # the strongest Gaussian blur (sigma, pixels) of the training degradations

    @classmethod
    def tiny(cls) -> "ShapeJudgeConfig":
        return cls(image_size=32, channels=8, context_layers=1)

    @classmethod
    def cpu(cls) -> "ShapeJudgeConfig":
        return cls()

    @classmethod
    def paper(cls) -> "ShapeJudgeConfig":
        return cls(channels=64, context_layers=3)


def degrade(image: torch.Tensor, max_sigma: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Random Gaussian blur (sigma up to ``max_sigma``), pixel noise and a colour cast: (B, 3, H, W) in [0, 1]."""
    B = image.shape[0]
    sigma = torch.rand(B, generator=generator) * max_sigma + 1e-3                  # (B,)
    x = torch.arange(-3, 4, dtype=image.dtype)
    kernel = torch.exp(-x[None] ** 2 / (2 * sigma[:, None] ** 2))                    # (B, 7)
    kernel = (kernel / kernel.sum(-1, keepdim=True)).to(image.device)
    flat = image.reshape(1, B * 3, *image.shape[2:])                                # one group per image channel
    k = kernel.repeat_interleave(3, dim=0)                                          # (3B, 7)
    flat = F.conv2d(F.pad(flat, (3, 3, 0, 0), mode="replicate"), k[:, None, None, :], groups=3 * B)
    flat = F.conv2d(F.pad(flat, (0, 0, 3, 3), mode="replicate"), k[:, None, :, None], groups=3 * B)
    out = flat.view_as(image)
    cast = (torch.rand(B, 3, 1, 1, generator=generator) - 0.5).to(image.device) * 0.08
    noise = torch.randn(image.shape, generator=generator).to(image.device) * 0.02
    return (out + cast + noise).clamp(0, 1)


class ShapeJudge(nn.Module):
    """``forward(image)`` (B, 3, H, W) in [0, 1] -> per-cell logits {"objectness": (B, G, G), "colour": (B, G, G, 5),
    "shape": (B, G, G, 3), "size": (B, G, G, 2), "offset": (B, G, G, 2) in [0, 1]}; ``read(image)`` the object list."""

    def __init__(self, config: ShapeJudgeConfig):
        super().__init__()
        self.config = c = config
        depth = max(1, (c.image_size // GRID).bit_length() - 1)  # stride-2 stages down to the grid
        self.features = conv_stack(c.channels, depth)
        width = c.channels * (2 if depth > 1 else 1)
        context = []
        for _ in range(c.context_layers):
            context += [nn.Conv2d(width, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU()]
        self.context = nn.Sequential(*context)
        self.head = nn.Conv2d(width, sum(HEADS.values()), 1)

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        h = self.head(self.context(self.features(image * 2 - 1))).permute(0, 2, 3, 1)  # (B, A, G, G) -> (B, G, G, A)
        out, start = {}, 0
        for name, n in HEADS.items():
            out[name] = h[..., start:start + n]
            start += n
        out["objectness"] = out["objectness"].squeeze(-1)
        out["offset"] = torch.sigmoid(out["offset"])
        return out

    def loss(self, batch: dict) -> tuple[torch.Tensor, dict]:
        image = batch["image"].float() / 255.0
        if self.training:
            image = degrade(image, self.config.blur)
        out = self(image)
        present = batch["colour"] >= 0                                              # (B, G, G)
        objectness = F.binary_cross_entropy_with_logits(out["objectness"], present.float())
        terms = {"objectness": objectness}
        for name in ("colour", "shape", "size"):
            terms[name] = F.cross_entropy(out[name][present], batch[name][present])
        terms["offset"] = F.mse_loss(out["offset"][present], batch["offset"][present]) * 10
        with torch.no_grad():  # the score reads as ``read`` does: objectness peaks above 0.5
            predicted = self.peaks(out["objectness"])
            exact = (predicted == present).all(dim=(1, 2))
            for name in ("colour", "shape", "size"):
                exact &= ((out[name].argmax(-1) == batch[name]) | ~present).all(dim=(1, 2))
        return sum(terms.values()), {**{k: v.detach() for k, v in terms.items()}, "score": exact.float().mean()}

    @staticmethod
    def peaks(objectness: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
        """(B, G, G) logits -> cells above ``threshold`` whose 3x3 neighbourhood holds no higher one (bool)."""
        p = torch.sigmoid(objectness)
        return (p > threshold) & (p >= F.max_pool2d(p[:, None], 3, stride=1, padding=1)[:, 0])

    @torch.no_grad()
    def read(self, image: torch.Tensor, threshold: float = 0.5) -> list[list[dict]]:
        """Object lists, one per image: {"colour", "shape", "size", "cx", "cy" (pixels), "p"}, strongest first.
        A cell counts when its objectness exceeds ``threshold`` and no neighbouring cell's is higher."""
        out = self(image)
        p = torch.sigmoid(out["objectness"])                                         # (B, G, G)
        keep = self.peaks(out["objectness"], threshold)
        cell = image.shape[-1] / p.shape[-1]
        lists = []
        for b in range(image.shape[0]):
            found = []
            for i, j in keep[b].nonzero().tolist():
                dx, dy = out["offset"][b, i, j].tolist()
                found.append({"colour": list(COLOURS)[int(out["colour"][b, i, j].argmax())],
                              "shape": SHAPES[int(out["shape"][b, i, j].argmax())],
                              "size": list(SIZES)[int(out["size"][b, i, j].argmax())],
                              "cx": (j + dx) * cell, "cy": (i + dy) * cell, "p": float(p[b, i, j])})
            lists.append(sorted(found, key=lambda o: -o["p"]))
        return lists
