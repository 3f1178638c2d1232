"""``eval caption``: free-running captions of a caption folder scored with the official coco-caption scorer, and
attention correctness on a shapes folder (objects.json + masks.npz).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from sightsound.errors import UserInputError
from sightsound.pretrained.captioner import (
    ImageCaptioner,
)

IMAGE_SETS = ("all", "train", "val", "val-select", "val-test")


def image_subset(captions: dict, splits: dict, images: str) -> list[str]:
    """The sorted names of ``images``: all | train | val of the fixed split, or one half of val: ``val-select``
    (every other validation photo, from the first: where decoding settings are chosen) or ``val-test`` (the
    rest: where they are reported)."""
    if images not in IMAGE_SETS:
        raise UserInputError(f"unknown image set {images!r}; choose {', '.join(IMAGE_SETS)}")
    if images == "all":
        return sorted(captions)
    split = "val" if images.startswith("val") else images
    names = sorted(n for n in captions if splits[n] == split)
    return names[0::2] if images == "val-select" else names[1::2] if images == "val-test" else names


def evaluate_captioner(captioner: ImageCaptioner, folder: str | Path, beam: int = 3, images: str = "all",
                       limit: int | None = None, progress: bool = True, meteor: bool = True,
                       no_repeat_ngram: int | None = None, length_penalty: float | None = None) -> dict:
    """Free-running captions of a caption folder (``images/`` + ``captions.txt``; ``images`` as
    ``image_subset``) scored with coco-caption; on a shapes folder (``objects.json`` + ``masks.npz``) also
    attention correctness against the area baseline. Never teacher-forced. ``no_repeat_ngram`` and
    ``length_penalty`` override the shipped decoding defaults."""
    from sightsound.data.captions import read_caption_folder
    from sightsound.metrics.attention import attention_correctness
    from sightsound.metrics.captions import coco_scores

    folder = Path(folder)
    image_dir, captions, splits = read_caption_folder(folder)
    names = image_subset(captions, splits, images)[:limit]
    if not names:
        raise UserInputError(f"{folder}: no images in the {images!r} split")
    start = time.perf_counter()
    results = captioner.caption_files([image_dir / n for n in names], beam=beam, progress=progress,
                                      no_repeat_ngram=no_repeat_ngram, length_penalty=length_penalty)
    decode_seconds = time.perf_counter() - start
    if progress:
        print(f"scoring {len(names)} captions with coco-caption (Java; METEOR takes the longest) ...", file=sys.stderr)
    scores = coco_scores({n: captions[n] for n in names}, {r.image: r.text for r in results}, meteor=meteor)
    decoding = captioner.options(no_repeat_ngram, length_penalty)
    report = {"model": captioner.name, "data": str(folder), "images": len(names), "split": images, "beam": beam,
              "decoding": decoding, "repeated_bigram_captions": sum(_repeats_a_bigram(r.words) for r in results),
              "mean_words": round(sum(len(r.words) for r in results) / len(results), 2),
              "scores": {k: round(v, 4) for k, v in scores.items()},
              "finished": sum(r.finished for r in results), "vocabulary_used": len({w for r in results for w in r.words}),
              "decode_seconds": round(decode_seconds, 2),
              "examples": [{"image": r.image, "caption": r.text, "reference": captions[r.image][0]} for r in results[:8]]}
    objects_file, masks_file = folder / "objects.json", folder / "masks.npz"
    if objects_file.is_file() and masks_file.is_file():
        objects = json.loads(objects_file.read_text())
        with np.load(masks_file) as masks:
            per_word = []
            unmatched = 0
            for r in results:
                scored = attention_correctness(r.words, r.maps.flatten(1), objects[r.image],
                                               torch.from_numpy(masks[r.image]), captioner.grid)
                per_word += scored["words"]
                unmatched += scored["unmatched"]
        report["attention"] = {
            "correctness": round(float(np.mean([w[3] for w in per_word])), 4) if per_word else None,
            "area_baseline": round(float(np.mean([w[4] for w in per_word])), 4) if per_word else None,
            "scored_words": len(per_word), "unmatched_words": unmatched,
            "by_kind": _by_kind(per_word)}
    return report


def _repeats_a_bigram(words: list[str]) -> bool:
    pairs = list(zip(words, words[1:]))
    return len(pairs) != len(set(pairs))


def _by_kind(per_word) -> dict:
    from sightsound.metrics.attention import COLOUR_WORDS, SHAPE_WORDS

    kinds: dict[str, list[float]] = {"shape": [], "colour": [], "size": []}
    for _, word, _, value, _ in per_word:
        kinds["shape" if word in SHAPE_WORDS else "colour" if word in COLOUR_WORDS else "size"].append(value)
    return {k: round(float(np.mean(v)), 4) for k, v in kinds.items() if v}
