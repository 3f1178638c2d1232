"""Sound representation and vocoders: ``spectrogram``, ``griffinlim``, ``vocode``, ``eval vocoder``."""

from __future__ import annotations

import json
import time
from pathlib import Path

from sightsound.cli.common import (
    IMAGE_SUFFIXES,
    add_analysis_options,
    bounded_int,
    check_output,
    load_checked,
    non_negative_float,
    output_folder,
    positive_int,
    preset_from_args,
    seed_int,
    temperature_float,
)
from sightsound.fileio import atomic_path


def cmd_spectrogram(args) -> int:
    import numpy as np

    from sightsound.audio.analysis import analyse
    from sightsound.viz import plots

    preset = preset_from_args(args)
    out = check_output(Path(args.output), [Path(args.input)], args.force, IMAGE_SUFFIXES)
    npz = check_output(Path(args.npz), [Path(args.input), out], args.force, (".npz",)) if args.npz else None
    y = load_checked(Path(args.input), preset.sample_rate)
    analysis = analyse(y, preset)
    plots.save_figure(plots.sound_figure(analysis, title=Path(args.input).name), out, overwrite=args.force)
    print(f"wrote {out}")
    if npz is not None:
        with atomic_path(npz, overwrite=args.force) as tmp:
            np.savez_compressed(tmp, **{k: v.numpy() for k, v in analysis.arrays().items()})
        print(f"wrote {npz}")
    return 0


def cmd_griffinlim(args) -> int:
    from sightsound.audio import io
    from sightsound.audio.analysis import resynthesize

    preset = preset_from_args(args)
    out = check_output(Path(args.output), [Path(args.input)], args.force, tuple(io.FORMATS))
    y = load_checked(Path(args.input), preset.sample_rate)
    result = resynthesize(y, preset, source=args.source, n_iter=args.n_iter, momentum=args.momentum,
                          seed=args.seed, init=args.init)
    io.save(out, result.waveform, preset.sample_rate, overwrite=args.force)
    report = result.report() | {"output": str(out)}
    if args.json:
        print(json.dumps(report))
    else:
        print(f"wrote {out}: spectral convergence {result.spectral_convergence:.4f} "
              f"after {args.n_iter} iterations from the {args.source} spectrogram, {result.seconds:.2f} s")
    return 0


def cmd_vocode(args) -> int:
    from sightsound.audio import io
    from sightsound.pretrained.vocoder import GRIFFIN_LIM, Vocoder

    source = Path(args.input)
    out = check_output(Path(args.output), [source], args.force, tuple(io.FORMATS))
    if args.vocoder == GRIFFIN_LIM:
        vocoder = Vocoder.from_pretrained(GRIFFIN_LIM, n_iter=args.iterations)
    else:
        vocoder = Vocoder.from_pretrained(args.model, temperature=args.temperature)
    y = load_checked(source, vocoder.sample_rate)
    mel = vocoder.analyse(y)
    start = time.perf_counter()
    wave = vocoder(mel, seed=args.seed, progress=not args.json)[: len(y)]
    seconds = time.perf_counter() - start
    io.save(out, wave, vocoder.sample_rate, overwrite=args.force)
    report = {"input": str(source), "output": str(out), "vocoder": vocoder.name, "frames": mel.shape[-1],
              "audio_seconds": round(len(y) / vocoder.sample_rate, 3), "synthesis_seconds": round(seconds, 3),
              "real_time_factor": round(seconds * vocoder.sample_rate / len(y), 4)}
    print(json.dumps(report) if args.json else
          f"wrote {out}: {report['audio_seconds']} s of audio from {mel.shape[-1]} mel frames by {vocoder.name} "
          f"in {seconds:.2f} s (real-time factor {report['real_time_factor']})")
    return 0


def cmd_eval_vocoder(args) -> int:
    from sightsound.evaluation.vocoder import evaluate_vocoder
    from sightsound.pretrained.vocoder import Vocoder

    vocoder = Vocoder.from_pretrained(args.model, temperature=args.temperature)
    out_dir = output_folder(args.out_dir, args.force)
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


def register(sub, eval_sub) -> None:
    """Add this group's commands to the top-level and ``eval`` sub-parsers."""
    p = sub.add_parser("spectrogram", help="waveform, power spectrum, spectrogram, mel and window leakage in one figure")
    p.add_argument("input")
    p.add_argument("-o", "--output", required=True, help="figure (.png, .pdf or .svg)")
    p.add_argument("--npz", help="also save the arrays behind the figure")
    add_analysis_options(p)
    p.set_defaults(func=cmd_spectrogram)
    p = sub.add_parser("griffinlim", help="analyse, then rebuild the waveform from the magnitude by Griffin-Lim")
    p.add_argument("input")
    p.add_argument("-o", "--output", required=True, help="output sound file (.wav, .flac, .ogg, .mp3)")
    p.add_argument("--from", dest="source", choices=["linear", "mel"], default="linear")
    p.add_argument("--n-iter", type=bounded_int(0, 10_000, "a number of iterations"), default=32)
    p.add_argument("--momentum", type=non_negative_float, default=0.99, help="0 = classic Griffin-Lim")
    p.add_argument("--init", choices=["random", "zeros", "pghi"], default="random",
                   help="initial phase: random, zero, or phase-gradient heap integration (Hann/Hamming)")
    p.add_argument("--seed", type=seed_int, default=0)
    p.add_argument("--json", action="store_true", help="print the measurements as JSON")
    add_analysis_options(p)
    p.set_defaults(func=cmd_griffinlim)
    p = sub.add_parser("vocode", help="spectrogram -> waveform: resynthesise a recording from its log-mel")
    p.add_argument("input", help="audio file (resampled to the vocoder's rate)")
    p.add_argument("-o", "--output", required=True, help="output audio (.wav, .flac, .ogg)")
    p.add_argument("--vocoder", choices=["wavenet", "griffinlim"], default="wavenet")
    p.add_argument("--model", default="wavenet-grid", help="shipped WaveNet name or run folder (--vocoder wavenet)")
    p.add_argument("--iterations", type=bounded_int(1, 10_000, "a number of iterations"), default=32,
                   help="Griffin-Lim iterations")
    p.add_argument("--temperature", type=temperature_float,
                   help="WaveNet sampling temperature (default: the vocoder's, 1.0)")
    p.add_argument("--seed", type=seed_int, default=0, help="sampling seed (WaveNet) or initial phase seed")
    p.add_argument("--json", action="store_true")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_vocode)
    q = eval_sub.add_parser("vocoder", help="copy-synthesis of GRID-layout clips: MCD, LSD, SC, WER vs Griffin-Lim")
    q.add_argument("--model", default="wavenet-grid", help="shipped WaveNet name or run folder")
    q.add_argument("--data", required=True, help="folder with audio/*.flac and align/*.align (like grid-s1)")
    q.add_argument("--clips", default="all",
                   help="all (default), val (the fixed validation split, every 18th clip), train (the rest), "
                        "or a text file of clip names, one a line")
    q.add_argument("--limit", type=positive_int, help="evaluate at most this many clips")
    q.add_argument("--iterations", type=bounded_int(1, 10_000, "a number of iterations"), default=32,
                   help="Griffin-Lim iterations of the baseline")
    q.add_argument("--temperature", type=temperature_float,
                   help="WaveNet sampling temperature (default: the vocoder's, 1.0)")
    q.add_argument("--seed", type=seed_int, default=0)
    q.add_argument("--draws", type=positive_int, default=1,
                   help="synthesise every clip this many times (seeds SEED, SEED+1, ...): mean, range and "
                        "the distortion between draws")
    q.add_argument("--out-dir", help="also write every synthesised clip here")
    q.add_argument("--force", action="store_true")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_eval_vocoder)
