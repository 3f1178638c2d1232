"""Spoken captions and their photos for an end-to-end speech <-> photo embedding (Harwath et al. 2016-2018 style),
in the text-anchored space of ``models/av_embedding.py``.

A caption folder (``flickr8k-1k``: images/, captions.txt, ``spoken/<photo stem>.mp3`` = the photo's first caption
read aloud). Its validation photos are never loaded (they are the retrieval test); every ``select_every``-th
training photo is the selection split. Each item pairs a spoken caption (cropped / zero-padded to ``seconds``)
with the MiniLM embedding of the words it reads (``sound_text``: its anchor), and the photo's pooled
EfficientNet-Lite0 feature with one of its captions' embeddings (``text``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import Dataset

from sightsound.audio import io as audio_io
from sightsound.audio.presets import get_preset
from sightsound.data import Built
from sightsound.data.av_scenes import photo_features
from sightsound.data.captions import read_caption_folder
from sightsound.errors import UserInputError


class SpokenPairs(Dataset):
    def __init__(self, waves: torch.Tensor, sound_text: torch.Tensor, photos: torch.Tensor, captions: torch.Tensor,
                 train: bool):
        self.waves, self.sound_text, self.photos, self.captions, self.train = waves, sound_text, photos, captions, train

    def __len__(self) -> int:
        return len(self.waves)

    def __getitem__(self, i: int) -> dict:
        k = int(torch.randint(0, self.captions.shape[1], ()).item()) if self.train else 0
        return {"wave": self.waves[i], "sound_text": self.sound_text[i], "image": self.photos[i],
                "text": self.captions[i, k], "has_sound": True, "has_photo": True}


def collate(items: list[dict]) -> dict:
    batch = {key: torch.stack([x[key] for x in items]) for key in ("wave", "sound_text", "image", "text")}
    batch["has_sound"] = batch["has_photo"] = torch.ones(len(items), dtype=torch.bool)
    return batch


def spoken_file(folder: Path, photo: str) -> Path:
    return folder / "spoken" / (Path(photo).stem + ".mp3")


@dataclass(frozen=True)
class Config:
    subdir: str = "flickr8k-1k"
    preset: str = "speech"
    seconds: float = 8.0              # the longest spoken caption is about 8 s
    val_every: int = 8                # the caption folder's fixed split (validation photos never loaded)
    select_every: int = 10            # every 10th training photo: the selection split
    image_size: int = 448
    cache_dir: str | None = None
    limit: int | None = None          # at most this many training photos (quick runs)


def build(root: Path, config: Config):
    from tqdm import tqdm

    from sightsound.models.text_encoder import embed_sentences, load_minilm

    folder = Path(root) / config.subdir
    images, captions, splits = read_caption_folder(folder, val_every=config.val_every)
    names = sorted(n for n in captions if splits[n] == "train" and spoken_file(folder, n).is_file())
    if not names:
        raise UserInputError(f"{folder}: no training photos with a spoken caption (spoken/<photo>.mp3)")
    chosen = {"select": names[config.select_every - 1:: config.select_every]}
    chosen["train"] = [n for n in names if n not in set(chosen["select"])][: config.limit]
    rate = get_preset(config.preset).sample_rate
    samples = int(round(config.seconds * rate))
    minilm = load_minilm()
    parts = {}
    for part, photos in chosen.items():
        waves = torch.zeros(len(photos), samples)
        for i, n in enumerate(tqdm(photos, desc=f"spoken captions ({part})", unit="clip", leave=False)):
            y, _ = audio_io.load(spoken_file(folder, n), sr=rate)
            waves[i, : min(len(y), samples)] = y[:samples] / y.abs().max().clamp_min(1e-6)
        per_photo = min(len(captions[n]) for n in photos)
        texts = embed_sentences([c for n in photos for c in captions[n][:per_photo]], minilm)
        texts = texts.view(len(photos), per_photo, -1)
        parts[part] = SpokenPairs(waves, texts[:, 0], photo_features([images / n for n in photos], config.image_size,
                                                                     config.cache_dir), texts, part == "train")
    values = {"embed_dim": parts["train"].sound_text.shape[1], "image_channels": parts["train"].photos.shape[1],
              "photo_size": config.image_size, "clip_seconds": config.seconds}
    return Built(parts["train"], parts["select"], collate, values)


def write_synthetic(root: Path, n: int = 16) -> Path:
    """A tiny caption folder (``root/flickr8k-1k``, shapes-world photos) whose spoken captions are tones, one
    pitch per photo (the tiny preset's world). Returns the folder."""
    import math

    from sightsound.data.captions import write_synthetic as write_captions

    folder = write_captions(Path(root), n=n)
    (folder / "spoken").mkdir(exist_ok=True)
    t = torch.arange(4000) / 16000
    for i, image in enumerate(sorted((folder / "images").iterdir())):
        audio_io.save(spoken_file(folder, image.name), 0.5 * torch.sin(2 * math.pi * (300 + 40 * i) * t), 16000,
                      overwrite=True)
    return folder
