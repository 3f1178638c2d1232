"""Mouths: the mouth region of every frame of a talking-face video, tracked with a real face detector and cached.

Looking to Listen (``models/av_separation.py``) learns its own visual features from these crops. The face is
found with OpenCV 4.x's frontal-face Haar cascade (``vision/faces.py``; the ``faces`` extra) on every
``every``-th frame; the boxes are median-filtered over time (a missed or spurious detection does not jump the
crop) and linearly interpolated to every frame. The mouth is the part of the face box

    x from 0.2 w to 0.8 w,   y from 0.62 h to 1.02 h   (the Haar box ends at the chin; GRID's mouths sit there)

resized to ``size`` = (h, w) grey pixels (aspect 2:3, default 32 x 48). Videos are brought to ``FPS`` (25, the
GRID rate: one frame per 640 samples at 16 kHz) by picking the nearest frame in time.

Crops are cached as uint8 safetensors under ``ROOT/mouths-cv<OpenCV version>-<h>x<w>/<sha256 of the video>``
(``ROOT`` as for image features: ``cache_dir``, ``$SIGHTSOUND_CACHE/features`` or
``~/.cache/sightsound/features``): the detector's version is part of the key.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from sightsound.errors import UserInputError
from sightsound.vision.faces import _cv2
from sightsound.vision.features import cached_array, default_cache_dir

FPS = 25.0
MOUTH_BOX = (0.2, 0.62, 0.8, 1.02)   # (x0, y0, x1, y1) as fractions of the face box
MAX_FRAMES = 25 * 60 * 10            # ten minutes of video


def read_grey_frames(path: str | Path, fps: float = FPS) -> np.ndarray:
    """Every frame of a video as grey uint8 (V, H, W), resampled in time to ``fps`` (nearest frame)."""
    from sightsound.vision.video import read_frames

    video, rate = read_frames(path, colour=False, limit=MAX_FRAMES)  # (V0, H, W)
    if abs(rate - fps) > 0.01:
        n = max(1, int(round(len(video) * fps / rate)))
        video = video[np.minimum((np.arange(n) * rate / fps).round().astype(int), len(video) - 1)]
    return video


def track_face(frames: np.ndarray, every: int = 5, name: str = "the video") -> np.ndarray:
    """Face boxes (V, 4) float (x, y, w, h) for every frame of grey (V, H, W) frames: detected on every
    ``every``-th frame, median-filtered over 5 detections, interpolated in time. No face anywhere -> error."""
    cv2 = _cv2()
    cascade = cv2.CascadeClassifier(str(Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"))
    side = min(frames.shape[1:])
    at, boxes = [], []
    for k in range(0, len(frames), every):
        found = cascade.detectMultiScale(frames[k], scaleFactor=1.1, minNeighbors=5,
                                         minSize=(max(24, side // 8),) * 2)
        if len(found):
            at.append(k)
            boxes.append(max(found, key=lambda b: b[2] * b[3]).astype(np.float64))
    if not boxes:
        raise UserInputError(f"{name}: no face found in any frame")
    boxes = np.stack(boxes)  # (K, 4)
    smooth = np.stack([np.median(boxes[max(0, i - 2): i + 3], axis=0) for i in range(len(boxes))])
    frames_at = np.arange(len(frames))
    return np.stack([np.interp(frames_at, at, smooth[:, j]) for j in range(4)], axis=1)  # (V, 4)


def crop_mouths(frames: np.ndarray, boxes: np.ndarray, size: tuple[int, int] = (32, 48)) -> np.ndarray:
    """Mouth crops (V, h, w) uint8 of grey (V, H, W) frames with face boxes (V, 4)."""
    cv2 = _cv2()
    h, w = frames.shape[1:]
    x0f, y0f, x1f, y1f = MOUTH_BOX
    out = np.zeros((len(frames), size[0], size[1]), dtype=np.uint8)
    for k, (frame, (x, y, bw, bh)) in enumerate(zip(frames, boxes)):
        xa, xb = int(round(x + x0f * bw)), int(round(x + x1f * bw))
        ya, yb = int(round(y + y0f * bh)), int(round(y + y1f * bh))
        padded = np.zeros((yb - ya, xb - xa), dtype=np.uint8)  # black outside the frame
        sa, sb, ta, tb = max(0, ya), min(h, yb), max(0, xa), min(w, xb)
        if sb > sa and tb > ta:
            padded[sa - ya: sb - ya, ta - xa: tb - xa] = frame[sa:sb, ta:tb]
        out[k] = cv2.resize(padded, (size[1], size[0]), interpolation=cv2.INTER_AREA)
    return out


def video_mouths(path: str | Path, size: tuple[int, int] = (32, 48), every: int = 5) -> np.ndarray:
    """(V, h, w) uint8 mouth crops of a video at 25 fps (not cached)."""
    frames = read_grey_frames(path)
    return crop_mouths(frames, track_face(frames, every, name=str(path)), size)


class MouthCache:
    """``get(path) -> (V, h, w) uint8`` mouth crops of a video, computed once and kept on disk."""

    def __init__(self, size: tuple[int, int] = (32, 48), cache_dir: str | Path | None = None):
        cv2 = _cv2()
        self.size = (int(size[0]), int(size[1]))
        root = Path(cache_dir) if cache_dir else default_cache_dir()
        self.folder = root / f"mouths-cv{cv2.__version__}-{self.size[0]}x{self.size[1]}"

    def get(self, path: str | Path) -> np.ndarray:
        if not Path(path).is_file():
            raise UserInputError(f"{path}: no such video file")
        return cached_array(self.folder, path, "mouths", lambda: video_mouths(path, self.size))

    def many(self, paths: list[Path], progress: bool = True) -> list[torch.Tensor]:
        """uint8 tensors (V, h, w) for many videos, with a progress bar while any are computed."""
        from tqdm import tqdm

        return [torch.from_numpy(self.get(p)) for p in tqdm(paths, desc="mouth crops", unit="video",
                                                             disable=not progress, leave=False)]
