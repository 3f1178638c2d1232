"""Speech2Face: ``voices`` (the synthetic speaker world), ``face-from-voice`` and ``eval speech2face``."""

from __future__ import annotations

import json
from pathlib import Path

from sightsound.cli.common import IMAGE_SUFFIXES, bounded_int, check_output, seed_int
from sightsound.errors import UserInputError

AUDIO_SUFFIXES = (".wav", ".ogg", ".mp3", ".flac")


def cmd_voices(args) -> int:
    from sightsound.data.speaker_world import write_world

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UserInputError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not args.force:
        raise UserInputError(f"{out}: exists and is not empty; pass --force to write into it")
    if not 1.0 <= args.seconds <= 30.0:
        raise UserInputError(f"--seconds must lie in [1, 30], got {args.seconds}")
    write_world(out, args.speakers, args.seed, clips=args.clips, photos=args.photos, seconds=args.seconds,
                progress=not args.quiet)
    test = sum(1 for i in range(args.speakers) if i % 10 == 9)
    print(f"wrote {args.speakers} speakers to {out} (speakers.csv, voices/, faces/, texts.csv); "
          f"{test} test speakers (i % 10 == 9)")
    return 0


def cmd_face_from_voice(args) -> int:
    from sightsound.pretrained.speech2face import FaceFromVoice
    from sightsound.viz.plots import save_figure
    from sightsound.viz.speech2face import face_from_voice_figure

    clip = Path(args.clip)
    if clip.suffix.lower() not in AUDIO_SUFFIXES:
        raise UserInputError(f"{clip}: expected a sound file ({', '.join(AUDIO_SUFFIXES)})")
    out = check_output(Path(args.out), [clip], args.force, IMAGE_SUFFIXES)
    pipeline = FaceFromVoice.from_pretrained(args.model)
    wave = pipeline.load_voice(clip)
    feature = pipeline.voice_features([wave])                            # (1, D)
    drawn = pipeline.draw(feature)[0]                                    # (1, H, W)
    nearest = []
    if args.gallery:
        paths, faces = pipeline.gallery(args.gallery)
        nearest = [(faces[i], paths[i].name, s) for i, s in pipeline.nearest(feature[0], pipeline.face_features(faces),
                                                                             args.top)]
    log_mel = pipeline.model.voice_encoder.log_mel(wave[None])[0]
    save_figure(face_from_voice_figure(log_mel, wave.shape[-1] / pipeline.sample_rate, drawn, nearest,
                                       title=f"{clip.name}: the face the voice suggests"), out, overwrite=args.force)
    result = {"clip": str(clip), "picture": str(out),
              "gallery": [{"face": name, "similarity": round(s, 4)} for _, name, s in nearest]}
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"picture: {out}")
    for i, (_, name, s) in enumerate(nearest, 1):
        print(f"  {i}. {name}  cos {s:.3f}")
    return 0


def cmd_eval_speech2face(args) -> int:
    from sightsound.evaluation.speech2face import evaluate_speech2face

    report = evaluate_speech2face(args.model, args.data, rounds=args.rounds, judge_steps=args.judge_steps,
                                  world_for_judge=args.world, split=args.split, progress=not args.json)
    report.pop("examples", None)
    if args.json:
        print(json.dumps(report))
        return 0
    if report["kind"] == "synthetic world":
        r, a = report["retrieval"], report["rank_among_all"]
        print(f"{report['test_speakers']} {'held-out' if report['split'] == 'test' else 'selection'} speakers, "
              f"{report['queries']} voices: voice -> face among "
              f"{r['candidates']}: R@1 {r['r1']:.3f} (chance {r['chance_r1']:.2f}), R@5 {r['r5']:.3f} "
              f"(chance {r['chance_r5']:.2f})")
        print(f"  rank among all {a['candidates']}: mean {a['mean']:.1f} (chance {a['chance_mean']:.1f})")
        print("  attribute correlation (drawn from voice / decoded from photo / judge on true faces):")
        for name, c in report["attribute_correlation"].items():
            kind = "voice" if name in report["voice_attributes"] else "face only"
            print(f"    {name:<11} ({kind:<9}) {c['drawn_from_voice']:+.3f} / {c['decoded_from_photo']:+.3f} / "
                  f"{c['judge_on_true_faces']:+.3f}")
        return 0
    print(f"{report['identities']} real identities: mean rank of the true face {report['mean_rank']:.2f} "
          f"(chance {report['chance_mean_rank']:.1f} +- {report['chance_mean_rank_sd']:.1f}), "
          f"R@1 {report['r1']:.3f} (chance {report['chance_r1']:.3f})")
    if "gender" in report:
        g = report["gender"]
        print(f"  gender: AUC {g['auc_woman_from_drawn_pitch']:.3f} for 'woman' from the drawn face's pitch "
              f"reading ({g['women']} women of {g['labelled']})")
    return 0


def register(sub, eval_sub) -> None:
    """Add this group's commands to the top-level and ``eval`` sub-parsers."""
    p = sub.add_parser("voices", help="write a synthetic speaker world: voices and faces tied by known rules")
    p.add_argument("--out", required=True)
    p.add_argument("--speakers", type=bounded_int(1, 100_000, "a number of speakers"), default=600)
    p.add_argument("--seed", type=seed_int, default=0, help="the shipped model trained on world 0 (speakers "
                                                            "i %% 10 == 9 are its held-out test speakers)")
    p.add_argument("--clips", type=bounded_int(1, 50, "a number of clips"), default=3)
    p.add_argument("--photos", type=bounded_int(1, 50, "a number of photos"), default=3)
    p.add_argument("--seconds", type=float, default=2.5, help="length of each voice clip")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_voices)
    p = sub.add_parser("face-from-voice", help="draw the face a voice suggests (Speech2Face), and find the "
                                               "nearest faces in a gallery")
    p.add_argument("clip", help="a speech file (.wav, .flac, .ogg, .mp3), at least 1 s")
    p.add_argument("-o", "--out", required=True, help="the picture (.png/.pdf/.svg)")
    p.add_argument("--model", default="speech2face-voices", help="shipped model name or run folder")
    p.add_argument("--gallery", help="a folder of face images to rank by the predicted face feature")
    p.add_argument("--top", type=bounded_int(1, 50, "a number of faces"), default=5)
    p.add_argument("--json", action="store_true")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_face_from_voice)
    q = eval_sub.add_parser("speech2face", help="Speech2Face on a speaker world's held-out speakers (retrieval, "
                                                "attributes) or on real people (rank of the true face)")
    q.add_argument("--model", default="speech2face-voices", help="shipped model name or run folder")
    q.add_argument("--data", required=True, help="a world folder (sightsound voices), a data folder with "
                                                 "av-speakers/ and grid-s1/, or a paired folder (faces/ + audio/)")
    q.add_argument("--world", help="real people: also score gender through the attribute judge trained on this "
                                   "world's training speakers")
    q.add_argument("--rounds", type=bounded_int(1, 1000, "a number of rounds"), default=20,
                   help="draws of the 9 distractors per voice")
    q.add_argument("--split", choices=["test", "select"], default="test",
                   help="a world's held-out test speakers (i %% 10 == 9; the default) or its selection speakers")
    q.add_argument("--judge-steps", type=bounded_int(1, 100_000, "a number of steps"), default=800)
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_eval_speech2face)
