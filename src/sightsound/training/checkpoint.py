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

This module is the one owner of that format: the trainer, ``--resume``, ``load_pretrained`` and the
export of a shipped checkpoint (``export_run``) all read and write it through the functions here
(``write_run_config``, ``read_run_config``, ``model_from_config``, ``load_model``).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import warnings
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
    try:
        save_file(stored, str(tmp), metadata=meta)
    except Exception as error:  # safetensors' own error type for an I/O failure (a full disk)
        tmp.unlink(missing_ok=True)
        raise OSError(28 if "No space" in str(error) else 5, f"cannot write {path.name}: "
                      f"{str(error).splitlines()[0][-80:]}") from None
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # an ordinary file's permissions, whatever the writer used
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _tensor_header(path: Path | str) -> tuple[dict[str, tuple[int, ...]], dict[str, str]]:
    """({name: shape}, metadata) of a safetensors file from its JSON header alone (nothing is allocated),
    aliased (tied) names included. A file that is not safetensors is a one-line UserInputError."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
            shapes = {name: tuple(handle.get_slice(name).get_shape()) for name in handle.keys()}
        aliases = json.loads(metadata.get("aliases", "{}"))
        for name, target in aliases.items():
            shapes[name] = shapes[target]
    except OSError as error:
        raise UserInputError(f"{path}: cannot read ({error.strerror or error})") from None
    except Exception as error:  # safetensors' own error type (a corrupt, truncated or pickled file), bad JSON
        raise UserInputError(f"{path}: not a safetensors weights file ({str(error).splitlines()[0][:120]})") from None
    return shapes, metadata


def tensor_metadata(path: Path | str) -> dict[str, str]:
    """The string metadata of a safetensors file (e.g. the step an exported model is from)."""
    return _tensor_header(path)[1]


def load_tensors(path: Path | str, device: str = "cpu") -> dict[str, torch.Tensor]:
    """Read a safetensors file written by save_tensors_atomic, restoring aliased (tied) names."""
    _, metadata = _tensor_header(path)
    try:
        tensors = load_file(str(path), device=device)
    except Exception as error:  # truncated data after a valid header
        raise UserInputError(f"{path}: not a readable safetensors file ({str(error).splitlines()[0][:120]})") from None
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
                    keep_last: int = 2, rank_rngs: list | None = None) -> Path:
    """Write ``checkpoints/step_NNNNNN`` atomically, point ``latest.json`` at it, drop old ones. ``rank_rngs``:
    every process's ``rng_state()`` under DDP (rank 0's goes to rng.safetensors, rank r's to
    rng_rank{r}.safetensors), so that each rank resumes its own random stream (data augmentation)."""
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
        rngs = rank_rngs or [rng_state()]
        rng_tensors, rng_meta = rngs[0]
        save_tensors_atomic(tmp / "rng.safetensors", rng_tensors)
        for rank, (tensors, _) in enumerate(rngs[1:], start=1):
            save_tensors_atomic(tmp / f"rng_rank{rank}.safetensors", tensors)
        write_json_atomic(tmp / "state.json", {**state, "step": step, "optimizer": opt_meta, "rng": rng_meta,
                                                "rng_ranks": [meta for _, meta in rngs[1:]],
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
    """Copy a checkpoint to ``checkpoints/best`` (atomically replacing the previous best).

    The copy goes to ``.tmp-best``; the old best moves aside to ``.old-best`` and the copy takes its name. A
    kill between those two renames leaves ``.old-best`` alone, which ``recover`` puts back."""
    root = run_dir / "checkpoints"
    tmp = root / ".tmp-best"
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        shutil.copytree(checkpoint, tmp)
        write_json_atomic(tmp / "best.json", {"metric": metric, "value": value, "from": checkpoint.name})
    except (OSError, shutil.Error) as error:
        shutil.rmtree(tmp, ignore_errors=True)
        reason = error.strerror if isinstance(error, OSError) and error.strerror else "a file could not be copied"
        raise OSError(f"cannot copy {checkpoint.name} to checkpoints/best ({reason})") from None
    old = root / ".old-best"
    if old.exists():
        shutil.rmtree(old)
    if (root / "best").exists():
        os.replace(root / "best", old)
    os.replace(tmp, root / "best")
    _fsync_dir(root)
    shutil.rmtree(old, ignore_errors=True)


def recover(run_dir: Path) -> None:
    """Repair what a kill can leave in ``checkpoints/``: a ``best/`` moved aside but not replaced comes back, and
    half-written temporaries (``.tmp-*``) are removed."""
    root = Path(run_dir) / "checkpoints"
    if not root.is_dir():
        return
    if not (root / "best").exists() and (root / ".old-best").is_dir():
        os.replace(root / ".old-best", root / "best")
    for leftover in root.glob(".tmp-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    shutil.rmtree(root / ".old-best", ignore_errors=True)


def _complete(folder: Path) -> bool:
    return all((folder / name).is_file() for name in ("model.safetensors", "optimizer.safetensors",
                                                      "rng.safetensors", "state.json"))


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The checkpoint ``latest.json`` names; if that file is missing or unreadable (a kill can leave it so), the
    newest complete ``step_*`` folder."""
    root = Path(run_dir) / "checkpoints"
    try:
        target = root / json.loads((root / "latest.json").read_text())["dir"]
        if target.is_dir() and _complete(target):
            return target
    except (OSError, ValueError, KeyError, TypeError):
        pass
    steps = sorted(p for p in root.glob("step_*") if p.is_dir() and _complete(p)) if root.is_dir() else []
    return steps[-1] if steps else None


def load_checkpoint(path: Path, rank: int = 0) -> dict:
    """Read a checkpoint folder: tensors via safetensors, the rest from JSON. ``rng`` and ``rng_meta`` are process
    ``rank``'s random-generator state (rank 0's for a checkpoint written without DDP)."""
    try:
        state = json.loads((path / "state.json").read_text())
        own = path / f"rng_rank{rank}.safetensors"
        rank_metas = state.get("rng_ranks") or []
        use_own = rank > 0 and own.is_file() and len(rank_metas) >= rank
        out = {"model": load_tensors(path / "model.safetensors"),
               "optimizer": load_tensors(path / "optimizer.safetensors"),
               "rng": load_tensors(own if use_own else path / "rng.safetensors"),
               "rng_meta": rank_metas[rank - 1] if use_own else state["rng"],
               "state": state}
        if (path / "ema.safetensors").exists():
            out["ema"] = load_tensors(path / "ema.safetensors")
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as error:
        raise UserInputError(f"{path}: not a readable checkpoint ({error})") from None
    return out


def export_weights(run_dir: Path, weights: dict[str, torch.Tensor], metadata: dict) -> None:
    """The run's top-level ``model.safetensors`` (what ``load_pretrained`` reads)."""
    save_tensors_atomic(run_dir / "model.safetensors", weights, metadata)


# -- config.json and the model it describes -----------------------------------------------------------------
# Settings that used to be copied into model configs and now belong to the named audio preset: an older
# config.json may still hold them; they are checked against the preset and dropped.
_DERIVED_AUDIO_KEYS = ("n_mels", "hop_length", "sample_rate")
MAX_PARAMETERS = 2_000_000_000  # a config declaring more is refused before anything is allocated


def write_run_config(run_dir: Path, config: dict) -> None:
    """``RUN/config.json`` (atomic): recipe, preset and every resolved value."""
    write_json_atomic(Path(run_dir) / "config.json", config)


def read_run_config(folder: Path | str) -> dict:
    """The checked contents of ``FOLDER/config.json``: a JSON object whose ``model`` holds a ``name`` and a
    ``config`` object. Anything else is a one-line UserInputError naming the file."""
    path = Path(folder) / "config.json"
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserInputError(f"{folder}: not a model folder (no config.json)") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UserInputError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(saved, dict) or not isinstance(saved.get("model"), dict):
        raise UserInputError(f"{path}: not a sightsound configuration (no \"model\" object)")
    model = saved["model"]
    if not isinstance(model.get("name"), str) or not isinstance(model.get("config"), dict):
        raise UserInputError(f"{path}: \"model\" needs a \"name\" string and a \"config\" object")
    return saved


def config_from_dict(cls, values: dict, where: str):
    """A (frozen dataclass) config from its JSON values: lists become tuples, unknown or wrongly typed keys
    are a one-line UserInputError."""
    import dataclasses

    from sightsound.errors import ParameterError

    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - fields)
    if unknown:
        raise UserInputError(f"{where}: unknown {cls.__name__} key(s) {', '.join(unknown)}")
    try:
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})
    except (TypeError, ValueError, ParameterError) as error:
        raise UserInputError(f"{where}: {error}") from None


def model_from_config(saved: dict, where: str = "config.json", device: str | torch.device | None = None):
    """(model name, config, model) from a checked config.json (``read_run_config``). Keys an older file holds
    for the audio preset are checked against it and dropped. ``device="meta"`` builds the model without
    allocating its weights."""
    from sightsound.audio.presets import get_preset
    from sightsound.errors import ParameterError
    from sightsound.models import model_classes

    name = saved["model"]["name"]
    try:
        config_cls, model_cls = model_classes(name)
    except ParameterError as error:
        raise UserInputError(f"{where}: {error}") from None
    values = dict(saved["model"]["config"])
    if isinstance(values.get("audio_preset"), str):
        try:
            preset = get_preset(values["audio_preset"])
        except ParameterError as error:
            raise UserInputError(f"{where}: {error}") from None
        for key in _DERIVED_AUDIO_KEYS:
            if key in values and values.pop(key) != getattr(preset, key):
                raise UserInputError(f"{where}: {key} does not match the audio preset {preset.name!r}")
    config = config_from_dict(config_cls, values, where)
    probe = None
    try:
        with warnings.catch_warnings(), torch.device("meta"):  # the size, without allocating the weights
            warnings.simplefilter("ignore")  # e.g. pretrained encoder weights "loaded" into meta tensors
            probe = model_cls(config)
    except (NotImplementedError, RuntimeError):
        pass  # a constructor that computes on its tensors cannot run on "meta": built for real below
    except (TypeError, ValueError, ParameterError) as error:
        raise UserInputError(f"{where}: cannot build the {name} model ({error})") from None
    if probe is not None:
        n_params = sum(p.numel() for p in probe.parameters())
        if n_params > MAX_PARAMETERS:
            raise UserInputError(f"{where}: the config declares {n_params:,} parameters (over {MAX_PARAMETERS:,}); "
                                 "refusing to build it")
        if str(device) == "meta":
            return name, config, probe
    try:
        model = model_cls(config)
    except (TypeError, ValueError, ParameterError, RuntimeError) as error:
        raise UserInputError(f"{where}: cannot build the {name} model ({error})") from None
    return name, config, model


def check_state(model: torch.nn.Module, shapes: dict[str, tuple[int, ...]], where: str) -> None:
    """Every tensor the model needs is in the file with its shape, and the file holds nothing else."""
    own = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    missing = sorted(set(own) - set(shapes))
    unused = sorted(set(shapes) - set(own))
    if missing or unused:
        parts = ([f"missing {len(missing)} tensor(s) ({', '.join(missing[:3])})"] if missing else []) + \
                ([f"{len(unused)} unused tensor(s) ({', '.join(unused[:3])})"] if unused else [])
        raise UserInputError(f"{where}: the weights do not fit the model: {'; '.join(parts)}")
    wrong = [k for k in own if own[k] != shapes[k]]
    if wrong:
        k = wrong[0]
        raise UserInputError(f"{where}: {len(wrong)} tensor(s) of the wrong shape, e.g. {k}: file {shapes[k]}, "
                             f"model {own[k]}")


def load_model(folder: Path | str, map_location: str | torch.device = "cpu") -> torch.nn.Module:
    """The model of a run or checkpoint folder (``config.json`` + ``model.safetensors``), in eval mode.

    Checked before anything large is allocated: the config, the model size, and the weight file's header
    against the model (every tensor present, nothing left over, every shape right). Only JSON and
    safetensors are read: nothing is unpickled."""
    folder = Path(folder)
    weights = folder / "model.safetensors"
    saved = read_run_config(folder)
    if not weights.is_file():
        raise UserInputError(f"{folder}: no model.safetensors")
    _, _, model = model_from_config(saved, str(folder / "config.json"), device="meta")
    shapes, _ = _tensor_header(weights)
    check_state(model, shapes, str(weights))
    if any(p.is_meta for p in model.parameters()):
        _, _, model = model_from_config(saved, str(folder / "config.json"))
    model.load_state_dict(load_tensors(weights, device=str(map_location)))  # copied in the model's dtype
    return model.to(map_location).eval()


def export_run(run_dir: Path, dest: Path, *, half: bool = False, weights: str | None = None,
               extras: tuple[str, ...] = ("vocab.json", "vocabulary.json")) -> Path:
    """Copy a run's weights (``model.safetensors``, or another file of the run), its config.json (with the
    recipe path made relative) and ``extras`` into ``dest``, the layout of a shipped checkpoint. ``half``
    stores float tensors as float16 (loading casts back to the model's dtype)."""
    run_dir, dest = Path(run_dir), Path(dest)
    saved = read_run_config(run_dir)
    source = run_dir / (weights or "model.safetensors")
    tensors = load_tensors(source)
    if half:
        tensors = {k: v.half() if v.is_floating_point() else v for k, v in tensors.items()}
    dest.mkdir(parents=True, exist_ok=True)
    save_tensors_atomic(dest / "model.safetensors", tensors,
                        {"source_run": run_dir.name, "source": str(source.relative_to(run_dir)), "half": str(half)})
    if "recipe" in saved:
        saved["recipe"] = f"recipes/{Path(saved['recipe']).name}"  # no machine-specific path
    write_run_config(dest, saved)
    for extra in extras:
        if (run_dir / extra).is_file():
            shutil.copy(run_dir / extra, dest / extra)
    return dest
