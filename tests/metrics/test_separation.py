"""Separation metrics (metrics/separation.py): SI-SDR against hand-computed values and its scale invariance,
SDR against mir_eval's BSS-eval, STOI and PESQ on a hand-made case (identical -> best; noise lowers it)."""

from __future__ import annotations

import math

import pytest
import torch

from sightsound.metrics import separation as M


def test_si_sdr_hand_computed():
    s = torch.tensor([1.0, -1.0, 1.0, -1.0])              # zero mean
    noise = torch.tensor([1.0, 1.0, -1.0, -1.0])          # zero mean, orthogonal to s
    # s_hat = s + 0.5 n: alpha = 1, target = s (energy 4), error = 0.5 n (energy 1) -> 10 log10(4) dB
    assert M.si_sdr(s, s + 0.5 * noise) == pytest.approx(10 * math.log10(4.0), abs=1e-9)
    # the mean is removed first: an offset changes nothing
    assert M.si_sdr(s, s + 0.5 * noise + 3.0) == pytest.approx(10 * math.log10(4.0), abs=1e-9)
    # s_hat = 2 s + n: alpha = 2, target = 2 s (energy 16), error = n (energy 4) -> 10 log10(4)
    assert M.si_sdr(s, 2 * s + noise) == pytest.approx(10 * math.log10(4.0), abs=1e-9)


def test_si_sdr_is_scale_invariant_and_the_improvement_subtracts_the_mixture():
    g = torch.Generator().manual_seed(0)
    s, n = torch.randn(1000, generator=g), torch.randn(1000, generator=g)
    estimate = s + 0.3 * n
    assert M.si_sdr(s, 7.5 * estimate) == pytest.approx(M.si_sdr(s, estimate), abs=1e-9)
    assert M.si_sdr(s, -estimate) == pytest.approx(M.si_sdr(s, estimate), abs=1e-9)  # a negative scale too
    mixture = s + n
    assert M.si_sdr_improvement(s, estimate, mixture) == pytest.approx(M.si_sdr(s, estimate) - M.si_sdr(s, mixture))
    assert M.si_sdr(s, s) > 100


@pytest.mark.reference
def test_sdr_matches_mir_eval_bss_eval():
    mir_eval = pytest.importorskip("mir_eval")
    import numpy as np

    rng = np.random.default_rng(3)
    s, n = rng.standard_normal(6000), rng.standard_normal(6000)
    for estimate in (np.convolve(s, [1.0, 0.4, -0.2])[:6000] + 0.3 * n, s + n, 0.2 * s + n):
        with pytest.warns(FutureWarning):
            expected = mir_eval.separation.bss_eval_sources(s[None], estimate[None])[0][0]
        assert M.sdr(torch.tensor(s), torch.tensor(estimate)) == pytest.approx(expected, abs=1e-6)


def test_sdr_allows_a_short_filter_but_not_noise():
    g = torch.Generator().manual_seed(1)
    s = torch.randn(4000, generator=g)
    filtered = torch.nn.functional.conv1d(s[None, None], torch.tensor([[[0.3, 1.0]]]), padding=1)[0, 0, :4000]
    assert M.sdr(s, filtered) > 40          # a 2-tap filter is within the allowed distortion
    assert M.sdr(s, s + torch.randn(4000, generator=g)) < 2  # 0 dB noise (the 512-tap filter fits a little of it)


def _speech_like(seconds=2.0, sr=16000, seed=0):
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(int(seconds * sr)) / sr
    syllables = (torch.sin(2 * math.pi * 3 * t) > 0).float()
    voice = sum(torch.sin(2 * math.pi * 140 * k * t) / k for k in range(1, 20))
    return 0.1 * voice * syllables + 0.001 * torch.randn(len(t), generator=g)


def test_stoi_best_for_identical_signals_and_lower_with_noise():
    pytest.importorskip("pystoi")
    s = _speech_like()
    noise = 0.1 * torch.randn(len(s), generator=torch.Generator().manual_seed(2))
    assert M.stoi(s, s, 16000) == pytest.approx(1.0, abs=1e-3)
    assert M.stoi(s, s + noise, 16000) < 0.9


def test_pesq_best_for_identical_signals_and_lower_with_noise():
    pytest.importorskip("pesq")
    s = _speech_like()
    noise = 0.05 * torch.randn(len(s), generator=torch.Generator().manual_seed(2))
    clean, noisy = M.pesq_wb(s, s), M.pesq_wb(s, s + noise)
    assert clean > 4.0
    assert noisy < clean - 1.0
