"""Text to speech: ``tts`` and ``eval tts``."""

from __future__ import annotations

import json
from pathlib import Path

from sightsound.cli.common import (
    IMAGE_SUFFIXES,
    bounded_int,
    check_output,
    non_negative_int,
    output_folder,
    positive_int,
    seed_int,
)
from sightsound.errors import UserInputError
from sightsound.fileio import read_text


def warn_unknown_words(synth, texts: list[str]) -> None:
    """One line on stderr naming the words the voice cannot be trusted to say (``Synthesizer.unknown_words``)."""
    import sys

    unknown, why = [], ""
    for text in texts:
        words, why_here = synth.unknown_words(text)
        unknown += [w for w in words if w not in unknown]
        why = why or why_here
    if unknown:
        shown = ", ".join(repr(w) for w in unknown[:8]) + (f" and {len(unknown) - 8} more" if len(unknown) > 8 else "")
        print(f"sightsound: warning: {shown} {'is' if len(unknown) == 1 else 'are'} {why}", file=sys.stderr)


def read_sentences(source: Path) -> list[str]:
    """The non-empty lines of a text file, or one clear error."""
    if not source.is_file():
        raise UserInputError(f"{source}: {'a folder, not a text file' if source.is_dir() else 'no such file'}")
    texts = [line.strip() for line in read_text(source, "sentence file").splitlines() if line.strip()]
    if not texts:
        raise UserInputError(f"{source}: no sentences (one per line)")
    return texts


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
        texts = read_sentences(source)
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
    warn_unknown_words(synth, texts)
    result = synth(texts, seed=args.seed, progress=args.vocoder == "wavenet")
    for out, wave, text, stopped in zip(outputs, result.waves, texts, result.hit_limit):
        io.save(out, wave, result.sample_rate, overwrite=args.force)
        note = " (hit the decoder step limit)" if stopped else ""
        print(f"wrote {out}: {len(wave) / result.sample_rate:.2f} s, {text!r}{note}")
    if plot is not None:
        labels = synth.symbols(texts[0])
        fig = plots.tts_figure(result.alignments[0], result.mels[0], S.normalize(texts[0]),
                               synth.preset.hop_length / synth.preset.sample_rate, labels)
        plots.save_figure(fig, plot, overwrite=args.force)
        print(f"wrote {plot}")
    return 0


def cmd_eval_tts(args) -> int:
    from sightsound.evaluation.tts import evaluate_tts
    from sightsound.pretrained.tts import Synthesizer

    sentences = read_sentences(Path(args.sentences)) if args.sentences else None
    synth = Synthesizer.from_pretrained(args.model)
    out_dir = output_folder(args.out_dir, args.force)
    report = evaluate_tts(synth, args.data, clips=args.clips, limit=args.limit, seed=args.seed, out_dir=out_dir,
                          progress=not args.json, extra_sentences=args.grammar_sentences, word_loop=args.word_loop,
                          teacher_forced=args.teacher_forced, seeds=args.seeds, val_every=args.val_every,
                          peak_db=args.peak_db, sentences=sentences)
    print(json.dumps(report) if args.json else "\n".join(f"{k}: {v}" for k, v in report.items()))
    return 0


def register(sub, eval_sub) -> None:
    """Add this group's commands to the top-level and ``eval`` sub-parsers."""
    p = sub.add_parser("tts", help="text to speech with Tacotron 2 (+ Griffin-Lim or WaveNet)")
    p.add_argument("text", nargs="?", help="what to say (or --file)")
    p.add_argument("-o", "--output", help="output audio (.wav, .flac, .ogg)")
    p.add_argument("--file", help="a text file, one sentence per line (with --out-dir)")
    p.add_argument("--out-dir", help="folder for the --file sentences (0001.wav, 0002.wav, ...)")
    p.add_argument("--model", default="tacotron2-grid", help="shipped Tacotron 2 name or run folder")
    p.add_argument("--vocoder", choices=["griffinlim", "wavenet"], default="griffinlim")
    p.add_argument("--vocoder-model", default="wavenet-grid", help="WaveNet name or run folder (--vocoder wavenet)")
    p.add_argument("--plot", help="figure of the alignment above the predicted mel (.png, .pdf, .svg)")
    p.add_argument("--seed", type=seed_int, default=0, help="seed of the prenet dropout (kept on at inference)")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_tts)
    q = eval_sub.add_parser("tts", help="synthesise every transcript of a folder: focus rate, stops, WER, RTF")
    q.add_argument("--model", default="tacotron2-grid", help="shipped Tacotron 2 name or run folder")
    q.add_argument("--data", required=True,
                   help="folder like grid-s1 (audio/, align/), LJSpeech (metadata.csv, wavs/) or flickr8k-1k "
                        "(captions.txt, spoken/)")
    q.add_argument("--clips", choices=["all", "val", "test"], default="all",
                   help="all clips of the folder, the fixed selection split (every 18th clip; --val-every N), or "
                        "an LJSpeech folder's held-out lines (every Nth from the N/2-th)")
    q.add_argument("--val-every", type=bounded_int(2, 10_000, "a line interval"),
                   help="the LJSpeech split's interval, as the voice's recipe (Kathleen: 20)")
    q.add_argument("--peak-db", type=float, help="scale each real recording to this peak (dBFS), as in training")
    q.add_argument("--limit", type=positive_int, help="evaluate at most this many sentences")
    q.add_argument("--seed", type=seed_int, default=0)
    q.add_argument("--out-dir", help="also write every synthesised sentence here")
    q.add_argument("--word-loop", action="store_true",
                   help="also a WER with any sequence of the corpus words (slow: about 10 s per sentence)")
    q.add_argument("--grammar-sentences", type=non_negative_int, default=0,
                   help="also decode N random GRID-grammar sentences (new text: focus, step-limit hits, WER)")
    q.add_argument("--sentences", help="also decode these sentences (a text file, one per line; no recordings): "
                                       "focus, step-limit hits, WER")
    q.add_argument("--teacher-forced", action="store_true",
                   help="also the WER of mels predicted with the real previous frame fed back (as in training)")
    q.add_argument("--seeds", type=positive_int, default=1,
                   help="decode every sentence N times (the prenet's dropout stays on at inference): focus, step-limit "
                        "hits and synthetic WER over all N readings")
    q.add_argument("--force", action="store_true")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_eval_tts)
