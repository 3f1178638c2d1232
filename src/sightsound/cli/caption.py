"""Captioning: ``caption``, ``eval caption`` and the ``shapes`` world."""

from __future__ import annotations

import json
from pathlib import Path

from sightsound.cli.common import (
    IMAGE_SUFFIXES,
    bounded_int,
    check_output,
    non_negative_float,
    non_negative_int,
    positive_int,
    seed_int,
)
from sightsound.errors import UserInputError


def cmd_caption(args) -> int:
    from sightsound.pretrained.captioner import ImageCaptioner
    from sightsound.vision.io import load_image

    image_path = Path(args.image)
    out = check_output(Path(args.out), [image_path], args.force, IMAGE_SUFFIXES) if args.out else None
    captioner = ImageCaptioner.from_pretrained(args.model)
    image = load_image(image_path, max_side=4 * captioner.image_size)
    result = captioner.caption(image, beam=args.beam, no_repeat_ngram=args.no_repeat_ngram,
                               length_penalty=args.length_penalty)
    result.image = str(image_path)
    if out is not None:
        from sightsound.viz.plots import caption_attention_figure, save_figure

        save_figure(caption_attention_figure(image, result.words, result.maps, result.betas,
                                             title=f"{captioner.name}, beam {args.beam}: {result.text}"), out,
                    overwrite=args.force)
    if args.json:
        print(json.dumps(result.to_json()))
    else:
        print(result.text)
        if out is not None:
            print(f"attention maps: {out}")
    return 0


def cmd_eval_caption(args) -> int:
    from sightsound.evaluation.captioner import evaluate_captioner
    from sightsound.pretrained.captioner import ImageCaptioner

    captioner = ImageCaptioner.from_pretrained(args.model, cache_dir=args.cache_dir)
    report = evaluate_captioner(captioner, args.data, beam=args.beam, images=args.images, limit=args.limit,
                                progress=not args.json, meteor=not args.no_meteor,
                                no_repeat_ngram=args.no_repeat_ngram, length_penalty=args.length_penalty)
    if args.json:
        print(json.dumps(report))
    else:
        print(f"{report['images']} images of {report['data']} ({report['split']}), beam {report['beam']}, "
              f"{report['repeated_bigram_captions']} captions repeat a word pair")
        print("  " + "  ".join(f"{k} {v}" for k, v in report["scores"].items()))
        if "attention" in report:
            att = report["attention"]
            print(f"  attention correctness {att['correctness']} (area baseline {att['area_baseline']}, "
                  f"{att['scored_words']} words scored, {att['unmatched_words']} unmatched)")
    return 0


def cmd_shapes(args) -> int:
    from sightsound.data.shapes import write_shapes

    out = Path(args.out)
    if out.exists() and any(out.iterdir()) and not args.force:
        raise UserInputError(f"{out}: exists and is not empty; pass --force to write into it")
    if not 0.25 <= args.object_scale <= 1.6:
        raise UserInputError(f"--object-scale must lie in [0.25, 1.6], got {args.object_scale}")
    write_shapes(out, args.images, args.seed, args.size, args.object_scale)
    print(f"wrote {args.images} scenes to {out} (images/, captions.txt, objects.json, masks.npz)")
    return 0


def _add_decoding_options(p) -> None:
    p.add_argument("--no-repeat-ngram", type=non_negative_int, metavar="N",
                   help="forbid repeating any N words of the caption (0 = off; default: the model's decoding.json, else off)")
    p.add_argument("--length-penalty", type=non_negative_float, metavar="ALPHA",
                   help="rank beams by log p / ((5 + length) / 6) ** ALPHA (0 = off; default: the model's decoding.json, else off)")


def register(sub, eval_sub) -> None:
    """Add this group's commands to the top-level and ``eval`` sub-parsers."""
    p = sub.add_parser("caption", help="caption an image and draw each word's attention map")
    p.add_argument("image")
    p.add_argument("--model", default="flickr8k-1k", help="shipped captioner name (flickr8k-1k, shapes) or run folder")
    p.add_argument("--beam", type=positive_int, default=3)
    p.add_argument("-o", "--out", help="write the picture (photo + one attention panel per word) here (.png/.pdf/.svg)")
    _add_decoding_options(p)
    p.add_argument("--json", action="store_true", help="print the words and their 14x14 maps as JSON")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_caption)
    p = sub.add_parser("shapes", help="write a synthetic shapes-world caption folder (images, captions, masks)")
    p.add_argument("--out", required=True)
    p.add_argument("--images", type=bounded_int(1, 100_000, "a number of scenes"), default=500)
    p.add_argument("--seed", type=seed_int, default=2, help="training uses seeds 0 (train) and 1 (val); 2+ are held out")
    p.add_argument("--size", type=bounded_int(32, 1024, "an image side in pixels"), default=112)
    p.add_argument("--object-scale", type=float, default=1.0,
                   help="radii multiplier: 1.0 = the shipped model's world (objects ~5.5%% of the image), 1.4 ~ 10%%")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_shapes)
    q = eval_sub.add_parser("caption", help="caption a folder (images/ + captions.txt): BLEU, METEOR, ROUGE-L, CIDEr "
                                            "(coco-caption), attention correctness on a shapes folder")
    q.add_argument("--model", default="flickr8k-1k", help="shipped captioner name (flickr8k-1k, shapes) or run folder")
    q.add_argument("--data", required=True, help="folder with images/ and captions.txt (image,caption CSV)")
    q.add_argument("--beam", type=positive_int, default=3)
    q.add_argument("--images", choices=["all", "train", "val", "val-select", "val-test"], default="all",
                   help="all images of the folder, one side of the fixed split (every 8th photo = val), or a half "
                        "of val: val-select (where settings are chosen) or val-test (where they are reported)")
    _add_decoding_options(q)
    q.add_argument("--limit", type=positive_int, help="evaluate at most this many images")
    q.add_argument("--cache-dir", help="feature cache folder (default ~/.cache/sightsound/features)")
    q.add_argument("--no-meteor", action="store_true", help="skip METEOR (the slowest scorer)")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_eval_caption)
