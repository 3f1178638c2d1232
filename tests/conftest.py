"""Shared test fixtures: paths, the optional real data folder, seeded generators."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SPEECH_FILE = ROOT / "src" / "sightsound" / "pretrained" / "samples" / "speech_flite_16k.flac"


def shared_data() -> Path | None:
    """The real data folder: $SIGHTSOUND_DATA, else ../shared/data beside the checkout (if present)."""
    env = os.environ.get("SIGHTSOUND_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(ROOT.parent / "shared" / "data")
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return None


@pytest.fixture
def real_data() -> Path:
    path = shared_data()
    if path is None:
        pytest.skip("real data not available (set SIGHTSOUND_DATA)")
    return path


if os.environ.get("PYTEST_XDIST_WORKER"):
    # two workers on two cores: one thread each (OpenMP threads of two processes fighting over two cores
    # make small-operation workloads, like the recurrent models' tests, several times slower)
    torch.set_num_threads(1)


@pytest.fixture(autouse=True, scope="session")
def _feature_cache(tmp_path_factory):
    """Cached image features go to a per-session folder, never into the user's ~/.cache."""
    previous = os.environ.get("SIGHTSOUND_CACHE")
    os.environ["SIGHTSOUND_CACHE"] = str(tmp_path_factory.mktemp("sightsound-cache"))
    yield
    if previous is None:
        os.environ.pop("SIGHTSOUND_CACHE", None)
    else:
        os.environ["SIGHTSOUND_CACHE"] = previous


@pytest.fixture(autouse=True)
def _deterministic():
    torch.manual_seed(0)
    yield


DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
