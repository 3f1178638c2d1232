"""Datasets for real formats (and the tiny synthetic versions the tests write in the same format).

``DATASETS`` names them for recipes: name -> module with ``Config`` (frozen dataclass) and
``build(root, config) -> (train_set, val_set, collate_fn)``. A training set may carry
``model_overrides`` (values the model config must take, e.g. the vocabulary size: a dict, or a
function config -> config) and
``artifacts`` (file name -> text to store in the run directory, e.g. the vocabulary).
"""

from __future__ import annotations

import importlib

from sightsound.errors import ParameterError

DATASETS = {"fsdd": "sightsound.data.fsdd", "charlm": "sightsound.data.charlm",
            "shakespeare_tasks": "sightsound.data.shakespeare_tasks", "grid": "sightsound.data.grid",
            "tts": "sightsound.data.tts", "captions": "sightsound.data.captions",
            "shapes": "sightsound.data.synthetic"}


def dataset_module(name: str):
    try:
        return importlib.import_module(DATASETS[name])
    except KeyError:
        raise ParameterError(f"unknown dataset {name!r}; known: {', '.join(sorted(DATASETS))}") from None
