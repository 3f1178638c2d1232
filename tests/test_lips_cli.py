"""`lips` and `talk` end to end with the shipped lip-motion model (its reference face is a GRID s1 frame with its
landmarks, so no face detector runs) and `eval lips` on the real data (skipped without it); bad input (no face in
the reference, speech too short or silent, an unwritable or existing output, a wrong suffix) -> one line, exit 2."""

from __future__ import annotations

import json
import os
import stat

import numpy as np
import pytest
import torch

from sightsound.audio import io as audio_io
from tests.conftest import SPEECH_FILE, shared_data
from tests.test_cli import assert_clean_failure, run

pytest.importorskip("av")
pytest.importorskip("cv2")


def _info(path):
    from sightsound.vision.video import video_info

    return video_info(path)


def test_lips_writes_a_video_with_the_speech_and_an_overlay(tmp_path):
    out, overlay = tmp_path / "talk.mp4", tmp_path / "overlay.mp4"
    result = run("lips", str(SPEECH_FILE), "-o", str(out), "--overlay", str(overlay), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    wave, sr = audio_io.load(SPEECH_FILE, sr=16000)
    seconds = len(wave) // 640 / 25                                        # whole video frames
    info = _info(out)
    assert info["frames"] == report["frames"] and info["fps"] == 25.0 and (info["width"], info["height"]) == (360, 288)
    assert abs(info["audio_seconds"] - report["seconds"]) < 0.1
    assert report["seconds"] == pytest.approx(seconds)
    assert _info(overlay)["frames"] == report["frames"]
    # the mouth moves: frames differ from one another around the mouth only
    from sightsound.vision.video import read_rgb_frames

    frames, _ = read_rgb_frames(out)
    spread = frames.astype(np.float32).std(axis=0).mean(axis=-1)          # (H, W)
    ys, xs = np.nonzero(spread > 8)
    assert len(ys) > 50
    assert 150 < np.median(ys) < 260 and 120 < np.median(xs) < 240       # GRID s1's mouth in the frame


def test_talk_speaks_and_moves(tmp_path):
    out = tmp_path / "talk.mp4"
    result = run("talk", "bin blue at f two now", "-o", str(out), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["voice"] == "tacotron2-grid" and report["seconds"] > 0.8
    assert _info(out)["audio_seconds"] > 0.8


@pytest.mark.parametrize("case", ["no_face", "short", "silent", "missing_dir", "exists", "suffix", "read_only"])
def test_bad_input_is_one_line(tmp_path, case):
    from PIL import Image

    speech = tmp_path / "speech.wav"
    audio_io.save(speech, 0.3 * torch.sin(torch.arange(16000) * 0.2), 16000)
    out = tmp_path / "out.mp4"
    args = ["lips", str(speech), "-o", str(out)]
    if case == "no_face":
        pytest.importorskip("dlib")
        blank = tmp_path / "blank.jpg"
        Image.fromarray(np.full((200, 200, 3), 128, dtype=np.uint8)).save(blank)
        args += ["--face", str(blank)]
        needle = "no face found"
    elif case == "short":
        audio_io.save(speech, 0.3 * torch.sin(torch.arange(1000) * 0.2), 16000, overwrite=True)
        needle = "too short"
    elif case == "silent":
        audio_io.save(speech, torch.zeros(16000), 16000, overwrite=True)
        needle = "silent"
    elif case == "missing_dir":
        args[3] = str(tmp_path / "nowhere" / "out.mp4")
        needle = "does not exist"
    elif case == "exists":
        out.write_bytes(b"keep me")
        needle = "exists"
    elif case == "suffix":
        args[3] = str(tmp_path / "out.avi")
        needle = "must end in"
    else:  # unwritable: a read-only folder (root writes there anyway: then a "folder" that is a file)
        folder = tmp_path / "locked"
        if os.geteuid() == 0:
            folder.write_text("a file, not a folder")
        else:
            folder.mkdir()
            folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
        args[3] = str(folder / "out.mp4")
        needle = "cannot write"
    assert_clean_failure(run(*args), needle)
    if case == "exists":
        assert out.read_bytes() == b"keep me"


def test_talk_and_eval_bad_input(tmp_path):
    assert_clean_failure(run("talk", "   ", "-o", str(tmp_path / "a.mp4")), "TEXT")
    assert_clean_failure(run("eval", "lips", "--data", str(tmp_path / "none")), "data folder not found")
    assert_clean_failure(run("lips", str(tmp_path / "none.wav"), "-o", str(tmp_path / "a.mp4")), "none.wav")


def test_eval_lips_on_real_clips():
    data = shared_data()
    if data is None or not (data / "grid-s1" / "video").is_dir():
        pytest.skip("needs the GRID data folder")
    pytest.importorskip("dlib")
    result = run("eval", "lips", "--data", str(data), "--limit", "2", "--train-clips", "10", "--json", "--rows")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["split"] == "test" and report["clips"] == 2 and len(report["rows"]) == 2
    assert report["train_clips"] == 10
    assert set(report["targets"]) == {"distance_at_most_0.7x_nearest_clip", "opening_corr_at_least_0.8",
                                      "sync_real_found_at_least_0.9", "sync_generated_found_at_least_0.8"}
    assert 0 < report["landmark_distance"]["model"] < report["landmark_distance"]["mean"]


def test_tour_section_shows_generated_and_real_video(tmp_path):
    from sightsound.pretrained import shipped_lips
    from sightsound.viz.tour.lips import section_lips
    from sightsound.viz.tour.page import TourContext

    data = shared_data()
    animator, report = shipped_lips()
    (tmp_path / "tour" / "assets").mkdir(parents=True)
    real = data is not None and (data / "grid-s1" / "video").is_dir()
    if real:
        pytest.importorskip("dlib")
    ctx = TourContext(out=tmp_path / "tour", audio_path=SPEECH_FILE, av_speakers=data if real else None,
                      lips=(animator, report))
    section = section_lips(ctx)
    names = ["lips_input.mp4", "lips_offsets.png"]
    if real:
        names += ["lips_generated.mp4", "lips_real.mp4", "lips_opening.png", "lips_frames.jpg"]
    for name in names:
        assert (tmp_path / "tour" / "assets" / name).stat().st_size > 1000, name
        assert name in section.body
    assert "<video" in section.body and "nearest training clip" in section.body
