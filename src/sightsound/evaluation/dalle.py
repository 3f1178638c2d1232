"""``sightsound eval draw``: does DALL-E draw what the text says? Measured by an independent judge.

For every prompt the model draws N samples (``pretrained/dalle.Drawer``); the shapes judge
(``models/shape_judge.py``, trained only on rendered scenes with ground truth) reads each drawing back into an
object list, and a drawing is right when that list is exactly the prompt's: one object with the named size,
colour and shape; or two objects, each named one present with all its attributes, and their relation the named
one (the larger of the horizontal and vertical centre offsets decides, as in the world). Reported per prompt
kind, unranked (all N samples) and re-ranked (the sample the text-image model scores highest):

- ``one_object``: every size-colour-shape prompt whose pair the training scenes held (24);
- ``two_objects``: two seen objects and a relation (40 prompts drawn from the split's seed);
- ``held_out``: the pairs no training scene held (``HELD_OUT``), alone (6 prompts) and beside a seen object
  (12 prompts, ``held_out_two``).

The judge itself is checked on fresh rendered scenes of the split: its exact-read accuracy on the originals and
on their dVAE reconstructions (``judge``). Splits: ``select`` (world seed 1; prompts and sampling seeds that
choices are made on) and ``test`` (seed 2; the report).
"""

from __future__ import annotations

import time

import numpy as np
import torch

from sightsound.data import dalle_shapes as world
from sightsound.data.shapes import COLOURS, SHAPES, SIZES
from sightsound.errors import ParameterError
from sightsound.models.shape_judge import ShapeJudge
from sightsound.pretrained import load_pretrained
from sightsound.pretrained.dalle import Drawer


def prompt_set(split: str, n_two: int = 40, n_held_two: int = 12) -> dict[str, list[str]]:
    """The prompts of a split by kind (see the module docstring); deterministic for a split."""
    if split not in ("select", "test"):
        raise ParameterError(f"split must be select or test, got {split!r}")
    rng = np.random.default_rng(world.SPLIT_OFFSET[split] * 1000 + 17)
    singles = [f"a {size} {colour} {shape}" for colour in COLOURS for shape in SHAPES for size in SIZES]
    held = [p for p in singles if tuple(p.split()[2:]) in world.HELD_OUT]
    seen = [p for p in singles if p not in held]

    def pairs(n: int, with_held: bool) -> list[str]:
        out = []
        while len(out) < n:
            a = str(rng.choice(held if with_held else seen))
            b = str(rng.choice(seen))
            if a == b:
                continue
            names = [a, b] if rng.random() < 0.5 else [b, a]
            prompt = f"{names[0]} {world.RELATIONS[int(rng.integers(0, 4))]} {names[1]}"
            if prompt not in out:
                out.append(prompt)
        return out

    return {"one_object": seen, "two_objects": pairs(n_two, False), "held_out": held,
            "held_out_two": pairs(n_held_two, True)}


def kind_of(prompt: str) -> str:
    objects, _ = world.parse_prompt(prompt)
    held = any((colour, shape) in world.HELD_OUT for _, colour, shape in objects)
    return ("held_out" if held else "one_object") if len(objects) == 1 else ("held_out_two" if held else "two_objects")


def matches(prompt: str, found: list[dict]) -> bool:
    """Whether the judge's object list is exactly the prompt's objects (and relation)."""
    objects, rel = world.parse_prompt(prompt)
    if len(found) != len(objects):
        return False

    def same(o, spec):
        return (o["size"], o["colour"], o["shape"]) == spec

    if len(objects) == 1:
        return same(found[0], objects[0])
    for a, b in ((found[0], found[1]), (found[1], found[0])):
        if same(a, objects[0]) and same(b, objects[1]):
            shape_a = world.ShapeObject(a["shape"], a["colour"], a["size"], a["cx"], a["cy"], 1.0)
            shape_b = world.ShapeObject(b["shape"], b["colour"], b["size"], b["cx"], b["cy"], 1.0)
            if world.relation(shape_a, shape_b) == rel:
                return True  # (two identical objects: either order may be the named one)
    return False


@torch.no_grad()
def judge_accuracy(drawer: Drawer, judge, split: str, n: int = 500) -> dict[str, float]:
    """The judge's exact-read accuracy on n fresh rendered scenes of the split and on their dVAE reconstructions."""
    size = drawer.image_size
    images, scenes = world.make_world(n, world.SPLIT_OFFSET[split] + 5000, size, world.object_scale_for(size),
                                      exclude_held_out=False)
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0  # (n, H, W, 3) -> (n, 3, H, W)
    recon = torch.cat([drawer.reconstruct(x[i:i + 100])[0] for i in range(0, n, 100)])
    out = {}
    for name, batch in (("originals", x), ("reconstructions", recon)):
        read = [o for i in range(0, n, 100) for o in judge.read(batch[i:i + 100])]
        out[name] = float(np.mean([matches(s.caption, r) for s, r in zip(scenes, read)]))
    out["scenes"] = n
    return out


def evaluate_draw(model: str = "dalle-shapes", judge_model: str = "shape-judge", split: str = "test",
                  prompts: list[str] | None = None, n: int = 8, top_k: int | None = 64, top_p: float | None = None,
                  temperature: float = 1.0, seed: int = 0, judge_scenes: int = 500, progress: bool = True) -> dict:
    """The report (see the module docstring). ``prompts`` replaces the split's prompt set (kinds inferred)."""
    from tqdm import tqdm

    drawer = Drawer.from_pretrained(model)
    judge = load_pretrained(judge_model, expect=(ShapeJudge, "a shapes judge"))
    if prompts is None:
        sets = prompt_set(split)
    else:
        sets = {}
        for p in prompts:
            sets.setdefault(kind_of(p), []).append(p)
    generator = torch.Generator().manual_seed(seed + 1000 * world.SPLIT_OFFSET[split])
    per_prompt, seconds = [], []
    todo = [(kind, p) for kind, ps in sets.items() for p in ps]
    for kind, prompt in tqdm(todo, desc="drawing", disable=not progress, unit="prompt"):
        start = time.perf_counter()
        images, _, scores = drawer.draw(prompt, n, top_k=top_k, top_p=top_p, temperature=temperature,
                                        generator=generator)
        seconds.append(time.perf_counter() - start)
        right = [matches(prompt, found) for found in judge.read(images)]
        per_prompt.append({"prompt": prompt, "kind": kind, "right": right, "best": int(scores.argmax())})
    report = {"split": split, "samples_per_prompt": n, "sampling": {"top_k": top_k, "top_p": top_p,
                                                                    "temperature": temperature, "seed": seed},
              "model": str(model), "judge_model": str(judge_model)}
    for kind in sets:
        rows = [r for r in per_prompt if r["kind"] == kind]
        report[kind] = {"prompts": len(rows),
                        "unranked": float(np.mean([np.mean(r["right"]) for r in rows])),
                        "reranked": float(np.mean([r["right"][r["best"]] for r in rows])),
                        "any_of_n": float(np.mean([any(r["right"]) for r in rows]))}
    report["judge"] = judge_accuracy(drawer, judge, split, judge_scenes)
    report["seconds_per_prompt"] = float(np.median(seconds))
    report["examples"] = per_prompt
    return report
