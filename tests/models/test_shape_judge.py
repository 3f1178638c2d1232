"""The shapes judge: its targets put each object in the cell of its centre, the peak rule keeps one cell per
object, the degradations keep shape and range, and its output has the documented shapes."""

from __future__ import annotations

import torch

from sightsound.data import dalle_shapes as world
from sightsound.models.shape_judge import HEADS, ShapeJudge, ShapeJudgeConfig, degrade


def test_targets_mark_the_centre_cell():
    a = world.ShapeObject("circle", "red", "small", 20.0, 44.0, 6.0)
    b = world.ShapeObject("triangle", "purple", "large", 60.0, 3.0, 9.0)
    t = world.cell_targets(world.Scene((a, b), "x"), 64)
    assert int((t["colour"] >= 0).sum()) == 2
    assert int(t["colour"][5, 2]) == list(world.COLOURS).index("red") and int(t["shape"][5, 2]) == 0
    assert int(t["shape"][0, 7]) == world.SHAPES.index("triangle") and int(t["size"][0, 7]) == 1
    torch.testing.assert_close(t["offset"][5, 2], torch.tensor([0.5, 0.5]))


def test_peak_rule_keeps_one_cell_per_blob():
    logits = torch.full((1, 8, 8), -5.0)
    logits[0, 2, 2], logits[0, 2, 3] = 3.0, 2.0     # one object spilling into its neighbour
    logits[0, 6, 6] = 1.0                           # a second object
    logits[0, 6, 1] = -0.5                          # below the threshold
    keep = ShapeJudge.peaks(logits)
    assert keep.nonzero().tolist() == [[0, 2, 2], [0, 6, 6]]


def test_degrade_keeps_shape_and_range_and_blurs():
    image = (torch.rand(4, 3, 32, 32) > 0.5).float()
    out = degrade(image, 1.5, torch.Generator().manual_seed(0))
    assert out.shape == image.shape and float(out.min()) >= 0 and float(out.max()) <= 1
    assert float(out.diff(dim=-1).abs().mean()) < float(image.diff(dim=-1).abs().mean())


def test_output_shapes():
    judge = ShapeJudge(ShapeJudgeConfig.tiny()).eval()
    out = judge(torch.rand(2, 3, 32, 32))
    assert out["objectness"].shape == (2, 8, 8)
    for name, n in HEADS.items():
        if name != "objectness":
            assert out[name].shape == (2, 8, 8, n)
    found = judge.read(torch.rand(2, 3, 32, 32))
    assert len(found) == 2 and all(isinstance(f, list) for f in found)
