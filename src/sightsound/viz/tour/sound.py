"""The tour's first chapter, sound representation: waveform, power spectrum, STFT and windows, spectrogram, mel
spectrogram, and the way back (Griffin-Lim). Every sentence about the input is computed from it."""

from __future__ import annotations

import torch

from sightsound.audio import functional as F
from sightsound.audio.analysis import resynthesize
from sightsound.viz import plots
from sightsound.viz.tour.page import Section, TourContext, paragraphs


def section_waveform(ctx: TourContext) -> Section:
    a = ctx.analysis
    seconds = len(a.waveform) / a.sample_rate
    peak = float(a.waveform.abs().max())
    body = paragraphs(
        f"Sound is air pressure over time. A microphone samples it: here {a.sample_rate} numbers per second, "
        f"{len(a.waveform)} samples for {seconds:.2f} s of sound (loudest sample {peak:.2f} of full scale). That list "
        "of numbers is the <b>waveform</b>, the most direct representation and the hardest to read: what was said "
        "is in there, but not visibly.",
    ) + ctx.sound(a.waveform, "original.wav", "the input") + ctx.figure(
        plots.single_panel("waveform", a), "waveform.png",
        f"Waveform of the input: amplitude against time over {seconds:.1f} seconds.")
    return Section("waveform", "1. Waveform", body)


def band_shares(freqs: torch.Tensor, power_db: torch.Tensor, edges=(1000.0, 4000.0)) -> list[float]:
    """Shares of the total power below edges[0], between the edges, and above edges[1]. (F,), (F,) -> 3 numbers."""
    power = F.db_to_power(power_db.double())
    total = float(power.sum())
    low = float(power[freqs < edges[0]].sum()) / total
    high = float(power[freqs >= edges[1]].sum()) / total
    return [low, 1.0 - low - high, high]


def section_power_spectrum(ctx: TourContext) -> Section:
    a = ctx.analysis
    peak = float(a.freqs_full[a.power_spectrum_db.argmax()])
    low, mid, high = band_shares(a.freqs_full, a.power_spectrum_db)
    body = paragraphs(
        "The Fourier transform of the whole signal says <i>which frequencies</i> it contains and how much power "
        f"each carries, but not <i>when</i>. In this input the strongest component is at {peak:.0f} Hz; "
        f"{100 * low:.0f} % of the power lies below 1 kHz (where a voice's pitch and its first harmonics are), "
        f"{100 * mid:.0f} % between 1 and 4 kHz and {100 * high:.0f} % above 4 kHz.",
        "Code: <code>sightsound.audio.functional.power_spectrum(y, window='hann')</code>",
    ) + ctx.figure(plots.single_panel("power", a), "power_spectrum.png",
                   f"Power spectrum of the whole input in dB against frequency; the peak is at {peak:.0f} Hz.")
    return Section("power-spectrum", "2. Power spectrum", body)


def section_stft(ctx: TourContext) -> Section:
    a, p = ctx.analysis, ctx.preset
    win_ms, hop_ms = 1000 * p.win_length / p.sample_rate, 1000 * p.hop_length / p.sample_rate
    body = paragraphs(
        f"To see frequency <i>over time</i>, cut the signal into short overlapping frames - {win_ms:.0f} ms "
        f"long every {hop_ms:.0f} ms, the lecture's setting - multiply each by a "
        f"{p.window.capitalize()} window and Fourier-transform it. That is the short-time Fourier transform (STFT).",
        "Why a window? Cutting a frame with a rectangle creates sharp edges, and sharp edges spread energy into "
        "every frequency (spectral leakage). The Hamming window tapers the edges: its side lobes sit about 43 dB "
        "below the peak instead of 13 dB, at the price of a slightly wider main lobe.",
        f"Code: <code>stft(y, n_fft={p.n_fft}, hop_length={p.hop_length}, win_length={p.win_length}, window='{p.window}')</code>",
    ) + ctx.figure(plots.framing_figure(a), "framing.png",
                   f"The first frames of the input, each {win_ms:.0f} ms long and {hop_ms:.0f} ms apart, with the "
                   f"{p.window} window drawn over them.") \
      + ctx.figure(plots.single_panel("leakage", a), "leakage.png",
                   "Spectrum of the loudest frame cut with a rectangular window and with a Hamming window: the "
                   "rectangular one leaks energy far from each peak.")
    return Section("stft", "3. Short-time Fourier transform and windows", body)


def section_spectrogram(ctx: TourContext) -> Section:
    a = ctx.analysis
    bins, frames = a.spectrogram_db.shape
    body = paragraphs(
        "Stack the frames' power spectra side by side: time on the x axis, frequency on the y axis, "
        "colour for loudness in dB. This picture, the <b>spectrogram</b>, is what speech networks look at: "
        "vowels show as stacks of harmonics, fricatives (s, f) as high-frequency noise, pauses as dark columns.",
        f"Here: {bins} frequency bins x {frames} frames.",
    ) + ctx.figure(plots.single_panel("spectrogram", a, figsize=(10, 4)), "spectrogram.jpg",
                   f"Spectrogram of the input: {frames} frames from left to right, {bins} frequency bins from bottom "
                   "to top, brighter = louder.")
    return Section("spectrogram", "4. Spectrogram", body)


def section_mel(ctx: TourContext) -> Section:
    a, p = ctx.analysis, ctx.preset
    basis = F.mel_filterbank(p.sample_rate, p.n_fft, dtype=torch.float64, **p.mel_kwargs)
    body = paragraphs(
        "Hearing resolves low frequencies finely and high frequencies coarsely. The mel scale models this: "
        f"{p.n_mels} triangular filters, evenly spaced in mel, pool the {basis.shape[1]} linear bins into "
        f"{p.n_mels} bands. The result, the <b>mel spectrogram</b>, is smaller and closer to perception: "
        "the input of speech recognisers and the output of Tacotron 2.",
        "Code: <code>melspectrogram(y, sr, n_fft, hop_length, win_length, window, n_mels=80)</code> "
        "(identical to librosa's to float rounding; see the tests).",
    ) + ctx.figure(plots.filterbank_figure(basis, p.sample_rate, p.n_fft), "mel_filterbank.png",
                   f"The {p.n_mels} triangular mel filters over frequency: narrow at low frequencies, wide at high ones.") \
      + ctx.figure(plots.single_panel("mel", a, figsize=(10, 4)), "mel_spectrogram.jpg",
                   f"Mel spectrogram of the input: {p.n_mels} mel bands from bottom to top over time.")
    return Section("mel", "5. Mel spectrogram", body)


def section_way_back(ctx: TourContext) -> Section:
    y, p = ctx.waveform, ctx.preset
    rows, sounds = [], []
    for source, init, label in (("linear", "random", "from the linear magnitude, random initial phase"),
                                ("linear", "pghi", "from the linear magnitude, PGHI initial phase"),
                                ("mel", "pghi", "from the mel spectrogram, PGHI initial phase")):
        r = resynthesize(y, p, source=source, n_iter=32, momentum=0.99, seed=0, init=init)
        rows.append(f"<tr><td>{label}</td><td>{r.spectral_convergence:.3f}</td><td>{r.seconds:.2f}</td></tr>")
        sounds.append(ctx.sound(r.waveform, f"griffinlim_{source}_{init}.wav", f"Griffin-Lim, 32 iterations, {label}"))
    S = F.spectrogram(y, power=1.0, **p.stft_kwargs)
    curves = {}
    steps = [1, 2, 4, 8, 16, 32, 64]
    for label, momentum, init in (("classic (momentum 0), random phase", 0.0, "random"),
                                  ("fast (momentum 0.99), random phase", 0.99, "random"),
                                  ("fast, PGHI initial phase", 0.99, "pghi")):
        values = []
        for n in steps:
            y_hat = F.griffin_lim(S, n, momentum=momentum, length=len(y), init=init,
                                  generator=torch.Generator().manual_seed(0), **p.stft_kwargs)
            values.append(float(F.spectral_convergence(S, F.spectrogram(y_hat, power=1.0, **p.stft_kwargs))))
        curves[label] = values
    best = min(curves, key=lambda k: curves[k][-1])
    body = paragraphs(
        "A spectrogram keeps the magnitude and throws the phase away, so going back is not a plain inverse. "
        "Griffin-Lim (1984) guesses a phase, goes to a waveform and back, keeps the new phase, re-imposes the "
        "known magnitude, and repeats; the fast variant (Perraudin et al. 2013) adds momentum. A better start "
        "than random phase is phase-gradient heap integration (PGHI, Prusa et al. 2017): for a Gaussian-like "
        "window the phase's derivatives follow from the log-magnitude's, so the phase can be integrated outwards "
        "from the loudest coefficients. Networks that output spectrograms (Tacotron 2) need this step or a "
        "neural vocoder (WaveNet, later in the tour).",
        "Spectral convergence ||S - |STFT(x&#770;)|||<sub>F</sub> / ||S||<sub>F</sub> after 32 iterations "
        "(lower is better), measured now on this machine:",
    ) + ("<table><tr><th>Griffin-Lim</th><th>spectral convergence</th><th>seconds</th></tr>"
         + "".join(rows) + "</table>") + "".join(sounds) + ctx.figure(
        plots.convergence_figure(steps, curves), "griffinlim_convergence.png",
        f"Spectral convergence against Griffin-Lim iterations (1 to 64) for three variants; on this input the "
        f"lowest after 64 iterations is {best}.")
    return Section("way-back", "6. The way back: spectrogram to waveform", body)


SECTIONS = [section_waveform, section_power_spectrum, section_stft, section_spectrogram, section_mel, section_way_back]
