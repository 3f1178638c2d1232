"""Where a shapes captioner's attention goes, for the words that attention correctness scores.

For each scored word (an object's shape, colour or size word; `sightsound.metrics.attention`), its map's
mass is split into: inside the named object, on other objects, on background (cell cover fractions, as the
metric); also whether the largest weight lies on the named object, that weight, and the correctness by the
number of objects in the scene. For scale, ``cover_proportional_map_score``: what a map would score that put all
its mass on the object, spread in proportion to how much of each cell the object covers (mean over the objects).

    .venv/bin/sightsound shapes --out /tmp/shapes-heldout --images 500 --seed 2
    .venv/bin/python benchmarks/attention_mass.py --model shapes --data /tmp/shapes-heldout \
        --out benchmarks/results/attention_mass.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from _report import emit  # benchmarks/_report.py (this folder is on sys.path)
from sightsound.metrics.attention import attention_correctness, mask_cover
from sightsound.pretrained.captioner import ImageCaptioner


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="shapes")
    parser.add_argument("--data", required=True, help="a folder written by `sightsound shapes`")
    parser.add_argument("--beam", type=int, default=3)
    parser.add_argument("--out")
    args = parser.parse_args()
    folder = Path(args.data)
    objects = json.loads((folder / "objects.json").read_text())
    captioner = ImageCaptioner.from_pretrained(args.model)
    names = sorted(objects)
    results = captioner.caption_files([folder / "images" / n for n in names], beam=args.beam, progress=False)
    rows = []  # (inside, other objects, background, peak cell on the object, peak weight, objects in scene)
    ceilings = []  # per object: the score of a map spread over the object in proportion to each cell's cover
    with np.load(folder / "masks.npz") as masks:
        for r in results:
            m = torch.from_numpy(masks[r.image])
            covers = torch.stack([mask_cover(x, captioner.grid) for x in m])  # (n, G)
            any_object = covers.sum(0).clamp(max=1)
            ceilings += [(float((c * c).sum() / c.sum()), bool((c > 0.999).any())) for c in covers]
            scored = attention_correctness(r.words, r.maps.flatten(1), objects[r.image], m, captioner.grid)
            for position, _, obj, inside, _ in scored["words"]:
                a = r.maps[position].flatten().float()
                others = float((a * (any_object - covers[obj]).clamp(min=0)).sum())
                peak = int(a.argmax())
                rows.append((inside, others, 1 - inside - others, float(covers[obj][peak]), float(a.max()),
                             len(objects[r.image])))
    if not rows:
        print(f"{args.model}: no generated word names an object of its scene; nothing to score", file=sys.stderr)
        return 1
    table = np.array(rows)
    report = {"command": " ".join([Path(sys.executable).name, *sys.argv]), "model": args.model, "images": len(names),
              "scored_words": len(rows), "threads": torch.get_num_threads(),
              **{k: round(float(v), 4) for k, v in zip(
                  ("inside_object", "on_other_objects", "on_background", "peak_cell_cover", "peak_weight"),
                  table[:, :5].mean(0))},
              "objects": len(ceilings),
              "cover_proportional_map_score": round(float(np.mean([c for c, _ in ceilings])), 4),
              "objects_without_a_fully_covered_cell": round(float(np.mean([not f for _, f in ceilings])), 4),
              "inside_by_objects_in_scene": {int(n): round(float(table[table[:, 5] == n, 0].mean()), 4)
                                             for n in np.unique(table[:, 5])}}
    emit(report, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
