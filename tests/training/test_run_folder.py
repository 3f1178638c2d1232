"""The run-folder format has one owner (training/checkpoint.py): bad folders are one-line errors naming the file,
checked before anything large is allocated; older configs with audio settings are checked against the preset."""

from __future__ import annotations

import json
import pickle

import pytest
import torch

from sightsound.errors import UserInputError
from sightsound.models.gpt import GPT, GPTConfig
from sightsound.pretrained import load_pretrained
from sightsound.training import checkpoint as ckpt


def _gpt_folder(folder, **config):
    torch.manual_seed(0)
    model = GPT(GPTConfig(**{**dict(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=8), **config}))
    folder.mkdir(parents=True, exist_ok=True)
    ckpt.write_run_config(folder, {"model": {"name": "gpt", "config": {**dict(vocab_size=11, block_size=8, n_layer=1,
                                                                              n_head=2, n_embd=8), **config}}})
    ckpt.save_tensors_atomic(folder / "model.safetensors", model.state_dict())
    return model


def test_a_good_folder_loads_exactly(tmp_path):
    model = _gpt_folder(tmp_path / "run")
    loaded = load_pretrained(tmp_path / "run")
    for (name, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        torch.testing.assert_close(a, b, msg=name)


@pytest.mark.parametrize("damage, needle", [
    (lambda f: (f / "model.safetensors").write_bytes(b""), "not a safetensors"),
    (lambda f: (f / "model.safetensors").write_bytes((f / "model.safetensors").read_bytes()[:60]), "safetensors"),
    (lambda f: (f / "model.safetensors").write_bytes(pickle.dumps({"x": 1})), "not a safetensors"),
    (lambda f: (f / "config.json").write_text("{ not json"), "not valid JSON"),
    (lambda f: (f / "config.json").write_text("[1, 2]"), "not a sightsound configuration"),
    (lambda f: (f / "config.json").write_text(json.dumps({"model": {"name": "gpt", "config": {"n_layr": 2}}})),
     r"unknown GPTConfig key\(s\) n_layr"),
    (lambda f: (f / "config.json").write_text(json.dumps({"model": {"name": "gpt", "config": {"n_layer": "two"}}})),
     "config.json"),
    (lambda f: (f / "config.json").write_text(json.dumps({"model": {"name": "nope", "config": {}}})), "unknown model"),
    (lambda f: (f / "config.json").write_text(json.dumps({"model": {"name": "gpt", "config": {
        "vocab_size": 11, "block_size": 8, "n_layer": 2, "n_head": 2, "n_embd": 8}}})), "missing"),
    (lambda f: (f / "config.json").write_text(json.dumps({"model": {"name": "gpt", "config": {
        "vocab_size": 12, "block_size": 8, "n_layer": 1, "n_head": 2, "n_embd": 8}}})), "wrong shape"),
    (lambda f: (f / "config.json").write_text(json.dumps({"model": {"name": "gpt", "config": {
        "vocab_size": 50000, "block_size": 100000, "n_layer": 400, "n_head": 64, "n_embd": 8192}}})), "refusing"),
])
def test_a_broken_folder_is_a_one_line_error_naming_the_file(tmp_path, damage, needle):
    folder = tmp_path / "run"
    _gpt_folder(folder)
    damage(folder)
    with pytest.raises(UserInputError, match=needle) as caught:
        load_pretrained(folder)
    message = str(caught.value)
    assert "\n" not in message and str(folder) in message


def test_an_older_config_keeps_loading_and_its_audio_keys_must_match_the_preset(tmp_path):
    from sightsound.models.wavenet import WaveNet, WaveNetConfig

    folder = tmp_path / "wn"
    folder.mkdir()
    model = WaveNet(WaveNetConfig.tiny())
    ckpt.save_tensors_atomic(folder / "model.safetensors", model.state_dict())
    values = {**{k: list(v) if isinstance(v, tuple) else v for k, v in vars(model.config).items()},
              "n_mels": 16, "hop_length": 8, "sample_rate": 16000}  # what configs held before the preset owned them
    ckpt.write_run_config(folder, {"model": {"name": "wavenet", "config": values}})
    assert load_pretrained(folder).config.hop_length == 8
    ckpt.write_run_config(folder, {"model": {"name": "wavenet", "config": {**values, "n_mels": 80}}})
    with pytest.raises(UserInputError, match="n_mels does not match the audio preset 'tiny'"):
        load_pretrained(folder)


def test_export_run_makes_a_loadable_half_precision_checkpoint(tmp_path):
    model = _gpt_folder(tmp_path / "run")
    dest = ckpt.export_run(tmp_path / "run", tmp_path / "shipped", half=True)
    assert ckpt.load_tensors(dest / "model.safetensors")["tok_emb.weight"].dtype == torch.float16
    loaded = load_pretrained(dest)
    assert loaded.tok_emb.weight.dtype == torch.float32
    torch.testing.assert_close(loaded.tok_emb.weight, model.tok_emb.weight, atol=1e-3, rtol=1e-3)


def test_the_recipe_takes_the_models_audio_preset_from_the_data(tmp_path):
    from sightsound.errors import ParameterError
    from sightsound.training.recipes import resolve

    resolved = resolve("recipes/wavenet_grid.py", "tiny")
    assert resolved.model_config.audio_preset == resolved.data_config.preset == "tts16k"
    assert resolved.model_config.hop_length == 200
    with pytest.raises(ParameterError, match="set data.preset instead"):
        resolve("recipes/wavenet_grid.py", "tiny", ["model.audio_preset=speech"])
