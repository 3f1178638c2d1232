"""Datasets for real formats (and the tiny synthetic versions the tests write in the same format).

``DATASETS`` names them for recipes: name -> module with ``Config`` (frozen dataclass) and
``build(root, config) -> (train_set, val_set, collate_fn)``.
"""

from __future__ import annotations

import importlib

from sightsound.errors import ParameterError

DATASETS = {"fsdd": "sightsound.data.fsdd"}


def dataset_module(name: str):
    try:
        return importlib.import_module(DATASETS[name])
    except KeyError:
        raise ParameterError(f"unknown dataset {name!r}; known: {', '.join(sorted(DATASETS))}") from None
