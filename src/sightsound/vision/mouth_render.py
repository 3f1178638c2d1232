"""Rendering a talking mouth: a reference face frame whose mouth region is warped to each predicted mouth shape.

Why a piecewise-affine warp (not an image generator): it needs no training, keeps the speaker's own skin, lips
and lighting exactly, runs at hundreds of frames per second on a CPU, and leaves every pixel outside the mouth
region untouched (``render`` guarantees it, and the tests check it). What it cannot do is invent what the
reference does not show: the inside of an open mouth. That is drawn as a dark cavity (the lip colour darkened)
inside the inner lip, the region of a real mouth that is mostly in shadow.

The warp (Sec. 4 of "Synthesizing Obama" warps a mouth texture similarly; here a plain triangle mesh):
* control points: the 20 mouth landmarks (moving) and ``RING`` fixed points on an ellipse around the mouth (the
  warp fades to nothing at the ring: the region outside the ring is never changed);
* one Delaunay triangulation of the control points, made once per reference on the rest mouth with its lips
  parted (a closed reference mouth would give degenerate inner triangles), used for every frame;
* for each output pixel inside the ring: the affine map of its target triangle back to the source triangle,
  sampled bilinearly from the reference (inverse mapping: no holes);
* then the cavity: the target inner-lip polygon (points 60-67), closed in by ``CLOSED_GAP`` (dlib leaves a small
  gap between the inner lips of a closed mouth), filled with the darkened lip colour, and the
  upper teeth (GRID's speaker shows them whenever the mouth opens): a band below the upper inner lip, an off-white
  darkened with the lips' brightness; both anti-aliased.
"""

from __future__ import annotations

import numpy as np
import torch

from sightsound.errors import UserInputError
from sightsound.vision.faces import _cv2
from sightsound.vision.landmarks import denormalise, face_frame, normalise

RING = 16
RING_AXES = (0.85, 0.62)       # semi-axes of the fixed ring (inter-ocular distances) around the mouth centre
RING_DROP = 0.08               # ring centre below the mouth centre (the jaw moves down, not up)
CAVITY_SHADE = 0.35            # cavity colour = this x the mean lip colour
TEETH_COLOUR = (232, 214, 186) # upper teeth (RGB), darkened for a face darker than TEETH_LIGHT on average
TEETH_LIGHT = 110.0
TEETH_DEPTH = 0.3              # the teeth band: this share of the inner-lip gap below the upper inner lip ...
TEETH_MAX = 0.06               # ... at most this many inter-ocular distances
CLOSED_GAP = 0.05              # dlib's inner-lip gap of a closed mouth (GRID s1 at rest: 0.02-0.05); the cavity is
                               # the inner lip closed in by this much, so a resting mouth shows none


def ring_points(mouth: torch.Tensor) -> torch.Tensor:
    """Fixed points (RING, 2) in the face frame around a mouth shape (20, 2) (face frame)."""
    centre = mouth.mean(dim=0) + torch.tensor([0.0, RING_DROP])
    angle = torch.arange(RING) * 2 * torch.pi / RING
    return centre + torch.stack([RING_AXES[0] * torch.cos(angle), RING_AXES[1] * torch.sin(angle)], dim=-1)


def part_lips(mouth: torch.Tensor, gap: float = 0.08) -> torch.Tensor:
    """A copy of a mouth shape (20, 2) with the inner lip opened by ``gap`` (for a non-degenerate mesh)."""
    out = mouth.clone()
    out[13:16, 1] -= gap / 2           # 61-63: upper inner lip
    out[17:20, 1] += gap / 2           # 65-67: lower inner lip
    return out


def triangulate(points: np.ndarray) -> np.ndarray:
    """Delaunay triangles (T, 3) of point indices of (N, 2) float points (OpenCV's Subdiv2D)."""
    cv2 = _cv2()
    low, high = points.min(axis=0) - 10, points.max(axis=0) + 10
    subdiv = cv2.Subdiv2D((float(low[0]), float(low[1]), float(high[0] - low[0]), float(high[1] - low[1])))
    for p in points:
        subdiv.insert((float(p[0]), float(p[1])))
    triangles = []
    for t in subdiv.getTriangleList().reshape(-1, 3, 2):
        index = [int(np.argmin(((points - v) ** 2).sum(axis=1))) for v in t]
        if len(set(index)) == 3 and all(((points[i] - v) ** 2).sum() < 1e-6 for i, v in zip(index, t)):
            triangles.append(index)
    return np.asarray(triangles, dtype=np.int64)


class MouthRenderer:
    """``render(mouths (V, 20, 2) face frame) -> frames (V, H, W, 3) uint8`` of one reference frame.

    ``reference``: (H, W, 3) uint8 RGB; ``landmarks``: its 68 points in pixels (``vision/landmarks.py``);
    ``rest``: the mouth shape (20, 2, face frame) that the reference's own mouth stands for: a predicted shape
    m is drawn as the reference mouth moved by m - rest (the model's rest mouth for another person's face; the
    reference's own mouth for the speaker's own, where the two agree).
    """

    def __init__(self, reference: np.ndarray, landmarks: np.ndarray, rest: torch.Tensor | None = None):
        if reference.ndim != 3 or reference.shape[2] != 3 or reference.dtype != np.uint8:
            raise UserInputError("the reference frame must be an RGB uint8 image (H, W, 3)")
        self.reference = reference
        self.landmarks = torch.as_tensor(landmarks, dtype=torch.float32)          # (68, 2) pixels
        self.mouth = normalise(self.landmarks[48:68], self.landmarks)              # (20, 2) face frame
        self.rest = self.mouth if rest is None else torch.as_tensor(rest, dtype=torch.float32).reshape(20, 2)
        self.ring = ring_points(self.mouth)                                        # (RING, 2) face frame
        source = torch.cat([self.mouth, self.ring])                                # (N, 2)
        self.source_px = denormalise(source, self.landmarks).numpy().astype(np.float64)
        mesh = denormalise(torch.cat([part_lips(self.mouth), self.ring]), self.landmarks).numpy()
        self.triangles = triangulate(mesh)                                         # (T, 3)
        h, w = reference.shape[:2]
        ring_px = self.source_px[20:]
        _, _, scale = face_frame(self.landmarks)
        self.scale = float(scale)
        pad = int(np.ceil(0.1 * self.scale)) + 2
        self.x0, self.y0 = (max(0, int(np.floor(v)) - pad) for v in ring_px.min(axis=0))
        self.x1 = min(w, int(np.ceil(ring_px[:, 0].max())) + pad)
        self.y1 = min(h, int(np.ceil(ring_px[:, 1].max())) + pad)
        lips = np.zeros((h, w), dtype=np.uint8)
        _cv2().fillPoly(lips, [np.round(self.source_px[:12]).astype(np.int32)], 1)
        _cv2().fillPoly(lips, [np.round(self.source_px[12:20]).astype(np.int32)], 0)
        lip_colour = reference[lips.astype(bool)].mean(axis=0) if lips.any() else np.array([150.0, 80, 80])
        self.cavity = (CAVITY_SHADE * lip_colour).astype(np.float32)
        skin = float(lip_colour.mean())
        self.teeth = (np.array(TEETH_COLOUR) * min(1.0, skin / TEETH_LIGHT)).astype(np.float32)

    def target_pixels(self, mouth: torch.Tensor) -> np.ndarray:
        """The control points (N, 2) in pixels for one predicted mouth shape (20, 2)."""
        moved = self.mouth + (mouth - self.rest)
        return denormalise(torch.cat([moved, self.ring]), self.landmarks).numpy().astype(np.float64)

    def frame(self, mouth: torch.Tensor) -> np.ndarray:
        cv2 = _cv2()
        target = self.target_pixels(mouth)
        box_w, box_h = self.x1 - self.x0, self.y1 - self.y0
        labels = np.zeros((box_h, box_w), dtype=np.int32)
        maps = np.zeros((len(self.triangles) + 1, 2, 3), dtype=np.float64)
        maps[0] = [[1, 0, self.x0], [0, 1, self.y0]]             # label 0: outside the mesh, the identity
        offset = np.array([self.x0, self.y0], dtype=np.float64)
        for k, tri in enumerate(self.triangles, start=1):
            dst = target[tri] - offset                           # (3, 2) in box coordinates
            src = self.source_px[tri]
            area = (dst[1, 0] - dst[0, 0]) * (dst[2, 1] - dst[0, 1]) - (dst[2, 0] - dst[0, 0]) * (dst[1, 1] - dst[0, 1])
            if abs(area) < 1e-6:
                continue
            maps[k] = cv2.getAffineTransform(dst.astype(np.float32), src.astype(np.float32))
            cv2.fillConvexPoly(labels, np.round(dst).astype(np.int32), k)
        ys, xs = np.mgrid[0:box_h, 0:box_w].astype(np.float64)
        chosen = maps[labels]                                    # (h, w, 2, 3)
        map_x = chosen[..., 0, 0] * xs + chosen[..., 0, 1] * ys + chosen[..., 0, 2]
        map_y = chosen[..., 1, 0] * xs + chosen[..., 1, 1] * ys + chosen[..., 1, 2]
        warped = cv2.remap(self.reference, map_x.astype(np.float32), map_y.astype(np.float32), cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REPLICATE)
        cavity = target[12:20].copy()                                        # 60-67, corner, upper, corner, lower
        upper, lower = [13, 14, 15], [19, 18, 17]                            # 61-67, 62-66, 63-65: facing pairs
        span = cavity[[i - 12 for i in lower]] - cavity[[i - 12 for i in upper]]   # (3, 2) upper -> lower
        length = np.linalg.norm(span, axis=1, keepdims=True)
        close = np.minimum(CLOSED_GAP * self.scale / 2, length / 2) * span / np.maximum(length, 1e-9)
        cavity[[i - 12 for i in upper]] += close
        cavity[[i - 12 for i in lower]] -= close
        cavity -= offset
        inner = np.zeros((box_h, box_w), dtype=np.uint8)
        cv2.fillPoly(inner, [np.round(cavity * 4).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=2)
        alpha = (inner.astype(np.float32) / 255.0)[..., None] * (labels > 0)[..., None]
        box = warped.astype(np.float32) * (1 - alpha) + self.cavity * alpha
        top = cavity[[0, 1, 2, 3, 4]]                                        # 60, 61, 62, 63, 64: corner to corner
        gap = float(np.linalg.norm(cavity[[1, 2, 3]] - cavity[[7, 6, 5]], axis=1).mean())
        depth = min(TEETH_DEPTH * gap, TEETH_MAX * self.scale)
        if depth > 0.5:
            band = np.concatenate([top, top[::-1][1:-1] + [0.0, depth]])
            teeth = np.zeros((box_h, box_w), dtype=np.uint8)
            cv2.fillPoly(teeth, [np.round(band * 4).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=2)
            beta = np.minimum(teeth.astype(np.float32) / 255.0, inner.astype(np.float32) / 255.0)[..., None]
            box = box * (1 - beta) + self.teeth * beta
        out = self.reference.copy()
        region = out[self.y0: self.y1, self.x0: self.x1]
        inside = labels > 0
        region[inside] = np.clip(np.round(box[inside]), 0, 255).astype(np.uint8)
        return out

    def render(self, mouths: torch.Tensor, progress: bool = False) -> np.ndarray:
        """(V, 20, 2) face-frame mouth shapes -> (V, H, W, 3) uint8 frames."""
        from tqdm import tqdm

        if mouths.ndim != 3 or tuple(mouths.shape[1:]) != (20, 2):
            raise UserInputError(f"expected mouth shapes (V, 20, 2), got {tuple(mouths.shape)}")
        return np.stack([self.frame(m) for m in tqdm(mouths, desc="rendering", unit="frame", disable=not progress,
                                                     leave=False)])

    def overlay(self, frame: np.ndarray, mouth: torch.Tensor, colour=(40, 220, 90)) -> np.ndarray:
        """A copy of a frame with the mouth landmarks of shape ``mouth`` (face frame) drawn on it."""
        cv2 = _cv2()
        out = frame.copy()
        points = np.round(self.target_pixels(mouth)[:20]).astype(np.int32)
        cv2.polylines(out, [points[:12]], True, colour, 1, cv2.LINE_AA)
        cv2.polylines(out, [points[12:]], True, colour, 1, cv2.LINE_AA)
        return out
