"""Recipes: plain-Python files of values that say what to train on what.

A recipe module defines ``MODEL`` (a name in ``sightsound.models.MODELS``), ``DATA`` (a name in
``sightsound.data.DATASETS``) and ``PRESETS = {"tiny": {...}, "cpu": {...}, "paper": {...}}``, each
preset a dict with optional ``model``, ``data`` and ``train`` dicts of values. The model's values
override its config's preset of the same name (``XConfig.tiny()`` ...). ``--set section.key=value``
overrides any value; unknown keys are an error that lists the valid ones.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib.util
import os
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from sightsound.data import dataset_module
from sightsound.errors import ParameterError, UserInputError
from sightsound.fileio import atomic_path
from sightsound.models import model_classes
from sightsound.training.checkpoint import (
    config_from_dict,
    model_from_config,
    read_run_config,
    write_run_config,
)
from sightsound.training.config import TrainConfig
from sightsound.training.loop import TrainResult, train

SECTIONS = ("model", "data", "train")


def find_recipe(recipe: str) -> Path:
    """A recipe path, or a bare name looked up in ./recipes/."""
    path = Path(recipe)
    candidates = [path, Path("recipes") / path, Path("recipes") / f"{recipe}.py"]
    for candidate in candidates:
        if candidate.is_file() and candidate.suffix == ".py":
            return candidate.resolve()
    known = sorted(p.stem for p in Path("recipes").glob("*.py")) if Path("recipes").is_dir() else []
    hint = f"; recipes here: {', '.join(known)}" if known else ""
    raise UserInputError(f"{recipe}: no such recipe file{hint}")


def load_recipe(path: Path):
    spec = importlib.util.spec_from_file_location(f"sightsound_recipe_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # a recipe is user code: report its error in one line
        raise UserInputError(f"{path}: cannot load the recipe ({type(error).__name__}: {error})") from None
    for name in ("MODEL", "DATA", "PRESETS"):
        if not hasattr(module, name):
            raise UserInputError(f"{path}: a recipe must define {name}")
    return module


def parse_value(text: str):
    """``--set`` values: Python literals (numbers, True, None, tuples...), else the string itself."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parse_sets(items: list[str]) -> dict[str, dict]:
    out: dict[str, dict] = {s: {} for s in SECTIONS}
    for item in items:
        key, sep, value = item.partition("=")
        section, dot, field = key.partition(".")
        if not sep or not dot or not field:
            raise ParameterError(f"--set {item!r}: expected section.key=value, e.g. train.lr=3e-4")
        if section not in SECTIONS:
            raise ParameterError(f"--set {item!r}: the section must be one of {', '.join(SECTIONS)}")
        out[section][field] = parse_value(value)
    return out


def _fits(value, default) -> bool:
    """Whether a --set or recipe value has the type of the field's default (None fits anything; an int is a float)."""
    if default is None or value is None:
        return True
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    if isinstance(default, int):
        return isinstance(value, int)
    if isinstance(default, tuple):
        return isinstance(value, (tuple, list))
    if dataclasses.is_dataclass(default):
        return isinstance(value, (dict, type(default)))
    return isinstance(value, type(default))


def _build_dataclass(cls, base, values: dict, section: str):
    valid = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(values) - set(valid))
    if unknown:
        raise ParameterError(f"unknown {section} key(s) {', '.join(unknown)}; valid keys: {', '.join(valid)}")
    converted = {}
    for f in dataclasses.fields(cls):
        if f.name in values:
            value = values[f.name]
            if not _fits(value, getattr(base, f.name)):
                raise ParameterError(f"{section}.{f.name}={value!r}: expected a value like "
                                     f"{getattr(base, f.name)!r} ({type(getattr(base, f.name)).__name__})")
            if isinstance(value, list):
                value = tuple(value)
            converted[f.name] = value
    try:
        return dataclasses.replace(base, **converted)
    except (TypeError, ValueError) as error:
        raise ParameterError(f"{section}: {error}") from None


@dataclass(frozen=True)
class ResolvedRecipe:
    path: Path
    preset: str
    model_name: str
    data_name: str
    model_config: object
    data_config: object
    train_config: TrainConfig
    sets: tuple[str, ...]

    def to_json(self, data_root: str | None) -> dict:
        return {
            "recipe": str(self.path), "preset": self.preset, "sets": list(self.sets), "data_root": data_root,
            "model": {"name": self.model_name, "config": dataclasses.asdict(self.model_config)},
            "data": {"name": self.data_name, "config": dataclasses.asdict(self.data_config)},
            "train": dataclasses.asdict(self.train_config),
            "torch": torch.__version__, "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }


def resolve(recipe: str | Path, preset: str, sets: list[str] | tuple[str, ...] = ()) -> ResolvedRecipe:
    path = find_recipe(str(recipe))
    module = load_recipe(path)
    if preset not in module.PRESETS:
        raise ParameterError(f"{path.name} has no preset {preset!r}; presets: {', '.join(module.PRESETS)}")
    values = {s: dict(module.PRESETS[preset].get(s, {})) for s in SECTIONS}
    for section, overrides in parse_sets(list(sets)).items():
        values[section].update(overrides)
    config_cls, _ = model_classes(module.MODEL)
    base_model = getattr(config_cls, preset)() if hasattr(config_cls, preset) else config_cls()
    data_mod = dataset_module(module.DATA)
    data_config = _build_dataclass(data_mod.Config, data_mod.Config(), values["data"], "data")
    model_fields = {f.name for f in dataclasses.fields(config_cls)}
    if "audio_preset" in model_fields and hasattr(data_config, "preset"):
        # one owner for the audio settings: the named preset the data is analysed with
        if values["model"].get("audio_preset", data_config.preset) != data_config.preset:
            raise ParameterError(f"model.audio_preset={values['model']['audio_preset']!r} differs from the data's "
                                 f"preset {data_config.preset!r}; set data.preset instead")
        values["model"]["audio_preset"] = data_config.preset
    return ResolvedRecipe(
        path=path, preset=preset, model_name=module.MODEL, data_name=module.DATA,
        model_config=_build_dataclass(config_cls, base_model, values["model"], "model"),
        data_config=data_config,
        train_config=_build_dataclass(TrainConfig, TrainConfig(), values["train"], "train"),
        sets=tuple(sets),
    )


def with_values(config, values: dict):
    """``config`` with the values a data builder dictates; a dict value updates a nested config."""
    changes = {k: with_values(getattr(config, k), v) if isinstance(v, dict) else v for k, v in values.items()}
    try:
        return dataclasses.replace(config, **changes)
    except TypeError as error:
        raise ParameterError(f"the data's model values do not fit {type(config).__name__}: {error}") from None


def data_root(path: str | None) -> Path:
    """``--data`` or ``$SIGHTSOUND_DATA``; never a hard-coded location."""
    chosen = path or os.environ.get("SIGHTSOUND_DATA")
    if not chosen:
        raise UserInputError("no data folder: pass --data PATH or set SIGHTSOUND_DATA")
    root = Path(chosen)
    if not root.is_dir():
        raise UserInputError(f"{root}: data folder not found")
    return root


def run(resolved: ResolvedRecipe, data: str | None, out: Path, *, resume: bool = False, progress: bool = True,
        device: str | None = None) -> TrainResult:
    """Build the model and the data of a resolved recipe and train them into ``out``."""
    data_mod = dataset_module(resolved.data_name)
    needs = getattr(data_mod, "NEEDS_DATA", True)  # False (or a function of the data config): a generated world
    needs = needs(resolved.data_config) if callable(needs) else needs
    root = data_root(data) if needs else Path(data or ".")
    built = data_mod.build(root, resolved.data_config)
    # values the data dictates (vocabulary size ...), unless a --set names the field: e.g. a voice-only stage of
    # Speech2Face keeps the identity classifier of the face side it starts from on a bigger world
    chosen = set(parse_sets(list(resolved.sets)).get("model", {}))
    dictated = {k: v for k, v in built.model_values.items() if k not in chosen}
    if dictated:
        resolved = dataclasses.replace(resolved, model_config=with_values(resolved.model_config, dictated))
    saved = {"model": {"name": resolved.model_name, "config": dataclasses.asdict(resolved.model_config)}}
    model_from_config(saved, "the model settings", device="meta")  # its size and shapes, before allocating it
    _, model_cls = model_classes(resolved.model_name)
    torch.manual_seed(resolved.train_config.seed)  # identical initial weights on every process
    try:
        model = model_cls(resolved.model_config)
    except (TypeError, ValueError, RuntimeError) as error:
        raise ParameterError(f"the model settings do not build a {resolved.model_name} model ({error})") from None
    run_config = resolved.to_json(str(root))
    if int(os.environ.get("RANK", "0")) == 0:
        out.mkdir(parents=True, exist_ok=True)
        if not resume:  # config.json first: a folder killed after it can always be resumed
            write_run_config(out, run_config)
        for name, text in built.artifacts.items():
            with atomic_path(out / name) as tmp:
                tmp.write_text(text, encoding="utf-8")
    return train(model, built.train, built.val, resolved.train_config, out, collate_fn=built.collate,
                 run_config=run_config, resume=resume, progress=progress, device=device)


def resolve_from_run(run_dir: Path) -> tuple[ResolvedRecipe, str | None]:
    """The exact settings a run was started with (its config.json), for ``--resume``; the recipe
    file is not read again, so editing it cannot change a resumed run."""
    config_path = run_dir / "config.json"
    saved = read_run_config(run_dir)
    where = str(config_path)
    try:
        _, model_config, _ = model_from_config(saved, where, device="meta")
        data_mod = dataset_module(saved["data"]["name"])
        resolved = ResolvedRecipe(
            path=Path(saved["recipe"]), preset=saved["preset"], model_name=saved["model"]["name"],
            data_name=saved["data"]["name"], model_config=model_config,
            data_config=config_from_dict(data_mod.Config, saved["data"]["config"], where),
            train_config=config_from_dict(TrainConfig, saved["train"], where), sets=tuple(saved.get("sets", [])))
    except (KeyError, TypeError, AttributeError, ParameterError) as error:
        raise UserInputError(f"{config_path}: not a sightsound run configuration ({type(error).__name__}: {error})") from None
    return resolved, saved.get("data_root")
