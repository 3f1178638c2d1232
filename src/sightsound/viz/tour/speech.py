"""The tour's speech chapter: the WaveNet vocoder against Griffin-Lim, and Tacotron 2 reading sentences. What the
text says about the input, the alignments and the measured tables is computed from them."""

from __future__ import annotations

import html
import time

import torch

from sightsound.audio import io as audio_io
from sightsound.viz import plots
from sightsound.viz.tour.page import (
    Section,
    TourContext,
    missing_model,
    number,
    paragraphs,
    plural,
)


def section_vocoder(ctx: TourContext) -> Section:
    from sightsound.audio.features import log_mel, log_mel_to_wave
    from sightsound.audio.presets import get_preset

    anchor, title = "vocoder", "9. A neural vocoder: WaveNet turns the spectrogram back into sound"
    if ctx.vocoder is None:
        return missing_model(anchor, title, "WaveNet", "wavenet_grid")
    vocoder = ctx.vocoder
    preset = get_preset(vocoder.model.config.audio_preset)
    y, _ = audio_io.load(ctx.audio_path, sr=preset.sample_rate)
    y = y[: 4 * preset.sample_rate]  # at most 4 s: WaveNet makes one sample at a time
    mel = log_mel(y, preset)
    started = time.perf_counter()
    wavenet = vocoder(mel)[: len(y)]
    seconds = time.perf_counter() - started
    griffin = log_mel_to_wave(mel, preset, n_iter=32, length=(mel.shape[-1] - 1) * preset.hop_length)[: len(y)]
    panels = {"original": mel, "Griffin-Lim (32 iterations) from the log-mel": log_mel(griffin, preset),
              "WaveNet from the log-mel": log_mel(wavenet, preset)}
    sr = preset.sample_rate
    sounds = (ctx.sound(y, "vocoder_original.wav", "original", sr)
              + ctx.sound(griffin, "vocoder_griffinlim.wav", "Griffin-Lim, 32 iterations, from the log-mel", sr)
              + ctx.sound(wavenet, "vocoder_wavenet.wav", "WaveNet, from the same log-mel", sr))
    body = paragraphs(
        "Tacotron 2 and most TTS systems output a (log-mel) spectrogram, because that is what networks predict "
        "well; a vocoder turns it into a waveform. Griffin-Lim has to guess the phase. WaveNet (van den Oord et al. "
        "2016) instead <i>generates</i> the waveform one sample at a time, each sample a softmax over 256 mu-law "
        "levels given the samples before it and the mel frames: a stack of dilated causal convolutions (each layer "
        "looks twice as far back as the one below) with gated activations tanh(W<sub>f</sub>x + V<sub>f</sub>c) "
        "&#8857; &sigma;(W<sub>g</sub>x + V<sub>g</sub>c) and residual and skip connections.",
        f"The shipped model: {html.escape(vocoder.model.describe())}, trained on the recordings of one speaker (GRID "
        f"s1). It made the {len(y) / sr:.1f} s below from the input ({html.escape(ctx.input_note)}) in "
        f"{seconds:.1f} s on this machine with Fast WaveNet generation (each layer keeps a ring buffer of its past "
        "inputs, so a sample costs O(layers)). A voice other than GRID s1's is one it never heard.",
    ) + sounds + ctx.figure(plots.log_mel_comparison_figure(panels, preset.hop_length / sr), "vocoder_comparison.jpg",
                            "Log-mel spectrograms of the original, of Griffin-Lim's and of WaveNet's resynthesis, "
                            "one above the other on the same colour scale.")
    if ctx.vocoder_eval:
        body += _vocoder_table(ctx.vocoder_eval)
    return Section(anchor, title, body)


def _vocoder_table(report: dict) -> str:
    systems = report["systems"]
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{number(e.get('wer'), 3)}</td><td>{number(e.get('mcd_db'))}</td>"
        f"<td>{number(e.get('lsd_db'))}</td><td>{number(e.get('real_time_factor'), 3)}</td></tr>"
        for name, e in systems.items())
    verdict = ""
    neural = [n for n in systems if n not in ("original", "griffinlim")]
    if neural and "griffinlim" in systems:
        w, g = systems[neural[0]].get("wer"), systems["griffinlim"].get("wer")
        if w is not None and g is not None:
            verdict = (f" On these clips {html.escape(neural[0])}'s word error rate is {w:.3f} against Griffin-Lim's "
                       f"{g:.3f}: {'worse than' if w > g else 'as good as' if w == g else 'better than'} Griffin-Lim.")
    return paragraphs(
        f"Measured on {report['clips']} held-out GRID clips of its own speaker (copy-synthesis from the true log-mel; "
        "<code>sightsound eval vocoder</code>): word error rate of the pocketsphinx recogniser with the GRID "
        "grammar, mel-cepstral distortion and log-spectral distance against the original (dB, lower is better; a "
        "dash where a measure does not apply), real-time factor on the development machine."
        + _draws_sentence(report) + verdict) + (
        "<table><tr><th>audio</th><th>WER</th><th>MCD (dB)</th><th>LSD (dB)</th><th>real-time factor</th></tr>"
        f"{rows}</table>")


def _draws_sentence(report: dict) -> str:
    """How many draws a sampling vocoder's row averages, its WER range and the distortion between draws."""
    for name, e in report["systems"].items():
        if "wer_range" in e:
            low, high = e["wer_range"]
            return (f" The {html.escape(name)} row is the mean of {len(e['draws'])} draws per clip (different "
                    f"random seeds; WER {low:.3f} to {high:.3f}); two draws of the same mel differ from each other "
                    f"by an MCD of {e['between_draws']['mcd_db']:.2f} dB, most of its distance to the original.")
    return ""


TTS_SENTENCES = ("bin blue at f two now", "place red in a nine soon")


def describe_alignment(alignment: torch.Tensor) -> str:
    """What an alignment (K steps, L symbols) shows: how often the attention peak moves forward or stays, where it
    ends, and how sharp it is."""
    peaks = alignment.argmax(-1)  # (K,)
    K, L = alignment.shape
    forward = float((peaks[1:] >= peaks[:-1]).float().mean()) if K > 1 else 1.0
    skipped = int((peaks[1:] - peaks[:-1] > 2).sum()) if K > 1 else 0
    sharp = float(alignment.max(-1).values.mean())
    end = int(peaks[-1])
    shape = ("a clean diagonal: every symbol read in order" if forward >= 0.98 and skipped == 0 and end >= L - 2
             else "not a clean diagonal")
    return (f"{shape} — the attention peak moves forward or stays on {100 * forward:.0f} % of the {K} decoder steps, "
            f"jumps more than two symbols {plural(skipped, 'time')}, ends on symbol {end + 1} of {L}, and holds "
            f"{sharp:.2f} of the weight on average (the focus rate)")


def section_tts(ctx: TourContext) -> Section:
    from sightsound.text import symbols as S

    anchor, title = "tts", "10. Tacotron 2: text to speech with location-sensitive attention"
    if ctx.synthesizer is None:
        return missing_model(anchor, title, "Tacotron 2", "tacotron2_grid")
    synth = ctx.synthesizer
    started = time.perf_counter()
    result = synth(list(TTS_SENTENCES))
    seconds = time.perf_counter() - started
    c = synth.model.config
    reads = ("phonemes (CMUdict ARPAbet" + (", one-letter words read as letter names" if c.letter_names else "")
             + "; letters for words it does not know)") if c.phonemes else "characters"
    parts = []
    for i, (text, wave, mel, alignment) in enumerate(zip(result.texts, result.waves, result.mels, result.alignments)):
        labels = synth.symbols(text)
        fig = plots.tts_figure(alignment, mel, S.normalize(text), synth.preset.hop_length / synth.preset.sample_rate,
                               labels)
        parts.append(paragraphs(f"\u201c{html.escape(text)}\u201d: {describe_alignment(alignment)}.")
                     + ctx.figure(fig, f"tts_{i}.png",
                                  f"Tacotron 2 reading '{text}': the attention over its {len(labels)} input symbols "
                                  "at every decoder step, above the mel spectrogram it wrote.")
                     + ctx.sound(wave, f"tts_{i}.wav", f"\u201c{text}\u201d ({synth.vocoder.name} vocoder)",
                                 synth.preset.sample_rate))
    body = paragraphs(
        f"Tacotron 2 (Shen et al. 2018) reads {reads}: an embedding, convolutions and a bidirectional LSTM turn the "
        "sentence into one vector per symbol. A decoder then writes the mel spectrogram "
        f"{plural(c.reduction, 'frame')} per step; at every step location-sensitive attention decides which symbols "
        "to read (it sees where it looked before, so it moves forward steadily), and a stop token says when the "
        "sentence is done. A postnet refines the mel; a vocoder makes the sound. In each picture the alignment "
        "(bright = attended) is the model's reading order.",
        f"The shipped model ({html.escape(synth.name)}) learnt one speaker of the GRID corpus, whose sentences use "
        "51 words (\u201cbin blue at f two now\u201d); it cannot read other English. Both sentences were synthesised "
        f"now, in {seconds:.1f} s including the vocoder.",
    ) + "".join(parts)
    if ctx.tts_eval:
        e = ctx.tts_eval
        body += paragraphs(
            f"Measured on {e['sentences']} held-out GRID sentences, each read {plural(e.get('seeds', 1), 'time')} "
            "(the prenet's dropout stays on at inference; <code>sightsound eval tts</code>): focus rate "
            f"{e['focus_rate']:.3f} (mean over decoder steps of the largest attention weight), "
            f"{plural(e['hit_step_limit'], 'decode')} hit the step limit, word error rate "
            f"{e['wer_synthesised_griffinlim']:.3f} for the synthetic speech against "
            f"{e['wer_real_griffinlim_resynthesis']:.3f} for Griffin-Lim resynthesis of the real recordings, "
            f"text-to-mel real-time factor {e['text_to_mel_real_time_factor_batch1']:.3f} at batch 1.")
    return Section(anchor, title, body)


SECTIONS = [section_vocoder, section_tts]
