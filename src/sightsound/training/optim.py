"""Optimisers and learning-rate schedules."""

from __future__ import annotations

import math

import torch
from torch import nn

from sightsound.training.config import TrainConfig


def parameter_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Weight decay on matrices and convolution kernels (>= 2-D) only; biases, norms and scalar
    gains are not decayed (Loshchilov & Hutter 2019 practice, as in GPT training)."""
    decay, no_decay = [], []
    for parameter in model.parameters():
        if parameter.requires_grad:
            (decay if parameter.ndim >= 2 else no_decay).append(parameter)
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return [g for g in groups if g["params"]]


def build_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """Adam or AdamW over :func:`parameter_groups`; the fused kernel when every parameter is a
    float32/float64 tensor on the CPU or CUDA (one C++ loop instead of one Python step per tensor)."""
    groups = parameter_groups(model, config.weight_decay)
    kind = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
    params = [p for g in groups for p in g["params"]]
    fused = bool(params) and all(p.device.type in ("cpu", "cuda") and p.dtype in (torch.float32, torch.float64)
                                 for p in params)
    return kind(groups, lr=config.lr, betas=tuple(config.betas), eps=config.eps, fused=fused or None)


def lr_factor(step: int, config: TrainConfig) -> float:
    """Multiplier of ``config.lr`` at optimiser step ``step`` (0-based).

    constant: linear warm-up then 1. cosine: warm-up, then half a cosine down to ``min_lr_ratio``
    at ``max_steps``. exponential: warm-up, then ``gamma ** (step - warmup)``. noam (Vaswani et al.
    2017, Eq. 3): ``d_model^-0.5 * min(s^-0.5, s * warmup^-1.5)`` with s = step + 1.
    """
    warmup = config.warmup_steps
    if config.schedule == "noam":
        s = step + 1
        return config.noam_d_model**-0.5 * min(s**-0.5, s * max(1, warmup) ** -1.5)
    if warmup and step < warmup:
        return (step + 1) / warmup
    if config.schedule == "cosine":
        progress = min(1.0, (step - warmup) / max(1, config.max_steps - warmup))
        return config.min_lr_ratio + (1 - config.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))
    if config.schedule == "exponential":
        return config.gamma ** (step - warmup)
    return 1.0


def set_lr(optimizer: torch.optim.Optimizer, step: int, config: TrainConfig) -> float:
    """Set every group's learning rate for ``step``; returns it. (A pure function of the step, so a
    resumed run needs no scheduler state.)"""
    lr = config.lr * lr_factor(step, config)
    for group in optimizer.param_groups:
        group["lr"] = lr
    return lr
