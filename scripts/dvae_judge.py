"""The shapes judge on dVAE reconstructions, for dVAE runs or their checkpoints (issue #24's reconstruction gap).

    .venv/bin/python scripts/dvae_judge.py runs/dalle-dvae3 runs/dalle-dvae2k/checkpoints/step_002000 --scenes 1000

For each run (a run folder, a checkpoint folder, or a shipped model name) prints the judge's exact-read accuracy
on fresh rendered scenes of the split and on their reconstructions from the most likely tokens, the gap in
points, the codes the reconstructions used, and the worst confusions (what the prompt said -> what was read).
Choices are made on ``--split select``; ``--split test`` is the report.
"""

from __future__ import annotations

import argparse
import collections
import json
from pathlib import Path

import torch

from sightsound.data import dalle_shapes as world
from sightsound.evaluation.dalle import matches
from sightsound.models.dalle import DALLE
from sightsound.models.shape_judge import ShapeJudge
from sightsound.pretrained import load_pretrained
from sightsound.pretrained.dalle import Drawer
from sightsound.training.checkpoint import (
    load_tensors,
    model_from_config,
    read_run_config,
)


def drawer_for(path: str) -> Drawer:
    """A shipped name or run folder, or a checkpoint folder inside a run (its config is the run's)."""
    folder = Path(path)
    if (folder / "model.safetensors").is_file() and not (folder / "config.json").is_file():
        run = folder.parent.parent
        *_, model = model_from_config(read_run_config(run), str(run / "config.json"))
        model.load_state_dict(load_tensors(folder / "model.safetensors"))
        if not isinstance(model, DALLE):
            raise SystemExit(f"{run}: not a DALL-E run")
        return Drawer(model, path)
    return Drawer.from_pretrained(path)


def misses(captions: list[str], read: list[list[dict]]) -> collections.Counter:
    """Why the judge's reading differs from the caption: one coarse label per missed scene."""
    why = collections.Counter()
    for caption, found in zip(captions, read):
        if matches(caption, found):
            continue
        objects, _ = world.parse_prompt(caption)
        if len(found) != len(objects):
            why[f"{len(objects)} objects read as {len(found)}"] += 1
            continue
        named = sorted(objects)
        got = sorted((o["size"], o["colour"], o["shape"]) for o in found)
        wrong = [f"{a[2]}->{b[2]}" if a[2] != b[2] else (f"{a[1]}->{b[1]}" if a[1] != b[1] else f"{a[0]}->{b[0]}")
                 for a, b in zip(named, got) if a != b]
        why[", ".join(wrong) or "relation"] += 1
    return why


@torch.no_grad()
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--split", default="select", choices=["select", "test"])
    parser.add_argument("--scenes", type=int, default=1000)
    parser.add_argument("--judge", default="shape-judge")
    args = parser.parse_args()
    judge = load_pretrained(args.judge, expect=(ShapeJudge, "a shapes judge"))
    images, scenes = world.make_world(args.scenes, world.SPLIT_OFFSET[args.split] + 5000, 64,
                                      world.object_scale_for(64), exclude_held_out=False)
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0  # (n, H, W, 3) -> (n, 3, H, W)
    captions = [s.caption for s in scenes]
    originals = [o for i in range(0, len(x), 100) for o in judge.read(x[i:i + 100])]
    base = sum(matches(c, r) for c, r in zip(captions, originals)) / len(x)
    for run in args.runs:
        drawer = drawer_for(run)
        parts = [drawer.reconstruct(x[i:i + 100]) for i in range(0, len(x), 100)]
        recon = torch.cat([p[0] for p in parts])
        tokens = torch.cat([p[1] for p in parts])
        read = [o for i in range(0, len(x), 100) for o in judge.read(recon[i:i + 100])]
        acc = sum(matches(c, r) for c, r in zip(captions, read)) / len(x)
        print(json.dumps({"run": run, "split": args.split, "scenes": len(x), "originals": round(base, 4),
                          "reconstructions": round(acc, 4), "gap_points": round(100 * (base - acc), 2),
                          "codes_used": int(tokens.unique().numel()),
                          "misses": dict(misses(captions, read).most_common(6))}))


if __name__ == "__main__":
    main()
