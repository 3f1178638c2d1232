"""Distributed: 2 CPU processes (gloo) launched by torchrun end 60 steps with the parameters of one process with
the same global batch (<= 1e-6; augmentation off, since each rank draws its own), and a 2-process run resumed
mid-way with augmentation on ends exactly where the uninterrupted one does."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from sightsound.data.fsdd import write_synthetic
from sightsound.training import distributed

ROOT = Path(__file__).resolve().parents[2]
COMMON = ["recipes/fsdd_digits.py", "--preset", "tiny", "--set", "train.max_steps=60", "--set", "train.batch_size=16",
          "--set", "data.shift=0", "--set", "train.eval_every=20", "--no-progress"]


def test_two_process_ddp_equals_single_process(tmp_path):
    data = tmp_path / "data"
    write_synthetic(data)
    single = subprocess.run([sys.executable, "-m", "sightsound", "train", *COMMON, "--data", str(data),
                             "--out", str(tmp_path / "single"), "--device", "cpu"],
                            capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert single.returncode == 0, single.stderr
    ddp = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                          "-m", "sightsound", "train", *COMMON, "--data", str(data), "--out", str(tmp_path / "ddp"),
                          "--device", "cpu"],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    a = load_file(tmp_path / "single" / "checkpoints" / "step_000060" / "model.safetensors")
    b = load_file(tmp_path / "ddp" / "checkpoints" / "step_000060" / "model.safetensors")
    assert a.keys() == b.keys()
    for name in a:
        torch.testing.assert_close(b[name], a[name], rtol=0, atol=1e-6)
    # only rank 0 wrote the log and the checkpoints
    assert (tmp_path / "ddp" / "metrics.jsonl").read_text().count('"step": 60,') >= 1


def test_plain_cuda_device_gets_this_process_index(monkeypatch):
    """`--device cuda` (no index) must name a GPU: torch.cuda.set_device rejects a bare "cuda" (seen on an H200)."""
    chosen = []
    monkeypatch.setattr(torch.cuda, "set_device", lambda dev: chosen.append(dev))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # a machine with two GPUs
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setenv("LOCAL_RANK", "1")
    env = distributed.setup("cuda")
    assert env.device == torch.device("cuda", 1) and chosen == [torch.device("cuda", 1)]
    assert distributed.setup("cuda:0").device == torch.device("cuda", 0)


def test_a_device_that_is_not_there_is_a_clear_error(monkeypatch):
    from sightsound.errors import ParameterError

    with pytest.raises(ParameterError, match="unknown device 'banana'"):
        distributed.setup("banana")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ParameterError, match="CUDA is not available"):
        distributed.setup("cuda:0")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(ParameterError, match="1 CUDA device"):
        distributed.setup("cuda:3")


def test_ddp_resume_with_augmentation_is_exact(tmp_path):
    """Every rank's random streams are in the checkpoint: with a random time shift per clip (drawn on each rank),
    a 2-process run resumed from step 4 ends with the weights of the uninterrupted run."""
    data = tmp_path / "data"
    write_synthetic(data)
    launch = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", "-m",
              "sightsound", "train"]
    settings = ["recipes/fsdd_digits.py", "--preset", "tiny", "--set", "train.max_steps=12", "--set",
                "train.batch_size=16", "--set", "data.shift=0.2", "--set", "train.save_every=4", "--set",
                "train.eval_every=100", "--set", "train.keep_last=5", "--no-progress", "--device", "cpu"]
    full = subprocess.run([*launch, *settings, "--data", str(data), "--out", str(tmp_path / "full")],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert full.returncode == 0, full.stderr[-3000:]
    crashed = tmp_path / "crashed"
    shutil.copytree(tmp_path / "full", crashed)
    for step in ("step_000008", "step_000012"):  # as if the run had died just after its step-4 checkpoint
        shutil.rmtree(crashed / "checkpoints" / step)
    (crashed / "checkpoints" / "latest.json").write_text('{"step": 4, "dir": "step_000004"}')
    assert (crashed / "checkpoints" / "step_000004" / "rng_rank1.safetensors").is_file()
    resumed = subprocess.run([*launch, "--resume", str(crashed), "--no-progress", "--device", "cpu"],
                             capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    a = load_file(tmp_path / "full" / "checkpoints" / "step_000012" / "model.safetensors")
    b = load_file(crashed / "checkpoints" / "step_000012" / "model.safetensors")
    for name in a:
        torch.testing.assert_close(b[name], a[name], rtol=0, atol=0)
