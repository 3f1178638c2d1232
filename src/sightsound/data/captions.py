"""Image-caption data: readers for the usual formats, the fixed Flickr split, and training pairs.

Formats: a folder with ``images/`` and ``captions.txt`` (Kaggle ``image,caption`` CSV, one line per caption,
as in ``../shared/data/flickr8k-1k``), or Karpathy-split JSON (``dataset_flickr8k.json`` /
``dataset_coco.json``: ``images[*].filename``, ``split``, ``sentences[*].raw``).

Split of a CSV folder (fixed, documented): photos sorted by file name; every ``val_every``-th one
(positions 7, 15, 23, ... with the default 8) is validation, the rest training. For the 800-photo
``flickr8k-1k`` that is 700 training / 100 validation photos. Karpathy JSON keeps its own split
(train + restval -> training, val -> validation; test is left for evaluation).

Training on features (``build``): a frozen EfficientNet-Lite0's 1280 x 14 x 14 maps, cached on disk by
``vision.features.FeatureCache`` (about 2 min for 800 photos on 2 cores the first time); with
``flip=True`` every training photo also has its mirrored version's features, picked at random.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import Dataset

from sightsound.data import Built
from sightsound.data.shapes import write_shapes
from sightsound.errors import UserInputError
from sightsound.fileio import read_text
from sightsound.text.captions import Vocabulary, tokenize


def read_caption_csv(path: str | Path) -> dict[str, list[str]]:
    """``image,caption`` CSV (header optional) -> {file name: [captions]} in file order."""
    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"{path}: captions file not found")
    out: dict[str, list[str]] = {}
    for row in csv.reader(io.StringIO(read_text(path, "captions file"), newline="")):
        if not row or (row[0].strip().lower() == "image" and len(row) > 1 and row[1].strip().lower() == "caption"):
            continue
        if len(row) < 2:
            raise UserInputError(f"{path}: expected 'image,caption' lines, got {','.join(row)!r}")
        name, caption = row[0].strip(), ",".join(row[1:]).strip()
        name = name.split("#")[0]  # Flickr8k.token.txt style "name.jpg#0"
        out.setdefault(name, []).append(caption)
    if not out:
        raise UserInputError(f"{path}: no captions")
    return out


def read_karpathy_json(path: str | Path) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Karpathy-split JSON -> ({file name: [raw captions]}, {file name: split})."""
    path = Path(path)
    try:
        data = json.loads(read_text(path, "caption JSON"))
        captions = {im["filename"]: [s["raw"] for s in im["sentences"]] for im in data["images"]}
        splits = {im["filename"]: im.get("split", "train") for im in data["images"]}
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise UserInputError(f"{path}: not a Karpathy-split caption file ({type(error).__name__}: {error})") from None
    return captions, splits


def read_caption_folder(folder: str | Path, captions_file: str = "captions.txt", val_every: int = 8):
    """(image folder, {name: captions}, {name: 'train' | 'val' | 'test'}) of a caption folder."""
    folder = Path(folder)
    images = folder / "images"
    if not images.is_dir():
        raise UserInputError(f"{folder}: no images/ folder (a caption folder has images/ and captions.txt)")
    source = folder / captions_file
    if source.suffix == ".json":
        captions, splits = read_karpathy_json(source)
        splits = {k: ("train" if v in ("train", "restval") else v) for k, v in splits.items()}
    else:
        captions = read_caption_csv(source)
        splits = fixed_split(sorted(captions), val_every)
    missing = [name for name in captions if not (images / name).is_file()]
    if missing:
        raise UserInputError(f"{images}: {len(missing)} captioned image(s) missing, e.g. {missing[0]}")
    return images, captions, splits


def fixed_split(names: list[str], val_every: int = 8) -> dict[str, str]:
    """Every ``val_every``-th name of the sorted list is validation (positions val_every-1, 2*val_every-1...)."""
    if val_every < 2:
        raise UserInputError("val_every must be >= 2")
    return {name: ("val" if i % val_every == val_every - 1 else "train") for i, name in enumerate(sorted(names))}


class CaptionPairs(Dataset):
    """One item per (image, caption): (input, caption ids). ``inputs`` is (N, ...) per image (float16
    features (N, L, C) or uint8 images (N, S, S, 3)); ``flipped`` the mirrored images' inputs, chosen with
    probability 1/2 per item when given (training only)."""

    def __init__(self, inputs: torch.Tensor, pairs: list[tuple[int, list[int]]], flipped: torch.Tensor | None = None,
                 mirror: bool = False):
        self.inputs, self.pairs, self.flipped, self.mirror = inputs, pairs, flipped, mirror  # mirror: uint8 images

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, i: int):
        index, ids = self.pairs[i]
        source = self.inputs
        if self.flipped is not None and torch.rand(()) < 0.5:
            source = self.flipped
        item = source[index]
        if self.mirror and torch.rand(()) < 0.5:
            item = item.flip(1)  # (S, S, 3): the width axis
        return item, torch.tensor(ids, dtype=torch.long)


def image_tensor(batch: torch.Tensor) -> torch.Tensor:
    """uint8 (B, S, S, 3) -> float (B, 3, S, S) in [-1, 1] (the SmallCNN's input scaling)."""
    return batch.permute(0, 3, 1, 2).float() / 127.5 - 1.0


def collate(items):
    """-> (inputs float (B, L, C) or (B, 3, S, S), captions (B, T) long, 0-padded)."""
    inputs = torch.stack([x for x, _ in items])
    inputs = image_tensor(inputs) if inputs.dtype == torch.uint8 else inputs.float()
    longest = max(len(ids) for _, ids in items)
    captions = torch.zeros(len(items), longest, dtype=torch.long)
    for row, (_, ids) in enumerate(items):
        captions[row, : len(ids)] = ids
    return inputs, captions


def pairs_for(captions_per_image: list[list[str]], vocab: Vocabulary, max_words: int):
    """(image index, caption ids) for every caption of every image, in order."""
    return [(i, vocab.encode(tokenize(c), max_words)) for i, caps in enumerate(captions_per_image) for c in caps]


@dataclass(frozen=True)
class Config:
    subdir: str = "flickr8k-1k"       # a caption folder under the data root
    captions_file: str = "captions.txt"
    val_every: int = 8                # the fixed split (module docstring)
    min_count: int = 3                # rarer training words become <unk>
    max_words: int = 20
    image_size: int = 448             # EfficientNet-Lite0 input: 14 x 14 grid
    flip: bool = True                 # add mirrored photos' features to training
    cache_dir: str | None = None      # feature cache (default ~/.cache/sightsound/features)
    fine_tune_blocks: int = 0         # > 0: train on the photos themselves (448 px, uint8 in memory) and fine-tune
                                      # EfficientNet-Lite0's last n blocks with the captioner (GPU work)
    limit: int | None = None          # at most this many training photos (quick runs)


def build(root: Path, config: Config):
    from sightsound.vision.encoders import EfficientNetLite0Encoder
    from sightsound.vision.features import FeatureCache

    images, captions, splits = read_caption_folder(Path(root) / config.subdir, config.captions_file, config.val_every)
    train_names = sorted(n for n in captions if splits[n] == "train")[: config.limit]
    val_names = sorted(n for n in captions if splits[n] == "val")
    if not train_names or not val_names:
        raise UserInputError(f"{images.parent}: the split left no training or no validation photos")
    vocab = Vocabulary.build([tokenize(c) for n in train_names for c in captions[n]], config.min_count)
    if config.fine_tune_blocks > 0:
        return _build_on_pixels(images, captions, train_names, val_names, vocab, config)
    cache = FeatureCache(EfficientNetLite0Encoder(config.image_size), config.cache_dir)
    train_x = cache.get([images / n for n in train_names])
    flipped = cache.get([images / n for n in train_names], flip=True) if config.flip else None
    val_x = cache.get([images / n for n in val_names])
    train = CaptionPairs(train_x, pairs_for([captions[n] for n in train_names], vocab, config.max_words), flipped)
    val = CaptionPairs(val_x, pairs_for([captions[n] for n in val_names], vocab, config.max_words))
    values = {"vocab_size": len(vocab), "encoder": "features", "encoder_channels": train_x.shape[-1],
              "grid": config.image_size // 32}
    return Built(train, val, collate, values, artifacts={"vocab.json": vocab.to_json()})


def _build_on_pixels(images: Path, captions, train_names, val_names, vocab: Vocabulary, config: Config):
    """Photos resized to the encoder's square input, kept as uint8 (fine-tuning the encoder)."""
    from tqdm import tqdm

    from sightsound.vision.encoders import resize_square
    from sightsound.vision.io import load_image

    def pixels(names):
        out = torch.empty(len(names), config.image_size, config.image_size, 3, dtype=torch.uint8)
        for i, name in enumerate(tqdm(names, desc="photos", unit="img", leave=False)):
            image = resize_square(load_image(images / name, max_side=2 * config.image_size), config.image_size)
            out[i] = (image.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0)
        return out

    train = CaptionPairs(pixels(train_names), pairs_for([captions[n] for n in train_names], vocab, config.max_words),
                         mirror=config.flip)
    val = CaptionPairs(pixels(val_names), pairs_for([captions[n] for n in val_names], vocab, config.max_words))
    values = {"vocab_size": len(vocab), "encoder": "efficientnet_lite0", "encoder_channels": 1280,
              "grid": config.image_size // 32, "image_size": config.image_size,
              "fine_tune_blocks": config.fine_tune_blocks}
    return Built(train, val, collate, values, artifacts={"vocab.json": vocab.to_json()})


def write_synthetic(root: Path, n: int = 24, seed: int = 11) -> Path:
    """A tiny caption folder in the flickr8k-1k layout (``root/flickr8k-1k``: images/ + captions.txt), drawn
    from the shapes world: the same code path as the real photos, for tests."""
    return write_shapes(Path(root) / Config.subdir, n, seed, size=64)
