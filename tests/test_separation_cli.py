"""Looking to Listen end to end on the synthetic GRID-layout folder: `mix` makes a mixture at the SNR asked,
`separate` tracks the face in the video and writes the voice, the rest and the picture, `eval separation`
scores the audio-visual model against the audio-only one; bad input (video and audio of different lengths, no
face, a silent mixture, a missing --face, outputs that collide or exist) -> one line, exit 2."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from sightsound.audio import io as audio_io
from sightsound.data import av_mixtures as am
from sightsound.training import recipes
from tests.test_cli import assert_clean_failure, run

cv2 = pytest.importorskip("cv2")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("l2l")
    am.write_synthetic(root / "data")
    for name, visual in (("av", True), ("ao", False)):
        resolved = recipes.resolve("recipes/av_separation_grid.py", "tiny",
                                   ["train.max_steps=10", "train.eval_every=10", f"model.visual={visual}"])
        recipes.run(resolved, None, root / name, progress=False)
    grid = root / "data" / "grid-s1"
    mix = root / "mix.wav"
    result = run("mix", str(grid / "audio" / "s000v.flac"), str(grid / "audio" / "s001v.flac"), "-o", str(mix),
                 "--snr", "3", "--json")
    assert result.returncode == 0, result.stderr
    return root


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SIGHTSOUND_CACHE", str(tmp_path / "cache"))


def _video(path, frames: int, blank: bool = False):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (360, 288), False)
    for _ in range(frames):
        writer.write(np.full((288, 360), 90, dtype=np.uint8))
    writer.release()
    return path


def test_mix_writes_the_mixture_at_the_snr_asked(world, tmp_path):
    grid = world / "data" / "grid-s1" / "audio"
    a, _ = audio_io.load(grid / "s000v.flac")
    out = tmp_path / "m.wav"
    result = run("mix", str(grid / "s000v.flac"), str(grid / "s001v.flac"), "-o", str(out), "--snr", "-2")
    assert result.returncode == 0, result.stderr
    mixture, sr = audio_io.load(out)
    assert sr == 16000 and mixture.shape == a.shape
    snr = 10 * np.log10(am.active_power(a, sr) / am.active_power(mixture - a, sr))  # no clipping: quiet tones
    assert snr == pytest.approx(-2.0, abs=0.05)
    before = out.read_bytes()
    assert_clean_failure(run("mix", str(grid / "s000v.flac"), str(grid / "s001v.flac"), "-o", str(out)), "exists")
    assert out.read_bytes() == before
    silent = tmp_path / "silent.wav"
    audio_io.save(silent, torch.zeros(16000), 16000)
    assert_clean_failure(run("mix", str(grid / "s000v.flac"), str(silent), "-o", str(tmp_path / "x.wav")), "silent")
    assert_clean_failure(run("mix", str(grid / "s000v.flac"), str(grid / "s001v.flac"), "-o", str(tmp_path / "y.wav"),
                             "--snr", "99"), "--snr")


def test_separate_writes_voice_rest_and_picture(world, tmp_path):
    video = world / "data" / "grid-s1" / "video" / "s000v.mp4"
    out, rest, plot = tmp_path / "voice.wav", tmp_path / "rest.flac", tmp_path / "sep.png"
    result = run("separate", str(world / "mix.wav"), "--face", str(video), "-o", str(out), "--also-rest", str(rest),
                 "--plot", str(plot), "--model", str(world / "av"), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    voice, sr = audio_io.load(out)
    other, _ = audio_io.load(rest)
    assert sr == 4000 and voice.shape == other.shape == (8000,)   # the tiny model runs at 4 kHz; 2 s of video
    assert plot.stat().st_size > 10_000 and 0 <= report["target_energy_fraction"]
    # the audio-only model needs no face and refuses one
    result = run("separate", str(world / "mix.wav"), "-o", str(tmp_path / "ao.wav"), "--model", str(world / "ao"))
    assert result.returncode == 0, result.stderr
    assert_clean_failure(run("separate", str(world / "mix.wav"), "--face", str(video), "-o", str(tmp_path / "b.wav"),
                             "--model", str(world / "ao")), "audio-only")


def test_separate_bad_input_is_one_line(world, tmp_path):
    video = world / "data" / "grid-s1" / "video" / "s000v.mp4"
    model = ["--model", str(world / "av")]
    long_mix = tmp_path / "long.wav"
    audio_io.save(long_mix, 0.1 * torch.randn(4 * 16000), 16000)
    assert_clean_failure(run("separate", str(long_mix), "--face", str(video), "-o", str(tmp_path / "a.wav"), *model),
                         "same time")
    blank = _video(tmp_path / "blank.mp4", 50)
    assert_clean_failure(run("separate", str(world / "mix.wav"), "--face", str(blank), "-o", str(tmp_path / "a.wav"),
                             *model), "no face")
    silent = tmp_path / "silent.wav"
    audio_io.save(silent, torch.zeros(32000), 16000)
    assert_clean_failure(run("separate", str(silent), "--face", str(video), "-o", str(tmp_path / "a.wav"), *model),
                         "silent")
    assert_clean_failure(run("separate", str(world / "mix.wav"), "-o", str(tmp_path / "a.wav"), *model), "--face")
    huge = tmp_path / "huge.wav"
    audio_io.save(huge, 0.01 * torch.randn(301 * 8000), 8000)
    assert_clean_failure(run("separate", str(huge), "--face", str(video), "-o", str(tmp_path / "a.wav"), *model),
                         "pieces")
    assert_clean_failure(run("separate", str(world / "mix.wav"), "--face", str(video), "-o", str(tmp_path / "a.wav"),
                             "--also-rest", str(tmp_path / "a.wav"), *model), "different files")
    assert_clean_failure(run("separate", str(world / "mix.wav"), "--face", str(tmp_path / "none.mp4"), "-o",
                             str(tmp_path / "a.wav"), *model), "no such video")
    existing = tmp_path / "keep.wav"
    existing.write_bytes(b"precious")
    assert_clean_failure(run("separate", str(world / "mix.wav"), "--face", str(video), "-o", str(existing), *model),
                         "exists")
    assert existing.read_bytes() == b"precious"
    assert not (tmp_path / "a.wav").exists()


def test_eval_separation_reports_both_models(world):
    result = run("eval", "separation", "--data", str(world / "data"), "--model", str(world / "av"), "--baseline",
                 str(world / "ao"), "--no-wer", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    different = report["kinds"]["different"]
    assert report["mixtures"] == 1 and different["count"] == 1
    assert {"av_si_sdri", "av_sdr", "av_stoi", "ao_si_sdri", "ao_first_si_sdri", "mixture_si_sdr"} <= set(different)
    assert different["ao_si_sdri"] >= different["ao_first_si_sdri"]
    # STOI over the words only (the .align span), beside the whole-clip STOI the target reads
    assert all(0 <= different[k] <= 1 for k in ("mixture_stoi_speech", "av_stoi_speech", "ao_stoi_speech"))
    assert "av_si_sdri_different_at_least_10" in report["targets"]
    assert_clean_failure(run("eval", "separation", "--data", str(world / "data"), "--model", str(world / "ao"),
                             "--no-wer"), "audio-only")


def test_tour_section_plays_a_held_out_mixture_and_shows_the_table(world, tmp_path):
    from sightsound.evaluation.separation import evaluate_separation
    from sightsound.pretrained.separation import Separator
    from sightsound.viz.tour.page import TourContext
    from sightsound.viz.tour.separation import section_separation

    report = evaluate_separation(world / "av", world / "ao", world / "data", wer=False, progress=False)
    report.pop("examples")
    (tmp_path / "tour" / "assets").mkdir(parents=True)
    ctx = TourContext(out=tmp_path / "tour", audio_path=tmp_path / "none.wav", av_speakers=world / "data",
                      separation=(Separator.from_pretrained(world / "av"), Separator.from_pretrained(world / "ao"),
                                  report))
    section = section_separation(ctx)
    for name in ("l2l_face.mp4", "l2l_mix_0.wav", "l2l_voice_0.wav", "l2l_rest_0.wav", "l2l_ao_0.wav",
                 "l2l_masks_0.png", "l2l_gains.png"):
        assert (tmp_path / "tour" / "assets" / name).is_file(), name
        assert name in section.body
    assert "audio-only (better output)" in section.body and "<video" in section.body


def test_the_speech_span_runs_from_the_first_word_to_the_last(tmp_path):
    from sightsound.evaluation.separation import speech_span

    align = tmp_path / "a.align"
    align.write_text("0 25000 sil\n25000 37500 bin\n37500 50000 blue\n50000 75000 sil\n")  # 25000 units per second
    assert speech_span(align, 16000, 48000) == slice(16000, 32000)
    assert speech_span(align, 16000, 20000) == slice(16000, 20000)
    align.write_text("0 25000 sil\n")
    assert speech_span(align, 16000, 48000) is None
