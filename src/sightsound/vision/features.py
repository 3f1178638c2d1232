"""Feature maps cached on disk, keyed by image content and encoder.

A frozen pretrained encoder is the slow part of captioning on a CPU, and its output never changes, so
each photo's (G*G, C) annotation vectors are computed once and stored as float16 safetensors under
``ROOT/<encoder name>/<sha256 of the file bytes>[-flip].safetensors``. ``ROOT`` is ``cache_dir``, else
``$SIGHTSOUND_CACHE/features``, else ``~/.cache/sightsound/features``. Files are written atomically, so an
interrupted extraction leaves no half file, and renaming or moving a photo keeps its key.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from sightsound.vision.io import file_digest, load_image


def cached_array(folder: Path, source: str | os.PathLike, key: str, compute) -> np.ndarray:
    """The array ``key`` stored for ``source`` (a file, keyed by the SHA-256 of its bytes) under ``folder``, or
    ``compute()`` stored there first (written atomically: an interrupted run leaves no half file)."""
    from safetensors.numpy import load_file as load_numpy
    from safetensors.numpy import save_file as save_numpy

    from sightsound.fileio import atomic_path

    file = Path(folder) / f"{file_digest(source)}.safetensors"
    if file.is_file():
        return load_numpy(str(file))[key]
    value = compute()
    file.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(file) as tmp:
        save_numpy({key: value}, str(tmp))
    return value


def default_cache_dir() -> Path:
    base = os.environ.get("SIGHTSOUND_CACHE")
    return Path(base) / "features" if base else Path.home() / ".cache" / "sightsound" / "features"


class FeatureCache:
    """``get(paths) -> (N, G*G, C)`` float16 features for image files, computing the missing ones in batches
    (with a progress bar). ``flip=True`` also gives each photo's horizontally mirrored version (augmentation)."""

    def __init__(self, encoder: torch.nn.Module, cache_dir: str | Path | None = None, batch_size: int = 8,
                 device: str | torch.device = "cpu"):
        self.encoder = encoder.eval().to(device)
        self.device = torch.device(device)
        self.root = Path(cache_dir) if cache_dir else default_cache_dir()
        self.folder = self.root / encoder.name
        self.batch_size = batch_size

    def _file(self, digest: str, flip: bool) -> Path:
        return self.folder / f"{digest}{'-flip' if flip else ''}.safetensors"

    @torch.no_grad()
    def encode_images(self, images: list[torch.Tensor]) -> torch.Tensor:
        """(B, G*G, C) float32 features of (3, H, W) images (not cached)."""
        batch = torch.stack([self.encoder.preprocess(image) for image in images]).to(self.device)
        fmap = self.encoder(batch)  # (B, C, G, G)
        return fmap.flatten(2).transpose(1, 2).float().cpu()  # (B, G*G, C)

    def get(self, paths: list[str | Path], flip: bool = False, progress: bool = True) -> torch.Tensor:
        from tqdm import tqdm

        digests = [file_digest(p) for p in paths]
        missing = [i for i, d in enumerate(digests) if not self._file(d, flip).is_file()]
        if missing:
            self.folder.mkdir(parents=True, exist_ok=True)
            bar = tqdm(total=len(missing), desc=f"features {self.encoder.name}{' flipped' if flip else ''}",
                       unit="img", disable=not progress, leave=False)
            for start in range(0, len(missing), self.batch_size):
                chunk = missing[start:start + self.batch_size]
                images = [load_image(paths[i], max_side=2 * self.encoder.image_size) for i in chunk]
                if flip:
                    images = [image.flip(-1) for image in images]
                features = self.encode_images(images).half()
                for i, feature in zip(chunk, features):
                    target = self._file(digests[i], flip)
                    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
                    save_file({"features": feature.contiguous()}, str(tmp))
                    os.replace(tmp, target)
                bar.update(len(chunk))
            bar.close()
        return torch.stack([load_file(str(self._file(d, flip)))["features"] for d in digests])
