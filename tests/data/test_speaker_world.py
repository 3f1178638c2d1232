"""The synthetic speaker world: each hidden attribute moves both the voice and the face as documented, the
face-only nuisances leave the voice alone, speakers and splits are fixed by index, and the folder round trip."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sightsound.data import speaker_world as world
from sightsound.errors import UserInputError


def _with(spk: world.Speaker, **values) -> world.Speaker:
    attrs = dict(zip(world.ATTRIBUTES, spk.attributes)) | values
    return dataclasses.replace(spk, attributes=tuple(attrs[a] for a in world.ATTRIBUTES))


def _f0(y: np.ndarray, sr: int = 16000) -> float:
    """Median autocorrelation pitch (Hz) over voiced 40 ms frames."""
    estimates = []
    for start in range(0, len(y) - 640, 320):
        frame = y[start:start + 640] * np.hanning(640)
        if np.sqrt(np.mean(frame ** 2)) < 0.3 * np.sqrt(np.mean(y ** 2)):
            continue
        ac = np.correlate(frame, frame, "full")[639:]
        lo, hi = sr // 300, sr // 70
        estimates.append(sr / (lo + int(np.argmax(ac[lo:hi]))))
    return float(np.median(estimates))


def _centroid(y: np.ndarray, below: float = 4000.0) -> float:
    spectrum = np.abs(np.fft.rfft(y)) ** 2
    freqs = np.fft.rfftfreq(len(y), 1 / 16000)
    keep = freqs < below
    return float((spectrum[keep] * freqs[keep]).sum() / spectrum[keep].sum())


def _onsets(y: np.ndarray) -> int:
    """Syllable count: rises of the 10 ms energy envelope above half its median-to-peak level."""
    env = np.sqrt(np.convolve(y ** 2, np.ones(160) / 160, "same"))[::160]
    level = 0.5 * (np.median(env) + env.max()) * 0.5
    above = env > level
    return int(np.sum(above[1:] & ~above[:-1]))


def _noise_ratio(y: np.ndarray) -> float:
    """Energy between the harmonics (high-passed residual above 4 kHz) over the total: breathiness."""
    spectrum = np.abs(np.fft.rfft(y)) ** 2
    freqs = np.fft.rfftfreq(len(y), 1 / 16000)
    return float(spectrum[freqs > 4500].sum() / spectrum.sum())


BASE = world.Speaker(0, 0, (0.5, 0.5, 0.5, 0.5), (0.5, 0.5, 0.5))


def _voice_mean(spk, measure, clips=3):
    return float(np.mean([measure(world.speak(spk, c, 2.5)[0]) for c in range(clips)]))


def test_pitch_raises_the_voice_and_thins_the_brows():
    low, high = _with(BASE, pitch=0.0), _with(BASE, pitch=1.0)
    assert _voice_mean(low, _f0) == pytest.approx(90 * 0.99, rel=0.12)
    assert _voice_mean(high, _f0) == pytest.approx(250 * 0.99, rel=0.12)
    dark = lambda s: int((world.draw_face(s)[10:30] < 0.25).sum())  # noqa: E731 - brow and eye pixels
    assert dark(low) > dark(high) + 20


def test_tract_length_lowers_the_formants_and_lengthens_the_face():
    short, long = _with(BASE, tract=0.0), _with(BASE, tract=1.0)
    assert _voice_mean(short, _centroid) > 1.15 * _voice_mean(long, _centroid)
    rows = lambda s: int((world.draw_face(s) > 0.5).any(axis=1).sum())  # noqa: E731 - rows the skin spans
    assert rows(long) >= rows(short) + 10


def test_rate_speeds_the_speech_and_widens_the_mouth():
    slow, fast = _with(BASE, rate=0.0), _with(BASE, rate=1.0)
    assert _voice_mean(fast, _onsets) > 1.25 * _voice_mean(slow, _onsets)
    mouth = lambda s: int((np.abs(world.draw_face(s)[42:47, 20:44] - 0.22) < 0.03).sum())  # noqa: E731
    assert mouth(fast) > 1.8 * mouth(slow)


def test_breathiness_adds_noise_and_darkens_the_skin():
    clear, breathy = _with(BASE, breath=0.0), _with(BASE, breath=1.0)
    assert _voice_mean(breathy, _noise_ratio) > 2 * _voice_mean(clear, _noise_ratio)
    assert world.draw_face(clear)[32, 26] == pytest.approx(0.85, abs=0.02)
    assert world.draw_face(breathy)[32, 26] == pytest.approx(0.45, abs=0.02)


def test_face_only_nuisance_never_changes_the_voice_but_changes_the_face():
    other = dataclasses.replace(BASE, nuisance=(0.0, 1.0, 0.0))
    assert np.array_equal(world.speak(BASE, 0, 1.0)[0], world.speak(other, 0, 1.0)[0])
    assert not np.array_equal(world.draw_face(BASE), world.draw_face(other))


def test_speakers_and_splits_are_fixed_by_index():
    assert world.speakers(50, 3)[17] == world.speaker(17, 3)
    assert world.speaker(17, 3) != world.speaker(17, 4)
    splits = [s.split for s in world.speakers(30)]
    assert splits.count("test") == 3 and splits[9] == "test" and splits[8] == "select"
    y1, t1 = world.speak(world.speaker(4), 1, 1.0)
    y2, t2 = world.speak(world.speaker(4), 1, 1.0)
    assert np.array_equal(y1, y2) and t1 == t2 and t1 != world.speak(world.speaker(4), 2, 1.0)[1]


def test_photos_vary_but_the_canonical_face_is_fixed():
    spk = world.speaker(3)
    assert not np.array_equal(world.draw_face(spk, 0), world.draw_face(spk, 1))
    assert np.array_equal(world.draw_face(spk), world.draw_face(spk))
    face = world.draw_face(spk, 2)
    assert face.shape == (64, 64) and face.dtype == np.float32 and 0 <= face.min() <= face.max() <= 1


def test_world_folder_round_trip(tmp_path):
    world.write_world(tmp_path / "w", 12, seed=5, clips=2, photos=2, seconds=1.0, progress=False)
    read = world.read_world(tmp_path / "w")
    expected = world.speakers(12, 5)
    assert [w.speaker.id for w in read] == [s.id for s in expected]
    assert np.allclose([w.speaker.attributes + w.speaker.nuisance for w in read],
                       [s.attributes + s.nuisance for s in expected], atol=1e-6)
    assert all(len(w.voices) == 2 and len(w.photos) == 2 and w.canonical.is_file() for w in read)
    with pytest.raises(UserInputError, match="not a speaker world"):
        world.read_world(tmp_path)
