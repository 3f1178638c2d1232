"""The discrete VAE of DALL-E: an image becomes a grid of codebook tokens, and a grid of tokens an image.

Ramesh et al. 2021 ("Zero-Shot Text-to-Image Generation"), Sec. 2.1 and Appendix A: a convolutional encoder
gives, for every cell of a G x G grid, logits over K codebook entries; training relaxes the categorical choice
with the Gumbel-softmax (Jang et al. 2017; Maddison et al. 2017), annealing its temperature tau from 1 to 1/16,
and adds the KL divergence of the cell distributions to the uniform prior with a weight beta that rises from 0
(the paper: 6.6, warmed up over the first 5000 updates). Once the temperature has reached its floor, training
may go on with the decoder alone (``polish_decoder``, our addition): the encoder is fixed and the decoder learns
from the most likely token grids, exactly what it decodes when drawing (hard-token reconstructions are what the
judge reads; a straight-through estimator there made them worse, docs/experiments/2026-12-07-dalle.md). The decoder maps the (soft) one-hot grid through the
codebook embedding back to pixels. Deviation, said here once: the reconstruction term is the mean squared error
on [0, 1] pixels, not the paper's logit-Laplace likelihood (our worlds are flat colours, where MSE suffices),
so beta is on that scale.

Axis legend: B batch, C channels, H, W pixels, G grid side, K codebook size, E codebook embedding width.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from sightsound.errors import ParameterError

RECON_LOSSES = {"mse": F.mse_loss, "l1": F.l1_loss}


@dataclass(frozen=True)
class DVAEConfig:
    image_size: int = 64
    downsample: int = 8             # pixels per grid cell (a power of two): G = image_size / downsample
    channels: int = 64
    codebook_size: int = 512        # K
    codebook_dim: int = 64          # E
    n_res: int = 2                  # residual blocks at the grid resolution, in the encoder and the decoder
    tau_start: float = 1.0          # Gumbel-softmax temperature, annealed exponentially ...
    tau_end: float = 1.0 / 16       # ... to 1/16 (the paper's value)
    tau_steps: int = 3000           # ... over this many updates
    kl_weight: float = 1e-4         # beta (on the MSE scale, see the module docstring)
    kl_warmup: int = 500            # beta rises linearly from 0 over this many updates
    polish_decoder: bool = True     # after tau_steps: the decoder alone, on the argmax tokens
    recon_loss: str = "mse"         # "mse", or "l1" (a Laplace likelihood, as the paper's logit-Laplace)

    def __post_init__(self):
        levels = math.log2(self.downsample)
        if self.downsample < 2 or levels != int(levels):
            raise ParameterError(f"dvae downsample must be a power of two >= 2, got {self.downsample}")
        if self.image_size % self.downsample:
            raise ParameterError(f"image_size {self.image_size} must divide by downsample {self.downsample}")
        if self.recon_loss not in RECON_LOSSES:
            raise ParameterError(f"dvae recon_loss must be one of {sorted(RECON_LOSSES)}, got {self.recon_loss!r}")
        if self.codebook_size < 2:
            raise ParameterError(f"codebook_size must be >= 2, got {self.codebook_size}")

    @property
    def grid(self) -> int:
        return self.image_size // self.downsample

    @property
    def levels(self) -> int:
        return int(math.log2(self.downsample))

    def tau(self, step: int) -> float:
        """The Gumbel-softmax temperature after ``step`` updates (exponential annealing, then constant)."""
        t = min(1.0, step / max(1, self.tau_steps))
        return self.tau_start * (self.tau_end / self.tau_start) ** t

    def beta(self, step: int) -> float:
        return self.kl_weight * min(1.0, step / max(1, self.kl_warmup))


class ResBlock(nn.Module):
    """x + conv1x1(relu(conv3x3(relu(x)))): (B, C, G, G) -> (B, C, G, G)."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(nn.ReLU(), nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU(),
                                  nn.Conv2d(channels, channels, 1))

    def forward(self, x):
        return x + self.body(x)


class DiscreteVAE(nn.Module):
    """``logits(image)`` (B, K, G, G); ``encode(image)`` tokens (B, G, G) int64 in [0, K); ``decode(tokens)``
    image (B, 3, H, W) in [0, 1]; ``loss(image, step)`` the relaxed ELBO terms. Images in are float in [0, 1]."""

    def __init__(self, config: DVAEConfig):
        super().__init__()
        self.config = c = config
        enc: list[nn.Module] = []
        width = 3
        for level in range(c.levels):  # each level halves H and W and doubles the width (up to 4x)
            out = c.channels * 2 ** min(level, 2)
            enc += [nn.Conv2d(width, out, 4, stride=2, padding=1), nn.ReLU()]
            width = out
        enc += [ResBlock(width) for _ in range(c.n_res)] + [nn.ReLU(), nn.Conv2d(width, c.codebook_size, 1)]
        self.encoder = nn.Sequential(*enc)
        self.codebook = nn.Embedding(c.codebook_size, c.codebook_dim)
        dec: list[nn.Module] = [nn.Conv2d(c.codebook_dim, width, 1)] + [ResBlock(width) for _ in range(c.n_res)]
        for level in reversed(range(c.levels)):
            out = c.channels * 2 ** min(max(0, level - 1), 2)
            dec += [nn.ReLU(), nn.ConvTranspose2d(width, out, 4, stride=2, padding=1)]
            width = out
        dec += [nn.ReLU(), nn.Conv2d(width, 3, 3, padding=1)]
        self.decoder = nn.Sequential(*dec)

    def logits(self, image: torch.Tensor) -> torch.Tensor:
        return self.encoder(image * 2 - 1)  # (B, 3, H, W) -> (B, K, G, G)

    @torch.no_grad()
    def encode(self, image: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) in [0, 1] -> the most likely token per cell (B, G, G)."""
        return self.logits(image).argmax(dim=1)

    def decode_onehot(self, onehot: torch.Tensor) -> torch.Tensor:
        z = torch.einsum("bkij,ke->beij", onehot, self.codebook.weight)  # (B, K, G, G) -> (B, E, G, G)
        return torch.sigmoid(self.decoder(z))  # (B, 3, H, W)

    def decode(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, G, G) int64 -> (B, 3, H, W) in [0, 1]."""
        z = self.codebook(tokens).permute(0, 3, 1, 2)  # (B, G, G, E) -> (B, E, G, G)
        return torch.sigmoid(self.decoder(z))

    def loss(self, image: torch.Tensor, step: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The reconstruction term (``recon_loss``) of the Gumbel-relaxed image + beta * KL(q(z|x) || uniform)."""
        c = self.config
        if c.polish_decoder and step >= c.tau_steps:  # the codes are fixed; the decoder learns the hard grids
            tokens = self.encode(image)
            recon = self.decode(tokens)
            return RECON_LOSSES[c.recon_loss](recon, image), {
                "mse": F.mse_loss(recon, image).detach(), "codes_used": torch.tensor(float(tokens.unique().numel()))}
        logits = self.logits(image)                                     # (B, K, G, G)
        soft = F.gumbel_softmax(logits, tau=c.tau(step), hard=False, dim=1)
        recon = self.decode_onehot(soft)
        mse = F.mse_loss(recon, image)
        log_q = F.log_softmax(logits, dim=1)
        kl = (log_q.exp() * (log_q + math.log(c.codebook_size))).sum(dim=1).mean()  # per cell, nats
        used = logits.argmax(dim=1).unique().numel()
        return RECON_LOSSES[c.recon_loss](recon, image) + c.beta(step) * kl, {"mse": mse.detach(), "kl": kl.detach(),
                                          "codes_used": torch.tensor(float(used))}
