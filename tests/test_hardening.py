"""A hostile user's inputs, family by family (issue: never a traceback, never a lost file). Each case must end
with exit code 2, exactly one line on stderr that names the file or option, no traceback, and every file that
was in the folder before unchanged (sha256)."""

from __future__ import annotations

import hashlib
import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch

from sightsound.cli import main
from sightsound.fileio import folder_lock
from sightsound.pretrained import REGISTRY
from tests.conftest import ROOT, SPEECH_FILE

PHOTO = ROOT / "src" / "sightsound" / "pretrained" / "samples" / "chelsea.jpg"


def hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.startswith(".")}


def refused(capsys, argv: list[str], needle: str, folder: Path | None = None) -> str:
    """Run the command; assert the clean failure; return its one line."""
    before = hashes(folder) if folder else None
    try:
        code = main(argv)
    except SystemExit as stop:  # argparse's own errors exit from inside the parser, also with code 2
        code = stop.code
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err, err
    assert needle in err, err
    if folder is not None:
        assert {k: v for k, v in hashes(folder).items() if k in before} == before, "a pre-existing file changed"
    return err


# -- 1. checkpoints ------------------------------------------------------------------------------------------------
def _damaged_model(folder: Path, kind: str, source: str = "char-lm-shakespeare") -> Path:
    shutil.copytree(REGISTRY[source], folder)
    weights, config = folder / "model.safetensors", folder / "config.json"
    if kind == "empty":
        weights.write_bytes(b"")
    elif kind == "truncated":
        weights.write_bytes(weights.read_bytes()[:1000])
    elif kind == "pickle":
        weights.write_bytes(pickle.dumps({"weights": torch.zeros(3)}))
    elif kind == "config-list":
        config.write_text("[1, 2, 3]")
    elif kind == "config-broken":
        config.write_text('{"model": {"name": "gpt", "config": ')
    elif kind == "other-weights":
        shutil.copy(REGISTRY["shapes"] / "model.safetensors", weights)
    return folder


MODEL_COMMANDS = {  # every command that reads a model folder: argv with MODEL in place of the folder
    "gpt sample": lambda m, t: ["gpt", "sample", "--model", m, "--tokens", "5"],
    "eval lm": lambda m, t: ["eval", "lm", "--model", m, "--text", str(SPEECH_FILE.parent / "README.md")],
    "attention-map": lambda m, t: ["attention-map", "--model", m, "--prompt", "ab", "-o", str(t / "a.png")],
    "vocode": lambda m, t: ["vocode", str(SPEECH_FILE), "-o", str(t / "v.wav"), "--model", m],
    "eval vocoder": lambda m, t: ["eval", "vocoder", "--model", m, "--data", str(t)],
    "tts": lambda m, t: ["tts", "bin blue at f two now", "-o", str(t / "s.wav"), "--model", m],
    "eval tts": lambda m, t: ["eval", "tts", "--model", m, "--data", str(t)],
    "caption": lambda m, t: ["caption", str(PHOTO), "--model", m],
    "eval caption": lambda m, t: ["eval", "caption", "--model", m, "--data", str(t)],
}


@pytest.mark.parametrize("kind", ["empty", "truncated", "pickle", "config-list", "config-broken", "other-weights"])
@pytest.mark.parametrize("command", sorted(MODEL_COMMANDS))
def test_a_damaged_model_folder_is_a_one_line_error(tmp_path, capsys, command, kind):
    model = _damaged_model(tmp_path / "model", kind)
    refused(capsys, MODEL_COMMANDS[command](str(model), tmp_path), str(model), tmp_path)


@pytest.mark.parametrize("kind", ["empty", "pickle", "other-weights"])
def test_a_damaged_init_from_is_a_one_line_error(tmp_path, capsys, kind):
    from sightsound.data import charlm

    charlm.write_synthetic(tmp_path / "data")
    model = _damaged_model(tmp_path / "init", kind)
    refused(capsys, ["train", "recipes/char_lm.py", "--preset", "tiny", "--data", str(tmp_path / "data"),
                     "--out", str(tmp_path / "run"), "--set", f"train.init_from={model}", "--no-progress"],
            "model.safetensors", tmp_path / "init")


# -- 2/3. run folders, overwrites and races ---------------------------------------------------------------------------
@pytest.fixture
def text_data(tmp_path):
    from sightsound.data import charlm

    charlm.write_synthetic(tmp_path / "data")
    return tmp_path / "data"


def _train(data, out, *extra):
    return ["train", "recipes/char_lm.py", "--preset", "tiny", "--data", str(data), "--out", str(out),
            "--no-progress", *extra]


def test_training_never_overwrites_a_users_files(tmp_path, capsys, text_data):
    out = tmp_path / "mine"
    out.mkdir()
    for name in ("config.json", "model.safetensors", "vocab.json"):
        (out / name).write_text(f"the user's own {name}")
    refused(capsys, _train(text_data, out), "training would overwrite", out)


def test_a_run_folder_in_use_is_refused(tmp_path, capsys, text_data):
    out = tmp_path / "run"
    with folder_lock(out):  # another process is training into it
        refused(capsys, _train(text_data, out, "--force"), "in use by another sightsound process")


def test_a_broken_resume_folder_is_a_one_line_error_and_keeps_its_config(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "config.json").write_text('{"model": {"name": "gpt", "config": {}}, "data": ')
    refused(capsys, ["train", "--resume", str(out)], "config.json", out)
    (out / "config.json").write_text(json.dumps({"model": {"name": "gpt", "config": {}}, "recipe": "x.py"}))
    refused(capsys, ["train", "--resume", str(out)], "config.json", out)


def test_an_output_that_appears_meanwhile_is_not_replaced(tmp_path, monkeypatch):
    """The exists-check happens again at write time (a file created while the command computed survives)."""
    target = tmp_path / "out.wav"
    original = soundfile.write

    def write_and_race(path, *args, **kwargs):
        original(path, *args, **kwargs)
        target.write_bytes(b"someone else's file")

    monkeypatch.setattr(soundfile, "write", write_and_race)
    assert main(["griffinlim", str(SPEECH_FILE), "-o", str(target), "--n-iter", "1"]) == 2
    assert target.read_bytes() == b"someone else's file"


# -- 4. inputs that are not what they say ---------------------------------------------------------------------------
@pytest.fixture
def latin1(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("d\xe9j\xe0 vu, caf\xe9\n".encode("latin-1"))
    return path


@pytest.mark.parametrize("argv, needle", [
    (lambda t, f: ["tts", "--file", str(f), "--out-dir", str(t / "o")], "not UTF-8"),
    (lambda t, f: ["eval", "lm", "--model", "char-lm-shakespeare", "--text", str(f)], "not UTF-8"),
    (lambda t, f: ["gpt", "sample", "--model", "char-lm-shakespeare", "--seed", str(2**70)], "--seed"),
    (lambda t, f: ["gpt", "sample", "--model", "char-lm-shakespeare", "--seed", "-3"], "--seed"),
    (lambda t, f: ["shapes", "--out", str(t / "s"), "--size", "7"], "--size"),
    (lambda t, f: ["spectrogram", str(SPEECH_FILE), "-o", str(t / "x.png"), "--n-fft", "1000000000"], "--n-fft"),
    (lambda t, f: ["griffinlim", str(SPEECH_FILE), "-o", str(t / "x.wav"), "--n-iter", "99999999"], "--n-iter"),
    (lambda t, f: ["train", "recipes/char_lm.py", "--preset", "tiny", "--device", "banana"], "banana"),
    (lambda t, f: ["train", "recipes/char_lm.py", "--preset", "tiny", "--set", "model.n_layer='four'"], "n_layer"),
    (lambda t, f: ["train", "recipes/char_lm.py", "--preset", "tiny", "--set", "model.n_embd=100000",
                   "--set", "model.n_layer=400"], "refusing"),
])
def test_inputs_that_are_not_what_they_say(tmp_path, capsys, latin1, text_data, argv, needle):
    args = argv(tmp_path, latin1)
    if args[0] == "train":
        args += ["--data", str(text_data), "--out", str(tmp_path / "run"), "--no-progress"]
    refused(capsys, args, needle, tmp_path)


def _latin1_folders(tmp: Path, bad: bytes) -> dict[str, list[str]]:
    """Every other command that reads a text file, each given one that is not UTF-8."""
    captions = tmp / "captions"
    (captions / "images").mkdir(parents=True)
    shutil.copy(PHOTO, captions / "images" / "a.jpg")
    (captions / "captions.txt").write_bytes(b"image,caption\na.jpg," + bad)
    lj = tmp / "lj"
    (lj / "wavs").mkdir(parents=True)
    (lj / "metadata.csv").write_bytes(b"x|" + bad + b"|" + bad)
    clips = tmp / "clips.txt"
    clips.write_bytes(bad)
    from sightsound.data import grid

    grid_folder = grid.write_synthetic(tmp, n_clips=2, seconds=0.5)
    vocab = tmp / "lm"
    shutil.copytree(REGISTRY["char-lm-shakespeare"], vocab)
    (vocab / "vocab.json").write_bytes(b'{"chars": "' + bad + b'"}')
    return {"eval caption (captions.txt)": ["eval", "caption", "--model", "shapes", "--data", str(captions)],
            "eval tts (metadata.csv)": ["eval", "tts", "--model", "tacotron2-grid", "--data", str(lj)],
            "eval vocoder (--clips file)": ["eval", "vocoder", "--model", "wavenet-grid", "--data", str(grid_folder),
                                            "--clips", str(clips)],
            "gpt sample (vocab.json)": ["gpt", "sample", "--model", str(vocab), "--tokens", "3"]}


@pytest.mark.parametrize("which", ["eval caption (captions.txt)", "eval tts (metadata.csv)",
                                   "eval vocoder (--clips file)", "gpt sample (vocab.json)"])
def test_every_text_file_that_is_not_utf8_is_a_one_line_error(tmp_path, capsys, which):
    argv = _latin1_folders(tmp_path, "d\xe9j\xe0 vu".encode("latin-1"))[which]
    refused(capsys, argv, "not UTF-8", tmp_path)


@pytest.mark.parametrize("samples", [np.array([0.1, np.nan] * 8000, dtype=np.float32),
                                     np.array([0.1, np.inf] * 8000, dtype=np.float32)])
def test_non_finite_audio_is_refused(tmp_path, capsys, samples):
    bad = tmp_path / "bad.wav"
    soundfile.write(bad, samples, 16000, subtype="FLOAT")
    refused(capsys, ["spectrogram", str(bad), "-o", str(tmp_path / "x.png")], "bad.wav", tmp_path)


# -- 5. disks ---------------------------------------------------------------------------------------------------------
def test_a_full_disk_while_writing_audio_is_one_line_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    def full(*args, **kwargs):
        raise soundfile.LibsndfileError(0, "Error : system error : No space left on device")

    monkeypatch.setattr(soundfile, "write", full)
    refused(capsys, ["griffinlim", str(SPEECH_FILE), "-o", str(tmp_path / "x.wav"), "--n-iter", "1"], "x.wav", tmp_path)
    assert not list(tmp_path.glob("*.wav")) and not list(tmp_path.glob(".*"))


def test_a_full_disk_while_writing_arrays_leaves_no_temporary(tmp_path, capsys, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez_compressed", full)
    refused(capsys, ["spectrogram", str(SPEECH_FILE), "-o", str(tmp_path / "x.png"), "--npz", str(tmp_path / "a.npz")],
            "No space left on device")
    assert not list(tmp_path.glob(".*")) and not (tmp_path / "a.npz").exists()
