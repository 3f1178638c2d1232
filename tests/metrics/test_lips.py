"""Lip-motion metrics (metrics/lips.py): batched DTW equals the textbook recursion, the path warps a track onto
the query's frames, the nearest-clip baseline picks the clip that is a time-stretched copy of the query."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sightsound.metrics import lips as M


def _textbook(a: torch.Tensor, b: torch.Tensor) -> float:
    cost = torch.cdist(a, b).numpy()
    N, K = cost.shape
    D = np.full((N + 1, K + 1), np.inf)
    D[0, 0] = 0
    for i in range(1, N + 1):
        for j in range(1, K + 1):
            D[i, j] = cost[i - 1, j - 1] + min(D[i - 1, j], D[i, j - 1], D[i - 1, j - 1])
    return D[N, K] / (N + K)


def test_batched_dtw_equals_the_recursion():
    g = torch.Generator().manual_seed(0)
    query = torch.randn(17, 4, generator=g)
    references = [torch.randn(n, 4, generator=g) for n in (9, 17, 30)]
    costs = M.dtw_costs(query, references)
    assert costs.tolist() == pytest.approx([_textbook(query, r) for r in references], rel=1e-5)


def test_path_and_warp():
    g = torch.Generator().manual_seed(1)
    query = torch.randn(12, 3, generator=g)
    stretched = query.repeat_interleave(2, dim=0)              # the same sequence at half speed
    path = M.dtw_path(query, stretched)
    assert path[0] == (0, 0) and path[-1] == (11, 23)
    assert all(b[0] - a[0] in (0, 1) and b[1] - a[1] in (0, 1) for a, b in zip(path, path[1:]))
    track = torch.arange(24.0).repeat_interleave(2).reshape(24, 2)   # frame j of the reference holds j
    warped = M.warp_track(path, track, 12)
    assert torch.allclose(warped[:, 0], torch.arange(12.0) * 2 + 0.5, atol=0.6)


def test_nearest_clip_baseline_picks_the_matching_clip():
    g = torch.Generator().manual_seed(2)
    mels = [torch.randn(80, 4 * 20, generator=g) for _ in range(4)]
    tracks = [torch.full((20, 20, 2), float(i)) for i in range(4)]
    query = mels[2][:, :72] + 0.01 * torch.randn(80, 72, generator=g)
    warped, index = M.nearest_clip_track(query, mels, tracks, per_frame=4)
    assert index == 2 and warped.shape == (18, 20, 2) and torch.allclose(warped, torch.full_like(warped, 2.0))


def test_opening_correlation_sign():
    from sightsound.data.lip_motion import template_mouth

    gaps = torch.rand(30)
    assert M.opening_correlation(template_mouth(gaps), template_mouth(2 * gaps)) == pytest.approx(1.0, abs=1e-5)
    assert M.opening_correlation(template_mouth(gaps), template_mouth(1 - gaps)) == pytest.approx(-1.0, abs=1e-5)
