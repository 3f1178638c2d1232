"""Figures of DALL-E: a prompt's samples (with the re-ranker's scores and, optionally, their dVAE token grids),
and originals next to their dVAE reconstructions and token grids."""

from __future__ import annotations

import math

import matplotlib.colors as mcolors
import numpy as np
import torch
from matplotlib.figure import Figure

from sightsound.viz.plots import _np, plt


def token_colours(tokens: torch.Tensor) -> np.ndarray:
    """(G, G) token ids -> (G, G, 3) colours: each code a fixed hue (golden-ratio steps) so equal codes match."""
    hue = (_np(tokens).astype(float) * 0.6180339887) % 1.0
    return mcolors.hsv_to_rgb(np.stack([hue, np.full_like(hue, 0.55), np.full_like(hue, 0.9)], axis=-1))


def _image(ax, image: torch.Tensor, title: str = "") -> None:
    ax.imshow(_np(image.permute(1, 2, 0)).clip(0, 1), interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=7)


def _tokens(ax, tokens: torch.Tensor, title: str = "") -> None:
    ax.imshow(token_colours(tokens), interpolation="nearest")
    g = tokens.shape[-1]
    if g <= 8:  # the code numbers fit in the cells
        for i in range(g):
            for j in range(g):
                ax.text(j, i, str(int(tokens[i, j])), ha="center", va="center", fontsize=4.5)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=7)


def samples_figure(prompt: str, images: torch.Tensor, scores: torch.Tensor | None = None,
                   tokens: torch.Tensor | None = None, ranked: bool = False) -> Figure:
    """A grid of samples (N, 3, H, W) with their re-ranker scores (N,); with ``tokens`` (N, G, G) each sample's
    token grid sits under it."""
    n = images.shape[0]
    columns = min(n, 8)
    rows = math.ceil(n / columns) * (2 if tokens is not None else 1)
    fig, axes = plt.subplots(rows, columns, figsize=(1.25 * columns + 0.3, 1.35 * rows + 0.5),
                             constrained_layout=True, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i in range(n):
        r, c = divmod(i, columns)
        r = r * (2 if tokens is not None else 1)
        label = (f"#{i + 1} " if ranked else "") + (f"score {float(scores[i]):.2f}" if scores is not None else "")
        axes[r, c].axis("on")
        _image(axes[r, c], images[i], label)
        if tokens is not None:
            axes[r + 1, c].axis("on")
            _tokens(axes[r + 1, c], tokens[i], "dVAE tokens")
    fig.suptitle(f'"{prompt}"' + (" — re-ranked, best first" if ranked else ""), fontsize=9)
    return fig


def reconstruction_figure(originals: torch.Tensor, reconstructions: torch.Tensor, tokens: torch.Tensor) -> Figure:
    """Rows: originals (N, 3, H, W), their dVAE token grids (N, G, G), the decoded reconstructions."""
    n = originals.shape[0]
    fig, axes = plt.subplots(3, n, figsize=(1.3 * n + 0.8, 4.3), constrained_layout=True, squeeze=False)
    for i in range(n):
        _image(axes[0, i], originals[i])
        _tokens(axes[1, i], tokens[i])
        _image(axes[2, i], reconstructions[i])
    for row, label in enumerate(("original", f"{tokens.shape[-1]}x{tokens.shape[-1]} tokens", "decoded")):
        axes[row, 0].set_ylabel(label, fontsize=8)
    return fig
