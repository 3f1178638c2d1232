"""Figures of Speech2Face: a voice, the face drawn from it and the gallery faces nearest it; rows of
voice -> drawn face -> true face; the rank distribution on real people."""

from __future__ import annotations

import torch
from matplotlib.figure import Figure

from sightsound.viz.plots import CMAP, _np, plt


def face_from_voice_figure(log_mel: torch.Tensor, seconds: float, drawn: torch.Tensor,
                           gallery: list[tuple[torch.Tensor, str, float]], title: str = "") -> Figure:
    """Top: the voice's log-mel (M, T) and the drawn face (1, H, W); bottom: the nearest gallery faces
    ((1, H, W), name, cosine similarity), nearest first."""
    columns = max(len(gallery), 3)
    fig = plt.figure(figsize=(max(7.0, 1.6 * columns), 5.4 if gallery else 2.9), constrained_layout=True)
    grid = fig.add_gridspec(2 if gallery else 1, columns)
    ax = fig.add_subplot(grid[0, : columns - 1])
    ax.imshow(_np(log_mel), origin="lower", aspect="auto", cmap=CMAP, extent=(0, seconds, 0, log_mel.shape[0]))
    ax.set_xlabel("time (s)")
    ax.set_ylabel("mel band")
    ax.set_title("the voice (log-mel, standardised)", fontsize=9)
    ax = fig.add_subplot(grid[0, columns - 1])
    ax.imshow(_np(drawn[0]), cmap="gray", vmin=0, vmax=1)
    ax.set_title("drawn from the voice", fontsize=9)
    ax.axis("off")
    for i, (face, name, score) in enumerate(gallery):
        ax = fig.add_subplot(grid[1, i])
        ax.imshow(_np(face[0]), cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"{i + 1}. cos {score:.2f}\n{name[:18]}", fontsize=8)
        ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def voice_face_rows_figure(drawn: torch.Tensor, true: torch.Tensor, labels: list[str],
                           top: str = "drawn from the voice", bottom: str = "the true face") -> Figure:
    """Two rows of faces (N, 1, H, W): what the model drew from each voice above the real face."""
    n = len(labels)
    fig, axes = plt.subplots(2, n, figsize=(1.35 * n + 0.6, 3.2), constrained_layout=True, squeeze=False)
    for i in range(n):
        for row, faces in enumerate((drawn, true)):
            ax = axes[row, i]
            ax.imshow(_np(faces[i, 0]), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[0, i].set_title(labels[i], fontsize=7)
    axes[0, 0].set_ylabel(top, fontsize=8)
    axes[1, 0].set_ylabel(bottom, fontsize=8)
    return fig


def rank_histogram_figure(ranks: list[int], candidates: int, title: str = "") -> Figure:
    """Histogram of the true face's rank (1 = first) among ``candidates``, with chance's flat level."""
    fig, ax = plt.subplots(figsize=(5.2, 2.6), constrained_layout=True)
    ax.hist(ranks, bins=range(1, candidates + 2), color="#4a7ab5", edgecolor="white", align="left")
    ax.axhline(len(ranks) / candidates, color="#b5504a", linestyle="--", label="chance")
    ax.set_xlabel(f"rank of the true face among {candidates}")
    ax.set_ylabel("voices")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    return fig
