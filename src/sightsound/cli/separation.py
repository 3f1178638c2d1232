"""Looking to Listen: ``separate`` (one voice out of a mixture, chosen by a face video), ``mix`` (make a test
mixture at a chosen SNR) and ``eval separation``."""

from __future__ import annotations

import json
from pathlib import Path

from sightsound.cli.common import (
    IMAGE_SUFFIXES,
    bounded_int,
    check_output,
    print_target_report,
)
from sightsound.errors import UserInputError

AUDIO_OUT = (".wav", ".flac")
AUDIO_IN = (".wav", ".flac", ".ogg", ".mp3")


def _audio_input(path: str) -> Path:
    p = Path(path)
    if p.suffix.lower() not in AUDIO_IN:
        raise UserInputError(f"{p}: expected a sound file ({', '.join(AUDIO_IN)})")
    return p


def cmd_separate(args) -> int:
    import torch

    from sightsound.audio import io as audio_io
    from sightsound.pretrained.separation import Separator

    mixture = _audio_input(args.mixture)
    inputs = [mixture] + ([Path(args.face)] if args.face else [])
    out = check_output(Path(args.out), inputs, args.force, AUDIO_OUT)
    rest = check_output(Path(args.also_rest), inputs, args.force, AUDIO_OUT) if args.also_rest else None
    plot = check_output(Path(args.plot), inputs, args.force, IMAGE_SUFFIXES) if args.plot else None
    chosen = [p.resolve() for p in (out, rest, plot) if p is not None]
    if len(set(chosen)) < len(chosen):
        raise UserInputError("-o, --also-rest and --plot must be different files")
    separator = Separator.from_pretrained(args.model)
    if separator.visual and not args.face:
        raise UserInputError(f"{args.model} picks the voice of a face: give its video with --face VIDEO.mp4")
    if not separator.visual and args.face:
        raise UserInputError(f"{args.model} is the audio-only model: it cannot use --face (it returns its two "
                             "outputs in its own order)")
    wave = separator.load_mixture(mixture)
    mouths = separator.mouths(args.face) if args.face else None
    if mouths is not None:
        separator.align(wave, mouths, where=str(args.face))
    result = separator.separate(wave, mouths)
    peak = max(float(result.target.abs().max()), float(result.rest.abs().max()), 1e-9)
    gain = min(1.0, 0.99 / peak)  # never clip; the same gain on both keeps their balance
    audio_io.save(out, result.target * gain, result.sample_rate, overwrite=args.force)
    if rest is not None:
        audio_io.save(rest, result.rest * gain, result.sample_rate, overwrite=args.force)
    if plot is not None:
        from sightsound.viz.plots import save_figure
        from sightsound.viz.separation import separation_figure

        spec = result.estimate_spec
        rest_spec = spec[1] if spec.shape[0] > 1 else result.mixture_spec - spec[0]
        save_figure(separation_figure(result.mixture_spec, spec[0], rest_spec, result.masks[0], result.sample_rate,
                                      separator.model.config.hop_length, mouths,
                                      title=f"{mixture.name}: the voice of {Path(args.face).name if args.face else 'output 0'}"),
                    plot, overwrite=args.force)
    energy = float(result.target.pow(2).sum() / result.mixture.pow(2).sum().clamp_min(torch.finfo().tiny))
    report = {"mixture": str(mixture), "face": args.face, "target": str(out), "rest": str(rest) if rest else None,
              "plot": str(plot) if plot else None, "seconds": round(result.mixture.shape[-1] / result.sample_rate, 3),
              "target_energy_fraction": round(energy, 4)}
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"separated {report['seconds']:.2f} s: the voice -> {out}" + (f", the rest -> {rest}" if rest else "")
          + (f", picture -> {plot}" if plot else ""))
    print(f"  the separated voice holds {100 * energy:.0f}% of the mixture's energy")
    return 0


def cmd_mix(args) -> int:
    import torch

    from sightsound.audio import io as audio_io
    from sightsound.data.av_mixtures import active_power, mix_at

    a, b = _audio_input(args.a), _audio_input(args.b)
    out = check_output(Path(args.out), [a, b], args.force, AUDIO_OUT)
    if not -30.0 <= args.snr <= 30.0:
        raise UserInputError(f"--snr must lie in [-30, 30] dB, got {args.snr}")
    sr = args.sample_rate
    target, _ = audio_io.load(a, sr=sr)
    other, _ = audio_io.load(b, sr=sr)
    for path, y in ((a, target), (b, other)):
        if not torch.isfinite(y).all():
            raise UserInputError(f"{path}: holds NaN or infinite samples")
        if active_power(y, sr) <= 1e-16:
            raise UserInputError(f"{path}: the file is silent: nothing to mix")
    if other.shape[-1] < target.shape[-1]:  # repeat the second voice to cover the first
        other = other.repeat(target.shape[-1] // other.shape[-1] + 1)
    other = other[: target.shape[-1]]
    mixture, _, _ = mix_at(target, other, args.snr, sr)
    audio_io.save(out, mixture, sr, overwrite=args.force)
    report = {"mixture": str(out), "target": str(a), "interferer": str(b), "snr_db": args.snr,
              "seconds": round(mixture.shape[-1] / sr, 3), "sample_rate": sr}
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"mixed {a.name} with {b.name} at {args.snr:+g} dB ({report['seconds']:.2f} s, {sr} Hz) -> {out}")
    return 0


def cmd_eval_separation(args) -> int:
    from sightsound.evaluation.separation import (
        evaluate_separation,
        summary_lines,
        targets,
    )

    report = evaluate_separation(args.model, None if args.no_baseline else args.baseline, args.data,
                                 split=args.split, wer=not args.no_wer, pesq=not args.no_pesq, limit=args.limit,
                                 progress=not args.json)
    return print_target_report(report, targets, summary_lines, args)


def register(sub, eval_sub) -> None:
    """Add this group's commands to the top-level and ``eval`` sub-parsers."""
    p = sub.add_parser("separate", help="pull one voice out of a mixture; the face video says whose (Looking to "
                                        "Listen)")
    p.add_argument("mixture", help="the mixture (.wav, .flac, .ogg, .mp3)")
    p.add_argument("--face", help="a video of the wanted speaker's face, covering the same time as the mixture")
    p.add_argument("-o", "--out", required=True, help="the separated voice (.wav or .flac)")
    p.add_argument("--also-rest", help="also write everything else in the mixture (.wav or .flac)")
    p.add_argument("--plot", help="a picture of the mixture, voice, rest and mask spectrograms (.png/.pdf/.svg)")
    p.add_argument("--model", default="looking-to-listen-grid",
                   help="shipped model name or run folder (audio-only-separation-grid: the baseline, no --face)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--force", action="store_true", help="overwrite existing outputs")
    p.set_defaults(func=cmd_separate)
    p = sub.add_parser("mix", help="mix two recordings at a chosen signal-to-interference ratio (test cases)")
    p.add_argument("a", help="the wanted voice")
    p.add_argument("b", help="the interfering sound (repeated if shorter, cut if longer)")
    p.add_argument("-o", "--out", required=True, help="the mixture (.wav or .flac)")
    p.add_argument("--snr", type=float, default=0.0, help="active-speech power of A over B in dB (default 0)")
    p.add_argument("--sample-rate", type=bounded_int(8000, 48000, "a sample rate in Hz"), default=16000)
    p.add_argument("--json", action="store_true")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_mix)
    q = eval_sub.add_parser("separation", help="Looking to Listen vs the audio-only model on fixed GRID mixtures "
                                               "(SI-SDRi, SDR, STOI, PESQ, WER)")
    q.add_argument("--data", help="data folder with grid-s1/ and interferer corpora (default $SIGHTSOUND_DATA)")
    q.add_argument("--model", default="looking-to-listen-grid", help="the audio-visual model (name or run folder)")
    q.add_argument("--baseline", default="audio-only-separation-grid", help="the audio-only model")
    q.add_argument("--no-baseline", action="store_true", help="score the audio-visual model alone")
    q.add_argument("--split", choices=["test", "select"], default="test",
                   help="the held-out test mixtures (default) or the selection ones")
    q.add_argument("--limit", type=bounded_int(1, 10_000, "a number of clips"), help="only the first N clips")
    q.add_argument("--no-wer", action="store_true", help="skip the pocketsphinx word error rates")
    q.add_argument("--no-pesq", action="store_true", help="skip PESQ")
    q.add_argument("--rows", action="store_true", help="include every mixture's numbers in the JSON")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_eval_separation)
