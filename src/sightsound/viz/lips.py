"""Figures of lip motion: the mouth opening over time (generated against real), a strip of generated frames
with the real ones, and the sync expert's offsets as a histogram."""

from __future__ import annotations

import numpy as np
import torch
from matplotlib.figure import Figure

from sightsound.viz.plots import _np, plt


def opening_figure(curves: dict[str, torch.Tensor], fps: float, title: str = "") -> Figure:
    """Mouth-opening curves (V,) (inter-ocular distances) by label, over time."""
    fig, ax = plt.subplots(figsize=(10, 2.8), constrained_layout=True)
    for label, curve in curves.items():
        ax.plot(np.arange(len(curve)) / fps, _np(curve), label=label, lw=1.6)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("inner-lip gap (inter-ocular distances)")
    ax.legend(fontsize=8, loc="upper right")
    ax.set_title(title or "mouth opening over time", fontsize=10)
    return fig


def frames_figure(rows: dict[str, np.ndarray], every: int = 6, crop: tuple | None = None) -> Figure:
    """Strips of frames (V, H, W, 3) uint8 by label, every ``every``-th frame, optionally cropped to
    ``crop`` = (y0, y1, x0, x1) (the mouth region)."""
    labels = list(rows)
    count = min(len(r) for r in rows.values()) // every
    fig, axes = plt.subplots(len(labels), 1, figsize=(10, 0.9 * len(labels) + 0.3), constrained_layout=True)
    for ax, label in zip(np.atleast_1d(axes), labels):
        picks = rows[label][::every][:count]
        if crop is not None:
            picks = picks[:, crop[0]: crop[1], crop[2]: crop[3]]
        ax.imshow(np.concatenate(list(picks), axis=1))
        ax.set_title(f"{label} (every {every}th frame, {every / 25:.2f} s apart at 25 fps)", fontsize=9)
        ax.axis("off")
    return fig


def offsets_figure(offsets: dict[str, list[int]], max_offset: int) -> Figure:
    """Histograms of the sync expert's best offsets (frames) per kind of video."""
    fig, ax = plt.subplots(figsize=(8, 2.8), constrained_layout=True)
    bins = np.arange(-max_offset - 0.5, max_offset + 1.5)
    ax.hist(list(offsets.values()), bins=bins, label=list(offsets), rwidth=0.85)
    ax.axvspan(-1.5, 1.5, color="0.85", zorder=0, label="within +-1 frame")
    ax.set_xlabel("offset the sync expert is most confident in (video frames of 40 ms)")
    ax.set_ylabel("clips")
    ax.legend(fontsize=8)
    return fig
