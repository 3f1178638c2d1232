"""The training loop: determinism, exact resumption after a crash and after a signal, accumulation,
EMA, early stopping, and the faults (NaN loss, failed checkpoint write)."""

from __future__ import annotations

import errno
import json

import pytest
import torch
from safetensors.torch import load_file

from sightsound.errors import TrainingError
from sightsound.training import TrainConfig, train
from sightsound.training import checkpoint as ckpt
from tests.training.toy import CrashAt, NaNAt, SignalAt, ToyData, ToyModel

BASE = dict(max_steps=40, batch_size=8, lr=1e-2, log_every=1, eval_every=10, save_every=10, seed=3,
            schedule="cosine", warmup_steps=5, weight_decay=0.01)


def losses(run_dir) -> dict[int, float]:
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return {r["step"]: r["train/loss"] for r in records if "train/loss" in r}


def fresh(model_cls=ToyModel, **kwargs):
    torch.manual_seed(0)
    return model_cls(**kwargs)


def run(tmp, model, name, resume=False, **overrides):
    config = TrainConfig(**{**BASE, **overrides})
    return train(model, ToyData(), ToyData(32, seed=1), config, tmp / name, resume=resume, progress=False)


def test_same_seed_same_losses_and_loss_goes_down(tmp_path):
    run(tmp_path, fresh(), "a")
    run(tmp_path, fresh(), "b")
    a, b = losses(tmp_path / "a"), losses(tmp_path / "b")
    assert a == b and len(a) == 40
    assert sum(list(a.values())[-5:]) < 0.5 * sum(list(a.values())[:5])
    run(tmp_path, fresh(), "c", seed=4)
    assert losses(tmp_path / "c") != a


def test_resume_after_crash_mid_epoch_equals_uninterrupted(tmp_path):
    run(tmp_path, fresh(), "full")
    with pytest.raises(RuntimeError, match="simulated crash"):
        run(tmp_path, fresh(CrashAt, n=27), "crashed")  # 96 / 8 = 12 steps an epoch: step 27 is mid-epoch
    assert ckpt.latest_checkpoint(tmp_path / "crashed").name == "step_000020"
    run(tmp_path, fresh(), "crashed", resume=True)
    full, resumed = losses(tmp_path / "full"), losses(tmp_path / "crashed")
    assert resumed == full  # every step, including those recomputed after the crash
    torch.testing.assert_close(load_file(tmp_path / "crashed" / "model.safetensors"),
                               load_file(tmp_path / "full" / "model.safetensors"), rtol=0, atol=0)


def test_signal_stops_cleanly_and_resumes_exactly(tmp_path):
    run(tmp_path, fresh(), "full")
    result = run(tmp_path, fresh(SignalAt, n=17), "signalled")
    assert result.stopped == "interrupted" and result.step == 17
    assert ckpt.latest_checkpoint(tmp_path / "signalled").name == "step_000017"
    result = run(tmp_path, fresh(), "signalled", resume=True)
    assert result.stopped == "max_steps" and result.step == 40
    assert losses(tmp_path / "signalled") == losses(tmp_path / "full")


def test_gradient_accumulation_equals_the_larger_batch(tmp_path):
    run(tmp_path, fresh(dropout=0.0), "big", batch_size=16, max_steps=10)
    run(tmp_path, fresh(dropout=0.0), "accumulated", batch_size=8, accumulate=2, max_steps=10)
    big = load_file(tmp_path / "big" / "checkpoints" / "step_000010" / "model.safetensors")
    acc = load_file(tmp_path / "accumulated" / "checkpoints" / "step_000010" / "model.safetensors")
    for name in big:
        torch.testing.assert_close(acc[name], big[name], rtol=0, atol=1e-6)


def test_ema_weights_are_exported_and_evaluated(tmp_path):
    result = run(tmp_path, fresh(), "ema", ema_decay=0.9, max_steps=20)
    exported = load_file(tmp_path / "ema" / "model.safetensors")
    raw = load_file(tmp_path / "ema" / "checkpoints" / "best" / "model.safetensors")
    ema = load_file(tmp_path / "ema" / "checkpoints" / "best" / "ema.safetensors")
    assert all(torch.equal(exported[k], ema[k]) for k in exported)
    assert any(not torch.equal(raw[k], ema[k]) for k in raw)
    assert result.best is not None


def test_early_stopping(tmp_path):
    # a learning rate so high that validation never improves after the first evaluation
    result = run(tmp_path, fresh(), "early", lr=5.0, schedule="constant", warmup_steps=0, eval_every=2,
                 patience=2, grad_clip=None, max_steps=200)
    assert result.stopped in ("early_stop",) and result.step < 200


def test_nan_loss_stops_naming_the_step_and_keeps_last_checkpoint(tmp_path):
    with pytest.raises(TrainingError, match=r"at step 23.*step_000020"):
        run(tmp_path, fresh(NaNAt, n=23), "nan")
    saved = ckpt.load_checkpoint(ckpt.latest_checkpoint(tmp_path / "nan"))
    assert saved["state"]["step"] == 20
    assert all(torch.isfinite(v).all() for v in saved["model"].values())


@pytest.mark.parametrize("error", [OSError(errno.ENOSPC, "No space left on device"),
                                   PermissionError(errno.EACCES, "Permission denied")])
def test_failed_checkpoint_write_keeps_previous_intact(tmp_path, monkeypatch, error):
    real = ckpt.save_file
    calls = {"n": 0}

    def failing(tensors, path, metadata=None):
        if "step_000020" in str(path):
            calls["n"] += 1
            with open(path, "wb") as handle:  # a partial file, then the failure
                handle.write(b"partial")
            raise error
        return real(tensors, path, metadata=metadata)

    monkeypatch.setattr(ckpt, "save_file", failing)
    with pytest.raises(TrainingError, match=r"step 20 .*step_000010\) is intact"):
        run(tmp_path, fresh(), "full_disk")
    assert calls["n"] == 1
    latest = ckpt.latest_checkpoint(tmp_path / "full_disk")
    assert latest.name == "step_000010"
    assert ckpt.load_checkpoint(latest)["state"]["step"] == 10
    assert not list((tmp_path / "full_disk" / "checkpoints").glob(".tmp-*"))


def test_keep_last_and_best(tmp_path):
    run(tmp_path, fresh(), "keep", keep_last=2)
    steps = sorted(p.name for p in (tmp_path / "keep" / "checkpoints").glob("step_*"))
    assert steps == ["step_000030", "step_000040"]
    best = json.loads((tmp_path / "keep" / "checkpoints" / "best" / "best.json").read_text())
    assert best["metric"] == "val/loss"


def test_bf16_autocast_trains_on_cpu(tmp_path):
    result = run(tmp_path, fresh(), "bf16", precision="bf16", max_steps=30)
    values = list(losses(tmp_path / "bf16").values())
    assert result.step == 30 and values[-1] < values[0]


def test_fp16_needs_cuda(tmp_path):
    from sightsound.errors import ParameterError

    if torch.cuda.is_available():
        pytest.skip("CUDA present: fp16 is allowed")
    with pytest.raises(ParameterError, match="fp16 needs CUDA"):
        run(tmp_path, fresh(), "fp16", precision="fp16")
