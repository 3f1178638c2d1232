"""Mixtures for Looking to Listen (data/av_mixtures.py): the SNR a mixture is made at, the fixed splits, the
synthetic GRID-layout folder read back through the real face tracker, and the fixed evaluation sets."""

from __future__ import annotations

import pytest
import torch

from sightsound.data import av_mixtures as am
from sightsound.errors import UserInputError


def test_mix_at_realises_the_snr_on_active_speech():
    g = torch.Generator().manual_seed(0)
    target = torch.randn(16000, generator=g)
    target[8000:] = 0                                      # half silence: must not dilute the target's power
    other = 3 * torch.randn(16000, generator=g)
    for snr in (-5.0, 0.0, 5.0):
        mixture, t, rest = am.mix_at(target, other, snr, 16000)
        assert torch.allclose(mixture, t + rest, atol=1e-6)
        measured = 10 * torch.log10(torch.tensor(am.active_power(t, 16000) / am.active_power(rest, 16000)))
        assert float(measured) == pytest.approx(snr, abs=1e-3)
        assert float(mixture.abs().max()) <= 0.95 + 1e-6
    with pytest.raises(UserInputError, match="silent"):
        am.mix_at(torch.zeros(100), other[:100], 0.0, 16000)


def test_grid_split_is_fixed_and_disjoint():
    names = [f"clip{i:03d}" for i in range(900)]
    split = am.grid_split(names)
    assert [len(split[k]) for k in ("train", "select", "test")] == [800, 50, 50]
    assert split["test"][:2] == ["clip000", "clip018"] and split["select"][0] == "clip009"
    assert not set(split["train"]) & set(split["select"]) and not set(split["test"]) & set(split["select"])
    assert [am.split_of(i) for i in (0, 8, 9, 18, 19)] == ["train", "select", "test", "select", "test"]


def test_interferer_segment_joins_recordings_to_the_length_asked():
    pool = {"a": [[torch.ones(300), 2 * torch.ones(200)]]}
    y = am.interferer_segment(pool, 1000, torch.Generator().manual_seed(0))
    assert y.shape == (1000,) and set(y.unique().tolist()) <= {1.0, 2.0}


def test_synthetic_folder_is_read_through_the_face_tracker(tmp_path, monkeypatch):
    pytest.importorskip("cv2")
    monkeypatch.setenv("SIGHTSOUND_CACHE", str(tmp_path / "cache"))
    root = am.write_synthetic(tmp_path / "data")
    config = am.Config(interferers=("kathleen",))
    clips = am.load_grid(root, config, "train", progress=False)
    assert len(clips) == 4 and clips[0].mouths.shape == (50, 32, 48) and clips[0].wave.shape == (32000,)
    # the drawn mouth opens with the voice: crops of loud frames are darker than those of silent ones
    wave = clips[0].wave.reshape(50, 640).pow(2).mean(1)
    darkness = -clips[0].mouths.float().mean(dim=(1, 2))
    assert torch.corrcoef(torch.stack([wave, darkness]))[0, 1] > 0.5
    assert (tmp_path / "cache").is_dir()                   # crops are cached, keyed by the detector version
    fixed = am.fixed_set(root, config, "test", progress=False)
    again = am.fixed_set(root, config, "test", progress=False)
    assert len(fixed) == 1 and torch.equal(fixed[0]["mixture"], again[0]["mixture"])
    train = am.build(root, config).train
    item = train[0]
    assert item["mixture"].shape == (int(1.2 * 16000),) and item["mouths"].shape == (30, 32, 48)


def test_missing_folders_are_one_line_errors(tmp_path):
    with pytest.raises(UserInputError, match="GRID layout"):
        am.load_grid(tmp_path, am.Config(), "train", progress=False)
    with pytest.raises(UserInputError, match="no interfering voices"):
        am.load_interferers(tmp_path, am.Config(), "train", progress=False)
    with pytest.raises(UserInputError, match="unknown interferer"):
        am.load_interferers(tmp_path, am.Config(interferers=("nope",)), "train", progress=False)
