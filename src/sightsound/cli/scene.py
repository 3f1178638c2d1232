"""Scene recognition by sound: ``hear``, ``eval scene`` and ``eval av-retrieval``."""

from __future__ import annotations

import json
from pathlib import Path

from sightsound.cli.common import (
    IMAGE_SUFFIXES,
    bounded_int,
    check_output,
    positive_int,
)
from sightsound.errors import UserInputError

AUDIO_SUFFIXES = (".wav", ".ogg", ".mp3", ".flac")


def _folds(values: list[int] | None) -> tuple[int, ...] | None:
    return tuple(sorted(set(values))) if values else None


def cmd_hear(args) -> int:
    from sightsound.pretrained.scene import SceneListener, image_files

    clip = Path(args.clip)
    if clip.suffix.lower() not in AUDIO_SUFFIXES:
        raise UserInputError(f"{clip}: expected a sound file ({', '.join(AUDIO_SUFFIXES)})")
    out = check_output(Path(args.out), [clip], args.force, IMAGE_SUFFIXES) if args.out else None
    photos = image_files(args.images) if args.images else None
    listener = SceneListener.from_pretrained(args.model, cache_dir=args.cache_dir)
    wave = listener.load_clip(clip)  # errors (missing, corrupt, silent) before the photos are embedded
    result = listener.hear(clip, photos, top=args.top)
    if out is not None:
        from sightsound.vision.io import load_image
        from sightsound.viz.plots import save_figure
        from sightsound.viz.scene import hearing_figure

        picture = listener.model.sound.picture(wave[None])[0]
        strip = [(load_image(p, max_side=256), Path(p).name, s) for p, s in result.photos]
        save_figure(hearing_figure(picture, wave.shape[-1] / listener.sample_rate, result.probabilities, strip,
                                   title=f"{clip.name}: {(result.label or 'no classes').replace('_', ' ')}"),
                    out, overwrite=args.force)
    if args.json:
        print(json.dumps(result.to_json()))
        return 0
    if result.label is None:
        print("(this model has no scene classes: photos only)")
    else:
        print(f"{result.label}  ({result.probabilities[result.label]:.2f})")
    for name, p in list(result.probabilities.items())[1:3]:
        print(f"  then {name} ({p:.2f})")
    for i, (photo, score) in enumerate(result.photos, 1):
        print(f"  photo {i}: {photo}  cos {score:.3f}")
    if out is not None:
        print(f"picture: {out}")
    return 0


def cmd_eval_scene(args) -> int:
    from sightsound.evaluation.scene import evaluate_scene
    from sightsound.pretrained.scene import SceneListener

    out = check_output(Path(args.confusion), [], args.force, IMAGE_SUFFIXES) if args.confusion else None
    listener = SceneListener.from_pretrained(args.model)
    report = evaluate_scene(listener, args.data, _folds(args.folds), progress=not args.json)
    if out is not None:
        from sightsound.viz.plots import save_figure
        from sightsound.viz.scene import confusion_figure

        save_figure(confusion_figure(report["confusion"], report["classes"],
                                     f"{report['clips']} clips, accuracy {report['accuracy']:.3f}"),
                    out, overwrite=args.force)
        report["confusion_png"] = str(out)
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"{report['clips']} clips of {report['data']} (folds {', '.join(map(str, report['folds']))}): "
          f"accuracy {report['accuracy']:.3f}")
    if report["seen_in_training"]:
        print(f"  warning: {report['seen_in_training']} of these clips are from folds the model trained on "
              f"({', '.join(map(str, report['trained_on_folds']))}): not a test")
    for name, recall in report["per_class_recall"].items():
        print(f"  {name:<16} recall {'-' if recall is None else f'{recall:.2f}'}")
    if out is not None:
        print(f"confusion matrix: {out}")
    return 0


def cmd_eval_av_retrieval(args) -> int:
    from sightsound.evaluation.scene import sound_to_photo, spoken_caption_retrieval
    from sightsound.pretrained.scene import SceneListener

    listener = SceneListener.from_pretrained(args.model)
    report = {"model": listener.name}
    if not args.no_speech:
        report["spoken_captions"] = spoken_caption_retrieval(listener, args.data, limit=args.limit,
                                                             progress=not args.json, method=args.method)
    if args.sounds:
        report["sound_to_photo"] = sound_to_photo(listener, args.sounds, args.data, _folds(args.folds),
                                                  k=args.k, progress=not args.json)
    if args.json:
        print(json.dumps(report))
        return 0
    if "spoken_captions" in report:
        r = report["spoken_captions"]
        fmt = lambda d: "  ".join(f"R@{k[1:]} {v:.2f}" for k, v in d.items())  # noqa: E731
        wer = f"; transcript WER {r['transcript_wer']:.2f}" if r["transcript_wer"] is not None else ""
        print(f"spoken caption <-> photo, {r['photos']} validation photos ({r['method']}{wer})")
        print(f"  speech -> photo  {fmt(r['speech_to_photo'])}")
        print(f"  photo -> speech  {fmt(r['photo_to_speech'])}")
        print(f"  chance           {fmt(r['chance'])}")
    if "sound_to_photo" in report:
        r = report["sound_to_photo"]
        print(f"sound -> photo, precision@{r['k']} over {r['photos']} validation photos; classes with >= "
              f"{r['min_photos']} matching photos: {', '.join(r['qualifying_classes']) or 'none'}")
        for cls, row in r["per_class"].items():
            print(f"  {cls:<16} P@{r['k']} {row['precision_at_k']:.2f}  (chance {row['chance']:.2f}, "
                  f"{row['clips']} clips)")
        if r["precision_at_k"] is not None:
            print(f"  mean over clips  P@{r['k']} {r['precision_at_k']:.2f}")
    return 0


def register(sub, eval_sub) -> None:
    """Add this group's commands to the top-level and ``eval`` sub-parsers."""
    p = sub.add_parser("hear", help="recognise the scene of a sound clip, and find the photos that go with it")
    p.add_argument("clip", help="a .wav, .ogg, .mp3 or .flac file")
    p.add_argument("--model", default="av-esc10", help="shipped model name (av-esc10) or run folder")
    p.add_argument("--images", help="a folder of photos to rank by closeness to the sound")
    p.add_argument("--top", type=bounded_int(1, 50, "a number of photos"), default=5)
    p.add_argument("-o", "--out", help="write a picture (log-mel, probabilities, nearest photos) here (.png/.pdf/.svg)")
    p.add_argument("--cache-dir", help="photo feature cache folder (default ~/.cache/sightsound/features)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_hear)
    q = eval_sub.add_parser("scene", help="scene recognition on an ESC-style folder (meta.csv + audio/): accuracy, "
                                          "per-class recall, confusion matrix")
    q.add_argument("--model", default="av-esc10", help="shipped model name (av-esc10) or run folder")
    q.add_argument("--data", required=True, help="ESC-style folder: meta.csv (filename,fold,target,category) + audio/")
    q.add_argument("--folds", type=positive_int, nargs="+", help="only these folds (default: every clip)")
    q.add_argument("--confusion", metavar="OUT.png", help="draw the confusion matrix here")
    q.add_argument("--json", action="store_true")
    q.add_argument("--force", action="store_true")
    q.set_defaults(func=cmd_eval_scene)
    q = eval_sub.add_parser("av-retrieval", help="spoken caption <-> photo retrieval (recall@1/5/10) on a caption "
                                                 "folder's validation photos, and sound -> photo precision@10")
    q.add_argument("--model", default="av-esc10", help="shipped model name (av-esc10) or run folder")
    q.add_argument("--data", required=True, help="caption folder: images/, captions.txt and spoken/<photo>.mp3")
    q.add_argument("--sounds", help="an ESC-style folder: also rank the photos by each of its clips")
    q.add_argument("--folds", type=positive_int, nargs="+", help="the --sounds folds to use (default: all)")
    q.add_argument("--k", type=bounded_int(1, 100, "a number of photos"), default=10)
    q.add_argument("--limit", type=positive_int, help="at most this many validation photos for the spoken captions")
    q.add_argument("--no-speech", action="store_true", help="skip the spoken captions (needs only --sounds)")
    q.add_argument("--method", choices=["transcript", "end-to-end"], default="transcript",
                   help="spoken captions heard through pocketsphinx + MiniLM (default), or by the model's own "
                        "sound encoder (a model from recipes/av_spoken_captions.py)")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_eval_av_retrieval)
