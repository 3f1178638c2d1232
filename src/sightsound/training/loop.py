"""The training loop shared by every model.

The model side of the contract is small:

* ``model.loss(batch) -> (loss, metrics)``: a scalar tensor and a dict of floats for the log;
* optionally ``model.evaluate(batches) -> metrics`` (otherwise the mean of ``loss``'s metrics over
  the validation batches, in eval mode, without gradients).

``train`` adds everything else: AdamW/Adam with decay on >= 2-D weights, warm-up + cosine /
exponential / Noam schedules, gradient clipping and accumulation, mixed precision on CUDA, an EMA of
the weights, periodic validation with early stopping, seeded and exactly resumable runs, atomic
safetensors checkpoints, DDP under torchrun, a progress bar and a JSON-lines log.
"""

from __future__ import annotations

import contextlib
import json
import math
import random
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset, DistributedSampler
from tqdm.auto import tqdm

from sightsound.errors import ParameterError, TrainingError
from sightsound.fileio import atomic_path, folder_lock
from sightsound.training import checkpoint as ckpt
from sightsound.training import distributed
from sightsound.training.config import TrainConfig
from sightsound.training.ema import EMA
from sightsound.training.optim import build_optimizer, set_lr


class ResumableSampler(DistributedSampler):
    """DistributedSampler (seeded permutation per epoch, one shard per rank) that can start
    part-way through an epoch, so a resumed run sees exactly the batches it would have seen."""

    def __init__(self, dataset: Dataset, num_replicas: int, rank: int, seed: int):
        super().__init__(dataset, num_replicas=num_replicas, rank=rank, shuffle=True, seed=seed, drop_last=True)
        self.start = 0

    def __iter__(self) -> Iterator[int]:
        indices = list(super().__iter__())
        return iter(indices[self.start :])

    def __len__(self) -> int:
        return self.num_samples - self.start


class _LossModule(nn.Module):
    """Routes ``forward`` to ``model.loss`` so that DDP's gradient synchronisation applies."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, batch):
        return self.model.loss(batch)


def move_to(batch: Any, device: torch.device) -> Any:
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {k: move_to(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(move_to(v, device) for v in batch)
    return batch


@dataclass
class TrainResult:
    step: int
    stopped: str  # "max_steps" | "early_stop" | "interrupted"
    metrics: dict = field(default_factory=dict)
    best: tuple[str, float] | None = None


def _autocast(device: torch.device, precision: str):
    if precision == "fp32":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)


@torch.no_grad()
def evaluate(model: nn.Module, batches: Iterable, device: torch.device, precision: str = "fp32") -> dict[str, float]:
    """Validation metrics: ``model.evaluate`` when defined, else the mean of ``loss``'s metrics."""
    was_training = model.training
    model.eval()
    try:
        moved = (move_to(b, device) for b in batches)
        with _autocast(device, precision):
            if hasattr(model, "evaluate"):
                return {k: float(v) for k, v in model.evaluate(moved).items()}
            totals: dict[str, float] = {}
            count = 0
            for batch in moved:
                loss, metrics = model.loss(batch)
                metrics = {"loss": float(loss), **{k: float(v) for k, v in metrics.items()}}
                for k, v in metrics.items():
                    totals[k] = totals.get(k, 0.0) + v
                count += 1
            return {k: v / max(1, count) for k, v in totals.items()}
    finally:
        model.train(was_training)


class _StopRequest:
    """SIGINT/SIGTERM set a flag; the loop finishes the step, saves and exits cleanly."""

    def __init__(self):
        self.requested = False
        self._previous = {}

    def __enter__(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self._previous[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread
                pass
        return self

    def _handle(self, signum, frame):
        self.requested = True

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def _truncate_log(path: Path, step: int) -> None:
    """Drop log lines written after ``step`` (a crashed run's tail, recomputed on resume) and a half-written last
    line (a kill during a write), replacing the file atomically."""
    if not path.exists():
        return
    kept = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("step", 0) <= step:
            kept.append(line)
    with atomic_path(path) as tmp:
        tmp.write_text("".join(f"{line}\n" for line in kept), encoding="utf-8")


def _finish_best(run_dir: Path, checkpoint: Path, saved: dict, metric: str, value: float, step: int) -> None:
    """Make ``best/`` and ``model.safetensors`` hold ``checkpoint`` (the best one) if a kill stopped the run
    between writing it and copying it there."""
    best_json = run_dir / "checkpoints" / "best" / "best.json"
    marked = json.loads(best_json.read_text()).get("from") if best_json.is_file() else None
    if marked != checkpoint.name:
        ckpt.mark_best(run_dir, checkpoint, metric, value)
    exported = ckpt.tensor_metadata(run_dir / "model.safetensors").get("step") if (run_dir / "model.safetensors").is_file() else None
    if exported != str(step):
        weights = saved["ema"] if "ema" in saved else saved["model"]
        ckpt.export_weights(run_dir, weights, {"step": step, "ema": "ema" in saved})


def train(
    model: nn.Module,
    train_set: Dataset,
    val_set: Dataset | None,
    config: TrainConfig,
    run_dir: str | Path,
    *,
    collate_fn: Callable | None = None,
    run_config: dict | None = None,
    resume: bool = False,
    progress: bool = True,
    device: str | None = None,
) -> TrainResult:
    """Train ``model`` (see the module docstring for its contract) and write ``run_dir``.

    The model must be built (and seeded) by the caller identically on every process.
    Raises TrainingError for a non-finite loss or a failed checkpoint write, with the last good
    checkpoint left intact.
    """
    run_dir = Path(run_dir)
    env = distributed.setup(device)
    try:
        with folder_lock(run_dir) if env.is_main else contextlib.nullcontext():  # one writer per run folder
            return _train(model, train_set, val_set, config, run_dir, collate_fn, run_config or {}, resume, progress,
                          env)
    finally:
        distributed.teardown(env)


def _train(model, train_set, val_set, config, run_dir, collate_fn, run_config, resume, progress, env) -> TrainResult:
    if config.batch_size % env.world_size:
        raise ParameterError(f"train.batch_size ({config.batch_size}) must divide by the {env.world_size} processes")
    if config.precision == "fp16" and env.device.type != "cuda":
        raise ParameterError("train.precision=fp16 needs CUDA; use bf16 or fp32 on the CPU")
    per_rank = config.batch_size // env.world_size
    if len(train_set) < config.batch_size:
        raise ParameterError(f"the training set has {len(train_set)} examples, fewer than one batch ({config.batch_size})")
    if env.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        if run_config and not resume:  # a resumed run keeps the config.json it started with
            ckpt.write_run_config(run_dir, run_config)

    if env.is_main:
        ckpt.recover(run_dir)
    latest = ckpt.latest_checkpoint(run_dir) if resume else None
    seed = config.seed + 1_000_003 * env.rank  # data-side randomness differs per rank
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)  # numpy and Python too: two runs of one config draw alike (augmentation, ...)
    random.seed(seed)
    if config.init_from and latest is None:  # a fresh run, or one killed before its first checkpoint
        weights = Path(config.init_from) / "model.safetensors"
        if not weights.is_file():
            raise TrainingError(f"train.init_from: {weights} not found")
        state = ckpt.load_tensors(weights)
        if hasattr(model, "init_from_state"):  # a body inside a bigger model (the GPT-1 heads)
            model.init_from_state(state, where=str(weights))
        else:
            ckpt.check_state(model, {k: tuple(v.shape) for k, v in state.items()}, f"train.init_from: {weights}")
            model.load_state_dict(state)
    model.to(env.device)
    wrapped: nn.Module = _LossModule(model)
    if env.enabled:
        wrapped = DistributedDataParallel(wrapped, device_ids=[env.device.index] if env.device.type == "cuda" else None)
    optimizer = build_optimizer(model, config)
    ema = EMA(model, config.ema_decay) if config.ema_decay else None
    scaler = torch.amp.GradScaler("cuda") if config.precision == "fp16" else None
    sampler = ResumableSampler(train_set, env.world_size, env.rank, config.seed)
    # the loaders get generators of their own: creating an iterator must not draw from the global
    # RNG, or a resumed run (which creates one mid-epoch) would drift from an uninterrupted one
    loader = DataLoader(train_set, batch_size=per_rank, sampler=sampler, collate_fn=collate_fn,
                        num_workers=config.num_workers, drop_last=True,
                        generator=torch.Generator().manual_seed(config.seed))
    if len(sampler) < per_rank:
        raise ParameterError("each process's share of the training set is smaller than its batch")

    step, epoch, position = 0, 0, 0
    best_value: float | None = None
    best_metric = config.early_stop_metric or "val/loss"
    bad_evals = 0
    log_path = run_dir / "metrics.jsonl"
    best_step = None  # the step whose weights are in best/ and model.safetensors
    resumed_window: dict = {}
    if resume and latest is None:  # killed before its first checkpoint: start it again from step 0
        if env.is_main and log_path.exists():
            _truncate_log(log_path, 0)
    if latest is not None:
        saved = ckpt.load_checkpoint(latest, env.rank)
        model.load_state_dict(saved["model"])
        ckpt.optimizer_from_tensors(optimizer, saved["optimizer"], saved["state"]["optimizer"])
        if ema is not None and "ema" in saved:
            ema.load_state_dict(saved["ema"])
        if scaler is not None and saved["state"].get("scaler"):
            scaler.load_state_dict(saved["state"]["scaler"])
        state = saved["state"]
        step, epoch, position = state["step"], state["epoch"], state["position"]
        best_value, bad_evals, best_step = state.get("best_value"), state.get("bad_evals", 0), state.get("best_step")
        resumed_window = state.get("log_window") or {}
        ckpt.set_rng_state(saved["rng"], saved["rng_meta"])
        if env.is_main:
            _truncate_log(log_path, step)
            if best_step == step and best_value is not None:  # killed between this save and best/ or the export
                _finish_best(run_dir, latest, saved, best_metric, best_value, step)

    def batches() -> Iterator:
        nonlocal epoch, position
        while True:
            sampler.set_epoch(epoch)
            sampler.start = position * per_rank
            for batch in loader:
                position += 1
                yield batch
            epoch, position = epoch + 1, 0

    def log(record: dict) -> None:
        if env.is_main:
            with open(log_path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(record) + "\n")

    def save(current_step: int) -> Path | None:
        rank_rngs = distributed.gather_objects(ckpt.rng_state(), env)  # every rank's random streams
        if not env.is_main:
            return None
        state = {"epoch": epoch, "position": position, "best_value": best_value, "bad_evals": bad_evals,
                 "best_step": best_step, "log_window": {"sums": window, "steps": window_steps,
                                                        "examples": window_examples}}
        try:
            return ckpt.save_checkpoint(run_dir, current_step, model, optimizer, state,
                                        ema.state_dict() if ema else None,
                                        scaler.state_dict() if scaler else None, config.keep_last, rank_rngs)
        except OSError as error:
            previous = ckpt.latest_checkpoint(run_dir)
            kept = f"the previous checkpoint ({previous.name}) is intact" if previous else "no earlier checkpoint exists"
            raise TrainingError(f"could not save the checkpoint at step {current_step} "
                                f"({error.strerror or error}); {kept} in {run_dir}") from None

    def export() -> None:
        if env.is_main:
            weights = ema.state_dict() if ema else model.state_dict()
            ckpt.export_weights(run_dir, weights, {"step": step, "ema": ema is not None})

    stream = batches()
    model.train()
    bar = tqdm(total=config.max_steps, initial=step, desc="train", unit="step", dynamic_ncols=True,
               disable=not (progress and env.is_main))
    # the training log's running means since the last log line (kept in checkpoints: a resumed run logs the same)
    window: dict[str, float] = dict(resumed_window.get("sums", {}))
    window_steps, window_examples = resumed_window.get("steps", 0), resumed_window.get("examples", 0)
    window_start = time.perf_counter()
    stopped, last_metrics = "max_steps", {}
    with _StopRequest() as stop:
        while step < config.max_steps:
            lr = set_lr(optimizer, step, config)
            for micro in range(config.accumulate):
                batch = move_to(next(stream), env.device)
                sync = micro == config.accumulate - 1 or not env.enabled
                with (contextlib.nullcontext() if sync else wrapped.no_sync()), _autocast(env.device, config.precision):
                    loss, metrics = wrapped(batch)
                if not torch.isfinite(loss.detach()).all():
                    previous = ckpt.latest_checkpoint(run_dir)
                    where = f"the last good checkpoint is {previous}" if previous else "no checkpoint was written yet"
                    raise TrainingError(f"the loss became {float(loss.detach())} at step {step + 1}; stopped, {where}")
                scaled = loss / config.accumulate
                (scaler.scale(scaled) if scaler else scaled).backward()
                for k, v in {"loss": float(loss.detach()), **{k: float(v) for k, v in metrics.items()}}.items():
                    window[k] = window.get(k, 0.0) + v / config.accumulate
                window_examples += per_rank * env.world_size
            if scaler:
                scaler.unscale_(optimizer)
            grad_norm = None
            if config.grad_clip is not None:
                grad_norm = float(torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip))
            if scaler:
                scaler.step(optimizer)
                scaler.update()
            else:
                optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            if ema:
                ema.update(model)
            step += 1
            window_steps += 1
            bar.update(1)

            if step % config.log_every == 0 or step == config.max_steps:
                elapsed = time.perf_counter() - window_start
                record = {"step": step, "lr": lr, **{f"train/{k}": v / window_steps for k, v in window.items()},
                          "examples_per_s": window_examples / max(elapsed, 1e-9)}
                if grad_norm is not None:
                    record["grad_norm"] = grad_norm
                if env.enabled:  # every process's share of the batch, not rank 0's alone
                    record.update({k: distributed.all_mean(v, env) for k, v in record.items() if k.startswith("train/")})
                log(record)
                bar.set_postfix(loss=f"{record['train/loss']:.4f}", lr=f"{lr:.2e}",
                                ex_s=f"{record['examples_per_s']:.0f}")
                window, window_steps, window_examples, window_start = {}, 0, 0, time.perf_counter()

            improved = False
            if val_set is not None and (step % config.eval_every == 0 or step == config.max_steps):
                val_batches = _val_batches(val_set, per_rank, collate_fn, config.eval_batches)
                if ema:
                    ema.swap(model)
                metrics_val = {f"val/{k}": v for k, v in evaluate(model, val_batches, env.device, config.precision).items()}
                if ema:
                    ema.swap(model)
                last_metrics = metrics_val
                log({"step": step, **metrics_val})
                value = metrics_val.get(best_metric)
                if value is not None and math.isfinite(value):
                    better = best_value is None or (value < best_value if config.early_stop_mode == "min" else value > best_value)
                    if better:
                        best_value, bad_evals, improved, best_step = value, 0, True, step
                    else:
                        bad_evals += 1

            stop_now = distributed.any_flag(stop.requested, env)
            early = config.patience is not None and bad_evals >= config.patience
            if step % config.save_every == 0 or step == config.max_steps or improved or stop_now or early:
                saved_at = save(step)
                if improved and saved_at is not None:
                    try:
                        ckpt.mark_best(run_dir, saved_at, best_metric, best_value)
                    except OSError as error:
                        raise TrainingError(f"step {step}: {error}; checkpoint {saved_at.name} is intact in "
                                            f"{run_dir}") from None
                    export()
            if stop_now:
                stopped = "interrupted"
                break
            if early:
                stopped = "early_stop"
                break
    bar.close()
    if env.is_main and (val_set is None or best_value is None):
        export()
    best = (best_metric, best_value) if best_value is not None else None
    return TrainResult(step=step, stopped=stopped, metrics=last_metrics, best=best)


def _val_batches(val_set: Dataset, batch_size: int, collate_fn, limit: int | None) -> Iterator:
    loader = DataLoader(val_set, batch_size=batch_size, shuffle=False, collate_fn=collate_fn,
                        generator=torch.Generator().manual_seed(0))
    for i, batch in enumerate(loader):
        if limit is not None and i >= limit:
            return
        yield batch
