"""A synthetic "shapes" world with ground truth for attention: every object has a pixel mask.

Each scene (seeded, reproducible): 1-3 non-overlapping objects (shape: circle / square / triangle;
colour: red / green / blue / yellow / purple; size: small / large; a position) on a varied background
(flat, gradient or textured; muted colours so objects stand out). Five captions per scene from a small
grammar, objects named left to right; the first caption is always the canonical form
``a <size> <colour> <shape> [<relation> a <size> <colour> <shape> [and a ...]]`` with the relation
"to the left of", "above" or "below" (the larger of the horizontal and vertical offsets decides); the
other four are distinct paraphrases ("there is ...", "... to the right of ...", "... and ...").

``write_shapes(folder, n, seed)`` writes the same layout as the Flickr folder (``images/*.png``,
``captions.txt`` as ``image,caption`` CSV) plus ``objects.json`` (attributes and boxes) and ``masks.npz``
(one boolean mask per object), so `sightsound eval caption` can score attention correctness.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SHAPES = ("circle", "square", "triangle")
COLOURS = {"red": (215, 40, 40), "green": (40, 170, 60), "blue": (45, 80, 215), "yellow": (230, 205, 35),
           "purple": (140, 60, 190)}
SIZES = {"small": (12.0, 14.0), "large": (19.0, 23.0)}  # radius range in pixels at 112 px (scaled with size)
ATTRIBUTE_WORDS = {"shape": SHAPES, "colour": tuple(COLOURS), "size": tuple(SIZES)}


@dataclass(frozen=True)
class ShapeObject:
    shape: str
    colour: str
    size: str
    cx: float
    cy: float
    r: float

    def phrase(self) -> str:
        return f"{self.size} {self.colour} {self.shape}"

    def to_json(self) -> dict:
        return {"shape": self.shape, "colour": self.colour, "size": self.size, "cx": round(self.cx, 2),
                "cy": round(self.cy, 2), "r": round(self.r, 2)}


def object_mask(obj: ShapeObject, size: int) -> np.ndarray:
    """(size, size) bool mask of one object (pixel centres)."""
    y, x = np.mgrid[0:size, 0:size] + 0.5
    dx, dy = x - obj.cx, y - obj.cy
    if obj.shape == "circle":
        return dx ** 2 + dy ** 2 <= obj.r ** 2
    if obj.shape == "square":
        half = obj.r * 0.85
        return (np.abs(dx) <= half) & (np.abs(dy) <= half)
    # upward triangle inscribed in the circle of radius r
    top, bottom = -obj.r, obj.r * 0.6
    half_width = (dy - top) / (bottom - top) * obj.r * 0.95
    return (dy >= top) & (dy <= bottom) & (np.abs(dx) <= half_width)


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    base = rng.uniform(70, 190, 3)
    grey = base.mean()
    base = grey + 0.35 * (base - grey)  # muted
    kind = rng.integers(0, 3)
    if kind == 0:
        image = np.broadcast_to(base, (size, size, 3)).copy()
    elif kind == 1:
        other = np.clip(base + rng.uniform(-50, 50, 3) * 0.5 + rng.uniform(-40, 40), 40, 220)
        ramp = np.linspace(0, 1, size)[:, None] if rng.random() < 0.5 else np.linspace(0, 1, size)[None, :]
        ramp = np.broadcast_to(ramp, (size, size))[..., None]
        image = base * (1 - ramp) + other * ramp
    else:
        coarse = rng.normal(0, 14, (size // 8 + 1, size // 8 + 1, 1))
        texture = np.kron(coarse, np.ones((8, 8, 1)))[:size, :size]
        image = base + texture
    return image + rng.normal(0, 4, (size, size, 3))


def _relation(a: ShapeObject, b: ShapeObject) -> str:
    dx, dy = b.cx - a.cx, b.cy - a.cy
    if abs(dx) >= abs(dy):
        return "to the left of" if dx >= 0 else "to the right of"
    return "above" if dy > 0 else "below"


def captions_for(objects: list[ShapeObject], rng: np.random.Generator, n: int = 5) -> list[str]:
    """The canonical caption first, then ``n - 1`` distinct paraphrases (objects sorted left to right)."""
    objs = sorted(objects, key=lambda o: o.cx)
    p = [o.phrase() for o in objs]
    short = [f"{o.colour} {o.shape}" for o in objs]
    if len(objs) == 1:
        canonical = f"a {p[0]}"
        variants = [f"there is a {p[0]}", f"a {short[0]}", f"a {objs[0].size} {objs[0].shape} that is {objs[0].colour}",
                    f"one {p[0]}", f"a single {p[0]}", f"a {p[0]} on a plain background",
                    f"a {objs[0].colour} {objs[0].shape} which is {objs[0].size}"]
    else:
        rel = _relation(objs[0], objs[1])
        inverse = {"to the left of": "to the right of", "to the right of": "to the left of", "above": "below",
                   "below": "above"}[rel]
        if len(objs) == 2:
            canonical = f"a {p[0]} {rel} a {p[1]}"
            variants = [f"a {p[1]} {inverse} a {p[0]}", f"there is a {p[0]} {rel} a {p[1]}",
                        f"a {p[0]} and a {p[1]}", f"two shapes a {p[0]} and a {p[1]}",
                        f"a {short[0]} {rel} a {short[1]}", f"a {p[1]} and a {p[0]}",
                        f"a {p[0]} is {rel} a {p[1]}"]
        else:
            canonical = f"a {p[0]} {rel} a {p[1]} and a {p[2]}"
            variants = [f"a {p[0]} a {p[1]} and a {p[2]}", f"three shapes a {p[0]} a {p[1]} and a {p[2]}",
                        f"there is a {p[0]} {rel} a {p[1]} and a {p[2]}", f"a {short[0]} {rel} a {short[1]} "
                        f"and a {short[2]}", f"a {p[2]} and a {p[1]} {inverse} a {p[0]}",
                        f"a {p[1]} {inverse} a {p[0]} and a {p[2]}"]
    chosen = rng.choice(len(variants), size=n - 1, replace=False)
    return [canonical] + [variants[i] for i in chosen]


def render_scene(rng: np.random.Generator, size: int = 112, max_objects: int = 3, object_scale: float = 1.0):
    """(image (size, size, 3) uint8, objects, masks (n, size, size) bool). ``object_scale`` multiplies the
    radii (1.0: an object covers 5-6 % of the image on average; 1.4: about 10 %)."""
    if not 0.25 <= object_scale <= 1.6:
        raise ValueError(f"object_scale must lie in [0.25, 1.6] (three objects must fit), got {object_scale}")
    scale = size / 112.0 * object_scale
    n = int(rng.integers(1, max_objects + 1))
    objects: list[ShapeObject] = []
    while len(objects) < n:
        for _ in range(200):
            sz = str(rng.choice(list(SIZES)))
            r = rng.uniform(*SIZES[sz]) * scale
            cx, cy = rng.uniform(r + 2, size - r - 2, 2)
            if all(math.hypot(cx - o.cx, cy - o.cy) > r + o.r + 4 * scale for o in objects):
                objects.append(ShapeObject(str(rng.choice(SHAPES)), str(rng.choice(list(COLOURS))), sz,
                                           float(cx), float(cy), float(r)))
                break
        else:  # no room left: start over
            objects = []
    image = _background(rng, size)
    masks = np.stack([object_mask(o, size) for o in objects])
    for obj, mask in zip(objects, masks):
        colour = np.array(COLOURS[obj.colour], dtype=float) * rng.uniform(0.88, 1.08)
        image[mask] = colour + rng.normal(0, 3, (int(mask.sum()), 3))
    return np.clip(image, 0, 255).round().astype(np.uint8), objects, masks


def make_scenes(n: int, seed: int, size: int = 112, object_scale: float = 1.0):
    """n scenes: lists of images (uint8), objects, masks and 5 captions each."""
    rng = np.random.default_rng(seed)
    images, objects, masks, captions = [], [], [], []
    for _ in range(n):
        image, objs, mask = render_scene(rng, size, object_scale=object_scale)
        images.append(image)
        objects.append(objs)
        masks.append(mask)
        captions.append(captions_for(objs, rng))
    return images, objects, masks, captions


def write_shapes(folder: str | Path, n: int, seed: int, size: int = 112, object_scale: float = 1.0) -> Path:
    """Write n scenes in the captioning folder layout (see the module docstring)."""
    from PIL import Image

    folder = Path(folder)
    (folder / "images").mkdir(parents=True, exist_ok=True)
    images, objects, masks, captions = make_scenes(n, seed, size, object_scale)
    names = [f"shape_{seed}_{i:05d}.png" for i in range(n)]
    for name, image in zip(names, images):
        Image.fromarray(image).save(folder / "images" / name)
    with open(folder / "captions.txt", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", "caption"])
        for name, caps in zip(names, captions):
            writer.writerows([name, c] for c in caps)
    (folder / "objects.json").write_text(json.dumps(
        {name: [o.to_json() for o in objs] for name, objs in zip(names, objects)}, indent=1))
    np.savez_compressed(folder / "masks.npz", **{name: mask for name, mask in zip(names, masks)})
    return folder
