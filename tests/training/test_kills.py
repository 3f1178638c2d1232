"""Every state a kill can leave in a run folder is resumable, and the resumed run ends bit-identical to an
uninterrupted one (weights, best/, model.safetensors, the log). The kills are simulated at the write steps of
the run folder; scripts/kill_loop.py does it with real `kill -9` at random moments."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from safetensors.torch import load_file

from sightsound.training import TrainConfig, train
from sightsound.training import checkpoint as ckpt
from tests.training.toy import ToyData, ToyModel

BASE = dict(max_steps=30, batch_size=8, lr=1e-2, log_every=4, eval_every=5, save_every=10, seed=3,
            schedule="cosine", warmup_steps=5)


def run(tmp, name, resume=False):
    torch.manual_seed(0)
    return train(ToyModel(), ToyData(), ToyData(32, seed=1), TrainConfig(**BASE), tmp / name, resume=resume,
                 progress=False)


def same_run(a, b):
    """Final weights, best/ and the log of two run folders are identical."""
    torch.testing.assert_close(load_file(a / "model.safetensors"), load_file(b / "model.safetensors"), rtol=0, atol=0)
    torch.testing.assert_close(load_file(a / "checkpoints" / "best" / "model.safetensors"),
                               load_file(b / "checkpoints" / "best" / "model.safetensors"), rtol=0, atol=0)
    assert json.loads((a / "checkpoints" / "best" / "best.json").read_text()) == \
        json.loads((b / "checkpoints" / "best" / "best.json").read_text())
    strip = lambda p: [{k: v for k, v in json.loads(l).items() if k != "examples_per_s"}  # noqa: E731
                       for l in (p / "metrics.jsonl").read_text().splitlines()]
    assert strip(a) == strip(b)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ref")
    run(tmp, "full")
    return tmp / "full"


class Killed(BaseException):
    """What a kill -9 would leave: the process stops here, nothing after runs."""


def kill_at(monkeypatch, target, name, when: int):
    """Make the ``when``-th call of ``target.name`` raise Killed (before it does anything)."""
    original, calls = getattr(target, name), {"n": 0}

    def wrapper(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == when:
            raise Killed(name)
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, wrapper)


@pytest.mark.parametrize("function, when", [
    ("save_checkpoint", 1),     # before the first checkpoint: only config.json and some log lines
    ("save_checkpoint", 3),
    ("mark_best", 2),           # after an improving checkpoint was written, before best/ and the export
    ("export_weights", 2),      # after best/, before model.safetensors
    ("write_json_atomic", 4),   # inside a checkpoint write
])
def test_a_kill_at_each_write_step_resumes_to_the_same_run(tmp_path, monkeypatch, reference, function, when):
    with monkeypatch.context() as patch:
        kill_at(patch, ckpt, function, when)
        with pytest.raises(Killed):
            run(tmp_path, "killed")
    run(tmp_path, "killed", resume=True)
    same_run(tmp_path / "killed", reference)


def test_a_kill_between_the_renames_of_best_loses_nothing(tmp_path, reference):
    run(tmp_path, "r")
    root = tmp_path / "r" / "checkpoints"
    shutil.copytree(root / "best", root / ".tmp-best")   # the new copy was made,
    (root / "best").rename(root / ".old-best")           # the old best moved aside, then the kill
    run(tmp_path, "r", resume=True)
    assert (root / "best").is_dir() and not (root / ".old-best").exists() and not (root / ".tmp-best").exists()
    same_run(tmp_path / "r", reference)


def test_a_half_written_log_line_and_a_corrupt_latest_json_resume(tmp_path, reference):
    with pytest.MonkeyPatch.context() as patch:
        kill_at(patch, ckpt, "save_checkpoint", 3)
        with pytest.raises(Killed):
            run(tmp_path, "k")
    log = tmp_path / "k" / "metrics.jsonl"
    log.write_text(log.read_text() + '{"step": 21, "train/lo')  # the kill came mid-write
    (tmp_path / "k" / "checkpoints" / "latest.json").write_text('{"step": 2')
    run(tmp_path, "k", resume=True)
    same_run(tmp_path / "k", reference)


def test_resume_keeps_the_config_it_started_with(tmp_path):
    run(tmp_path, "c")
    config = tmp_path / "c" / "config.json"
    ckpt.write_run_config(tmp_path / "c", {"model": {"name": "toy", "config": {}}, "mark": 1})
    before = config.read_bytes()
    torch.manual_seed(0)
    train(ToyModel(), ToyData(), ToyData(32, seed=1), TrainConfig(**{**BASE, "max_steps": 40}), tmp_path / "c",
          resume=True, progress=False, run_config={"other": True})
    assert config.read_bytes() == before
