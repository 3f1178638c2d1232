"""A toy model and data set that honour the training contract (fast, for loop tests)."""

from __future__ import annotations

import os
import signal

import torch
from torch import nn
from torch.utils.data import Dataset


class ToyData(Dataset):
    def __init__(self, n: int = 96, seed: int = 0):
        g = torch.Generator().manual_seed(seed)
        self.x = torch.randn(n, 6, generator=g)
        w = torch.randn(6, 1, generator=g)
        self.y = self.x @ w + 0.1 * torch.randn(n, 1, generator=g)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], self.y[i]


class ToyModel(nn.Module):
    """Two-layer MLP with dropout (so that the RNG state matters for exact resumption)."""

    def __init__(self, dropout: float = 0.2):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Dropout(dropout), nn.Linear(16, 1))
        self.calls = 0

    def loss(self, batch):
        self.calls += int(self.training)  # training calls only: validation also calls loss()
        x, y = batch
        error = self.net(x) - y
        return torch.mean(error**2), {"abs_err": float(error.detach().abs().mean())}


class CrashAt(ToyModel):
    """Raises at the n-th training call: a crash in the middle of an epoch."""

    def __init__(self, n: int, **kwargs):
        super().__init__(**kwargs)
        self.n = n

    def loss(self, batch):
        if self.training and self.calls + 1 == self.n:
            raise RuntimeError("simulated crash")
        return super().loss(batch)


class SignalAt(ToyModel):
    """Sends SIGTERM to its own process at the n-th training call."""

    def __init__(self, n: int, **kwargs):
        super().__init__(**kwargs)
        self.n = n

    def loss(self, batch):
        if self.training and self.calls + 1 == self.n:
            os.kill(os.getpid(), signal.SIGTERM)
        return super().loss(batch)


class NaNAt(ToyModel):
    def __init__(self, n: int, **kwargs):
        super().__init__(**kwargs)
        self.n = n

    def loss(self, batch):
        loss, metrics = super().loss(batch)
        if self.training and self.calls >= self.n:
            loss = loss * float("nan")
        return loss, metrics
