"""The DALL-E shapes world: 64x64 scenes of one or two objects, their caption and their ground-truth object list.

Every scene is drawn from the shapes world's parts (``data/shapes.py``: the shapes, colours, sizes and pixel
masks) on a flat muted background, so that whatever a model draws for a caption can be read back and checked.
A caption names each object by size, colour and shape; two objects are joined by their relation ("a small red
circle above a large blue square"; "to the left of", "to the right of", "above", "below" — the larger of the
horizontal and vertical offsets decides, and scenes whose offsets are within 30 % of each other are not drawn,
so every relation is unambiguous). The first-named object is chosen at random.

``HELD_OUT`` colour-shape pairs never appear in training scenes (neither in an image nor in a caption): the
compositional test asks for them. Splits come from separate seeds: training ``seed``, selection ``seed + 1``
(the recipe's validation set and the prompts checkpoints and sampling settings are chosen on), test
``seed + 2`` (reported only). Recipe data name ``dalle_shapes`` (no ``--data`` needed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset

from sightsound.data import Built
from sightsound.data.shapes import COLOURS, SHAPES, SIZES, ShapeObject, object_mask
from sightsound.errors import ParameterError, UserInputError

NEEDS_DATA = False
HELD_OUT = (("green", "triangle"), ("blue", "circle"), ("yellow", "square"))
RELATIONS = ("to the left of", "to the right of", "above", "below")
INVERSE = {"to the left of": "to the right of", "to the right of": "to the left of", "above": "below",
           "below": "above"}
SPECIALS = ("<pad>", "<bos>")
WORDS = ("a", *SIZES, *COLOURS, *SHAPES, "to", "the", "left", "right", "of", "above", "below")
VOCAB = SPECIALS + WORDS          # the fixed word vocabulary: id = position
PAD, BOS = 0, 1
TEXT_LENGTH = 13                  # <bos> + the longest caption (12 words)
GRID = 8                          # the judge's detection grid (cells of 8 px at 64 px)
SPLIT_OFFSET = {"train": 0, "select": 1, "test": 2}


@dataclass(frozen=True)
class Scene:
    objects: tuple[ShapeObject, ...]
    caption: str


def relation(a: ShapeObject, b: ShapeObject) -> str:
    """Where ``a`` is with respect to ``b`` (image y grows downwards)."""
    dx, dy = b.cx - a.cx, b.cy - a.cy
    if abs(dx) >= abs(dy):
        return "to the left of" if dx >= 0 else "to the right of"
    return "above" if dy > 0 else "below"


def caption_of(objects, first: int = 0) -> str:
    """The caption of one or two objects, the ``first`` one named first."""
    if len(objects) == 1:
        return f"a {objects[0].phrase()}"
    a, b = objects[first], objects[1 - first]
    return f"a {a.phrase()} {relation(a, b)} a {b.phrase()}"


def allowed(colour: str, shape: str, held_out: bool) -> bool:
    return not (held_out and (colour, shape) in HELD_OUT)


def random_scene(rng: np.random.Generator, size: int = 64, object_scale: float = 1.2, two_fraction: float = 0.6,
                 exclude_held_out: bool = True) -> Scene:
    """One scene: attributes first (held-out pairs excluded when asked), then non-overlapping positions."""
    n = 2 if rng.random() < two_fraction else 1
    specs = []
    while len(specs) < n:
        colour, shape = str(rng.choice(list(COLOURS))), str(rng.choice(SHAPES))
        if allowed(colour, shape, exclude_held_out):
            specs.append((shape, colour, str(rng.choice(list(SIZES)))))
    return Scene(*place(rng, specs, size, object_scale))


def place(rng: np.random.Generator, specs, size: int = 64, object_scale: float = 1.2):
    """(objects, caption) for [(shape, colour, size_word), ...]: positions drawn until they fit apart."""
    scale = size / 112.0 * object_scale
    for _ in range(1000):
        objects = []
        for shape, colour, size_word in specs:
            r = float(rng.uniform(*SIZES[size_word]) * scale)
            cx, cy = rng.uniform(r + 2, size - r - 2, 2)
            objects.append(ShapeObject(shape, colour, size_word, float(cx), float(cy), r))
        if len(objects) == 2:
            a, b = objects
            dx, dy = abs(a.cx - b.cx), abs(a.cy - b.cy)
            if math.hypot(dx, dy) <= a.r + b.r + 4 * scale or max(dx, dy) < 1.3 * min(dx, dy):
                continue
        return tuple(objects), caption_of(objects, int(rng.integers(0, len(objects))))
    raise ParameterError(f"cannot fit {specs} into {size} px")


def render(scene: Scene, rng: np.random.Generator, size: int = 64) -> np.ndarray:
    """(size, size, 3) uint8: a flat muted background, the objects painted with slight colour variation."""
    base = rng.uniform(85, 175, 3)
    base = base.mean() + 0.35 * (base - base.mean())
    image = np.broadcast_to(base, (size, size, 3)) + rng.normal(0, 2, (size, size, 3))
    for obj in scene.objects:
        mask = object_mask(obj, size)
        image[mask] = np.array(COLOURS[obj.colour], dtype=float) * rng.uniform(0.9, 1.06) + rng.normal(
            0, 2, (int(mask.sum()), 3))
    return np.clip(image, 0, 255).round().astype(np.uint8)


def object_scale_for(size: int) -> float:
    """The object scale the recipes use at an image size: 1.2 from 48 px up, else 0.9 (two large objects fit)."""
    return 1.2 if size >= 48 else 0.9


def make_world(n: int, seed: int, size: int = 64, object_scale: float = 1.2, two_fraction: float = 0.6,
               exclude_held_out: bool = True) -> tuple[np.ndarray, list[Scene]]:
    """n scenes: images (n, size, size, 3) uint8 and their scenes."""
    rng = np.random.default_rng(seed)
    scenes = [random_scene(rng, size, object_scale, two_fraction, exclude_held_out) for _ in range(n)]
    images = np.stack([render(s, rng, size) for s in scenes]) if n else np.zeros((0, size, size, 3), np.uint8)
    return images, scenes


# --- text ------------------------------------------------------------------------------------------------------

def encode_text(caption: str, length: int = TEXT_LENGTH) -> torch.Tensor:
    """(length,) int64: <bos>, the word ids, <pad>s. Words outside the vocabulary are a UserInputError naming them."""
    words = caption.lower().replace(",", " ").split()
    if not words:
        raise UserInputError("the prompt is empty; try e.g. \"a small red circle above a large blue square\"")
    unknown = sorted({w for w in words if w not in WORDS})
    if unknown:
        raise UserInputError(f"word(s) outside the shapes vocabulary: {', '.join(unknown)} (known: {' '.join(WORDS)})")
    if len(words) > length - 1:
        raise UserInputError(f"the prompt has {len(words)} words; at most {length - 1} fit")
    ids = [BOS] + [VOCAB.index(w) for w in words]
    return torch.tensor(ids + [PAD] * (length - len(ids)), dtype=torch.long)


def decode_text(ids) -> str:
    return " ".join(VOCAB[int(i)] for i in ids if int(i) not in (PAD, BOS))


def parse_prompt(caption: str) -> tuple[list[tuple[str, str, str]], str | None]:
    """[(size, colour, shape), ...] and the relation of the first to the second, for a fully specified prompt
    ("a small red circle" or "a small red circle above a large blue square"); UserInputError otherwise."""
    words = caption.lower().split()

    def obj(ws):
        if len(ws) != 4 or ws[0] != "a" or ws[1] not in SIZES or ws[2] not in COLOURS or ws[3] not in SHAPES:
            raise UserInputError(f"{caption!r}: expected 'a SIZE COLOUR SHAPE [RELATION a SIZE COLOUR SHAPE]'")
        return ws[1], ws[2], ws[3]

    if len(words) == 4:
        return [obj(words)], None
    for rel in RELATIONS:
        n = len(rel.split())
        if len(words) == 8 + n and " ".join(words[4:4 + n]) == rel:
            return [obj(words[:4]), obj(words[4 + n:])], rel
    raise UserInputError(f"{caption!r}: expected 'a SIZE COLOUR SHAPE [RELATION a SIZE COLOUR SHAPE]'")


def perturb(scene: Scene, rng: np.random.Generator) -> str:
    """A caption that is wrong for the scene in one respect (an attribute, or the relation): a hard negative."""
    objects = list(scene.objects)
    first = 0 if scene.caption.startswith(f"a {objects[0].phrase()}") else 1
    identical = len(objects) == 2 and objects[0].phrase() == objects[1].phrase()  # then only attributes can be wrong
    if len(objects) == 2 and not identical and rng.random() < 0.4:
        a, b = objects[first], objects[1 - first]
        if rng.random() < 0.5:  # the relation reversed, names kept
            return f"a {a.phrase()} {INVERSE[relation(a, b)]} a {b.phrase()}"
        return f"a {b.phrase()} {relation(a, b)} a {a.phrase()}"  # the names swapped
    i = int(rng.integers(0, len(objects)))
    o = objects[i]
    field = str(rng.choice(["shape", "colour", "size"]))
    options = {"shape": SHAPES, "colour": tuple(COLOURS), "size": tuple(SIZES)}[field]
    new = str(rng.choice([v for v in options if v != getattr(o, field)]))
    objects[i] = ShapeObject(**{**o.__dict__, field: new})
    return caption_of(objects, first)


# --- the judge's targets ---------------------------------------------------------------------------------------

def cell_targets(scene: Scene, size: int = 64, grid: int = GRID) -> dict[str, torch.Tensor]:
    """Detection targets on a grid x grid layout: the cell holding each object's centre carries its class
    indices and its centre offset within the cell (0..1); other cells -1 (no object)."""
    colour = torch.full((grid, grid), -1, dtype=torch.long)
    shape, size_t = colour.clone(), colour.clone()
    offset = torch.zeros(grid, grid, 2)
    cell = size / grid
    for o in scene.objects:
        i, j = min(int(o.cy // cell), grid - 1), min(int(o.cx // cell), grid - 1)
        colour[i, j] = list(COLOURS).index(o.colour)
        shape[i, j] = SHAPES.index(o.shape)
        size_t[i, j] = list(SIZES).index(o.size)
        offset[i, j] = torch.tensor([o.cx / cell - j, o.cy / cell - i])
    return {"colour": colour, "shape": shape, "size": size_t, "offset": offset}


class ShapeScenes(Dataset):
    """Items: {"image": (3, H, W) uint8, "text": (TEXT_LENGTH,) int64, "negative": (TEXT_LENGTH,) int64 (a hard
    negative caption), and the judge's cell targets "colour", "shape", "size" (G, G) int64, "offset" (G, G, 2)}."""

    def __init__(self, images: np.ndarray, scenes: list[Scene], seed: int):
        rng = np.random.default_rng(seed + 7919)
        self.images = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()  # (N, H, W, 3) -> (N, 3, H, W)
        self.text = torch.stack([encode_text(s.caption) for s in scenes]) if scenes else torch.zeros(0, TEXT_LENGTH)
        self.negative = torch.stack([encode_text(perturb(s, rng)) for s in scenes]) if scenes else self.text
        targets = [cell_targets(s, images.shape[1]) for s in scenes]
        self.targets = {k: torch.stack([t[k] for t in targets]) for k in ("colour", "shape", "size", "offset")}
        self.scenes = scenes

    def __len__(self) -> int:
        return len(self.scenes)

    def __getitem__(self, i: int) -> dict:
        return {"image": self.images[i], "text": self.text[i], "negative": self.negative[i],
                **{k: v[i] for k, v in self.targets.items()}}


@dataclass(frozen=True)
class Config:
    n_train: int = 40000
    n_val: int = 1000
    seed: int = 0                  # training seed; selection seed + 1; test seed + 2
    image_size: int = 64
    object_scale: float = 1.2
    two_fraction: float = 0.6      # share of two-object scenes
    colours: tuple[str, ...] = ()  # a subset of the colours (the tiny two-colour world); () = all
    hold_out: bool = True          # training scenes leave out HELD_OUT (the judge's training sees every pair)

    def __post_init__(self):
        unknown = [c for c in self.colours if c not in COLOURS]
        if unknown:
            raise ParameterError(f"data.colours: unknown colour(s) {', '.join(unknown)}; known: {', '.join(COLOURS)}")
        if self.image_size % GRID:
            raise ParameterError(f"data.image_size must divide by {GRID}, got {self.image_size}")


def split_world(config: Config, split: str, n: int) -> tuple[np.ndarray, list[Scene]]:
    """The scenes of one split (train / select / test); a colour subset redraws scenes until they fit it."""
    seed = config.seed + SPLIT_OFFSET[split]
    exclude = split == "train" and config.hold_out
    images, scenes = make_world(n, seed, config.image_size, config.object_scale, config.two_fraction, exclude)
    if config.colours:
        keep = [i for i, s in enumerate(scenes) if all(o.colour in config.colours for o in s.objects)]
        extra_seed = seed
        while len(keep) < n:  # top up with more scenes from a derived seed
            extra_seed += 1000
            more_images, more = make_world(n, extra_seed, config.image_size, config.object_scale,
                                           config.two_fraction, exclude)
            fits = [i for i, s in enumerate(more) if all(o.colour in config.colours for o in s.objects)]
            images = np.concatenate([images, more_images[fits]])
            keep += list(range(len(scenes), len(scenes) + len(fits)))
            scenes = scenes + [more[i] for i in fits]
        images, scenes = images[keep[:n]], [scenes[i] for i in keep[:n]]
    return images, scenes


def build(root, config: Config) -> Built:
    """(train, select) scene sets; ``root`` is unused (the world is generated)."""
    train = ShapeScenes(*split_world(config, "train", config.n_train), seed=config.seed)
    val = ShapeScenes(*split_world(config, "select", config.n_val), seed=config.seed + 1)
    return Built(train, val, None, {"image_size": config.image_size})


def write_synthetic(root) -> None:
    """Nothing to write: the world is generated (kept for the recipe-test protocol)."""
    return None
