"""The shapes world as a captioning data set (recipe data name ``shapes``): scenes generated in memory, seeded.

Training scenes use ``seed``, validation scenes ``seed + 1``; folders written with ``sightsound shapes`` use seed
2 and up (held out). The world itself is ``data/shapes.py``; the caption pairs and their collate are
``data/captions.py``'s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from sightsound.data import Built
from sightsound.data.captions import CaptionPairs, collate, pairs_for
from sightsound.data.shapes import make_scenes
from sightsound.text.captions import Vocabulary, tokenize

NEEDS_DATA = False  # recipes run without --data


@dataclass(frozen=True)
class Config:
    n_train: int = 8000
    n_val: int = 300
    seed: int = 0              # training scenes use seed, validation seed + 1 (held-out scenes: write_shapes, seed 2)
    image_size: int = 112
    max_words: int = 20
    object_scale: float = 1.0  # radii multiplier (render_scene); held-out folders: `sightsound shapes --object-scale`


def build(root, config: Config):
    """(train, val, collate): uint8 images + caption ids. ``root`` is unused (the world is generated)."""
    sets = []
    for n, seed in ((config.n_train, config.seed), (config.n_val, config.seed + 1)):
        images, _, _, captions = make_scenes(n, seed, config.image_size, config.object_scale)
        sets.append((torch.from_numpy(np.stack(images)), captions))
    vocab = Vocabulary.build([tokenize(c) for caps in sets[0][1] for c in caps], min_count=1)
    train = CaptionPairs(sets[0][0], pairs_for(sets[0][1], vocab, config.max_words))
    val = CaptionPairs(sets[1][0], pairs_for(sets[1][1], vocab, config.max_words))
    return Built(train, val, collate, {"vocab_size": len(vocab), "encoder": "small_cnn",
                                       "image_size": config.image_size}, artifacts={"vocab.json": vocab.to_json()})


def write_synthetic(root) -> None:
    """Nothing to write: the shapes recipe generates its scenes (kept for the recipe-test protocol)."""
    return None
