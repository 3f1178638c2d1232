"""Datasets for real formats (and the tiny synthetic versions the tests write in the same format).

``DATASETS`` names them for recipes: name -> module with ``Config`` (frozen dataclass) and
``build(root, config) -> Built``. ``Built`` is the small typed bundle a builder hands the recipe: the two
splits, their collate function, the model values the data dictates (vocabulary size ...) and the files to store beside the run (the vocabulary). The recipe resolves the model config
from it once (``training.recipes.run``); nothing is glued onto a ``Dataset``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from torch.utils.data import Dataset

from sightsound.errors import ParameterError

DATASETS = {"fsdd": "sightsound.data.fsdd", "charlm": "sightsound.data.charlm",
            "shakespeare_tasks": "sightsound.data.shakespeare_tasks", "grid": "sightsound.data.grid",
            "tts": "sightsound.data.tts", "captions": "sightsound.data.captions",
            "shapes": "sightsound.data.shape_captions", "esc": "sightsound.data.esc",
            "av_scenes": "sightsound.data.av_scenes", "spoken_captions": "sightsound.data.spoken_captions",
            "speech2face": "sightsound.data.speech2face", "dalle_shapes": "sightsound.data.dalle_shapes",
            "av_mixtures": "sightsound.data.av_mixtures", "lip_motion": "sightsound.data.lip_motion"}


@dataclass(frozen=True)
class Built:
    """What a data builder returns.

    ``model_values``: config fields the data fixes (e.g. ``{"vocab_size": 65}``); nested configs by a dict
    (``{"body": {"vocab_size": 65}}``). ``artifacts``: file name -> text, written into the run folder (e.g.
    ``vocab.json``). A model's audio settings are not among the values: they belong to the named audio preset
    the data config chooses (its ``preset`` field), which the recipe copies into the model's ``audio_preset``.
    """

    train: Dataset
    val: Dataset
    collate: Callable | None = None
    model_values: Mapping[str, Any] = field(default_factory=dict)
    artifacts: Mapping[str, str] = field(default_factory=dict)


def dataset_module(name: str):
    try:
        return importlib.import_module(DATASETS[name])
    except KeyError:
        raise ParameterError(f"unknown dataset {name!r}; known: {', '.join(sorted(DATASETS))}") from None
