"""The ``sightsound`` command line: argument parsing only; the work is done by the library.

Every user-fixable problem (bad file, bad parameter, existing output) ends with one line on
stderr and exit code 2; nothing that exists is overwritten without ``--force``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from sightsound import __version__
from sightsound.errors import SightsoundError, UserInputError

IMAGE_SUFFIXES = (".png", ".pdf", ".svg")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit code 2 (argparse prints usage too)
        self.exit(2, f"{self.prog}: error: {message}\n")


def _bounded(kind, minimum, what: str):
    """An argparse type: ``kind(text)`` that is at least ``minimum``, else the message ``what``."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not value >= minimum:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text}")
        return value

    return parse


positive_int = _bounded(int, 1, "a positive integer")
non_negative_int = _bounded(int, 0, "an integer >= 0")
non_negative_float = _bounded(float, 0.0, "a number >= 0")
temperature_float = _bounded(float, 0.01, "a temperature >= 0.01")


def check_output(path: Path, inputs: list[Path], force: bool, suffixes: tuple[str, ...]) -> Path:
    """Refuse an output that is an input, has the wrong type, or exists (without --force)."""
    if path.suffix.lower() not in suffixes:
        raise UserInputError(f"{path}: output must end in one of {', '.join(suffixes)}")
    for source in inputs:
        if path.resolve() == source.resolve():
            raise UserInputError(f"{path}: output path is the input file; choose another output")
    if path.is_dir():
        raise UserInputError(f"{path}: is a directory")
    if path.exists() and not force:
        raise UserInputError(f"{path}: exists; pass --force to overwrite it")
    if not path.parent.exists():
        raise UserInputError(f"{path.parent}: output folder does not exist")
    return path


def _preset_from_args(args):
    from sightsound.audio.presets import get_preset

    changes = {k: v for k, v in (("n_fft", args.n_fft), ("hop_length", args.hop_length),
                                 ("win_length", args.win_length), ("n_mels", args.n_mels),
                                 ("window", getattr(args, "window", None))) if v is not None}
    return get_preset(args.preset).with_(**changes)


def _load_checked(path: Path, sample_rate: int):
    from sightsound.audio import io
    from sightsound.audio.analysis import check_audible

    y, sr = io.load(path, sr=sample_rate)
    check_audible(y, str(path))
    return y


def cmd_spectrogram(args) -> int:
    import numpy as np

    from sightsound.audio.analysis import analyse
    from sightsound.viz import plots

    preset = _preset_from_args(args)
    out = check_output(Path(args.output), [Path(args.input)], args.force, IMAGE_SUFFIXES)
    npz = check_output(Path(args.npz), [Path(args.input), out], args.force, (".npz",)) if args.npz else None
    y = _load_checked(Path(args.input), preset.sample_rate)
    analysis = analyse(y, preset)
    plots.save_figure(plots.sound_figure(analysis, title=Path(args.input).name), out)
    print(f"wrote {out}")
    if npz is not None:
        with tempfile.NamedTemporaryFile(dir=npz.parent, prefix=f".{npz.stem}.", suffix=".npz", delete=False) as handle:
            np.savez_compressed(handle, **{k: v.numpy() for k, v in analysis.arrays().items()})
        Path(handle.name).replace(npz)
        print(f"wrote {npz}")
    return 0


def cmd_griffinlim(args) -> int:
    from sightsound.audio import io
    from sightsound.audio.analysis import resynthesize

    preset = _preset_from_args(args)
    out = check_output(Path(args.output), [Path(args.input)], args.force, tuple(io.FORMATS))
    y = _load_checked(Path(args.input), preset.sample_rate)
    result = resynthesize(y, preset, source=args.source, n_iter=args.n_iter, momentum=args.momentum,
                          seed=args.seed, init=args.init)
    io.save(out, result.waveform, preset.sample_rate, overwrite=True)
    report = result.report() | {"output": str(out)}
    if args.json:
        print(json.dumps(report))
    else:
        print(f"wrote {out}: spectral convergence {result.spectral_convergence:.4f} "
              f"after {args.n_iter} iterations from the {args.source} spectrogram, {result.seconds:.2f} s")
    return 0


def cmd_tour(args) -> int:
    from sightsound.pretrained import (PHOTO_SAMPLES, SPEECH_SAMPLE, shipped_captioners, shipped_char_lm,
                                       shipped_synthesizer, shipped_vocoder)
    from sightsound.viz.tour import build_tour, synthesize_demo_speech

    out = Path(args.out)
    char_lm, finetune = shipped_char_lm()
    vocoder, vocoder_eval = shipped_vocoder()
    synthesizer, tts_eval = shipped_synthesizer()
    models = dict(char_lm=char_lm, finetune=finetune, vocoder=vocoder, vocoder_eval=vocoder_eval,
                  synthesizer=synthesizer, tts_eval=tts_eval, captioners=shipped_captioners(), photos=PHOTO_SAMPLES)
    if args.audio:
        audio = Path(args.audio)
        page = build_tour(out, audio, force=args.force, **models)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            audio = Path(tmp) / "demo_speech.wav"
            if synthesize_demo_speech(audio):
                print("input: speech synthesised now with flite (kal16 voice)")
            else:
                audio = SPEECH_SAMPLE
                print(f"input: flite not found; using the shipped sample {audio.name}")
            page = build_tour(out, audio, force=args.force, **models)
    print(f"tour written: {page.resolve()}")
    return 0


def cmd_train(args) -> int:
    from sightsound.training import recipes

    if args.resume:
        run_dir = Path(args.resume)
        resolved, saved_data = recipes.resolve_from_run(run_dir)
        if args.recipe or args.set or args.preset:
            print("sightsound: note: --resume continues with the run's own config.json; other settings are ignored",
                  file=sys.stderr)
        data = args.data or saved_data
    else:
        if not args.recipe:
            raise UserInputError("train needs a RECIPE (or --resume RUN_DIR)")
        resolved = recipes.resolve(args.recipe, args.preset or "cpu", args.set)
        run_dir = Path(args.out) if args.out else Path("runs") / f"{resolved.path.stem}-{resolved.preset}-{time.strftime('%Y%m%d-%H%M%S')}"
        if (run_dir / "checkpoints").exists() or (run_dir / "metrics.jsonl").exists():
            raise UserInputError(f"{run_dir}: already holds a run; continue it with --resume {run_dir} or choose another --out")
        data = args.data
    result = recipes.run(resolved, data, run_dir, resume=bool(args.resume), progress=not args.no_progress,
                         device=args.device)
    if int(os.environ.get("RANK", "0")) == 0:
        best = f", best {result.best[0]} = {result.best[1]:.4f}" if result.best else ""
        print(f"{result.stopped} at step {result.step}{best}; run: {run_dir}")
    if result.stopped == "interrupted":
        print(f"sightsound: interrupted; continue with: sightsound train --resume {run_dir}", file=sys.stderr)
        return 130
    return 0


def cmd_plot_run(args) -> int:
    from sightsound.viz import plots

    run_dir = Path(args.run_dir)
    log = run_dir / "metrics.jsonl"
    if not log.is_file():
        raise UserInputError(f"{run_dir}: no metrics.jsonl (not a run directory?)")
    out = check_output(Path(args.output), [log], args.force, IMAGE_SUFFIXES)
    records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    try:
        fig = plots.run_curves_figure(records, title=run_dir.name)
    except ValueError as error:
        raise UserInputError(f"{run_dir}: {error}") from None
    plots.save_figure(fig, out)
    print(f"wrote {out}")
    return 0


def cmd_gpt_sample(args) -> int:
    import torch

    from sightsound.pretrained import load_char_lm

    model, vocab = load_char_lm(args.model)
    prompt = vocab.encode(args.prompt or "\n").unsqueeze(0)  # (1, L)
    generator = torch.Generator().manual_seed(args.seed)
    out = model.generate(prompt, args.tokens, temperature=args.temperature, top_k=args.top_k, top_p=args.top_p,
                         generator=generator)
    print(vocab.decode(out[0]))
    return 0


def cmd_eval_lm(args) -> int:
    import math

    from sightsound.models.transformer import language_model_loss
    from sightsound.pretrained import load_char_lm

    model, vocab = load_char_lm(args.model)
    path = Path(args.text)
    if not path.is_file():
        raise UserInputError(f"{path}: no such file")
    text = path.read_text(encoding="utf-8")
    loss, count = language_model_loss(model, vocab.encode(text))
    report = {"loss": round(loss, 5), "bits_per_char": round(loss / math.log(2), 5), "characters": count,
              "model": str(args.model), "text": str(path)}
    print(json.dumps(report) if args.json else f"loss {loss:.4f} nats/char = {loss / math.log(2):.4f} bits/char "
          f"over {count} characters")
    return 0


def cmd_attention_map(args) -> int:
    import torch

    from sightsound.pretrained import load_char_lm
    from sightsound.viz import plots

    out = check_output(Path(args.output), [], args.force, IMAGE_SUFFIXES)
    model, vocab = load_char_lm(args.model)
    ids = vocab.encode(args.prompt)[-model.config.block_size :].unsqueeze(0)
    with torch.no_grad():
        _, weights, _ = model(ids, need_weights=True)
    tokens = [vocab.decode([i]) for i in ids[0]]
    plots.save_figure(plots.attention_grid_figure([w[0] for w in weights], tokens, title=repr(args.prompt)), out)
    print(f"wrote {out}")
    return 0


def _output_folder(path: str | None, force: bool) -> Path | None:
    """A folder to write many files into: created if missing; a non-empty one needs --force."""
    if path is None:
        return None
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise UserInputError(f"{folder}: exists and is not a folder")
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise UserInputError(f"{folder}: exists and is not empty; pass --force to write into it")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def cmd_vocode(args) -> int:
    from sightsound.audio import io
    from sightsound.pretrained.vocoder import GRIFFIN_LIM, Vocoder

    source = Path(args.input)
    out = check_output(Path(args.output), [source], args.force, tuple(io.FORMATS))
    if args.vocoder == GRIFFIN_LIM:
        vocoder = Vocoder.from_pretrained(GRIFFIN_LIM, n_iter=args.iterations)
    else:
        vocoder = Vocoder.from_pretrained(args.model, temperature=args.temperature)
    y = _load_checked(source, vocoder.sample_rate)
    mel = vocoder.analyse(y)
    start = time.perf_counter()
    wave = vocoder(mel, seed=args.seed, progress=not args.json)[: len(y)]
    seconds = time.perf_counter() - start
    io.save(out, wave, vocoder.sample_rate, overwrite=True)
    report = {"input": str(source), "output": str(out), "vocoder": vocoder.name, "frames": mel.shape[-1],
              "audio_seconds": round(len(y) / vocoder.sample_rate, 3), "synthesis_seconds": round(seconds, 3),
              "real_time_factor": round(seconds * vocoder.sample_rate / len(y), 4)}
    print(json.dumps(report) if args.json else
          f"wrote {out}: {report['audio_seconds']} s of audio from {mel.shape[-1]} mel frames by {vocoder.name} "
          f"in {seconds:.2f} s (real-time factor {report['real_time_factor']})")
    return 0


def cmd_eval_vocoder(args) -> int:
    from sightsound.pretrained.vocoder import Vocoder, evaluate_vocoder

    vocoder = Vocoder.from_pretrained(args.model, temperature=args.temperature)
    out_dir = _output_folder(args.out_dir, args.force)
    report = evaluate_vocoder(vocoder, args.data, clips=args.clips, limit=args.limit, seed=args.seed,
                              draws=args.draws, gl_iterations=args.iterations, out_dir=out_dir,
                              progress=not args.json)
    if args.json:
        print(json.dumps(report))
    else:
        print(f"{report['clips']} clips of {report['data']} ({report['split']}), {report['audio_seconds']} s of audio")
        for system, entry in report["systems"].items():
            print(f"  {system:12s} " + "  ".join(f"{k} {v}" for k, v in entry.items()
                                                  if not isinstance(v, (dict, list))))
            if "wer_range" in entry:
                print(f"  {'':12s} {len(entry['draws'])} draws: WER {entry['wer_range'][0]}-{entry['wer_range'][1]}; "
                      f"one draw against the next: MCD {entry['between_draws']['mcd_db']} dB, "
                      f"LSD {entry['between_draws']['lsd_db']} dB")
            if "mcd_by_level_db" in entry:
                print(f"  {'':12s} MCD by dB below the clip's peak: "
                      + "  ".join(f"{k} {v}" for k, v in entry["mcd_by_level_db"].items()))
            if "slot_error_rates" in entry:
                print(f"  {'':12s} errors by word: " + "  ".join(f"{k} {v}" for k, v in entry["slot_error_rates"].items()))
    return 0


def cmd_tts(args) -> int:
    from sightsound.audio import io
    from sightsound.pretrained.tts import Synthesizer
    from sightsound.text import symbols as S
    from sightsound.viz import plots

    if (args.text is None) == (args.file is None):
        raise UserInputError("give the TEXT to say, or --file sentences.txt (one per line), not both")
    if args.text is not None:
        if not args.output:
            raise UserInputError("say where to write the audio: -o out.wav")
        texts = [args.text]
        outputs = [check_output(Path(args.output), [], args.force, tuple(io.FORMATS))]
    else:
        source = Path(args.file)
        if not source.is_file():
            raise UserInputError(f"{source}: no such file")
        texts = [line.strip() for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
        if not texts:
            raise UserInputError(f"{source}: no sentences (one per line)")
        if not args.out_dir:
            raise UserInputError("with --file, say where to write the audio: --out-dir DIR")
        out_dir = Path(args.out_dir)
        if out_dir.exists() and not out_dir.is_dir():
            raise UserInputError(f"{out_dir}: exists and is not a folder")
        out_dir.mkdir(parents=True, exist_ok=True)
        outputs = [check_output(out_dir / f"{i + 1:04d}.wav", [source], args.force, (".wav",)) for i in range(len(texts))]
    plot = check_output(Path(args.plot), [], args.force, IMAGE_SUFFIXES) if args.plot else None
    for text in texts:
        S.to_symbols(text)  # every sentence must have something to say, before any work
    synth = Synthesizer.from_pretrained(args.model, vocoder=args.vocoder, vocoder_model=args.vocoder_model)
    result = synth(texts, seed=args.seed, progress=args.vocoder == "wavenet")
    for out, wave, text, stopped in zip(outputs, result.waves, texts, result.hit_limit):
        io.save(out, wave, result.sample_rate, overwrite=True)
        note = " (hit the decoder step limit)" if stopped else ""
        print(f"wrote {out}: {len(wave) / result.sample_rate:.2f} s, {text!r}{note}")
    if plot is not None:
        labels = synth.symbols(texts[0])
        fig = plots.tts_figure(result.alignments[0], result.mels[0], S.normalize(texts[0]),
                               synth.preset.hop_length / synth.preset.sample_rate, labels)
        plots.save_figure(fig, plot)
        print(f"wrote {plot}")
    return 0


def cmd_eval_tts(args) -> int:
    from sightsound.pretrained.tts import Synthesizer, evaluate_tts

    synth = Synthesizer.from_pretrained(args.model)
    out_dir = _output_folder(args.out_dir, args.force)
    report = evaluate_tts(synth, args.data, clips=args.clips, limit=args.limit, seed=args.seed, out_dir=out_dir,
                          progress=not args.json, extra_sentences=args.grammar_sentences, word_loop=args.word_loop,
                          teacher_forced=args.teacher_forced, seeds=args.seeds)
    print(json.dumps(report) if args.json else "\n".join(f"{k}: {v}" for k, v in report.items()))
    return 0


def _add_analysis_options(p: argparse.ArgumentParser, window: bool = True) -> None:
    p.add_argument("--preset", choices=["speech", "tts"], default="speech",
                   help="speech: 16 kHz, 25 ms Hamming, 10 ms hop, 80 mels; tts: Tacotron 2's 22.05 kHz settings")
    if window:
        p.add_argument("--window", choices=["hamming", "hann", "rectangular"], help="override the preset's window")
    p.add_argument("--n-fft", type=positive_int)
    p.add_argument("--hop-length", type=positive_int)
    p.add_argument("--win-length", type=positive_int)
    p.add_argument("--n-mels", type=positive_int)
    p.add_argument("--force", action="store_true", help="overwrite existing output files")


def cmd_caption(args) -> int:
    from sightsound.pretrained.captioner import ImageCaptioner
    from sightsound.vision.io import load_image

    image_path = Path(args.image)
    out = check_output(Path(args.out), [image_path], args.force, IMAGE_SUFFIXES) if args.out else None
    captioner = ImageCaptioner.from_pretrained(args.model)
    image = load_image(image_path, max_side=4 * captioner.image_size)
    result = captioner.caption(image, beam=args.beam)
    result.image = str(image_path)
    if out is not None:
        from sightsound.viz.plots import caption_attention_figure, save_figure

        save_figure(caption_attention_figure(image, result.words, result.maps, result.betas,
                                             title=f"{captioner.name}, beam {args.beam}: {result.text}"), out)
    if args.json:
        print(json.dumps(result.to_json()))
    else:
        print(result.text)
        if out is not None:
            print(f"attention maps: {out}")
    return 0


def cmd_eval_caption(args) -> int:
    from sightsound.pretrained.captioner import ImageCaptioner, evaluate_captioner

    captioner = ImageCaptioner.from_pretrained(args.model, cache_dir=args.cache_dir)
    report = evaluate_captioner(captioner, args.data, beam=args.beam, images=args.images, limit=args.limit,
                                progress=not args.json, meteor=not args.no_meteor)
    if args.json:
        print(json.dumps(report))
    else:
        print(f"{report['images']} images of {report['data']} ({report['split']}), beam {report['beam']}")
        print("  " + "  ".join(f"{k} {v}" for k, v in report["scores"].items()))
        if "attention" in report:
            att = report["attention"]
            print(f"  attention correctness {att['correctness']} (area baseline {att['area_baseline']}, "
                  f"{att['scored_words']} words scored, {att['unmatched_words']} unmatched)")
    return 0


def cmd_shapes(args) -> int:
    from sightsound.data.synthetic import write_shapes

    out = Path(args.out)
    if out.exists() and any(out.iterdir()) and not args.force:
        raise UserInputError(f"{out}: exists and is not empty; pass --force to write into it")
    if not 0.25 <= args.object_scale <= 1.6:
        raise UserInputError(f"--object-scale must lie in [0.25, 1.6], got {args.object_scale}")
    write_shapes(out, args.images, args.seed, args.size, args.object_scale)
    print(f"wrote {args.images} scenes to {out} (images/, captions.txt, objects.json, masks.npz)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="sightsound", description="The attention-based visual and sound models of the lecture.")
    parser.add_argument("--version", action="version", version=f"sightsound {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("tour", help="write the HTML walk through the lecture (the main job)")
    p.add_argument("--out", required=True, help="output folder (index.html and assets/)")
    p.add_argument("--audio", help="speech to analyse (default: synthesised with flite, else a shipped sample)")
    p.add_argument("--force", action="store_true", help="write into a non-empty folder not made by the tour")
    p.set_defaults(func=cmd_tour)

    p = sub.add_parser("spectrogram", help="waveform, power spectrum, spectrogram, mel and window leakage in one figure")
    p.add_argument("input")
    p.add_argument("-o", "--output", required=True, help="figure (.png, .pdf or .svg)")
    p.add_argument("--npz", help="also save the arrays behind the figure")
    _add_analysis_options(p)
    p.set_defaults(func=cmd_spectrogram)

    p = sub.add_parser("griffinlim", help="analyse, then rebuild the waveform from the magnitude by Griffin-Lim")
    p.add_argument("input")
    p.add_argument("-o", "--output", required=True, help="output sound file (.wav, .flac, .ogg, .mp3)")
    p.add_argument("--from", dest="source", choices=["linear", "mel"], default="linear")
    p.add_argument("--n-iter", type=non_negative_int, default=32)
    p.add_argument("--momentum", type=non_negative_float, default=0.99, help="0 = classic Griffin-Lim")
    p.add_argument("--init", choices=["random", "zeros", "pghi"], default="random",
                   help="initial phase: random, zero, or phase-gradient heap integration (Hann/Hamming)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print the measurements as JSON")
    _add_analysis_options(p)
    p.set_defaults(func=cmd_griffinlim)

    p = sub.add_parser("train", help="train a recipe (tiny/cpu/paper preset); DDP when launched by torchrun")
    p.add_argument("recipe", nargs="?", help="recipe file, or a name in ./recipes")
    p.add_argument("--preset", choices=["tiny", "cpu", "paper"], help="default: cpu")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a value, e.g. --set train.lr=3e-4 --set model.channels=64")
    p.add_argument("--data", help="data folder (default: $SIGHTSOUND_DATA)")
    p.add_argument("--out", help="run directory (default: runs/RECIPE-PRESET-TIME)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted run exactly")
    p.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: cuda when present)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (logs still go to metrics.jsonl)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("gpt", help="GPT language models")
    gpt_sub = p.add_subparsers(dest="gpt_command", required=True, parser_class=_Parser)
    q = gpt_sub.add_parser("sample", help="sample text from a character language model")
    q.add_argument("--model", required=True, help="run folder or shipped name")
    q.add_argument("--prompt", default="\n")
    q.add_argument("--tokens", type=positive_int, default=200)
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--temperature", type=non_negative_float, default=0.8)
    q.add_argument("--top-k", type=positive_int)
    q.add_argument("--top-p", type=non_negative_float)
    q.set_defaults(func=cmd_gpt_sample)

    p = sub.add_parser("eval", help="evaluate a model")
    eval_sub = p.add_subparsers(dest="eval_command", required=True, parser_class=_Parser)
    q = eval_sub.add_parser("lm", help="loss and bits per character of a text under a language model")
    q.add_argument("--model", required=True)
    q.add_argument("--text", required=True)
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_eval_lm)

    q = eval_sub.add_parser("vocoder", help="copy-synthesis of GRID-layout clips: MCD, LSD, SC, WER vs Griffin-Lim")
    q.add_argument("--model", default="wavenet-grid", help="shipped WaveNet name or run folder")
    q.add_argument("--data", required=True, help="folder with audio/*.flac and align/*.align (like grid-s1)")
    q.add_argument("--clips", default="all",
                   help="all (default), val (the fixed validation split, every 18th clip), train (the rest), "
                        "or a text file of clip names, one a line")
    q.add_argument("--limit", type=positive_int, help="evaluate at most this many clips")
    q.add_argument("--iterations", type=positive_int, default=32, help="Griffin-Lim iterations of the baseline")
    q.add_argument("--temperature", type=temperature_float,
                   help="WaveNet sampling temperature (default: the vocoder's, 1.0)")
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--draws", type=positive_int, default=1,
                   help="synthesise every clip this many times (seeds SEED, SEED+1, ...): mean, range and "
                        "the distortion between draws")
    q.add_argument("--out-dir", help="also write every synthesised clip here")
    q.add_argument("--force", action="store_true")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_eval_vocoder)

    q = eval_sub.add_parser("tts", help="synthesise every transcript of a folder: focus rate, stops, WER, RTF")
    q.add_argument("--model", default="tacotron2-grid", help="shipped Tacotron 2 name or run folder")
    q.add_argument("--data", required=True,
                   help="folder like grid-s1 (audio/, align/), LJSpeech (metadata.csv, wavs/) or flickr8k-1k "
                        "(captions.txt, spoken/)")
    q.add_argument("--clips", choices=["all", "val"], default="all",
                   help="all clips of the folder, or the fixed validation split (every 18th clip)")
    q.add_argument("--limit", type=positive_int, help="evaluate at most this many sentences")
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--out-dir", help="also write every synthesised sentence here")
    q.add_argument("--word-loop", action="store_true",
                   help="also a WER with any sequence of the corpus words (slow: about 10 s per sentence)")
    q.add_argument("--grammar-sentences", type=non_negative_int, default=0,
                   help="also decode N random GRID-grammar sentences (new text: focus, step-limit hits, WER)")
    q.add_argument("--teacher-forced", action="store_true",
                   help="also the WER of mels predicted with the real previous frame fed back (as in training)")
    q.add_argument("--seeds", type=positive_int, default=1,
                   help="decode every sentence N times (the prenet's dropout stays on at inference): focus, step-limit "
                        "hits and synthetic WER over all N readings")
    q.add_argument("--force", action="store_true")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_eval_tts)

    q = eval_sub.add_parser("caption", help="caption a folder (images/ + captions.txt): BLEU, METEOR, ROUGE-L, CIDEr "
                                            "(coco-caption), attention correctness on a shapes folder")
    q.add_argument("--model", default="flickr8k-1k", help="shipped captioner name (flickr8k-1k, shapes) or run folder")
    q.add_argument("--data", required=True, help="folder with images/ and captions.txt (image,caption CSV)")
    q.add_argument("--beam", type=positive_int, default=3)
    q.add_argument("--images", choices=["all", "val", "train"], default="all",
                   help="all images of the folder, or one side of the fixed split (every 8th photo = val)")
    q.add_argument("--limit", type=positive_int, help="evaluate at most this many images")
    q.add_argument("--cache-dir", help="feature cache folder (default ~/.cache/sightsound/features)")
    q.add_argument("--no-meteor", action="store_true", help="skip METEOR (the slowest scorer)")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_eval_caption)

    p = sub.add_parser("caption", help="caption an image and draw each word's attention map")
    p.add_argument("image")
    p.add_argument("--model", default="flickr8k-1k", help="shipped captioner name (flickr8k-1k, shapes) or run folder")
    p.add_argument("--beam", type=positive_int, default=3)
    p.add_argument("-o", "--out", help="write the picture (photo + one attention panel per word) here (.png/.pdf/.svg)")
    p.add_argument("--json", action="store_true", help="print the words and their 14x14 maps as JSON")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_caption)

    p = sub.add_parser("shapes", help="write a synthetic shapes-world caption folder (images, captions, masks)")
    p.add_argument("--out", required=True)
    p.add_argument("--images", type=positive_int, default=500)
    p.add_argument("--seed", type=int, default=2, help="training uses seeds 0 (train) and 1 (val); 2+ are held out")
    p.add_argument("--size", type=positive_int, default=112)
    p.add_argument("--object-scale", type=float, default=1.0,
                   help="radii multiplier: 1.0 = the shipped model's world (objects ~5.5%% of the image), 1.4 ~ 10%%")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_shapes)

    p = sub.add_parser("tts", help="text to speech with Tacotron 2 (+ Griffin-Lim or WaveNet)")
    p.add_argument("text", nargs="?", help="what to say (or --file)")
    p.add_argument("-o", "--output", help="output audio (.wav, .flac, .ogg)")
    p.add_argument("--file", help="a text file, one sentence per line (with --out-dir)")
    p.add_argument("--out-dir", help="folder for the --file sentences (0001.wav, 0002.wav, ...)")
    p.add_argument("--model", default="tacotron2-grid", help="shipped Tacotron 2 name or run folder")
    p.add_argument("--vocoder", choices=["griffinlim", "wavenet"], default="griffinlim")
    p.add_argument("--vocoder-model", default="wavenet-grid", help="WaveNet name or run folder (--vocoder wavenet)")
    p.add_argument("--plot", help="figure of the alignment above the predicted mel (.png, .pdf, .svg)")
    p.add_argument("--seed", type=int, default=0, help="seed of the prenet dropout (kept on at inference)")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_tts)

    p = sub.add_parser("vocode", help="spectrogram -> waveform: resynthesise a recording from its log-mel")
    p.add_argument("input", help="audio file (resampled to the vocoder's rate)")
    p.add_argument("-o", "--output", required=True, help="output audio (.wav, .flac, .ogg)")
    p.add_argument("--vocoder", choices=["wavenet", "griffinlim"], default="wavenet")
    p.add_argument("--model", default="wavenet-grid", help="shipped WaveNet name or run folder (--vocoder wavenet)")
    p.add_argument("--iterations", type=positive_int, default=32, help="Griffin-Lim iterations")
    p.add_argument("--temperature", type=temperature_float,
                   help="WaveNet sampling temperature (default: the vocoder's, 1.0)")
    p.add_argument("--seed", type=int, default=0, help="sampling seed (WaveNet) or initial phase seed")
    p.add_argument("--json", action="store_true")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_vocode)

    p = sub.add_parser("attention-map", help="attention weights of every layer and head for a prompt")
    p.add_argument("--model", required=True)
    p.add_argument("--prompt", required=True)
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_attention_map)

    p = sub.add_parser("plot-run", help="draw a run's loss and metric curves")
    p.add_argument("run_dir")
    p.add_argument("-o", "--output", required=True, help="figure (.png, .pdf or .svg)")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_plot_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except SightsoundError as error:
        print(f"sightsound: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # permissions, disk full, ...
        where = f"{error.filename}: " if error.filename else ""
        print(f"sightsound: error: {where}{error.strerror or error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("sightsound: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
