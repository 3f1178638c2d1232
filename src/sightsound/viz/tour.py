"""``sightsound tour``: one HTML page that walks through the lecture with real outputs.

Each section is a function ``(ctx) -> Section`` registered in ``SECTIONS``; a section writes its
pictures and sounds into the output folder and returns HTML. Later parts of the lecture
(attention, captioning, vocoders, TTS, audio-visual models) add their sections here.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
from tqdm.auto import tqdm

from sightsound.audio import functional as F
from sightsound.audio import io as audio_io
from sightsound.audio.analysis import analyse, check_audible, resynthesize
from sightsound.audio.presets import SPEECH, AudioPreset
from sightsound.errors import UserInputError
from sightsound.viz import plots

MARKER = ".sightsound-tour"


@dataclass
class TourContext:
    out: Path
    audio_path: Path
    preset: AudioPreset = SPEECH
    char_lm: tuple | None = None        # (GPT, CharVocab) for the attention sections, when available
    finetune: dict | None = None        # measured GPT-1 head accuracies (benchmarks/gpt_finetune.py)
    vocoder: object | None = None       # a sightsound.pretrained.vocoder.Vocoder (WaveNet), when available
    vocoder_eval: dict | None = None    # its measured `sightsound eval vocoder` report
    synthesizer: object | None = None   # a sightsound.pretrained.tts.Synthesizer (Tacotron 2), when available
    tts_eval: dict | None = None        # its measured `sightsound eval tts` report
    captioners: dict | None = None      # {"shapes" | "flickr8k-1k": (ImageCaptioner, eval report or None)}
    photos: tuple = ()                  # photos to caption in the Show-Attend-Tell section
    cache: dict = field(default_factory=dict)

    def asset(self, name: str) -> Path:
        return self.out / "assets" / name

    def figure(self, fig, name: str) -> str:
        plots.save_figure(fig, self.asset(name))
        return f'<img src="assets/{name}" alt="{html.escape(name)}">'

    def sound(self, y: torch.Tensor, name: str, label: str) -> str:
        audio_io.save(self.asset(name), y.float().clamp(-1, 1), self.preset.sample_rate, overwrite=True)
        return (f'<figure class="sound"><figcaption>{html.escape(label)}</figcaption>'
                f'<audio controls src="assets/{name}"></audio></figure>')

    @property
    def waveform(self) -> torch.Tensor:
        if "waveform" not in self.cache:
            y, _ = audio_io.load(self.audio_path, sr=self.preset.sample_rate)
            check_audible(y, str(self.audio_path))
            self.cache["waveform"] = y
        return self.cache["waveform"]

    @property
    def analysis(self):
        if "analysis" not in self.cache:
            self.cache["analysis"] = analyse(self.waveform, self.preset)
        return self.cache["analysis"]


@dataclass(frozen=True)
class Section:
    anchor: str
    title: str
    body: str


def _p(*paragraphs: str) -> str:
    return "".join(f"<p>{p}</p>" for p in paragraphs)


def section_waveform(ctx: TourContext) -> Section:
    a = ctx.analysis
    seconds = len(a.waveform) / a.sample_rate
    body = _p(
        f"Sound is air pressure over time. A microphone samples it: here {a.sample_rate} numbers per second, "
        f"{len(a.waveform)} samples for {seconds:.2f} s of speech. That list of numbers is the <b>waveform</b>, "
        "the most direct representation and the hardest to read: the words are in there, but not visibly.",
    ) + ctx.sound(a.waveform, "original.wav", "the input speech") + ctx.figure(plots.single_panel("waveform", a), "waveform.png")
    return Section("waveform", "1. Waveform", body)


def section_power_spectrum(ctx: TourContext) -> Section:
    a = ctx.analysis
    peak = float(a.freqs_full[a.power_spectrum_db.argmax()])
    body = _p(
        "The Fourier transform of the whole signal says <i>which frequencies</i> it contains and how much power "
        f"each carries, but not <i>when</i>. Here the strongest component is at {peak:.0f} Hz; the comb of "
        "peaks below 1 kHz is the voice's pitch and its harmonics, and the energy fades above 4 kHz.",
        "Code: <code>sightsound.audio.functional.power_spectrum(y, window='hann')</code>",
    ) + ctx.figure(plots.single_panel("power", a), "power_spectrum.png")
    return Section("power-spectrum", "2. Power spectrum", body)


def section_stft(ctx: TourContext) -> Section:
    a, p = ctx.analysis, ctx.preset
    body = _p(
        f"To see frequency <i>over time</i>, cut the signal into short overlapping frames - {1000 * p.win_length / p.sample_rate:.0f} ms "
        f"long every {1000 * p.hop_length / p.sample_rate:.0f} ms, the lecture's setting - multiply each by a "
        f"{p.window.capitalize()} window and Fourier-transform it. That is the short-time Fourier transform (STFT).",
        "Why a window? Cutting a frame with a rectangle creates sharp edges, and sharp edges spread energy into "
        "every frequency (spectral leakage). The Hamming window tapers the edges: its side lobes sit about 43 dB "
        "below the peak instead of 13 dB, at the price of a slightly wider main lobe.",
        f"Code: <code>stft(y, n_fft={p.n_fft}, hop_length={p.hop_length}, win_length={p.win_length}, window='{p.window}')</code>",
    ) + ctx.figure(plots.framing_figure(a), "framing.png") + ctx.figure(plots.single_panel("leakage", a), "leakage.png")
    return Section("stft", "3. Short-time Fourier transform and windows", body)


def section_spectrogram(ctx: TourContext) -> Section:
    a = ctx.analysis
    body = _p(
        "Stack the frames' power spectra side by side: time on the x axis, frequency on the y axis, "
        "colour for loudness in dB. This picture, the <b>spectrogram</b>, is what speech networks look at: "
        "vowels show as stacks of harmonics, fricatives (s, f) as high-frequency noise, pauses as dark columns.",
        f"{a.spectrogram_db.shape[0]} frequency bins x {a.spectrogram_db.shape[1]} frames.",
    ) + ctx.figure(plots.single_panel("spectrogram", a, figsize=(10, 4)), "spectrogram.png")
    return Section("spectrogram", "4. Spectrogram", body)


def section_mel(ctx: TourContext) -> Section:
    a, p = ctx.analysis, ctx.preset
    basis = F.mel_filterbank(p.sample_rate, p.n_fft, dtype=torch.float64, **p.mel_kwargs)
    body = _p(
        "Hearing resolves low frequencies finely and high frequencies coarsely. The mel scale models this: "
        f"{p.n_mels} triangular filters, evenly spaced in mel, pool the {basis.shape[1]} linear bins into "
        f"{p.n_mels} bands. The result, the <b>mel spectrogram</b>, is smaller and closer to perception: "
        "the input of speech recognisers and the output of Tacotron 2.",
        "Code: <code>melspectrogram(y, sr, n_fft, hop_length, win_length, window, n_mels=80)</code> "
        "(identical to librosa's to float rounding; see the tests).",
    ) + ctx.figure(plots.filterbank_figure(basis, p.sample_rate, p.n_fft), "mel_filterbank.png") \
      + ctx.figure(plots.single_panel("mel", a, figsize=(10, 4)), "mel_spectrogram.png")
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
    fig = plots.convergence_figure(steps, curves)
    body = _p(
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
         + "".join(rows) + "</table>") + "".join(sounds) + ctx.figure(fig, "griffinlim_convergence.png")
    return Section("way-back", "6. The way back: spectrogram to waveform", body)


ATTENTION_PROMPT = "ROMEO:\nBut soft, what light through yonder window breaks?"


def _missing_model(anchor: str, title: str, what: str = "character GPT", recipe: str = "char_lm") -> Section:
    return Section(anchor, title, _p(f"The shipped {what} was not found, so this section has no live output; "
                                     f"train one with <code>sightsound train recipes/{recipe}.py --preset cpu</code>."))


def section_self_attention(ctx: TourContext) -> Section:
    if ctx.char_lm is None:
        return _missing_model("attention", "7. Self-attention and multi-head attention")
    model, vocab = ctx.char_lm
    prompt = ATTENTION_PROMPT[-model.config.block_size :]
    ids = vocab.encode(prompt).unsqueeze(0)
    with torch.no_grad():
        _, weights, _ = model(ids, need_weights=True)
    tokens = [vocab.decode([i]) for i in ids[0]]
    c = model.config
    body = _p(
        "Attention lets every position look at every other and take what it needs: each token emits a query, "
        "a key and a value; softmax(QK<sup>T</sup>/&radic;d<sub>k</sub>) says how much each query takes from "
        "each value. A causal mask keeps a language model from looking ahead. Several heads run side by side, "
        "each with its own projections, so one can track the previous character while another looks for the "
        "start of the word.",
        f"Below: every layer ({c.n_layer}) and head ({c.n_head}) of the shipped character GPT reading "
        f"<code>{html.escape(prompt)!s}</code> — row = the token that attends, column = the token attended to. "
        "Code: <code>sightsound attention-map --model char-lm-shakespeare --prompt TEXT -o map.png</code>",
    ) + ctx.figure(plots.attention_grid_figure([w[0] for w in weights], tokens), "attention_map.png")
    return Section("attention", "7. Self-attention and multi-head attention", body)


def section_gpt(ctx: TourContext) -> Section:
    if ctx.char_lm is None:
        return _missing_model("gpt", "8. GPT: a transformer language model and its fine-tuning heads")
    model, vocab = ctx.char_lm
    c = model.config
    prompt = "ROMEO:\n"
    out = model.generate(vocab.encode(prompt).unsqueeze(0), 300, temperature=0.8, top_k=20,
                         generator=torch.Generator().manual_seed(0))
    sample = vocab.decode(out[0])
    n_params = sum(p.numel() for p in model.parameters())
    body = _p(
        f"Stack transformer blocks (attention, skip connection, layer norm, feed-forward) and train them to predict "
        f"the next character: that is GPT. The shipped model has {c.n_layer} blocks, {c.n_head} heads, "
        f"{c.n_embd} dimensions and a {c.block_size}-character context ({n_params / 1e6:.2f} M parameters), trained "
        "for 2,000 steps on tinyshakespeare on a 2-core CPU. A sample (temperature 0.8, top-k 20, seed 0), "
        "generated now with the KV cache:",
    ) + f"<pre>{html.escape(sample)}</pre>"
    if ctx.finetune:
        rows = "".join(
            f"<tr><td>{html.escape(task.replace('_', ' '))}</td><td>{t['chance']:.2f}</td>"
            f"<td>{t['pretrained']['final_val_accuracy']:.3f}</td><td>{t['scratch']['final_val_accuracy']:.3f}</td></tr>"
            for task, t in ctx.finetune["tasks"].items())
        body += _p("GPT-1's point: one pre-trained body serves many tasks through a linear layer on the final state of an "
                   "<i>extract</i> token — classification (which play a speech is from), similarity (are two text "
                   "fragments consecutive, reading both orders), multiple choice (the true continuation of a fragment "
                   "among four). Held-out accuracy, measured by <code>benchmarks/gpt_finetune.py</code>:") + (
            "<table><tr><th>task</th><th>chance</th><th>fine-tuned from the GPT</th><th>same model from scratch</th></tr>"
            f"{rows}</table>")
    return Section("gpt", "8. GPT: a transformer language model and its fine-tuning heads", body)


def section_vocoder(ctx: TourContext) -> Section:
    from sightsound.audio.features import log_mel, log_mel_to_wave
    from sightsound.audio.presets import get_preset

    anchor, title = "vocoder", "9. A neural vocoder: WaveNet turns the spectrogram back into sound"
    if ctx.vocoder is None:
        return _missing_model(anchor, title, "WaveNet", "wavenet_grid")
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
    old_rate, ctx.preset = ctx.preset, preset  # the players at the vocoder's rate
    sounds = (ctx.sound(y, "vocoder_original.wav", "original")
              + ctx.sound(griffin, "vocoder_griffinlim.wav", "Griffin-Lim, 32 iterations, from the log-mel")
              + ctx.sound(wavenet, "vocoder_wavenet.wav", "WaveNet, from the same log-mel"))
    ctx.preset = old_rate
    c = vocoder.model.config
    body = _p(
        "Tacotron 2 and most TTS systems output a (log-mel) spectrogram, because that is what networks predict "
        "well; a vocoder turns it into a waveform. Griffin-Lim has to guess the phase. WaveNet (van den Oord et al. "
        "2016) instead <i>generates</i> the waveform one sample at a time, each sample a softmax over 256 mu-law "
        "levels given the samples before it and the mel frames: a stack of dilated causal convolutions (each layer "
        "looks twice as far back as the one below) with gated activations tanh(W<sub>f</sub>x + V<sub>f</sub>c) "
        "&#8857; &sigma;(W<sub>g</sub>x + V<sub>g</sub>c) and residual and skip connections.",
        f"The shipped model: {html.escape(vocoder.model.describe())}, trained on the GRID corpus' speaker s1. "
        f"It made the {len(y) / preset.sample_rate:.1f} s below in {seconds:.1f} s on this machine with Fast "
        "WaveNet generation (each layer keeps a ring buffer of its past inputs, so a sample costs O(layers)). "
        "The input here is a different voice than the one it learnt, which is the hard case.",
    ) + sounds + ctx.figure(plots.log_mel_comparison_figure(panels, preset.hop_length / preset.sample_rate),
                            "vocoder_comparison.png")
    if ctx.vocoder_eval:
        report = ctx.vocoder_eval
        rows = "".join(
            f"<tr><td>{html.escape(name)}</td><td>{e['wer']:.3f}</td><td>{e.get('mcd_db', float('nan')):.2f}</td>"
            f"<td>{e.get('lsd_db', float('nan')):.2f}</td><td>{e.get('real_time_factor', float('nan')):.3f}</td></tr>"
            for name, e in report["systems"].items())
        body += _p(f"Measured on {report['clips']} held-out GRID clips of its own speaker (copy-synthesis from "
                   "the true log-mel; <code>sightsound eval vocoder</code>): word error rate of the pocketsphinx "
                   "recogniser with the GRID grammar, mel-cepstral distortion, log-spectral distance (dB, lower is "
                   "better), real-time factor on the development machine." + _draws_sentence(report)) + (
            "<table><tr><th>audio</th><th>WER</th><th>MCD (dB)</th><th>LSD (dB)</th><th>real-time factor</th></tr>"
            f"{rows}</table>")
    return Section(anchor, title, body)


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


def section_tts(ctx: TourContext) -> Section:
    from sightsound.text import symbols as S

    anchor, title = "tts", "10. Tacotron 2: text to speech with location-sensitive attention"
    if ctx.synthesizer is None:
        return _missing_model(anchor, title, "Tacotron 2", "tacotron2_grid")
    synth = ctx.synthesizer
    started = time.perf_counter()
    result = synth(list(TTS_SENTENCES))
    seconds = time.perf_counter() - started
    old, ctx.preset = ctx.preset, synth.preset
    parts = []
    for i, (text, wave, mel, alignment) in enumerate(zip(result.texts, result.waves, result.mels, result.alignments)):
        labels = synth.symbols(text)
        fig = plots.tts_figure(alignment, mel, S.normalize(text), synth.preset.hop_length / synth.preset.sample_rate,
                               labels)
        parts.append(ctx.figure(fig, f"tts_{i}.png") + ctx.sound(wave, f"tts_{i}.wav", f"\u201c{text}\u201d "
                                                                  f"({synth.vocoder.name} vocoder)"))
    ctx.preset = old
    c = synth.model.config
    body = _p(
        "Tacotron 2 (Shen et al. 2018) reads characters: an embedding, three convolutions and a bidirectional LSTM "
        "turn the sentence into one vector per symbol. A decoder then writes the mel spectrogram "
        f"{c.reduction} frame(s) per step; at every step location-sensitive attention decides which symbols to read "
        "(it sees where it looked before, so it moves forward steadily), and a stop token says when the sentence is "
        "done. Below, the alignment (bright = attended) is the model's reading order: a clean diagonal means every "
        "character was spoken once, in order. A postnet refines the mel; a vocoder makes the sound.",
        f"The shipped model learnt the GRID corpus' speaker s1 ({html.escape(synth.name)}); both sentences were "
        f"synthesised now, in {seconds:.1f} s including the vocoder.",
    ) + "".join(parts)
    if ctx.tts_eval:
        e = ctx.tts_eval
        body += _p(
            f"Measured on {e['sentences']} held-out GRID sentences, each read {e.get('seeds', 1)} time(s) (the "
            f"prenet's dropout stays on at inference; <code>sightsound eval tts</code>): focus rate "
            f"{e['focus_rate']:.3f} (mean over decoder steps of the largest attention weight), "
            f"{e['hit_step_limit']} decodes hit the step limit, word error rate {e['wer_synthesised_griffinlim']:.3f} "
            f"for the synthetic speech against {e['wer_real_griffinlim_resynthesis']:.3f} for Griffin-Lim "
            f"resynthesis of the real recordings, text-to-mel real-time factor "
            f"{e['text_to_mel_real_time_factor_batch1']:.3f} at batch 1.")
    return Section(anchor, title, body)



def _scores_table(report: dict, keys=("BLEU-1", "BLEU-4", "METEOR", "ROUGE-L", "CIDEr")) -> str:
    scores = report.get("scores", {})
    head = "".join(f"<th>{k}</th>" for k in keys if k in scores)
    row = "".join(f"<td>{scores[k]:.3f}</td>" for k in keys if k in scores)
    return f"<table><tr>{head}</tr><tr>{row}</tr></table>"


def section_visual_attention(ctx: TourContext) -> Section:
    anchor, title = "visual-attention", "11. Visual soft attention, checked against ground truth"
    if not ctx.captioners or "shapes" not in ctx.captioners:
        return _missing_model(anchor, title, "shapes-world captioner", "captioner_shapes")
    from sightsound.data.synthetic import render_scene

    captioner, report = ctx.captioners["shapes"]
    rng = __import__("numpy").random.default_rng(2024)
    figures = []
    for k in range(2):
        scene, objects, _ = render_scene(rng, captioner.image_size)
        image = torch.from_numpy(scene).permute(2, 0, 1).float() / 255
        result = captioner.caption(image, beam=3)
        figures.append(ctx.figure(plots.caption_attention_figure(image, result.words, result.maps, result.betas,
                                                                 title=f"shapes model, beam 3: {result.text}"),
                                  f"shapes_attention_{k}.png"))
    g = captioner.grid
    body = _p(
        "Soft attention (Xu et al. 2015): a CNN turns the image into a grid of feature vectors, one per place "
        f"({g} x {g} = {g * g} here); before every word, the decoder LSTM scores each place, "
        "e<sub>i</sub> = w &middot; tanh(W<sub>a</sub> a<sub>i</sub> + W<sub>h</sub> h), turns the scores into a "
        "distribution &alpha; = softmax(e), and reads the weighted sum z = &beta; &Sigma; &alpha;<sub>i</sub> "
        "a<sub>i</sub>. Because every word comes with its &alpha;, we can see where the model looked.",
        "Is it looking at the right place? On real photos nobody knows; in a synthetic world of shapes we do. "
        "Below, two new scenes (never seen in training) captioned by the shipped <code>shapes</code> model; each "
        "panel darkens what that word did not attend to (the 14 x 14 map is upsampled bilinearly, then smoothed "
        "with a Gaussian of half a cell).") + "".join(figures)
    if report:
        att = report.get("attention") or {}
        body += _p(f"Measured on {report['images']} held-out scenes (beam {report['beam']}, "
                   "<code>sightsound eval caption --model shapes --data DIR</code> on a folder written by "
                   "<code>sightsound shapes --out DIR --seed 2</code>): attention correctness, the share of a word's "
                   f"attention inside the object it names, <b>{att.get('correctness')}</b> against "
                   f"{att.get('area_baseline')} for attention spread evenly ({att.get('scored_words')} words; the "
                   "project's target is 0.8, see the README for what limits it).") + \
            _scores_table(report)
    return Section(anchor, title, body)


def section_show_attend_tell(ctx: TourContext) -> Section:
    anchor, title = "captioning", "12. Show, Attend and Tell: captions for real photos"
    if not ctx.captioners or "flickr8k-1k" not in ctx.captioners:
        return _missing_model(anchor, title, "Flickr captioner", "captioner_flickr")
    from sightsound.vision.io import load_image

    captioner, report = ctx.captioners["flickr8k-1k"]
    figures = []
    for k, photo in enumerate(ctx.photos):
        image = load_image(photo, max_side=512)
        result = captioner.caption(image, beam=3)
        figures.append(ctx.figure(plots.caption_attention_figure(image, result.words, result.maps, result.betas,
                                                                 title=f"{Path(photo).name}, beam 3: {result.text}"),
                                  f"caption_photo_{k}.png"))
    body = _p(
        "The same model on photographs. The encoder is an ImageNet EfficientNet-Lite0, frozen; at 448 x 448 "
        "pixels its last feature map is 1280 x 14 x 14: 196 annotation vectors. The decoder was trained on 700 "
        "Flickr8k photos with 5 captions each (minutes on a 2-core CPU once the features are cached); beam "
        "search (3 beams) writes the caption, and each word keeps the attention map it was written with "
        "(&beta;, in each title, is the learned gate on the image context). This small model's maps are "
        "nearly flat: with the paper's regulariser, which asks every one of the 196 places to be attended "
        "about once per caption, and only 700 photos, it reads the image almost as a whole (README: "
        "Show, Attend and Tell).",
        "Code: <code>sightsound caption PHOTO.jpg -o attention.png</code> (the picture), "
        "<code>--json</code> (words and their 14 x 14 maps).") + "".join(figures)
    if report:
        body += _p(f"Measured on the {report['images']} validation photos of the fixed split, beam {report['beam']}, "
                   "with the official coco-caption scorer (<code>sightsound eval caption --model flickr8k-1k "
                   "--data DATA/flickr8k-1k --images val</code>):") + _scores_table(report)
    return Section(anchor, title, body)


SECTIONS: list[Callable[[TourContext], Section]] = [
    section_waveform, section_power_spectrum, section_stft, section_spectrogram, section_mel, section_way_back,
    section_self_attention, section_gpt, section_vocoder, section_tts, section_visual_attention,
    section_show_attend_tell,
]

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 980px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.5; }
h1 { margin-bottom: 0.2em; } nav a { margin-right: 1em; } img { max-width: 100%; margin: 0.6em 0; }
section { border-top: 1px solid #ddd; padding-top: 1em; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.6em 0; } td, th { border: 1px solid #ccc; padding: 0.3em 0.8em; text-align: left; }
code { background: #f3f3f3; padding: 0 0.2em; } .sound { margin: 0.5em 0; } .meta { color: #666; font-size: 0.9em; }
"""


def _prepare_out(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise UserInputError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists() and not force:
        raise UserInputError(
            f"{out}: folder is not empty and was not written by 'sightsound tour'; choose another --out or pass --force"
        )
    (out / "assets").mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("written by sightsound tour\n")


def build_tour(out: str | os.PathLike, audio_path: str | os.PathLike, *, force: bool = False,
               progress: bool = True, char_lm: tuple | None = None, finetune: dict | None = None,
               vocoder=None, vocoder_eval: dict | None = None, synthesizer=None, tts_eval: dict | None = None,
               captioners: dict | None = None, photos: tuple = ()) -> Path:
    """Write ``out/index.html`` (and ``out/assets/``) for the speech in ``audio_path``. Returns the page.

    ``char_lm`` = (GPT, CharVocab) feeds the attention sections; ``finetune`` the heads' accuracies;
    ``vocoder`` (a WaveNet ``Vocoder``) and ``vocoder_eval`` (its measured report) the vocoder section;
    ``synthesizer`` (a Tacotron 2 ``Synthesizer``) and ``tts_eval`` the text-to-speech section;
    ``captioners`` ({name: (ImageCaptioner, report)}) and ``photos`` the visual-attention sections."""
    out = Path(out)
    audio_path = Path(audio_path)
    _prepare_out(out, force)
    ctx = TourContext(out=out, audio_path=audio_path, char_lm=char_lm, finetune=finetune, vocoder=vocoder,
                      vocoder_eval=vocoder_eval, synthesizer=synthesizer, tts_eval=tts_eval,
                      captioners=captioners, photos=tuple(photos))
    ctx.waveform  # load and check the input before any work
    sections = []
    started = time.perf_counter()
    for make in tqdm(SECTIONS, desc="tour", unit="section", disable=not progress):
        sections.append(make(ctx))
    nav = "".join(f'<a href="#{s.anchor}">{html.escape(s.title)}</a>' for s in sections)
    content = "".join(f'<section id="{s.anchor}"><h2>{html.escape(s.title)}</h2>{s.body}</section>' for s in sections)
    meta = {"input": audio_path.name, "sample_rate": ctx.preset.sample_rate, "preset": ctx.preset.name,
            "torch": torch.__version__, "threads": torch.get_num_threads(),
            "seconds": round(time.perf_counter() - started, 1)}
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>sightsound tour</title>"
        f"<style>{STYLE}</style></head><body><h1>sightsound: a tour of the lecture</h1>"
        "<p>Attention-based visual and sound models, made real. Every picture and sound below was computed "
        "from the input when this page was written.</p>"
        f"<p class='meta'>{html.escape(json.dumps(meta))}</p><nav>{nav}</nav>{content}</body></html>"
    )
    index = out / "index.html"
    fd, tmp = tempfile.mkstemp(dir=out, prefix=".index.", suffix=".html")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(page)
    os.replace(tmp, index)
    return index


DEMO_TEXT = ("The lecture shows how a computer hears. Sound becomes a waveform, the waveform becomes a "
             "spectrogram, and the spectrogram becomes a picture that a network can read.")


def synthesize_demo_speech(path: Path, text: str = DEMO_TEXT) -> bool:
    """Speak ``text`` with flite (16 kHz voice) into ``path``; False when flite is not installed."""
    import subprocess

    flite = shutil.which("flite")
    if flite is None:
        return False
    result = subprocess.run([flite, "-voice", "kal16", "-t", text, "-o", str(path)], capture_output=True)
    return result.returncode == 0 and path.exists() and path.stat().st_size > 44
