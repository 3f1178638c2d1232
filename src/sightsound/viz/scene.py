"""Figures of scene recognition by sound: what a clip sounds like, what the model heard, which photos it found;
the confusion matrix; a 2-D map of sounds and photos in the shared embedding space."""

from __future__ import annotations

import torch
from matplotlib.figure import Figure

from sightsound.viz.plots import CMAP, _np, plt


def hearing_figure(picture: torch.Tensor, seconds: float, probabilities: dict[str, float],
                   photos: list[tuple[torch.Tensor, str, float]], title: str = "") -> Figure:
    """Top: the clip's log-mel picture (M, T) in [0, 1] and the class probabilities (the five likeliest);
    bottom: the nearest photos ((3, H, W) in [0, 1], name, cosine similarity), nearest first."""
    columns = max(len(photos), 1)
    fig = plt.figure(figsize=(max(8.0, 2.0 * columns), 5.6 if photos else 2.9), constrained_layout=True)
    grid = fig.add_gridspec(2 if photos else 1, columns)
    split = max(1, (2 * columns) // 3)
    ax = fig.add_subplot(grid[0, :split])
    ax.imshow(_np(picture), origin="lower", aspect="auto", cmap=CMAP, extent=(0, seconds, 0, picture.shape[0]))
    ax.set_xlabel("time (s)")
    ax.set_ylabel("mel band")
    ax.set_title("log-mel (dB, top 80 dB)", fontsize=9)
    ax = fig.add_subplot(grid[0, split:] if split < columns else grid[0, -1])
    top = list(probabilities.items())[:5][::-1]
    ax.barh([n.replace("_", " ") for n, _ in top], [p for _, p in top], color="#4a7ab5")
    ax.set_xlim(0, 1)
    ax.set_xlabel("probability")
    ax.tick_params(labelsize=8)
    for i, (image, name, score) in enumerate(photos):
        ax = fig.add_subplot(grid[1, i])
        ax.imshow(_np(image.permute(1, 2, 0).clamp(0, 1)))
        ax.set_title(f"{i + 1}. cos {score:.2f}\n{name[:22]}", fontsize=8)
        ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def confusion_figure(confusion: torch.Tensor | list, classes: list[str], title: str = "") -> Figure:
    """Counts, rows = true class, columns = predicted class; the diagonal is what was right."""
    counts = torch.as_tensor(confusion)
    n = len(classes)
    fig, ax = plt.subplots(figsize=(1.0 + 0.55 * n, 0.8 + 0.5 * n), constrained_layout=True)
    ax.imshow(_np(counts), cmap="Blues")
    names = [c.replace("_", " ") for c in classes]
    ax.set_xticks(range(n), names, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(n), names, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    peak = float(counts.max()) if counts.numel() else 1.0
    for i in range(n):
        for j in range(n):
            value = int(counts[i, j])
            if value:
                ax.text(j, i, str(value), ha="center", va="center", fontsize=7,
                        color="white" if value > 0.6 * peak else "black")
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def embedding_map_figure(points: torch.Tensor, labels: list[str], kinds: list[str], title: str = "") -> Figure:
    """A 2-D projection of embeddings: sounds as circles, photos as squares, anchors as stars; colour = label."""
    fig, ax = plt.subplots(figsize=(7.5, 5.5), constrained_layout=True)
    names = sorted(set(labels))
    colours = plt.get_cmap("tab10" if len(names) <= 10 else "tab20")
    markers = {"sound": "o", "photo": "s", "anchor": "*"}
    xy = _np(points)
    for c, name in enumerate(names):
        for kind, marker in markers.items():
            rows = [i for i, (lab, k) in enumerate(zip(labels, kinds)) if lab == name and k == kind]
            if rows:
                ax.scatter(xy[rows, 0], xy[rows, 1], marker=marker, s=160 if kind == "anchor" else 28,
                           color=colours(c % colours.N), edgecolors="black" if kind != "sound" else "none",
                           linewidths=0.6, alpha=0.85, label=name.replace("_", " ") if kind == "sound" else None)
    ax.legend(fontsize=7, loc="best", ncol=2, title="circle = sound, square = photo, star = class text",
              title_fontsize=7)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def pca_2d(x: torch.Tensor) -> torch.Tensor:
    """(N, D) -> (N, 2): the first two principal components (centred, SVD; signs fixed so the largest
    loading of each component is positive)."""
    centred = x - x.mean(0, keepdim=True)
    _, _, v = torch.linalg.svd(centred.double(), full_matrices=False)
    axes = v[:2]  # (2, D)
    signs = torch.sign(axes.gather(1, axes.abs().argmax(1, keepdim=True)))
    return (centred.double() @ (axes * signs).T).float()
