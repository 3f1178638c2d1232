"""Figures of sound representations. Every function returns a matplotlib Figure (Agg backend).

Time runs left to right, frequency bottom to top, colour is dB relative to the loudest value.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from sightsound.audio import functional as F  # noqa: E402
from sightsound.audio.analysis import SoundAnalysis  # noqa: E402
from sightsound.fileio import atomic_path

CMAP = "magma"


def _np(x: torch.Tensor):
    return x.detach().cpu().double().numpy()


def plot_waveform(ax, a: SoundAnalysis) -> None:
    t = torch.arange(len(a.waveform), dtype=torch.float64) / a.sample_rate
    ax.plot(_np(t), _np(a.waveform), lw=0.5, color="#1f4e79")
    ax.set(xlabel="time (s)", ylabel="amplitude", title=f"Waveform ({a.sample_rate} Hz)")
    ax.set_xlim(0, float(t[-1]))


def plot_power_spectrum(ax, a: SoundAnalysis) -> None:
    ax.plot(_np(a.freqs_full), _np(a.power_spectrum_db), lw=0.5, color="#7a1f5c")
    ax.set(xlabel="frequency (Hz)", ylabel="power (dB)", title="Power spectrum of the whole signal")
    ax.set_xlim(0, a.sample_rate / 2)


def plot_spectrogram(ax, a: SoundAnalysis, fig: Figure) -> None:
    extent = (0, float(a.times[-1]) if len(a.times) > 1 else 1.0, 0, a.sample_rate / 2)
    image = ax.imshow(_np(a.spectrogram_db), origin="lower", aspect="auto", extent=extent, cmap=CMAP)
    p = a.preset
    ax.set(xlabel="time (s)", ylabel="frequency (Hz)",
           title=f"Spectrogram: {p.window} window {1000 * p.win_length / p.sample_rate:.0f} ms, "
                 f"hop {1000 * p.hop_length / p.sample_rate:.0f} ms")
    fig.colorbar(image, ax=ax, label="dB")


def plot_mel(ax, a: SoundAnalysis, fig: Figure) -> None:
    extent = (0, float(a.times[-1]) if len(a.times) > 1 else 1.0, 0, a.mel_db.shape[0])
    image = ax.imshow(_np(a.mel_db), origin="lower", aspect="auto", extent=extent, cmap=CMAP)
    ticks = [0, a.mel_db.shape[0] // 4, a.mel_db.shape[0] // 2, 3 * a.mel_db.shape[0] // 4, a.mel_db.shape[0] - 1]
    ax.set_yticks([t + 0.5 for t in ticks], [f"{float(a.mel_freqs[t]):.0f}" for t in ticks])
    ax.set(xlabel="time (s)", ylabel="mel band centre (Hz)", title=f"Mel spectrogram ({a.mel_db.shape[0]} bands)")
    fig.colorbar(image, ax=ax, label="dB")


def plot_leakage(ax, a: SoundAnalysis) -> None:
    colours = {"rectangular": "#c0392b", "hann": "#2e86c1", "hamming": "#1e8449"}
    for name, db in a.leakage_db.items():
        ax.plot(_np(a.leakage_freqs), _np(db), lw=0.7, label=name, color=colours.get(name))
    t = a.leakage_frame * a.preset.hop_length / a.sample_rate
    ax.set(xlabel="frequency (Hz)", ylabel="dB re. peak", ylim=(-120, 5),
           title=f"Spectral leakage on one frame (t = {t:.2f} s)")
    ax.set_xlim(0, a.sample_rate / 2)
    ax.legend(loc="upper right")


def sound_figure(a: SoundAnalysis, title: str = "") -> Figure:
    """The five panels of ``sightsound spectrogram``: waveform, power spectrum, spectrogram, mel
    spectrogram, and rectangular-versus-Hamming leakage on the loudest frame."""
    fig = plt.figure(figsize=(12, 13), constrained_layout=True)
    grid = fig.add_gridspec(4, 2)
    plot_waveform(fig.add_subplot(grid[0, :]), a)
    plot_power_spectrum(fig.add_subplot(grid[1, 0]), a)
    plot_leakage(fig.add_subplot(grid[1, 1]), a)
    plot_spectrogram(fig.add_subplot(grid[2, :]), a, fig)
    plot_mel(fig.add_subplot(grid[3, :]), a, fig)
    if title:
        fig.suptitle(title)
    return fig


def single_panel(kind: str, a: SoundAnalysis, figsize=(10, 3.2)) -> Figure:
    """One of the panels alone (for the tour): waveform, power, spectrogram, mel, leakage."""
    fig, ax = plt.subplots(figsize=figsize, constrained_layout=True)
    if kind == "waveform":
        plot_waveform(ax, a)
    elif kind == "power":
        plot_power_spectrum(ax, a)
    elif kind == "spectrogram":
        plot_spectrogram(ax, a, fig)
    elif kind == "mel":
        plot_mel(ax, a, fig)
    elif kind == "leakage":
        plot_leakage(ax, a)
    else:
        raise ValueError(f"unknown panel {kind!r}")
    return fig


def framing_figure(a: SoundAnalysis, n_frames: int = 4) -> Figure:
    """How the STFT slices a signal: a stretch of waveform with consecutive windows drawn on it."""
    p = a.preset
    start = max(0, a.leakage_frame * p.hop_length - p.win_length)
    stop = start + p.win_length + (n_frames - 1) * p.hop_length
    seg = a.waveform[start:stop]
    t_ms = 1000 * (torch.arange(len(seg), dtype=torch.float64) + start) / a.sample_rate
    fig, ax = plt.subplots(figsize=(10, 3.2), constrained_layout=True)
    ax.plot(_np(t_ms), _np(seg / seg.abs().max().clamp_min(1e-9)), lw=0.8, color="#555555", label="signal")
    w = F.get_window(p.window, p.win_length, dtype=torch.float64)
    for k in range(n_frames):
        s = k * p.hop_length
        tk = t_ms[s : s + p.win_length]
        ax.plot(_np(tk), _np(w[: len(tk)]), lw=1.4, label=f"frame {k}")
    ax.set(xlabel="time (ms)", ylabel="normalised amplitude",
           title=f"STFT framing: {p.window} windows of {1000 * p.win_length / p.sample_rate:.0f} ms "
                 f"every {1000 * p.hop_length / p.sample_rate:.0f} ms")
    ax.legend(loc="lower right", ncol=n_frames + 1, fontsize=8)
    return fig


def filterbank_figure(mel_basis: torch.Tensor, sample_rate: int, n_fft: int) -> Figure:
    """The triangular mel filters (M, F) against frequency."""
    fig, ax = plt.subplots(figsize=(10, 3.2), constrained_layout=True)
    freqs = _np(F.fft_frequencies(sample_rate, n_fft))
    for row in mel_basis:
        ax.plot(freqs, _np(row), lw=0.7)
    ax.set(xlabel="frequency (Hz)", ylabel="weight",
           title=f"Mel filterbank: {mel_basis.shape[0]} triangles, narrow at low and wide at high frequencies")
    ax.set_xlim(0, sample_rate / 2)
    return fig


def convergence_figure(steps: list[int], curves: dict[str, list[float]]) -> Figure:
    """Spectral convergence against iteration count for several Griffin-Lim variants."""
    fig, ax = plt.subplots(figsize=(7, 3.6), constrained_layout=True)
    for label, values in curves.items():
        ax.plot(steps, values, lw=1.5, marker="o", label=label)
    ax.set_xscale("log", base=2)
    ax.set(xlabel="iterations", ylabel="spectral convergence", yscale="log",
           title="Griffin-Lim: how close |STFT(x̂)| gets to the target")
    ax.legend()
    ax.grid(alpha=0.3)
    return fig


def save_figure(fig: Figure, path, dpi: int = 110, overwrite: bool = True) -> None:
    """Write the figure atomically (temporary file in the same folder, then rename); the format
    follows the extension (.png, .jpg, .pdf, .svg). ``overwrite=False`` refuses a file that exists when the
    figure is published, even one created after the command started."""
    try:
        with atomic_path(path, overwrite=overwrite) as tmp:
            fig.savefig(tmp, dpi=dpi, **({"pil_kwargs": {"quality": 85}} if tmp.suffix.lower() in (".jpg", ".jpeg") else {}))
    finally:
        plt.close(fig)


def run_curves_figure(records: list[dict], title: str = "") -> Figure:
    """Training curves from a run's metrics.jsonl: train/* and val/* metrics against the step,
    one panel per metric name (loss, accuracy, ...), training and validation overlaid."""
    names = sorted({k.split("/", 1)[1] for r in records for k in r if k.startswith(("train/", "val/"))})
    if not names:
        raise ValueError("the run has no train/ or val/ metrics yet")
    fig, axes = plt.subplots(len(names), 1, figsize=(8, 2.8 * len(names)), squeeze=False, constrained_layout=True)
    for ax, name in zip(axes[:, 0], names):
        for prefix, style in (("train", dict(lw=1.0, alpha=0.8)), ("val", dict(lw=1.8, marker="o", ms=3))):
            points = [(r["step"], r[f"{prefix}/{name}"]) for r in records if f"{prefix}/{name}" in r]
            if points:
                steps, values = zip(*points)
                ax.plot(steps, values, label=prefix, **style)
        ax.set(xlabel="step", ylabel=name)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    return fig


def attention_grid_figure(weights: list[torch.Tensor], tokens: list[str], title: str = "") -> Figure:
    """One heat map per layer (rows) and head (columns): query token (y) attending to key token (x).

    weights: per layer (H, L, L) for one sequence; tokens: the L token strings.
    """
    n_layer, n_head = len(weights), weights[0].shape[0]
    size = max(1.6, min(3.2, 24 / max(n_layer, n_head)))
    fig, axes = plt.subplots(n_layer, n_head, figsize=(size * n_head + 1, size * n_layer + 0.6), squeeze=False,
                             constrained_layout=True)
    labels = [t if t.strip() else repr(t)[1:-1] for t in tokens]
    show_labels = len(tokens) <= 32
    for layer in range(n_layer):
        for head in range(n_head):
            ax = axes[layer, head]
            ax.imshow(_np(weights[layer][head]), cmap="viridis", vmin=0, vmax=1, aspect="equal")
            ax.set_xticks(range(len(tokens)) if show_labels else [])
            ax.set_yticks(range(len(tokens)) if show_labels else [])
            if show_labels:
                ax.set_xticklabels(labels, fontsize=6, rotation=90)
                ax.set_yticklabels(labels, fontsize=6)
            if layer == 0:
                ax.set_title(f"head {head}", fontsize=9)
            if head == 0:
                ax.set_ylabel(f"layer {layer}", fontsize=9)
    if title:
        fig.suptitle(title)
    return fig


def log_mel_comparison_figure(panels: dict[str, torch.Tensor], frame_seconds: float, title: str = "") -> Figure:
    """Log-mel spectrograms (M, T) stacked top to bottom with one colour scale (dB re the first panel's
    loudest value): e.g. the original and its resyntheses by two vocoders."""
    names = list(panels)
    ref_db = 20.0 / torch.log(torch.tensor(10.0)) * panels[names[0]]  # natural-log magnitude -> dB
    top = float(ref_db.max())
    fig, axes = plt.subplots(len(names), 1, figsize=(10, 2.3 * len(names)), constrained_layout=True, squeeze=False)
    for ax, name in zip(axes[:, 0], names):
        db = 20.0 / torch.log(torch.tensor(10.0)) * panels[name] - top
        extent = (0, db.shape[1] * frame_seconds, 0, db.shape[0])
        image = ax.imshow(_np(db), origin="lower", aspect="auto", extent=extent, cmap=CMAP, vmin=-80, vmax=0)
        ax.set(ylabel="mel band", title=name)
    axes[-1, 0].set_xlabel("time (s)")
    fig.colorbar(image, ax=axes[:, 0].tolist(), label="dB")
    if title:
        fig.suptitle(title)
    return fig


def tts_figure(alignment: torch.Tensor, mel: torch.Tensor, text: str, frame_seconds: float,
               labels: list[str] | None = None) -> Figure:
    """Tacotron 2's picture: the alignment (K decoder steps x L symbols) above the predicted log-mel (M, T);
    ``labels`` names the L input symbols."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6.4), constrained_layout=True,
                                      gridspec_kw={"height_ratios": [1.1, 1]})
    image = top.imshow(_np(alignment.T), origin="lower", aspect="auto", cmap="viridis", vmin=0, vmax=1,
                       interpolation="nearest")
    top.set(xlabel="decoder step", ylabel="input symbol", title=f"Alignment: {text}")
    if labels is not None and len(labels) == alignment.shape[1] and len(labels) <= 100:
        top.set_yticks(range(len(labels)), [s if s != " " else "␣" for s in labels], fontsize=6)
    fig.colorbar(image, ax=top, label="attention weight")
    db = 20.0 / torch.log(torch.tensor(10.0)) * mel
    extent = (0, mel.shape[1] * frame_seconds, 0, mel.shape[0])
    image = bottom.imshow(_np(db - db.max()), origin="lower", aspect="auto", extent=extent, cmap=CMAP, vmin=-80, vmax=0)
    bottom.set(xlabel="time (s)", ylabel="mel band", title="Predicted log-mel spectrogram (after the postnet)")
    fig.colorbar(image, ax=bottom, label="dB")
    return fig


def caption_attention_figure(image: torch.Tensor, words: list[str], maps: torch.Tensor, betas: torch.Tensor | None = None,
                             title: str = "", columns: int = 5, sigma: float | None = None) -> Figure:
    """Show-Attend-Tell's picture: the photo, then one panel per word with its attention map over the photo.
    image (3, H, W) in [0, 1]; maps (T, G, G), upsampled by ``attention.functional.upsample_attention_map``
    (bilinear to H x W, then Gaussian smoothing of half a cell); darker = less weight."""
    from sightsound.attention.functional import upsample_attention_map

    height, width = image.shape[1:]
    panels = len(words) + 1
    rows = (panels + columns - 1) // columns
    fig, axes = plt.subplots(rows, columns, figsize=(2.3 * columns, 2.3 * rows * height / width + 0.5 * rows),
                             squeeze=False, constrained_layout=True)
    photo = _np(image.permute(1, 2, 0).clamp(0, 1))
    for ax in axes.flat:
        ax.axis("off")
    axes[0, 0].imshow(photo)
    axes[0, 0].set_title("input", fontsize=9)
    if len(words):
        up = upsample_attention_map(maps, (height, width), sigma)  # (T, H, W)
        for t, word in enumerate(words):
            ax = axes.flat[t + 1]
            heat = up[t] / up[t].max().clamp_min(1e-12)
            ax.imshow(photo * (0.15 + 0.85 * _np(heat))[..., None])  # unattended parts darkened
            label = word if betas is None else f"{word}  (β {float(betas[t]):.2f})"
            ax.set_title(label, fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig
