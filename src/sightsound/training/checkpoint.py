"""Checkpoints: safetensors + JSON only (loading never unpickles), written atomically.

A run directory::

    RUN/config.json              recipe, preset and every resolved value (model, data, train)
    RUN/model.safetensors        the weights to use (EMA weights when the run keeps an EMA)
    RUN/metrics.jsonl            one JSON object per logged step / evaluation
    RUN/checkpoints/step_000100/ model, optimizer (+ ema) .safetensors, state.json (step, RNG, ...)
    RUN/checkpoints/best/        the checkpoint with the best validation metric
    RUN/checkpoints/latest.json  {"step": 100, "dir": "step_000100"}

A checkpoint folder is written under a temporary name, every file flushed and fsync'ed, then
renamed into place; a failure leaves the previous checkpoints untouched.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from sightsound.errors import UserInputError


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json_atomic(path: Path, data) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def save_tensors_atomic(path: Path, tensors: dict[str, torch.Tensor], metadata: dict | None = None) -> None:
    """safetensors file, written atomically. Tensors that share memory (tied weights) are stored
    once; the metadata's ``aliases`` maps each dropped name to the stored one (see load_tensors)."""
    tmp = path.with_name(f".{path.name}.tmp")
    stored: dict[str, torch.Tensor] = {}
    seen: dict[tuple, str] = {}
    aliases: dict[str, str] = {}
    for name, value in tensors.items():
        key = (value.data_ptr(), value.shape, value.stride(), value.dtype) if value.numel() else None
        if key is not None and key in seen:
            aliases[name] = seen[key]
            continue
        if key is not None:
            seen[key] = name
        stored[name] = value.detach().contiguous().cpu()
    meta = {k: str(v) for k, v in (metadata or {}).items()}
    if aliases:
        meta["aliases"] = json.dumps(aliases)
    save_file(stored, str(tmp), metadata=meta)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # an ordinary file's permissions, whatever the writer used
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def load_tensors(path: Path | str, device: str = "cpu") -> dict[str, torch.Tensor]:
    """Read a safetensors file written by save_tensors_atomic, restoring aliased (tied) names."""
    from safetensors import safe_open

    tensors = load_file(str(path), device=device)
    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata() or {}
    for name, target in json.loads(metadata.get("aliases", "{}")).items():
        tensors[name] = tensors[target]
    return tensors


def optimizer_to_tensors(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    """Split an optimiser state dict into tensors (safetensors) and plain values (JSON)."""
    state = optimizer.state_dict()
    tensors, scalars = {}, {}
    for index, values in state["state"].items():
        for name, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{index}.{name}"] = value
            else:
                scalars[f"{index}.{name}"] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def optimizer_from_tensors(optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], meta: dict) -> None:
    state: dict[int, dict] = {}
    for key, value in tensors.items():
        index, name = key.split(".", 1)
        state.setdefault(int(index), {})[name] = value
    for key, value in meta["scalars"].items():
        index, name = key.split(".", 1)
        state.setdefault(int(index), {})[name] = value
    groups = meta["param_groups"]
    for group in groups:
        if "betas" in group:
            group["betas"] = tuple(group["betas"])
    optimizer.load_state_dict({"state": state, "param_groups": groups})


def rng_state() -> tuple[dict[str, torch.Tensor], dict]:
    """Every random generator the loop touches: torch (CPU and CUDA), numpy and Python."""
    tensors = {"torch_cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"torch_cuda_{i}"] = s
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    tensors["numpy_keys"] = torch.from_numpy(np.asarray(keys, dtype=np.int64))
    version, internal, gauss_next = random.getstate()
    meta = {"numpy": [kind, int(pos), int(has_gauss), float(gauss)],
            "python": [version, list(internal), gauss_next]}
    return tensors, meta


def set_rng_state(tensors: dict[str, torch.Tensor], meta: dict) -> None:
    torch.set_rng_state(tensors["torch_cpu"])
    if torch.cuda.is_available():
        states = [tensors[k] for k in sorted(k for k in tensors if k.startswith("torch_cuda_"))]
        if states:
            torch.cuda.set_rng_state_all(states)
    kind, pos, has_gauss, gauss = meta["numpy"]
    np.random.set_state((kind, tensors["numpy_keys"].numpy().astype(np.uint32), pos, has_gauss, gauss))
    version, internal, gauss_next = meta["python"]
    random.setstate((version, tuple(internal), gauss_next))


def save_checkpoint(run_dir: Path, step: int, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                    state: dict, ema_state: dict | None = None, scaler_state: dict | None = None,
                    keep_last: int = 2) -> Path:
    """Write ``checkpoints/step_NNNNNN`` atomically, point ``latest.json`` at it, drop old ones."""
    root = run_dir / "checkpoints"
    root.mkdir(parents=True, exist_ok=True)
    name = f"step_{step:06d}"
    final = root / name
    tmp = root / f".tmp-{name}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        save_tensors_atomic(tmp / "model.safetensors", model.state_dict())
        opt_tensors, opt_meta = optimizer_to_tensors(optimizer)
        save_tensors_atomic(tmp / "optimizer.safetensors", opt_tensors)
        if ema_state is not None:
            save_tensors_atomic(tmp / "ema.safetensors", ema_state)
        rng_tensors, rng_meta = rng_state()
        save_tensors_atomic(tmp / "rng.safetensors", rng_tensors)
        write_json_atomic(tmp / "state.json", {**state, "step": step, "optimizer": opt_meta, "rng": rng_meta,
                                                "scaler": scaler_state})
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
        _fsync_dir(root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    write_json_atomic(root / "latest.json", {"step": step, "dir": name})
    steps = sorted(p for p in root.glob("step_*") if p.is_dir())
    for old in steps[:-keep_last]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def mark_best(run_dir: Path, checkpoint: Path, metric: str, value: float) -> None:
    """Copy a checkpoint to ``checkpoints/best`` (atomically replacing the previous best)."""
    root = run_dir / "checkpoints"
    tmp = root / ".tmp-best"
    if tmp.exists():
        shutil.rmtree(tmp)
    shutil.copytree(checkpoint, tmp)
    write_json_atomic(tmp / "best.json", {"metric": metric, "value": value, "from": checkpoint.name})
    old = root / ".old-best"
    if (root / "best").exists():
        os.replace(root / "best", old)
    os.replace(tmp, root / "best")
    shutil.rmtree(old, ignore_errors=True)


def latest_checkpoint(run_dir: Path) -> Path | None:
    pointer = run_dir / "checkpoints" / "latest.json"
    if not pointer.exists():
        return None
    target = run_dir / "checkpoints" / json.loads(pointer.read_text())["dir"]
    return target if target.is_dir() else None


def load_checkpoint(path: Path) -> dict:
    """Read a checkpoint folder: tensors via safetensors, the rest from JSON."""
    try:
        out = {"model": load_tensors(path / "model.safetensors"),
               "optimizer": load_tensors(path / "optimizer.safetensors"),
               "rng": load_tensors(path / "rng.safetensors"),
               "state": json.loads((path / "state.json").read_text())}
        if (path / "ema.safetensors").exists():
            out["ema"] = load_tensors(path / "ema.safetensors")
    except (OSError, ValueError, json.JSONDecodeError) as error:
        raise UserInputError(f"{path}: not a readable checkpoint ({error})") from None
    return out


def export_weights(run_dir: Path, weights: dict[str, torch.Tensor], metadata: dict) -> None:
    """The run's top-level ``model.safetensors`` (what ``load_pretrained`` reads)."""
    save_tensors_atomic(run_dir / "model.safetensors", weights, metadata)
