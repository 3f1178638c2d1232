"""Captioning reference numbers that `sightsound eval caption` does not print:

* human agreement on a caption folder: the first caption of each image scored (coco-caption) against the
  other four — the ceiling a model is compared with;
* how peaked a captioner's attention is on that folder: the mean over generated words of the largest weight
  of the map (uniform = 1 / L) and of the map's entropy as a share of log L.

    .venv/bin/python benchmarks/captioning.py --model flickr8k-1k --data ../shared/data/flickr8k-1k --images val \
        --out benchmarks/results/captioning.json
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import torch

from _report import emit  # benchmarks/_report.py (this folder is on sys.path)
from sightsound.data.captions import read_caption_folder
from sightsound.metrics.captions import human_agreement
from sightsound.pretrained.captioner import ImageCaptioner


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="flickr8k-1k")
    parser.add_argument("--data", required=True)
    parser.add_argument("--images", choices=["all", "val", "train"], default="val")
    parser.add_argument("--beam", type=int, default=3)
    parser.add_argument("--out")
    args = parser.parse_args()
    image_dir, captions, splits = read_caption_folder(args.data)
    names = sorted(n for n in captions if args.images == "all" or splits[n] == args.images)
    agreement = human_agreement({n: captions[n] for n in names}, meteor=True)
    captioner = ImageCaptioner.from_pretrained(args.model)
    results = captioner.caption_files([image_dir / n for n in names], beam=args.beam, progress=False)
    maps = torch.cat([r.maps.flatten(1) for r in results])  # (words, L)
    entropy = -(maps * maps.clamp_min(1e-12).log()).sum(1)
    report = {"command": " ".join([Path(sys.executable).name, *sys.argv]), "model": args.model, "data": args.data,
              "images": len(names), "split": args.images, "threads": torch.get_num_threads(),
              "human_agreement": {k: round(v, 4) for k, v in agreement.items()},
              "attention": {"words": len(maps), "mean_max_weight": round(float(maps.max(1).values.mean()), 4),
                            "uniform_weight": round(1 / maps.shape[1], 4),
                            "entropy_share": round(float(entropy.mean()) / math.log(maps.shape[1]), 4)}}
    emit(report, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
