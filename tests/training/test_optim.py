"""Optimiser groups, schedules and the EMA."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from sightsound.errors import ParameterError
from sightsound.training import TrainConfig
from sightsound.training.ema import EMA
from sightsound.training.optim import build_optimizer, lr_factor


def test_weight_decay_only_on_matrices():
    model = nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4), nn.Conv1d(4, 4, 3))
    opt = build_optimizer(model, TrainConfig(weight_decay=0.1))
    decayed = {id(p) for g in opt.param_groups if g["weight_decay"] > 0 for p in g["params"]}
    for p in model.parameters():
        assert (id(p) in decayed) == (p.ndim >= 2)


def test_schedules():
    cos = TrainConfig(schedule="cosine", warmup_steps=10, max_steps=110, min_lr_ratio=0.1)
    assert lr_factor(0, cos) == pytest.approx(0.1) and lr_factor(9, cos) == pytest.approx(1.0)
    assert lr_factor(10, cos) == pytest.approx(1.0)
    assert lr_factor(60, cos) == pytest.approx(0.55)
    assert lr_factor(110, cos) == pytest.approx(0.1)
    exp = TrainConfig(schedule="exponential", gamma=0.9, warmup_steps=0)
    assert lr_factor(3, exp) == pytest.approx(0.9**3)
    noam = TrainConfig(schedule="noam", warmup_steps=4000, noam_d_model=512)
    factors = [lr_factor(s, noam) for s in (0, 3998, 3999, 4000, 20000)]
    assert factors[2] == pytest.approx(512**-0.5 * 4000**-0.5)  # the peak, at step = warmup
    assert factors[0] < factors[1] < factors[2] and factors[3] < factors[2] and factors[4] < factors[3]


def test_ema_update_rule():
    model = nn.Linear(2, 1)
    ema = EMA(model, decay=0.9)
    start = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        model.weight.add_(1.0)
    ema.update(model)
    torch.testing.assert_close(ema.shadow["weight"], 0.9 * start["weight"] + 0.1 * model.weight)
    ema.swap(model)
    torch.testing.assert_close(model.weight.detach(), 0.9 * start["weight"] + 0.1 * (start["weight"] + 1))


@pytest.mark.parametrize("bad", [dict(max_steps=0), dict(lr=-1.0), dict(schedule="linear"), dict(precision="fp8"),
                                 dict(ema_decay=1.5)])
def test_bad_config_values(bad):
    with pytest.raises(ParameterError):
        TrainConfig(**bad)


def test_noam_formula_matches_paper():
    c = TrainConfig(schedule="noam", warmup_steps=10, noam_d_model=64)
    for step in (0, 5, 50):
        s = step + 1
        assert lr_factor(step, c) == pytest.approx(64**-0.5 * min(s**-0.5, s * 10**-1.5))
    assert math.isfinite(lr_factor(10**6, c))
