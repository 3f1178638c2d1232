"""Images in, tensors out: ``load_image`` turns any photo a user is likely to have into RGB floats.

Conversions (never silent failures): grayscale, palette, CMYK and 16-bit images become RGB; an alpha
channel is composited on white; the EXIF orientation is applied. Refused with a one-line
``UserInputError``: missing files, files that are not images, truncated/corrupt images, images
smaller than ``MIN_SIDE`` pixels on a side, and images over ``MAX_PIXELS`` (decompression bombs).
Large photos are decoded at reduced size when the caller only needs ``max_side`` pixels.
"""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import numpy as np
import torch

from sightsound.errors import UserInputError

MIN_SIDE = 8
MAX_PIXELS = 120_000_000
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def _open(path: Path):
    from PIL import Image, UnidentifiedImageError

    if not path.is_file():
        raise UserInputError(f"{path}: no such image file")
    if path.stat().st_size == 0:
        raise UserInputError(f"{path}: the file is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            previous, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, MAX_PIXELS
            try:
                image = Image.open(path)
            finally:
                Image.MAX_IMAGE_PIXELS = previous
    except UnidentifiedImageError:
        raise UserInputError(f"{path}: not an image (or a format Pillow cannot read)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UserInputError(f"{path}: the image is too large (over {MAX_PIXELS // 1_000_000} megapixels)") from None
    except OSError as error:
        raise UserInputError(f"{path}: cannot read the image ({error})") from None
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise UserInputError(f"{path}: the image is too large ({width}x{height}, over "
                             f"{MAX_PIXELS // 1_000_000} megapixels)")
    if min(width, height) < MIN_SIDE:
        raise UserInputError(f"{path}: the image is {width}x{height} pixels; at least {MIN_SIDE} on each side "
                             "is needed")
    return image


def _to_rgb_array(image) -> np.ndarray:
    """(H, W, 3) float32 in [0, 1] from any Pillow mode."""
    from PIL import Image

    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):  # 16/32-bit grayscale: scale by the format range
        array = np.asarray(image, dtype=np.float32)
        top = 65535.0 if image.mode.startswith("I;16") or array.max() > 255 else 255.0
        array = np.clip(array / top, 0.0, 1.0)
        return np.repeat(array[..., None], 3, axis=2)
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode in ("RGB", "L") and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    return np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0


def load_image(path: str | Path, max_side: int | None = None) -> torch.Tensor:
    """RGB image as a (3, H, W) float32 tensor in [0, 1].

    ``max_side``: if given, images larger than this are decoded at reduced size (JPEG draft mode)
    and then shrunk (antialiased) so that the longer side is ``max_side``; smaller ones are kept.
    """
    from PIL import Image, ImageOps

    path = Path(path)
    image = _open(path)
    try:
        if max_side is not None and max(image.size) > max_side and image.format == "JPEG":
            image.draft("RGB", (max_side, max_side))
        image.load()
        image = ImageOps.exif_transpose(image)
        if max_side is not None and max(image.size) > max_side:
            scale = max_side / max(image.size)
            size = (max(1, round(image.size[0] * scale)), max(1, round(image.size[1] * scale)))
            image = image.convert("RGBA" if "A" in image.getbands() else "RGB").resize(size, Image.LANCZOS)
        array = _to_rgb_array(image)
    except (OSError, SyntaxError, ValueError) as error:
        raise UserInputError(f"{path}: the image is corrupt or truncated ({error})") from None
    return torch.from_numpy(np.ascontiguousarray(array)).permute(2, 0, 1).contiguous()  # (H, W, 3) -> (3, H, W)


def save_image(path: str | Path, image: torch.Tensor) -> None:
    """Write a (3, H, W) float image in [0, 1] (or uint8) as PNG/JPEG by suffix."""
    from PIL import Image

    array = image.detach().cpu()
    if array.is_floating_point():
        array = (array.clamp(0, 1) * 255).round().to(torch.uint8)
    Image.fromarray(array.permute(1, 2, 0).numpy()).save(path)


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's bytes: the content key of cached features (renaming a photo keeps its key)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def list_images(folder: str | Path) -> list[Path]:
    """Image files of a folder, sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserInputError(f"{folder}: image folder not found")
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
