"""Speech metrics: word error rate, mel-cepstral distortion, log-spectral distance, the recogniser."""

from __future__ import annotations

import pytest
import torch

from sightsound.errors import ParameterError
from sightsound.metrics import speech as M


def test_edit_distance_and_wer_by_hand():
    assert M.edit_distance("a b c".split(), "a b c".split()) == 0
    assert M.edit_distance("a b c".split(), "a x c".split()) == 1           # substitution
    assert M.edit_distance("a b c".split(), "a c".split()) == 1             # deletion
    assert M.edit_distance("a b c".split(), "a b b c d".split()) == 2       # two insertions
    assert M.edit_distance([], "a b".split()) == 2
    # 1 edit in 3 words + 2 edits in 2 words = 3 / 5
    assert M.word_error_rate(["a b c", "d e"], ["a b x", "f"]) == pytest.approx(3 / 5)
    with pytest.raises(ParameterError):
        M.word_error_rate(["a"], [])


def test_slot_error_rates_by_hand():
    refs = ["bin blue at f", "set red by a", "lay white in z"]
    hyps = ["bin blue by f", "set red by e", ""]  # the third heard nothing: every slot wrong
    assert M.slot_error_rates(refs, hyps) == pytest.approx([1 / 3, 1 / 3, 2 / 3, 2 / 3])
    with pytest.raises(ParameterError):
        M.slot_error_rates(["a b", "a"], ["a b", "a"])


def _voice(seconds=1.0, sr=16000, f0=140.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(int(seconds * sr), dtype=torch.float64) / sr
    y = sum(torch.sin(2 * torch.pi * f0 * h * t) / h for h in range(1, 12)) * 0.1
    return y * (0.6 + 0.4 * torch.sin(2 * torch.pi * 3 * t)) + 1e-3 * torch.randn(len(t), generator=g, dtype=torch.float64)


def test_mcd_and_lsd_are_zero_for_identical_and_grow_with_distortion():
    y = _voice()
    assert M.mel_cepstral_distortion(y, y, 16000) == pytest.approx(0.0, abs=1e-9)
    assert M.log_spectral_distance(y, y, 16000) == pytest.approx(0.0, abs=1e-9)
    g = torch.Generator().manual_seed(1)
    noise = torch.randn(len(y), generator=g, dtype=torch.float64)
    mcd = [M.mel_cepstral_distortion(y, y + a * noise, 16000) for a in (0.003, 0.03)]
    lsd = [M.log_spectral_distance(y, y + a * noise, 16000) for a in (0.003, 0.03)]
    assert 0 < mcd[0] < mcd[1] and 0 < lsd[0] < lsd[1]
    # a pure gain change moves only c0 (left out of MCD) but every log-spectral bin
    assert M.mel_cepstral_distortion(y, 0.5 * y, 16000) == pytest.approx(0.0, abs=0.01)  # 0.01 dB: the log floor
    assert M.log_spectral_distance(y, 0.5 * y, 16000) == pytest.approx(20 * torch.log10(torch.tensor(2.0)).item(), rel=1e-3)


def test_mcd_by_level_finds_where_the_distortion_lives():
    loud = _voice(0.5, seed=2)
    y = torch.cat([loud, 0.01 * loud])  # the second half sits 40 dB below the first
    g = torch.Generator().manual_seed(3)
    noisy = y + 3e-4 * torch.randn(len(y), generator=g, dtype=torch.float64)  # drowns only the quiet half
    per_frame, below = M.mel_cepstral_distortion_frames(y, noisy, 16000), M.frame_levels(y, 16000)
    assert per_frame.shape == below.shape and float(below.min()) == 0.0 and float(below.max()) > 35
    assert M.mel_cepstral_distortion(y, noisy, 16000) == pytest.approx(float(per_frame[below < 40].mean()))
    assert M.log_spectral_distance(y, noisy, 16000) == pytest.approx(
        float(M.log_spectral_distance_frames(y, noisy, 16000)[below < 40].mean()))
    levels = M.mcd_by_level([(per_frame, below), (M.mel_cepstral_distortion_frames(y, y, 16000), below)],
                            edges=(0, 20, 60))
    assert set(levels) == {"0-20", "20-60"}
    assert levels["0-20"] < 0.5 * levels["20-60"]  # the noise is 40 dB further down in the loud half
    both = torch.cat([per_frame, torch.zeros_like(per_frame)])  # the clean pair adds zero-distortion frames
    inside = torch.cat([below, below]) < 20
    assert levels["0-20"] == pytest.approx(float(both[inside].mean()), abs=1e-3)


def test_grammars():
    text = M.slots_grammar((("bin", "lay"), ("blue",)))
    assert "public <sentence> = <slot0> <slot1>;" in text and "<slot0> = bin | lay;" in text
    assert "(a | dog)+" in M.words_grammar(["dog", "a", "dog"])


def test_transcript_words_by_hand():
    assert M.transcript_words('A dog\'s 2 toys, Dr. Who -- "entry-way".') == "a dog's two toys doctor who entry way"


def test_open_vocabulary_recognizer_reads_the_shipped_sample():
    pytest.importorskip("pocketsphinx")
    from sightsound.audio import io
    from tests.conftest import SPEECH_FILE

    y, sr = io.load(SPEECH_FILE)
    reference = M.transcript_words("The lecture shows how a spectrogram turns sound into a picture.")
    heard = M.Recognizer()(y, sr)  # no grammar: pocketsphinx's English trigram model
    assert M.word_error_rate([reference], [heard]) <= 0.5  # measured 0.36 (flite's synthetic voice)
    assert M.word_error_rate([reference], [M.Recognizer()(torch.zeros(16000), 16000)]) == 1.0
    with pytest.raises(M.ParameterError, match="not both"):
        M.Recognizer(slots=(("a",),), words=["a"])


@pytest.mark.slow
def test_recognizer_reads_real_grid_clips(real_data):
    pytest.importorskip("pocketsphinx")
    from sightsound.audio import io
    from sightsound.data import grid

    recognizer = M.Recognizer(slots=grid.GRID_GRAMMAR)
    assert recognizer.missing == []
    names = sorted(p.stem for p in (real_data / "grid-s1" / "audio").glob("*.flac"))[::300]
    refs, hyps = [], []
    for name in names:
        y, sr = io.load(real_data / "grid-s1" / "audio" / f"{name}.flac")
        refs.append(grid.transcript(real_data / "grid-s1" / "align" / f"{name}.align"))
        hyps.append(recognizer(y, sr))
    assert M.word_error_rate(refs, hyps) <= 1 / 6  # at most one word wrong in three sentences
    assert recognizer(torch.zeros(16000), 16000).split() != refs[0].split()


@pytest.mark.slow
def test_recognizer_does_not_depend_on_what_it_heard_before(real_data):
    """pocketsphinx's noise removal keeps its estimate between utterances: without a reset, this clip after a
    second of loud noise was heard as "place green at l nine again" instead of "bin blue at l nine again"."""
    pytest.importorskip("pocketsphinx")
    from sightsound.audio import io
    from sightsound.data import grid

    recognizer = M.Recognizer(slots=grid.GRID_GRAMMAR)
    y, sr = io.load(real_data / "grid-s1" / "audio" / "bbal9a.flac", sr=16000)
    fresh = recognizer(y, sr)
    recognizer(torch.randn(16000, generator=torch.Generator().manual_seed(0)) * 0.5, 16000)
    assert recognizer(y, sr) == fresh == grid.transcript(real_data / "grid-s1" / "align" / "bbal9a.align")
