"""Lip-motion metrics: landmark distance, mouth-opening correlation, the nearest-clip DTW baseline, sync offsets.

* landmark distance: the mean Euclidean distance of the 20 mouth landmarks in the face frame (unit: the
  inter-ocular distance, ``vision/landmarks.py``), over points and frames;
* opening correlation: Pearson's r between the predicted and true inner-lip gap over a clip's frames;
* the strong baseline the issue names: the mouth track of the training clip whose audio is nearest by dynamic
  time warping (DTW, Sakoe & Chiba 1978: symmetric steps, cost normalised by the two lengths) over per-utterance
  normalised log-mel pooled to the video rate, warped along the DTW path onto the test audio (each test frame
  takes the mean of the training frames matched to it).
"""

from __future__ import annotations

import numpy as np
import torch

from sightsound.models.lip_motion import landmark_distance, normalise_mel, pearson
from sightsound.vision.landmarks import mouth_opening

__all__ = ["landmark_distance", "opening_correlation", "video_rate_features", "dtw_costs", "dtw_path",
           "warp_track", "nearest_clip_track"]


def opening_correlation(predicted: torch.Tensor, true: torch.Tensor) -> float:
    """Pearson's r of the mouth opening over time of two tracks (V, 20, 2)."""
    return float(pearson(mouth_opening(predicted), mouth_opening(true)))


def video_rate_features(mel: torch.Tensor, per_frame: int) -> torch.Tensor:
    """Log-mel (M, 4V) -> normalised features (V, M): each video frame's mel frames averaged."""
    normal = normalise_mel(mel[None])[0]
    frames = normal.shape[1] // per_frame
    return normal[:, : frames * per_frame].reshape(normal.shape[0], frames, per_frame).mean(dim=2).T


def dtw_costs(query: torch.Tensor, references: list[torch.Tensor]) -> torch.Tensor:
    """Normalised DTW cost (R,) of a query (N, D) against each reference (M_r, D) (Euclidean frame distance),
    computed for all references at once (padded to the longest; a reference's cost is read at its own end)."""
    R, longest = len(references), max(len(r) for r in references)
    padded = torch.zeros(R, longest, query.shape[1])
    for i, r in enumerate(references):
        padded[i, : len(r)] = r
    cost = torch.cdist(query[None].expand(R, -1, -1), padded)                 # (R, N, M)
    N = len(query)
    inf = torch.tensor(float("inf"))
    D = torch.full((R, N + 1, longest + 1), float("inf"))
    D[:, 0, 0] = 0
    for i in range(1, N + 1):
        row = cost[:, i - 1]                                                  # (R, M)
        diag_up = torch.minimum(D[:, i - 1, 1:], D[:, i - 1, :-1]) + row      # from (i-1, j) or (i-1, j-1)
        # the horizontal step (i, j-1) -> (i, j) is a running minimum along j
        current = torch.full((R, longest + 1), float("inf"))
        for j in range(1, longest + 1):
            current[:, j] = torch.minimum(diag_up[:, j - 1], current[:, j - 1] + row[:, j - 1])
        D[:, i] = current
    ends = torch.tensor([len(r) for r in references])
    total = D[torch.arange(R), N, ends]
    return torch.where(torch.isfinite(total), total / (N + ends), inf)


def dtw_path(query: torch.Tensor, reference: torch.Tensor) -> list[tuple[int, int]]:
    """The DTW alignment [(i, j), ...] of a query (N, D) and a reference (M, D) from (0, 0) to (N-1, M-1)."""
    cost = torch.cdist(query, reference).numpy().astype(np.float64)          # (N, M)
    N, M = cost.shape
    D = np.full((N + 1, M + 1), np.inf)
    D[0, 0] = 0
    for i in range(1, N + 1):
        for j in range(1, M + 1):
            D[i, j] = cost[i - 1, j - 1] + min(D[i - 1, j], D[i, j - 1], D[i - 1, j - 1])
    i, j, path = N, M, []
    while i > 0 and j > 0:
        path.append((i - 1, j - 1))
        step = int(np.argmin([D[i - 1, j - 1], D[i - 1, j], D[i, j - 1]]))
        i, j = (i - 1, j - 1) if step == 0 else (i - 1, j) if step == 1 else (i, j - 1)
    return path[::-1]


def warp_track(path: list[tuple[int, int]], track: torch.Tensor, frames: int) -> torch.Tensor:
    """A reference's track (M, ...) moved onto ``frames`` query frames along a DTW path (mean of the matches)."""
    total = torch.zeros(frames, *track.shape[1:])
    count = torch.zeros(frames)
    for i, j in path:
        total[i] += track[j]
        count[i] += 1
    return total / count.clamp_min(1).reshape(-1, *([1] * (track.ndim - 1)))


def nearest_clip_track(query_mel: torch.Tensor, train_mels: list[torch.Tensor], train_tracks: list[torch.Tensor],
                       per_frame: int) -> tuple[torch.Tensor, int]:
    """(the warped mouth track (V, 20, 2) of the training clip nearest by DTW, its index)."""
    query = video_rate_features(query_mel, per_frame)
    references = [video_rate_features(m, per_frame) for m in train_mels]
    best = int(dtw_costs(query, references).argmin())
    return warp_track(dtw_path(query, references[best]), train_tracks[best], len(query)), best
