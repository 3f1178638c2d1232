"""cli: end-to-end runs of each command, and every bad input: one line on stderr, exit code 2,
no traceback, nothing overwritten."""

from __future__ import annotations

import json
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
import soundfile

from sightsound.cli import main
from tests.conftest import SPEECH_FILE

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sightsound", *args], capture_output=True, text=True, timeout=300,
                          cwd=ROOT)


def assert_clean_failure(result: subprocess.CompletedProcess, needle: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert needle in lines[0], lines[0]


@pytest.fixture
def speech(tmp_path):
    target = tmp_path / "speech.flac"
    target.write_bytes(SPEECH_FILE.read_bytes())
    return target


def test_spectrogram_writes_figure_and_arrays(tmp_path, speech):
    out, npz = tmp_path / "fig.png", tmp_path / "arrays.npz"
    result = run("spectrogram", str(speech), "-o", str(out), "--npz", str(npz), "--window", "hann")
    assert result.returncode == 0, result.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    arrays = np.load(npz)
    assert arrays["mel_db"].shape[0] == 80
    assert arrays["spectrogram_db"].shape == (257, arrays["times"].shape[0])
    assert {"leakage_db_rectangular", "leakage_db_hamming"} <= set(arrays.files)


def test_griffinlim_json_and_quality(tmp_path, speech):
    out = tmp_path / "gl.wav"
    result = run("griffinlim", str(speech), "-o", str(out), "--n-iter", "32", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["n_iter"] == 32 and report["from"] == "linear"
    assert 0 < report["spectral_convergence"] < 0.15
    y, sr = soundfile.read(out)
    assert sr == 16000 and abs(len(y) - soundfile.info(speech).frames) == 0


def test_griffinlim_from_mel_and_tts_preset(tmp_path, speech):
    out = tmp_path / "gl.flac"
    assert main(["griffinlim", str(speech), "-o", str(out), "--from", "mel", "--preset", "tts", "--n-iter", "8",
                 "--json"]) == 0
    assert soundfile.info(out).samplerate == 22050


@pytest.fixture
def bad_files(tmp_path):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk" * 20)
    silent = tmp_path / "silent.wav"
    with wave.open(str(silent), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(16000)
        handle.writeframes(b"\x00\x00" * 16000)
    text = tmp_path / "notes.txt"
    text.write_text("not audio")
    return {"empty": empty, "corrupt": corrupt, "silent": silent, "text": text, "missing": tmp_path / "nope.wav"}


@pytest.mark.parametrize(
    "kind,needle",
    [("missing", "no such file"), ("empty", "empty"), ("corrupt", "cannot decode"), ("silent", "silent"),
     ("text", "unsupported audio format")],
)
def test_bad_input_files(tmp_path, bad_files, kind, needle):
    assert_clean_failure(run("spectrogram", str(bad_files[kind]), "-o", str(tmp_path / "x.png")), needle)
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize(
    "extra,needle",
    [
        (["--n-fft", "0"], "an FFT size in [2, 65536], got 0"),
        (["--hop-length", "-3"], "a hop in samples in [1, 65536], got -3"),
        (["--n-fft", "256", "--win-length", "400"], "win_length (400) must be <= n_fft (256)"),
        (["--window", "kaiser"], "invalid choice"),
        (["--preset", "radio"], "invalid choice"),
    ],
)
def test_bad_parameters(tmp_path, speech, extra, needle):
    assert_clean_failure(run("spectrogram", str(speech), "-o", str(tmp_path / "x.png"), *extra), needle)


def test_griffinlim_bad_parameters(tmp_path, speech):
    assert_clean_failure(run("griffinlim", str(speech), "-o", str(tmp_path / "o.wav"), "--momentum", "-1"), "number >= 0")
    assert_clean_failure(run("griffinlim", str(speech), "-o", str(tmp_path / "o.wav"), "--n-iter", "x"), "expected a number of iterations, got 'x'")
    assert_clean_failure(run("griffinlim", str(speech), "-o", str(tmp_path / "o.xyz")), "output must end in")


def test_never_overwrites_without_force(tmp_path, speech):
    before = speech.read_bytes()
    assert_clean_failure(run("griffinlim", str(speech), "-o", str(speech)), "is the input")
    assert_clean_failure(run("griffinlim", str(speech), "-o", str(tmp_path / "." / "speech.flac"), "--force"), "is the input")
    assert speech.read_bytes() == before
    existing = tmp_path / "existing.wav"
    existing.write_bytes(b"precious")
    assert_clean_failure(run("griffinlim", str(speech), "-o", str(existing), "--n-iter", "1"), "--force")
    assert existing.read_bytes() == b"precious"
    fig = tmp_path / "fig.png"
    fig.write_bytes(b"precious")
    assert_clean_failure(run("spectrogram", str(speech), "-o", str(fig)), "exists")
    assert fig.read_bytes() == b"precious"
    assert main(["griffinlim", str(speech), "-o", str(existing), "--n-iter", "1", "--force"]) == 0
    assert soundfile.info(existing).frames > 0


def test_tour_writes_page_and_refuses_foreign_folder(tmp_path, speech):
    out = tmp_path / "tour"
    assert main(["tour", "--out", str(out), "--audio", str(speech)]) == 0
    page = (out / "index.html").read_text()
    for anchor in ("waveform", "power-spectrum", "stft", "spectrogram", "mel", "way-back", "attention", "gpt",
                   "vocoder", "tts", "visual-attention", "captioning", "dalle"):
        assert f'id="{anchor}"' in page
    assert "<pre>ROMEO:" in page  # a sample from the shipped character GPT
    for asset in ("original.wav", "griffinlim_mel_pghi.wav", "spectrogram.jpg", "mel_filterbank.png", "attention_map.png",
                  "shapes_attention_0.jpg", "caption_photo_0.jpg", "dalle_prompt_0.png", "dalle_dvae.png"):
        assert (out / "assets" / asset).stat().st_size > 1000
        assert f"assets/{asset}" in page
    assert ">nan<" not in page and "frame(s)" not in page and '{"input"' not in page
    weight = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    assert weight < 4_000_000, f"the page and its assets weigh {weight / 1e6:.1f} MB"
    _check_in_browser(out / "index.html")
    assert main(["tour", "--out", str(out), "--audio", str(speech)]) == 0  # its own folder: rebuilt
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.txt").write_text("keep me")
    assert_clean_failure(run("tour", "--out", str(foreign), "--audio", str(speech)), "not empty")
    assert (foreign / "thesis.txt").read_text() == "keep me"
    assert_clean_failure(run("tour", "--out", str(tmp_path / "t2"), "--audio", str(tmp_path / "none.wav")), "no such file")


def _check_in_browser(page):
    """The written tour in headless Chromium: every image and sound loads, every image says what it shows, the
    page has a viewport, and the console is clean."""
    from tests.browser import browser_available, open_page

    if not browser_available():
        pytest.skip("chromium, chromium-driver and selenium are needed for the browser check (make test installs them)")
    seen = open_page(page)
    assert seen["viewport"]
    assert len(seen["images"]) >= 15 and len(seen["audio"]) >= 7
    assert not [src for src, _, ok in seen["images"] if not ok], "images that did not load"
    assert not [src for src, alt, _ in seen["images"] if len(alt) < 20 or alt == src], "images without a description"
    assert not [src for src, ok in seen["audio"] if not ok], "sounds that cannot play"
    assert not seen["console"], seen["console"]
