"""PyTorch's own distributed engine: DistributedDataParallel, launched by ``torchrun``.

``torchrun --nproc-per-node N -m sightsound train RECIPE ...`` sets RANK / WORLD_SIZE /
LOCAL_RANK / MASTER_ADDR; :func:`setup` joins the process group (NCCL on CUDA, gloo on CPU).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from sightsound.errors import ParameterError


@dataclass(frozen=True)
class DistEnv:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def setup(device: str | None = None) -> DistEnv:
    """Join the process group when launched by torchrun; otherwise a single-process environment."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device is None:
        device = f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ParameterError(f"unknown device {device!r}; use cpu, cuda or cuda:N") from None
    if dev.type not in ("cpu", "cuda", "mps"):
        raise ParameterError(f"unsupported device {device!r}; use cpu, cuda or cuda:N")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ParameterError(f"device {device!r}: CUDA is not available on this machine; use --device cpu")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise ParameterError(f"device {device!r}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ParameterError(f"device {device!r}: MPS is not available on this machine")
    if dev.type == "cuda" and dev.index is None:  # "cuda" alone: this process's GPU (torchrun's LOCAL_RANK)
        dev = torch.device("cuda", local_rank)
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    if world_size > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if dev.type == "cuda" else "gloo")
    return DistEnv(rank, world_size, local_rank, dev)


def teardown(env: DistEnv) -> None:
    if env.enabled and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def all_mean(value: float, env: DistEnv) -> float:
    """Average a Python number over all processes (the value itself when single-process)."""
    if not env.enabled:
        return value
    t = torch.tensor([value], dtype=torch.float64, device=env.device)
    dist.all_reduce(t)
    return float(t.item()) / env.world_size


def any_flag(flag: bool, env: DistEnv) -> bool:
    """True on every process if it is true on any (used to stop all ranks together)."""
    if not env.enabled:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=env.device)
    dist.all_reduce(t)
    return bool(t.item() > 0)


def gather_objects(value, env: DistEnv) -> list:
    """[the value of rank 0, of rank 1, ...] on every process ([value] when single-process); e.g. every rank's
    random-generator state, so that a checkpoint holds them all."""
    if not env.enabled:
        return [value]
    out = [None] * env.world_size
    dist.all_gather_object(out, value)
    return out
