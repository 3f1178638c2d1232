"""Beam-search options of the Flickr captioner chosen on one half of the validation photos, reported on the other.

Every setting of n-gram blocking (``no_repeat_ngram``) and GNMT's length penalty is scored on ``val-select`` (every
other validation photo); the one with the highest CIDEr there becomes the shipped default, and only then are it
and the plain beam (both off) scored on ``val-test`` (the other half), which chose nothing.

    .venv/bin/python benchmarks/caption_decoding.py --data ../shared/data/flickr8k-1k \
        --out benchmarks/results/caption_decoding.json
"""

from __future__ import annotations

import argparse
import itertools
import sys

from _report import emit  # benchmarks/_report.py (this folder is on sys.path)

from sightsound.evaluation.captioner import evaluate_captioner
from sightsound.pretrained.captioner import ImageCaptioner

NGRAMS = (0, 2, 3)
PENALTIES = (0.0, 0.6, 1.0)


def score(captioner, data, images, ngram, penalty, beam):
    report = evaluate_captioner(captioner, data, beam=beam, images=images, progress=False, meteor=False,
                                no_repeat_ngram=ngram, length_penalty=penalty)
    return {**{k: report["scores"][k] for k in ("BLEU-4", "CIDEr", "ROUGE-L")},
            "repeated_bigram_captions": report["repeated_bigram_captions"], "images": report["images"],
            "mean_words": report["mean_words"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="flickr8k-1k")
    parser.add_argument("--data", required=True)
    parser.add_argument("--beam", type=int, default=3)
    parser.add_argument("--out")
    args = parser.parse_args()
    captioner = ImageCaptioner.from_pretrained(args.model)
    selection = {}
    for ngram, penalty in itertools.product(NGRAMS, PENALTIES):
        selection[f"no_repeat_ngram={ngram} length_penalty={penalty}"] = score(
            captioner, args.data, "val-select", ngram, penalty, args.beam)
        print(list(selection.items())[-1], file=sys.stderr, flush=True)
    chosen = max(selection, key=lambda k: selection[k]["CIDEr"])
    ngram, penalty = (float(part.split("=")[1]) for part in chosen.split())
    test = {"plain beam (both off)": score(captioner, args.data, "val-test", 0, 0.0, args.beam),
            f"chosen: {chosen}": score(captioner, args.data, "val-test", int(ngram), penalty, args.beam)}
    emit({"command": " ".join(["python", *sys.argv]), "model": args.model, "beam": args.beam,
          "selection_split": "val-select (50 photos)", "test_split": "val-test (50 photos)",
          "chosen_on_selection_by_cider": chosen, "selection": selection, "test": test}, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
