"""Figures of Looking to Listen: the mixture, the separated voice, the rest and the target's complex mask as
spectrograms, with a strip of the mouth crops the model watched."""

from __future__ import annotations

import torch
from matplotlib.figure import Figure

from sightsound.viz.plots import CMAP, _np, plt


def _db(spec: torch.Tensor, top: float) -> torch.Tensor:
    """complex (T, F) -> dB (F, T), floored 80 dB below ``top``."""
    power = spec.abs().pow(2).clamp_min(1e-12)
    return (10 * torch.log10(power)).clamp_min(top - 80).T


def separation_figure(mixture_spec: torch.Tensor, target_spec: torch.Tensor, rest_spec: torch.Tensor,
                      mask: torch.Tensor, sample_rate: int, hop_length: int, mouths: torch.Tensor | None = None,
                      title: str = "") -> Figure:
    """Spectrograms (T, F) complex of the mixture, the separated target and the rest; the target's mask
    (2, T, F) as its magnitude |M| and its phase shift; optional mouth crops (V, h, w) in [0, 1] along the top."""
    T = mixture_spec.shape[0]
    seconds, top_hz = T * hop_length / sample_rate, sample_rate / 2000
    extent = (0, seconds, 0, top_hz)
    top = float(10 * torch.log10(mixture_spec.abs().pow(2).max().clamp_min(1e-12)))
    rows = 5 if mouths is not None else 4
    fig = plt.figure(figsize=(10, 1.9 * rows + 0.4), constrained_layout=True)
    grid = fig.add_gridspec(rows, 1, height_ratios=[0.7] + [1] * 4 if mouths is not None else [1] * 4)
    row = 0
    if mouths is not None:
        ax = fig.add_subplot(grid[0])
        step = max(1, mouths.shape[0] // 15)
        strip = torch.cat([m for m in mouths[::step][:15]], dim=1)  # (h, w * n)
        ax.imshow(_np(strip), cmap="gray", vmin=0, vmax=1, aspect="equal")
        ax.set_title(f"the mouth the model watches (every {step}th frame at 25 fps)", fontsize=9)
        ax.axis("off")
        row = 1
    panels = (("the mixture", _db(mixture_spec, top)), ("the separated voice (output 0)", _db(target_spec, top)),
              ("the rest (output 1)", _db(rest_spec, top)))
    for name, image in panels:
        ax = fig.add_subplot(grid[row])
        shown = ax.imshow(_np(image), origin="lower", aspect="auto", cmap=CMAP, extent=extent, vmin=top - 80, vmax=top)
        ax.set_title(name, fontsize=9)
        ax.set_ylabel("kHz")
        fig.colorbar(shown, ax=ax, label="dB", pad=0.01)
        row += 1
    ax = fig.add_subplot(grid[row])
    magnitude = torch.complex(mask[0], mask[1]).abs().T  # (2, T, F) -> (F, T)
    shown = ax.imshow(_np(magnitude), origin="lower", aspect="auto", cmap="magma", extent=extent, vmin=0,
                      vmax=max(1.0, float(magnitude.max())))
    ax.set_title("the target's complex mask |M| (applied to the compressed mixture spectrogram)", fontsize=9)
    ax.set_ylabel("kHz")
    ax.set_xlabel("time (s)")
    fig.colorbar(shown, ax=ax, label="|M|", pad=0.01)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def gains_figure(rows: list[dict]) -> Figure:
    """SI-SDR improvement per test mixture against its input SNR, audio-visual vs audio-only, per kind."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), constrained_layout=True, sharey=True)
    for ax, kind in zip(axes, ("different", "same")):
        chosen = [r for r in rows if r["kind"] == kind]
        snr = [r["snr"] for r in chosen]
        ax.scatter(snr, [r["av_si_sdri"] for r in chosen], s=14, label="audio-visual (output 0)")
        if chosen and "ao_si_sdri" in chosen[0]:
            ax.scatter(snr, [r["ao_si_sdri"] for r in chosen], s=14, marker="x", label="audio-only (better output)")
            ax.scatter(snr, [r["ao_first_si_sdri"] for r in chosen], s=10, marker=".", alpha=0.6,
                       label="audio-only (output 0)")
        ax.axhline(0, color="0.6", lw=0.8)
        ax.set_title(f"{kind} speaker", fontsize=9)
        ax.set_xlabel("input SNR of the target (dB)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("SI-SDR improvement (dB)")
    axes[0].legend(fontsize=8)
    return fig
