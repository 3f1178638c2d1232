"""Faces: find one in a photo or a video frame and cut a grey, square portrait out of it.

Detection uses OpenCV 4.x's frontal-face Haar cascade (``opencv-python-headless<5``: OpenCV 5 ships no Haar
files), installed with the ``faces`` extra; it runs offline. Video frames are read through OpenCV too.

Portraits are framed like the ORL faces (``orl-faces/``: the head filling most of a dark frame): a square of
``FRAME`` times the detector's box, centred a little below the box centre, converted to grey and resized to
``size`` (B, 1, size, size) floats in [0, 1].
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from sightsound.errors import UserInputError

FRAME = 1.45          # portrait side / detector box side
DROP = 0.06           # portrait centre below the box centre, in box sides


def _cv2():
    try:
        import cv2
    except ImportError:
        raise UserInputError("finding faces needs OpenCV 4.x: pip install 'opencv-python-headless<5' "
                             "(or the 'faces' extra)") from None
    return cv2


def grey(image: torch.Tensor) -> torch.Tensor:
    """(3, H, W) RGB or (H, W) grey in [0, 1] -> (H, W) grey (ITU-R BT.601 luma)."""
    if image.ndim == 2:
        return image
    return (0.299 * image[0] + 0.587 * image[1] + 0.114 * image[2]).clamp(0, 1)


def detect_face(image: torch.Tensor) -> tuple[int, int, int, int] | None:
    """The largest frontal face in (3, H, W) or (H, W) as (x, y, w, h) pixels, or None."""
    cv2 = _cv2()
    cascade = cv2.CascadeClassifier(str(Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"))
    g = (grey(image).numpy() * 255).round().astype(np.uint8)
    side = min(g.shape)
    boxes = cascade.detectMultiScale(g, scaleFactor=1.1, minNeighbors=5, minSize=(max(24, side // 8),) * 2)
    if len(boxes) == 0:
        return None
    x, y, w, h = max(boxes, key=lambda b: b[2] * b[3])
    return int(x), int(y), int(w), int(h)


def crop_square(image: torch.Tensor, cx: float, cy: float, side: float, size: int) -> torch.Tensor:
    """The square of ``side`` pixels centred at (cx, cy) of a (H, W) image (black outside it), resized to
    (1, size, size) with antialiasing."""
    h, w = image.shape
    half = side / 2
    x0, y0 = int(round(cx - half)), int(round(cy - half))
    s = max(1, int(round(side)))
    canvas = torch.zeros(s, s)
    xa, ya, xb, yb = max(0, x0), max(0, y0), min(w, x0 + s), min(h, y0 + s)
    if xb > xa and yb > ya:
        canvas[ya - y0: yb - y0, xa - x0: xb - x0] = image[ya:yb, xa:xb]
    return F.interpolate(canvas[None, None], size=(size, size), mode="bilinear", antialias=True,
                         align_corners=False)[0].clamp(0, 1)


def portrait(image: torch.Tensor, size: int = 64, require_face: bool = True) -> tuple[torch.Tensor, bool]:
    """(grey portrait (1, size, size), whether a face was detected). Without a detection the central square
    is used when ``require_face`` is False (e.g. images that are already face crops), else an error."""
    box = detect_face(image)
    g = grey(image)
    if box is None:
        if require_face:
            raise UserInputError("no frontal face found in the image")
        h, w = g.shape
        return crop_square(g, w / 2, h / 2, min(h, w), size), False
    x, y, bw, bh = box
    side = FRAME * max(bw, bh)
    return crop_square(g, x + bw / 2, y + bh / 2 + DROP * bh, side, size), True


def video_frame(path: str | Path, index: int | None = None) -> torch.Tensor:
    """Frame ``index`` (default: the middle one) of a video as (3, H, W) RGB in [0, 1]."""
    cv2 = _cv2()
    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"{path}: no such video file")
    capture = cv2.VideoCapture(str(path))
    try:
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        if not capture.isOpened() or count <= 0:
            raise UserInputError(f"{path}: cannot read it as a video")
        target = count // 2 if index is None else min(max(0, index), count - 1)
        capture.set(cv2.CAP_PROP_POS_FRAMES, target)
        ok, frame = capture.read()
    finally:
        capture.release()
    if not ok:
        raise UserInputError(f"{path}: cannot decode frame {target}")
    return torch.from_numpy(frame[..., ::-1].copy()).permute(2, 0, 1).float() / 255.0  # BGR (H, W, 3) -> (3, H, W)


def orl_portrait(image: torch.Tensor, size: int = 64) -> torch.Tensor:
    """An ORL face (92x112 grey, the head filling the frame) -> the same framing as ``portrait``: the central
    square a little above the middle, (1, size, size)."""
    g = grey(image)
    h, w = g.shape
    return crop_square(g, w / 2, h / 2 + 0.02 * h, min(h, w) * 1.05, size)
