"""Face landmarks: dlib's 68-point shape model on every frame of a talking-face video, normalised to the face.

The lip-motion model (``models/lip_motion.py``) learns the 20 mouth points (iBUG 300-W numbering 48-67: the
outer lip 48-59, the inner lip 60-67) of each 25 fps frame. The tool is dlib (``dlib-bin``) with the 68-point
shape predictor of ``face-recognition-models`` (the ``lips`` extra), both from the package registries and offline:

* the face box: dlib's HOG frontal-face detector on every ``every``-th frame, the largest box, median-filtered
  over 5 detections and interpolated to every frame (a missed detection does not jump the box);
* the 68 points: the shape predictor (an ensemble of regression trees, Kazemi & Sullivan 2014) on every frame.

Normalised coordinates (``normalise`` / ``denormalise``, an exact similarity transform and its inverse): origin at
the midpoint of the two eye centres (means of points 36-41 and 42-47), x from the first eye centre to the
second, y perpendicular to it (down the face), unit = the inter-ocular distance. A mouth shape is then comparable across frames, head positions and people, and distances in it are
"in inter-ocular distances" (the landmark-distance metric's unit).

Landmarks are cached as float32 safetensors (V, 68, 2) in pixels under ``ROOT/landmarks-dlib<version>-68/<sha256
of the video>`` (``ROOT`` as for image features): the tool's version is part of the key.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import torch

from sightsound.errors import UserInputError
from sightsound.vision.features import cached_array, default_cache_dir

MOUTH = slice(48, 68)               # the 20 mouth points
OUTER_LIP = list(range(48, 60))
INNER_LIP = list(range(60, 68))
EYES = (slice(36, 42), slice(42, 48))
# mouth opening: the mean gap between the three upper and lower inner-lip points (61-67, 62-66, 63-65)
OPENING_PAIRS = ((61, 67), (62, 66), (63, 65))


def _dlib():
    try:
        import dlib
    except ImportError:
        raise UserInputError("face landmarks need dlib: pip install dlib-bin face-recognition-models "
                             "(or the 'lips' extra)") from None
    return dlib


def predictor_path() -> Path:
    """The 68-point model file inside the ``face-recognition-models`` wheel (found without importing it: its
    ``__init__`` needs ``pkg_resources``)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise UserInputError("face landmarks need the 68-point model: pip install face-recognition-models "
                             "(or the 'lips' extra)")
    path = Path(list(spec.submodule_search_locations)[0]) / "models" / "shape_predictor_68_face_landmarks.dat"
    if not path.is_file():
        raise UserInputError(f"{path}: the 68-point landmark model is missing; reinstall face-recognition-models")
    return path


class LandmarkDetector:
    """``frames (V, H, W) uint8 grey -> landmarks (V, 68, 2) float32 pixels`` (x, y)."""

    def __init__(self, every: int = 5):
        dlib = _dlib()
        self.every = every
        self.detector = dlib.get_frontal_face_detector()
        self.predictor = dlib.shape_predictor(str(predictor_path()))
        self.rectangle = dlib.rectangle

    def boxes(self, frames: np.ndarray, name: str = "the video") -> np.ndarray:
        """(V, 4) float boxes (left, top, right, bottom), detected every ``every`` frames and interpolated."""
        at, found = [], []
        for k in range(0, len(frames), self.every):
            faces = self.detector(frames[k], 0)
            if len(faces) == 0 and min(frames.shape[1:]) < 200:   # small frames: look again at twice the size
                faces = self.detector(frames[k], 1)
            if len(faces):
                best = max(faces, key=lambda r: r.width() * r.height())
                at.append(k)
                found.append([best.left(), best.top(), best.right(), best.bottom()])
        if not found:
            raise UserInputError(f"{name}: no face found")
        found = np.asarray(found, dtype=np.float64)  # (K, 4)
        smooth = np.stack([np.median(found[max(0, i - 2): i + 3], axis=0) for i in range(len(found))])
        frames_at = np.arange(len(frames))
        return np.stack([np.interp(frames_at, at, smooth[:, j]) for j in range(4)], axis=1)

    def __call__(self, frames: np.ndarray, name: str = "the video") -> np.ndarray:
        if frames.ndim != 3 or frames.dtype != np.uint8:
            raise UserInputError(f"{name}: expected grey uint8 frames (V, H, W)")
        boxes = self.boxes(frames, name)
        out = np.zeros((len(frames), 68, 2), dtype=np.float32)
        for k, (frame, box) in enumerate(zip(frames, boxes)):
            rect = self.rectangle(*(int(round(v)) for v in box))
            shape = self.predictor(frame, rect)
            out[k] = [(shape.part(i).x, shape.part(i).y) for i in range(68)]
        return out


def image_landmarks(image: np.ndarray, name: str = "the image") -> np.ndarray:
    """(68, 2) landmarks of the largest face in one grey uint8 (H, W) image."""
    return LandmarkDetector(every=1)(image[None], name)[0]


class LandmarkCache:
    """``get(path) -> (V, 68, 2)`` float32 pixel landmarks of a video at 25 fps, computed once, kept on disk."""

    def __init__(self, cache_dir: str | Path | None = None):
        dlib = _dlib()
        root = Path(cache_dir) if cache_dir else default_cache_dir()
        self.folder = root / f"landmarks-dlib{dlib.__version__}-68"
        self._detector = None

    def get(self, path: str | Path) -> np.ndarray:
        from sightsound.vision.mouths import read_grey_frames

        if not Path(path).is_file():
            raise UserInputError(f"{path}: no such video file")

        def compute() -> np.ndarray:
            if self._detector is None:
                self._detector = LandmarkDetector()
            return self._detector(read_grey_frames(path), name=str(path))

        return cached_array(self.folder, path, "landmarks", compute)

    def many(self, paths: list[Path], progress: bool = True) -> list[np.ndarray]:
        from tqdm import tqdm

        return [self.get(p) for p in tqdm(paths, desc="face landmarks", unit="video", disable=not progress,
                                          leave=False)]


# ------------------------------------------------------------------------------------------------------------
# functional core: the face frame


def face_frame(landmarks: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(..., 68, 2) pixels -> (origin (..., 2), rotation (..., 2, 2) whose rows are the face's x and y axes,
    scale (...,) = inter-ocular distance in pixels)."""
    left = landmarks[..., EYES[0], :].mean(dim=-2)
    right = landmarks[..., EYES[1], :].mean(dim=-2)
    axis = right - left
    scale = axis.norm(dim=-1).clamp_min(1e-6)
    x = axis / scale[..., None]
    y = torch.stack([-x[..., 1], x[..., 0]], dim=-1)          # x turned 90 degrees: down the face in image coords
    return (left + right) / 2, torch.stack([x, y], dim=-2), scale


def normalise(points: torch.Tensor, landmarks: torch.Tensor) -> torch.Tensor:
    """Pixel points (..., P, 2) -> the face frame of ``landmarks`` (..., 68, 2) (unit: inter-ocular distance)."""
    origin, rotation, scale = face_frame(landmarks)
    centred = points - origin[..., None, :]
    return centred @ rotation.transpose(-1, -2) / scale[..., None, None]


def denormalise(points: torch.Tensor, landmarks: torch.Tensor) -> torch.Tensor:
    """The inverse of ``normalise``: face-frame points (..., P, 2) -> pixels in the frame of ``landmarks``."""
    origin, rotation, scale = face_frame(landmarks)
    return (points * scale[..., None, None]) @ rotation + origin[..., None, :]


def mouth_opening(mouth: torch.Tensor) -> torch.Tensor:
    """The inner-lip gap of mouth shapes (..., 20, 2) (points 48-67, any unit) -> (...,)."""
    gaps = [(mouth[..., a - 48, :] - mouth[..., b - 48, :]).norm(dim=-1) for a, b in OPENING_PAIRS]
    return torch.stack(gaps, dim=-1).mean(dim=-1)
