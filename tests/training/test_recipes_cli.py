"""recipe: every recipe's tiny preset trains and its loss goes down; the train / plot-run commands;
bad input (missing data, unknown keys) -> one line, exit code 2; load_pretrained roundtrip."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from sightsound.data import dataset_module
from sightsound.pretrained import load_pretrained
from sightsound.training import recipes
from tests.test_cli import assert_clean_failure, run

ROOT = Path(__file__).resolve().parents[2]
RECIPES = sorted((ROOT / "recipes").glob("*.py"))


@pytest.fixture(scope="module")
def synthetic_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    for path in RECIPES:
        dataset_module(recipes.load_recipe(path).DATA).write_synthetic(root)
    return root


@pytest.mark.parametrize("recipe", RECIPES, ids=[p.stem for p in RECIPES])
def test_recipe_tiny_preset_loss_goes_down(recipe, synthetic_root, tmp_path):
    resolved = recipes.resolve(recipe, "tiny")
    result = recipes.run(resolved, str(synthetic_root), tmp_path / "run", progress=False)
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    train_losses = [r["train/loss"] for r in records if "train/loss" in r]
    assert result.step == resolved.train_config.max_steps
    assert train_losses[-1] < 0.8 * train_losses[0]
    assert (tmp_path / "run" / "model.safetensors").is_file()


def test_every_recipe_has_three_presets_and_a_header():
    for path in RECIPES:
        module = recipes.load_recipe(path)
        assert set(module.PRESETS) == {"tiny", "cpu", "paper"}
        for word in ("Command:", "Data:", "Time:", "Metric:"):
            assert word in (module.__doc__ or ""), f"{path.name} header lacks {word}"


def test_cli_train_plot_and_load_pretrained(synthetic_root, tmp_path):
    out = tmp_path / "run"
    result = run("train", "recipes/fsdd_digits.py", "--preset", "tiny", "--data", str(synthetic_root), "--out", str(out),
                 "--set", "train.max_steps=12", "--set", "train.eval_every=6", "--no-progress")
    assert result.returncode == 0, result.stderr
    assert "max_steps at step 12" in result.stdout
    config = json.loads((out / "config.json").read_text())
    assert config["train"]["max_steps"] == 12 and config["preset"] == "tiny"
    png = tmp_path / "curves.png"
    assert run("plot-run", str(out), "-o", str(png)).returncode == 0
    assert png.read_bytes()[:4] == b"\x89PNG"
    model = load_pretrained(out)
    batch = torch.randn(2, 4000)
    assert model(batch).shape == (2, 10)
    # running again into the same folder is refused; --resume of a finished run is a no-op
    assert_clean_failure(run("train", "recipes/fsdd_digits.py", "--preset", "tiny", "--data", str(synthetic_root),
                             "--out", str(out)), "already holds a run")
    resumed = run("train", "--resume", str(out), "--no-progress")
    assert resumed.returncode == 0 and "at step 12" in resumed.stdout


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--set", "train.lrr=1"], "unknown train key(s) lrr; valid keys: max_steps"),
        (["--set", "model.width=3"], "valid keys: sample_rate"),
        (["--set", "lr=1"], "expected section.key=value"),
        (["--set", "train.lr=-1"], "train.lr must be > 0"),
        (["--data", "/nonexistent/data"], "data folder not found"),
        (["--preset", "huge"], "invalid choice"),
    ],
)
def test_train_bad_input(args, needle, synthetic_root, tmp_path):
    base = ["train", "recipes/fsdd_digits.py", "--preset", "tiny", "--out", str(tmp_path / "r")]
    if "--data" not in args:
        base += ["--data", str(synthetic_root)]
    assert_clean_failure(run(*base, *args), needle)


def test_train_missing_recipe_and_data(tmp_path, monkeypatch):
    assert_clean_failure(run("train", "recipes/nope.py"), "no such recipe")
    env_free = subprocess.run([sys.executable, "-m", "sightsound", "train", "recipes/fsdd_digits.py", "--preset", "tiny",
                               "--out", str(tmp_path / "r")], capture_output=True, text=True, cwd=ROOT,
                              env={k: v for k, v in __import__("os").environ.items() if k != "SIGHTSOUND_DATA"})
    assert_clean_failure(env_free, "pass --data PATH or set SIGHTSOUND_DATA")


def test_load_pretrained_rejects_non_model_folder(tmp_path):
    from sightsound.errors import UserInputError

    with pytest.raises(UserInputError, match="not a model folder"):
        load_pretrained(tmp_path)


def test_gpt_sample_eval_and_attention_map(synthetic_root, tmp_path):
    out = tmp_path / "lm"
    result = run("train", "recipes/char_lm.py", "--preset", "tiny", "--data", str(synthetic_root), "--out", str(out),
                 "--no-progress")
    assert result.returncode == 0, result.stderr
    # the synthetic text is the play-formatted one (the last recipe's data writer wins the shared path)
    sample = run("gpt", "sample", "--model", str(out), "--prompt", "ROMEO:", "--tokens", "30", "--seed", "1")
    assert sample.returncode == 0, sample.stderr
    assert sample.stdout.startswith("ROMEO:") and len(sample.stdout.rstrip("\n")) >= 36
    again = run("gpt", "sample", "--model", str(out), "--prompt", "ROMEO:", "--tokens", "30", "--seed", "1")
    assert again.stdout == sample.stdout
    text = synthetic_root / "tinyshakespeare" / "input.txt"
    report = json.loads(run("eval", "lm", "--model", str(out), "--text", str(text), "--json").stdout)
    assert 0 < report["loss"] < 3.0 and report["bits_per_char"] == pytest.approx(report["loss"] / 0.693147, rel=1e-3)
    png = tmp_path / "att.png"
    assert run("attention-map", "--model", str(out), "--prompt", "ROMEO:\nsweet love", "-o", str(png)).returncode == 0
    assert png.stat().st_size > 10_000
    assert_clean_failure(run("gpt", "sample", "--model", str(out), "--prompt", "Zebra§"), "not in the model's vocabulary")
    assert_clean_failure(run("gpt", "sample", "--model", str(tmp_path / "nothing")), "not a model folder")
    assert_clean_failure(run("eval", "lm", "--model", str(out), "--text", str(tmp_path / "none.txt")), "no such file")
