"""Lip motion: ``lips`` (speech -> a talking-face video), ``talk`` (text -> Tacotron 2 -> a talking-face video)
and ``eval lips``."""

from __future__ import annotations

import json
from pathlib import Path

from sightsound.cli.common import bounded_int, check_output, print_target_report
from sightsound.errors import UserInputError

VIDEO_OUT = (".mp4",)
AUDIO_IN = (".wav", ".flac", ".ogg", ".mp3")


def _face_input(face: str | None) -> Path | None:
    if face is None:
        return None
    path = Path(face)
    if not path.is_file():
        raise UserInputError(f"{path}: no such file")
    return path


def _write(animator, wave, args, inputs: list[Path], label: str) -> dict:
    out = check_output(Path(args.out), inputs, args.force, VIDEO_OUT)
    overlay = check_output(Path(args.overlay), inputs + [out], args.force, VIDEO_OUT) if args.overlay else None
    face = _face_input(args.face)
    animation = animator.animate(wave, face, progress=not args.json)
    animation.save(out, overwrite=args.force)
    if overlay is not None:
        from dataclasses import replace

        import numpy as np

        renderer = animator.renderer(face)
        drawn = np.stack([renderer.overlay(f, m) for f, m in zip(animation.frames, animation.mouths)])
        replace(animation, frames=drawn).save(overlay, overwrite=args.force)
    seconds = len(animation.frames) / animation.fps
    return {"input": label, "video": str(out), "overlay": str(overlay) if overlay else None,
            "face": str(face) if face else "the model's reference (GRID s1)", "frames": len(animation.frames),
            "seconds": round(seconds, 3), "fps": animation.fps}


def cmd_lips(args) -> int:
    from sightsound.pretrained.lips import LipAnimator

    speech = Path(args.speech)
    if speech.suffix.lower() not in AUDIO_IN:
        raise UserInputError(f"{speech}: expected a sound file ({', '.join(AUDIO_IN)})")
    inputs = [speech] + ([Path(args.face)] if args.face else [])
    check_output(Path(args.out), inputs, args.force, VIDEO_OUT)
    animator = LipAnimator.from_pretrained(args.model)
    wave = animator.load_speech(speech)
    report = _write(animator, wave, args, inputs, str(speech))
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"wrote {report['video']}: {report['seconds']:.2f} s, {report['frames']} frames at {report['fps']:g} fps, "
          f"face: {report['face']}" + (f"; landmarks drawn -> {report['overlay']}" if report["overlay"] else ""))
    return 0


def cmd_talk(args) -> int:
    import torch

    from sightsound.audio.functional import resample
    from sightsound.cli.tts import warn_unknown_words
    from sightsound.pretrained.lips import SAMPLE_RATE, LipAnimator
    from sightsound.pretrained.tts import Synthesizer
    from sightsound.text import symbols as S

    if not args.text.strip():
        raise UserInputError("give the TEXT to say")
    S.to_symbols(args.text)  # something to say, before any work
    inputs = [Path(args.face)] if args.face else []
    check_output(Path(args.out), inputs, args.force, VIDEO_OUT)
    animator = LipAnimator.from_pretrained(args.model)
    synth = Synthesizer.from_pretrained(args.voice)
    warn_unknown_words(synth, [args.text])
    result = synth([args.text], seed=args.seed)
    wave = result.waves[0]
    if result.sample_rate != SAMPLE_RATE:
        wave = resample(wave, result.sample_rate, SAMPLE_RATE)
    wave = animator.check_speech(wave.to(torch.float32), "the synthesised speech")
    report = _write(animator, wave, args, inputs, args.text)
    report.update(voice=args.voice, hit_decoder_limit=bool(result.hit_limit[0]))
    if args.json:
        print(json.dumps(report))
        return 0
    note = " (the voice hit its decoder step limit)" if report["hit_decoder_limit"] else ""
    print(f"wrote {report['video']}: {args.text!r} in {report['seconds']:.2f} s by {args.voice}{note}, face: "
          f"{report['face']}")
    return 0


def cmd_eval_lips(args) -> int:
    from sightsound.evaluation.lips import evaluate_lips, summary_lines, targets

    report = evaluate_lips(args.model, args.sync, args.data, split=args.split, limit=args.limit,
                           train_limit=args.train_clips, progress=not args.json)
    return print_target_report(report, targets, summary_lines, args)


def _common(p, model_help: str) -> None:
    p.add_argument("-o", "--out", required=True, help="the video (.mp4: H.264 with the speech as AAC)")
    p.add_argument("--face", help="another face: a photo or a video (its first frame with a face); default: the "
                                  "model's reference frame of GRID speaker s1")
    p.add_argument("--overlay", help="also write the video with the predicted mouth landmarks drawn (.mp4)")
    p.add_argument("--model", default="lip-motion-grid", help=model_help)
    p.add_argument("--json", action="store_true")
    p.add_argument("--force", action="store_true", help="overwrite existing outputs")


def register(sub, eval_sub) -> None:
    """Add this group's commands to the top-level and ``eval`` sub-parsers."""
    p = sub.add_parser("lips", help="speech -> a talking-face video whose mouth follows it (lip motion)")
    p.add_argument("speech", help="the speech (.wav, .flac, .ogg, .mp3; resampled to 16 kHz)")
    _common(p, "shipped lip-motion model name or run folder")
    p.set_defaults(func=cmd_lips)
    p = sub.add_parser("talk", help="text -> Tacotron 2 speech -> a talking-face video")
    p.add_argument("text", help="what to say (the default voice knows GRID's 51 words)")
    _common(p, "shipped lip-motion model name or run folder")
    p.add_argument("--voice", default="tacotron2-grid", help="the Tacotron 2 voice (name or run folder)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_talk)
    q = eval_sub.add_parser("lips", help="lip motion vs nearest-clip and mean-mouth baselines; the sync expert on "
                                         "real and generated video (GRID s1)")
    q.add_argument("--data", help="data folder with grid-s1/ (default $SIGHTSOUND_DATA)")
    q.add_argument("--model", default="lip-motion-grid", help="the lip-motion model (name or run folder)")
    q.add_argument("--sync", default="sync-expert-grid", help="the sync expert (name or run folder)")
    q.add_argument("--split", choices=["test", "select"], default="test",
                   help="the held-out test clips (default) or the selection ones")
    q.add_argument("--limit", type=bounded_int(1, 10_000, "a number of clips"), help="only the first N clips")
    q.add_argument("--train-clips", type=bounded_int(1, 10_000, "a number of clips"),
                   help="the nearest-clip baseline searches only the first N training clips (quick checks)")
    q.add_argument("--rows", action="store_true", help="include every clip's numbers in the JSON")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_eval_lips)
