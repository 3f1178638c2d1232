"""Sounds and photos for the audio-visual embedding (``models/av_embedding.py``), tied by text anchors.

* sounds: an ESC-layout folder (``data/esc.py``: its folds, held-out ``test_folds`` and selection recordings);
  each class's anchor is the MiniLM embedding of a prompt ("a dog barking": ``PROMPTS``, else "the sound of
  <category>");
* photos: a caption folder (``flickr8k-1k``: images/ + captions.txt, the captioner's fixed split). Its
  validation photos are never loaded here (they are the retrieval test); every ``photo_select_every``-th
  training photo is the selection split. Each photo is its pooled EfficientNet-Lite0 feature (cached) and its
  captions' MiniLM embeddings (a random one of them per training item, the first at selection).

Items are dicts; ``collate`` stacks them and adds the class anchors (K, D) to every batch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import Dataset

from sightsound.audio.presets import get_preset
from sightsound.data import Built
from sightsound.data.captions import read_caption_folder
from sightsound.data.esc import build_clips, load_waves
from sightsound.data.esc import write_synthetic as write_synthetic_sounds
from sightsound.errors import UserInputError

# ESC-10's categories (and a few more ESC-50 ones) in words that photo captions use
PROMPTS = {
    "dog_bark": "a dog barking", "rain": "rain falling", "sea_waves": "sea waves on a beach",
    "baby_cry": "a baby crying", "clock_tick": "a clock ticking", "person_sneeze": "a person sneezing",
    "helicopter": "a helicopter flying", "chainsaw": "a chainsaw cutting wood", "rooster": "a rooster crowing",
    "crackling_fire": "a fire crackling", "fire_crackling": "a fire crackling", "cat": "a cat meowing",
    "crying_baby": "a baby crying", "sneezing": "a person sneezing", "clock_tick_tock": "a clock ticking",
}


# a photo "matches" a sound class when one of its captions contains one of these words
MATCH_WORDS = {
    "dog_bark": ("dog", "dogs", "puppy", "puppies"),
    "sea_waves": ("water", "sea", "ocean", "beach", "wave", "waves"),
    "baby_cry": ("baby", "babies", "infant"),
    "rain": ("rain", "raining", "rainy"),
    "rooster": ("rooster", "roosters", "chicken", "chickens"),
    "helicopter": ("helicopter", "helicopters"),
    "chainsaw": ("chainsaw", "chainsaws"),
    "clock_tick": ("clock", "clocks"),
    "person_sneeze": ("sneeze", "sneezes", "sneezing"),
    "fire_crackling": ("fire", "campfire", "bonfire", "fireplace"),
}


def caption_words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


def validation_photos(photo_folder: Path):
    """(image folder, names, {name: captions}) of a caption folder's validation photos (its fixed split)."""
    images, captions, splits = read_caption_folder(photo_folder)
    names = sorted(n for n in captions if splits[n] == "val")
    if not names:
        raise UserInputError(f"{photo_folder}: no validation photos")
    return images, names, captions


def prompt_for(category: str) -> str:
    return PROMPTS.get(category, f"the sound of {category.replace('_', ' ')}")


def photo_features(paths: list[Path], image_size: int, cache_dir: str | None) -> torch.Tensor:
    """(N, 1280) pooled EfficientNet-Lite0 features of photo files (cached on disk per file)."""
    from sightsound.vision.encoders import EfficientNetLite0Encoder
    from sightsound.vision.features import FeatureCache

    cache = FeatureCache(EfficientNetLite0Encoder(image_size), cache_dir)
    return cache.get(paths).float().mean(dim=1)  # (N, G*G, C) -> (N, C)


class SoundsAndPhotos(Dataset):
    """Item i: sound ``i mod N`` and photo ``i mod P`` (length max(N, P)); at selection (``train=False``) each
    sound and photo appears once and the item says which of the two it carries."""

    def __init__(self, waves: torch.Tensor, labels: torch.Tensor, photos: torch.Tensor | None,
                 captions: torch.Tensor | None, train: bool, shift: bool):
        self.waves, self.labels, self.photos, self.captions = waves, labels, photos, captions
        self.train, self.shift = train, shift

    def __len__(self) -> int:
        return max(len(self.labels), 0 if self.photos is None else len(self.photos))

    def __getitem__(self, i: int) -> dict:
        n = len(self.labels)
        y = self.waves[i % n]
        if self.train and self.shift:
            y = torch.roll(y, int(torch.randint(0, y.shape[-1], ()).item()))
        item = {"wave": y, "label": self.labels[i % n], "has_sound": self.train or i < n}
        if self.photos is not None:
            p = len(self.photos)
            k = int(torch.randint(0, self.captions.shape[1], ()).item()) if self.train else 0
            item.update(image=self.photos[i % p], text=self.captions[i % p, k], has_photo=self.train or i < p)
        return item


def make_collate(anchors: torch.Tensor):
    def collate(items: list[dict]) -> dict:
        batch = {"wave": torch.stack([x["wave"] for x in items]), "label": torch.stack([x["label"] for x in items]),
                 "has_sound": torch.tensor([x["has_sound"] for x in items]), "anchors": anchors}
        if "image" in items[0]:
            batch.update(image=torch.stack([x["image"] for x in items]), text=torch.stack([x["text"] for x in items]),
                         has_photo=torch.tensor([x["has_photo"] for x in items]))
        return batch
    return collate


@dataclass(frozen=True)
class Config:
    subdir: str = "esc10"             # ESC-layout sound folder under the data root
    photos: str = "flickr8k-1k"       # caption folder under the data root ("" = sounds only)
    preset: str = "speech"
    seconds: float = 5.0
    test_folds: tuple[int, ...] = ()  # never loaded (cross-validation's held-out fold)
    select_every: int = 5             # every 5th recording of each class: the sound selection split
    shift: bool = True
    val_every: int = 8                # the caption folder's fixed split (its validation photos are never loaded)
    photo_select_every: int = 10      # every 10th training photo: the photo selection split
    image_size: int = 448
    cache_dir: str | None = None


def build(root: Path, config: Config):
    from sightsound.models.text_encoder import embed_sentences, load_minilm

    train, select, names = build_clips(root, config)
    rate = get_preset(config.preset).sample_rate
    samples = int(round(config.seconds * rate))
    minilm = load_minilm()
    prompts = tuple(prompt_for(n) for n in names)
    anchors = embed_sentences(list(prompts), minilm)  # (K, D)
    photos = {"train": (None, None), "select": (None, None)}
    if config.photos:
        images, captions, splits = read_caption_folder(Path(root) / config.photos, val_every=config.val_every)
        names_train = sorted(n for n in captions if splits[n] == "train")
        chosen = {"select": names_train[config.photo_select_every - 1:: config.photo_select_every]}
        chosen["train"] = [n for n in names_train if n not in set(chosen["select"])]
        if not chosen["train"] or not chosen["select"]:
            raise UserInputError(f"{images.parent}: too few training photos for a selection split")
        for part, chosen_names in chosen.items():
            per_photo = min(len(captions[n]) for n in chosen_names)
            texts = [c for n in chosen_names for c in captions[n][:per_photo]]
            photos[part] = (photo_features([images / n for n in chosen_names], config.image_size, config.cache_dir),
                            embed_sentences(texts, minilm).view(len(chosen_names), per_photo, -1))
    labels = lambda clips: torch.tensor([c.target for c in clips])  # noqa: E731
    train_set = SoundsAndPhotos(load_waves(train, rate, samples), labels(train), *photos["train"], True, config.shift)
    select_set = SoundsAndPhotos(load_waves(select, rate, samples), labels(select), *photos["select"], False, False)
    values = {"class_names": names, "class_prompts": prompts, "embed_dim": anchors.shape[1],
              "train_folds": tuple(sorted({c.fold for c in train + select})), "clip_seconds": config.seconds}
    if photos["train"][0] is not None:
        values.update(image_channels=photos["train"][0].shape[1], photo_size=config.image_size)
    else:
        values["image_weight"] = 0.0
    return Built(train_set, select_set, make_collate(anchors), values)


def write_synthetic(root: Path) -> Path:
    """The tiny preset's world: a synthetic ESC-layout folder ``root/esc`` (sounds only)."""
    return write_synthetic_sounds(root)
