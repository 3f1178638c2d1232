"""The tour's Looking-to-Listen section: a mixture you can play, the face video, the voice the face picks and the
rest, the mask, and the audio-visual vs audio-only table measured on held-out mixtures."""

from __future__ import annotations

import html
import shutil

from sightsound.viz.tour.page import (
    Section,
    TourContext,
    missing_model,
    number,
    paragraphs,
)

ROWS = (("av_si_sdri", "SI-SDR improvement (dB)", 2), ("av_sdr", "SDR (dB)", 2), ("av_stoi", "STOI", 3),
        ("av_pesq", "PESQ-WB", 2))


def _table(report: dict) -> str:
    head = "<tr><th>test mixtures</th><th>measure</th><th>mixture</th><th>audio-visual</th><th>audio-only (better output)</th><th>audio-only (output 0)</th></tr>"
    body = ""
    for kind, k in report["kinds"].items():
        label = f"{kind} speaker ({k['count']})"
        for key, name, digits in ROWS:
            if k.get(key) is None:
                continue
            ao = key.replace("av_", "ao_")
            mixture = {"av_si_sdri": None, "av_sdr": None, "av_stoi": k.get("mixture_stoi"),
                       "av_pesq": k.get("mixture_pesq")}[key]
            first = k.get("ao_first_si_sdri") if key == "av_si_sdri" else None
            body += (f"<tr><td>{label}</td><td>{name}</td><td>{number(mixture, digits)}</td>"
                     f"<td>{number(k[key], digits)}</td><td>{number(k.get(ao), digits)}</td>"
                     f"<td>{number(first, digits)}</td></tr>")
            label = ""
        if "wer_av" in k:
            body += (f"<tr><td></td><td>WER (clean {number(k['wer_clean'], 3)})</td><td>{number(k.get('wer_mixture'), 3)}"
                     f"</td><td>{number(k['wer_av'], 3)}</td><td>{number(k.get('wer_ao'), 3)}</td>"
                     f"<td>{number(k.get('wer_ao_first'), 3)}</td></tr>")
    return f"<table>{head}{body}</table>"


def _examples(ctx: TourContext, separator, baseline) -> str:
    from sightsound.data import av_mixtures
    from sightsound.viz.separation import separation_figure

    config = av_mixtures.Config(sample_rate=separator.sample_rate, mouth_size=tuple(separator.model.config.mouth_size))
    clips = av_mixtures.load_grid(ctx.av_speakers, config, "test", progress=False)[:2]
    pool = av_mixtures.load_interferers(ctx.av_speakers, config, "test", progress=False)
    items = av_mixtures.FixedMixtures(clips, pool, config, config.seed + 2).items[:2]   # the first test clip, twice
    video = ctx.av_speakers / config.subdir / "video" / f"{items[0]['name']}.mp4"
    shutil.copyfile(video, ctx.asset("l2l_face.mp4"))
    body = (f"<figure><figcaption>The face of GRID speaker s1 (test clip {html.escape(items[0]['name'])}, 25 fps, no "
            "sound: the model reads its mouth)</figcaption><video controls width='360' preload='metadata' "
            "src='assets/l2l_face.mp4'></video></figure>")
    sr = separator.sample_rate
    for k, item in enumerate(items):
        kind = "another person" if not item["same_speaker"] else "another sentence of the same speaker"
        out = separator.separate(item["mixture"], item["mouths"])
        body += paragraphs(f"<b>Mixed with {kind}</b> at {item['snr']:+.1f} dB:")
        body += ctx.sound(item["mixture"], f"l2l_mix_{k}.wav", "the mixture", sr)
        body += ctx.sound(out.target, f"l2l_voice_{k}.wav", "the voice of the face (audio-visual output 0)", sr)
        body += ctx.sound(out.rest, f"l2l_rest_{k}.wav", "the rest (output 1)", sr)
        if baseline is not None:
            other = baseline.separate(item["mixture"])
            body += ctx.sound(other.target, f"l2l_ao_{k}.wav", "the audio-only model's output 0 (it cannot know "
                                                                 "which voice you want)", sr)
        spec = out.estimate_spec
        body += ctx.figure(separation_figure(out.mixture_spec, spec[0], spec[1], out.masks[0], sr,
                                             separator.model.config.hop_length, item["mouths"] if k == 0 else None),
                           f"l2l_masks_{k}.png", f"Spectrograms of the mixture with {kind}, the separated voice, "
                                                 "the rest, and the complex mask's magnitude.")
    return body


def section_separation(ctx: TourContext) -> Section:
    anchor, title = "looking-to-listen", "16. Looking to Listen: the face picks the voice"
    if ctx.separation is None:
        return missing_model(anchor, title, "Looking-to-Listen model (looking-to-listen-grid)", "av_separation_grid")
    separator, baseline, report = ctx.separation
    c = separator.model.config
    body = paragraphs(
        "At a cocktail party you hear the person you look at. Looking to Listen (Ephrat et al., 2018) gives a "
        "network the mixture's spectrogram and the wanted speaker's face, and it returns a complex mask that keeps "
        "that speaker's voice. Here: the STFT of the mixture (25 ms Hann window every 10 ms, compressed as "
        f"|X|<sup>{c.compress}</sup> with its phase kept) goes through dilated convolutions; the mouth, tracked in "
        "every video frame with OpenCV's Haar face detector, goes through a small CNN the model trains itself and "
        "dilated temporal convolutions, repeated to the STFT frame rate (4 STFT frames per video frame); a BiLSTM "
        "and fully connected layers turn both into two complex masks, the face's voice and the rest. The "
        "audio-only model is the same network without the face, trained on the same mixtures with a "
        "permutation-invariant loss: it can split two voices, but not say which one you want.")
    if ctx.av_speakers is not None and (ctx.av_speakers / "grid-s1" / "video").is_dir():
        body += _examples(ctx, separator, baseline)
    else:
        body += paragraphs("Give the tour the data folder (<code>sightsound tour --data ../shared/data</code>) to "
                           "hear and see a held-out GRID mixture separated here.")
    if report:
        body += paragraphs(
            f"Measured on {report['mixtures']} held-out mixtures ({report['split']} split: 50 GRID s1 clips never "
            "used for training or selection, each mixed once with another person's voice from the interferers' "
            f"test files and once with another s1 clip, at {report['snr_range_db'][0]:g} to "
            f"{report['snr_range_db'][1]:g} dB) by <code>sightsound eval separation</code>. The audio-only "
            "model's better output is an oracle choice (someone told it which voice is wanted); its output 0 is "
            "what it returns on its own. WER: the GRID-grammar pocketsphinx judge.")
        body += _table(report)
        if report.get("rows"):
            from sightsound.viz.separation import gains_figure

            body += ctx.figure(gains_figure(report["rows"]), "l2l_gains.png",
                               "SI-SDR improvement of each test mixture against its input SNR, audio-visual and "
                               "audio-only.")
    return Section(anchor, title, body)


SECTIONS = [section_separation]
