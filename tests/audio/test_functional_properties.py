"""Properties of sightsound.audio.functional that hold whatever the reference says:
roundtrip, batch_consistency, gradcheck, Parseval, windows, mu-law, pre-emphasis, NNLS, Griffin-Lim convergence,
device, and clear errors for bad parameters."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from sightsound.audio import _engine as E
from sightsound.audio import functional as F
from sightsound.errors import ParameterError
from tests.conftest import DEVICES


def speechlike(n: int = 8000, seed: int = 0, dtype=torch.float64) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(n, dtype=dtype) / 16000
    f0 = 120 + 30 * torch.sin(2 * math.pi * 3 * t)
    phase = 2 * math.pi * torch.cumsum(f0, 0) / 16000
    harmonics = sum(torch.sin(k * phase) / k for k in range(1, 12))
    return (0.3 * harmonics + 0.01 * torch.randn(n, generator=g, dtype=dtype)).to(dtype)


@pytest.mark.parametrize("window", ["hann", "hamming"])
@pytest.mark.parametrize("n_fft,hop,win", [(512, 160, 400), (512, 128, 512), (1024, 256, 1024), (400, 100, 400)])
def test_roundtrip_istft_of_stft_is_identity(window, n_fft, hop, win):
    y = speechlike(6000)
    D = F.stft(y, n_fft, hop, win, window)
    y_hat = F.istft(D, hop, win, n_fft, window, length=len(y))
    assert torch.max(torch.abs(y_hat - y)) <= 1e-6 * y.abs().max()
    y_hat32 = F.istft(F.stft(y.float(), n_fft, hop, win, window), hop, win, n_fft, window, length=len(y))
    assert torch.max(torch.abs(y_hat32.double() - y)) <= 1e-5 * y.abs().max()


def test_batch_consistency():
    batch = torch.stack([speechlike(5000, seed=s) for s in range(3)]).reshape(3, 1, 5000) * torch.tensor([1.0, 0.1, 3.0]).view(3, 1, 1)
    kwargs = dict(n_fft=512, hop_length=160, win_length=400, window="hamming")
    D = F.stft(batch, **kwargs)
    M = F.melspectrogram(batch, 16000, n_mels=40, **kwargs)
    dB = F.power_to_db(M, ref=torch.amax, top_db=50.0)
    S = D.abs()
    init = 2 * math.pi * torch.rand(S.shape, dtype=torch.float64)
    y = F.griffin_lim(S, 4, 160, 400, 512, "hamming", init=init)
    r = F.resample(batch, 16000, 22050)
    for i in range(3):
        item = batch[i, 0]
        torch.testing.assert_close(D[i, 0], F.stft(item, **kwargs), rtol=0, atol=1e-12)
        torch.testing.assert_close(M[i, 0], F.melspectrogram(item, 16000, n_mels=40, **kwargs), rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(dB[i, 0], F.power_to_db(M[i, 0], ref=torch.amax, top_db=50.0))
        torch.testing.assert_close(y[i, 0], F.griffin_lim(S[i, 0], 4, 160, 400, 512, "hamming", init=init[i, 0]))
        torch.testing.assert_close(r[i, 0], F.resample(item, 16000, 22050))


def test_gradcheck_melspectrogram_float64():
    y = speechlike(700).requires_grad_(True)
    basis = F.mel_filterbank(16000, 128, 10, dtype=torch.float64)

    def fn(x):
        return F.melspectrogram(x, 16000, 128, 64, 100, "hamming", mel_basis=basis, power=2.0)

    assert torch.autograd.gradcheck(fn, (y,), eps=1e-6, atol=1e-6)


def test_mel_basis_can_be_learnt_and_edited_in_place():
    """The banded fast path (prepared once per filterbank) must see in-place edits and pass gradients to a
    learnable filterbank."""
    y = speechlike(4000).double()
    basis = F.mel_filterbank(16000, 512, 40, dtype=torch.float64)
    power = F.stft(y, 512, 160, 400, "hamming").abs() ** 2

    def mel(b):
        return F.melspectrogram(y, 16000, 512, 160, 400, "hamming", mel_basis=b)

    torch.testing.assert_close(mel(basis), basis @ power, rtol=1e-10, atol=1e-12)
    basis[3] *= 2.0  # in place: the prepared bands must not be reused
    torch.testing.assert_close(mel(basis), basis @ power, rtol=1e-10, atol=1e-12)
    learnt = basis.clone().requires_grad_(True)
    mel(learnt).sum().backward()
    torch.testing.assert_close(learnt.grad, power.sum(-1).expand_as(learnt), rtol=1e-10, atol=1e-10)


def test_gradcheck_istft_float64():
    D = F.stft(speechlike(600), 64, 16).detach().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda d: F.istft(d, 16, n_fft=64), (D,), eps=1e-6, atol=1e-6)


@pytest.mark.parametrize("n", [1000, 1001])
def test_parseval_power_spectrum(n):
    y = torch.randn(2, n, dtype=torch.float64)
    P = F.power_spectrum(y)
    weights = torch.full((P.shape[-1],), 2.0, dtype=torch.float64)
    weights[0] = 1.0
    if n % 2 == 0:
        weights[-1] = 1.0
    torch.testing.assert_close((P * weights).sum(-1) / n, y.square().sum(-1))


def test_power_spectrum_peaks_at_tone_and_hamming_leaks_less():
    sr, n = 8000, 4096
    t = torch.arange(n, dtype=torch.float64) / sr
    y = torch.sin(2 * math.pi * 1003.7 * t)  # between two bins: maximal leakage
    freqs = F.fft_frequencies(sr, n)
    rect = F.power_spectrum(y)
    hamm = F.power_spectrum(y, window="hamming")
    assert abs(freqs[rect.argmax()] - 1003.7) < sr / n
    far = (freqs - 1003.7).abs() > 200
    assert hamm[far].max() / hamm.max() < 0.05 * rect[far].max() / rect.max()  # > 13 dB less leakage


@pytest.mark.parametrize("name", ["hann", "hamming"])
@pytest.mark.parametrize("periodic", [True, False])
def test_windows_match_scipy(name, periodic):
    scipy_signal = pytest.importorskip("scipy.signal")
    for n in (1, 2, 7, 400, 512):
        ref = scipy_signal.get_window(name, n, fftbins=periodic)
        np.testing.assert_allclose(F.get_window(name, n, periodic=periodic, dtype=torch.float64).numpy(), ref, atol=1e-15)


def test_frame_is_a_strided_view():
    y = torch.arange(10.0)
    frames = F.frame(y, 4, 3)  # (4, 3)
    assert frames.shape == (4, 3)
    assert frames[:, 1].tolist() == [3.0, 4.0, 5.0, 6.0]
    assert frames.data_ptr() == y.data_ptr()


def test_mu_law_roundtrip_and_known_values():
    x = torch.linspace(-1, 1, 2001, dtype=torch.float64)
    q = F.mu_law_encode(x)
    assert q.dtype == torch.int64 and q.min() == 0 and q.max() == 255
    assert F.mu_law_encode(torch.tensor([0.0])).item() == 128
    x_hat = F.mu_law_decode(q, dtype=torch.float64)
    # quantisation step in the companded domain is 2/255: relative error grows with |x|
    assert torch.all((x_hat - x).abs() <= 0.5 * (2 / 255) * math.log1p(255) * (1 / 255 + x.abs()) * 1.05)


@pytest.mark.parametrize("coef", [0.0, 0.5, 0.97, 0.999])
@pytest.mark.parametrize("n", [1, 63, 64, 65, 4097, 50000])
def test_emphasis_filters_match_scipy_lfilter(coef, n):
    """pre_emphasis = lfilter([1, -a], [1]); de_emphasis = lfilter([1], [1, -a]) (both from rest), exact up
    to rounding at every length around the block size and over several levels of block recursion."""
    signal = pytest.importorskip("scipy.signal")
    x = torch.randn(2, n, generator=torch.Generator().manual_seed(n), dtype=torch.float64)
    e = F.pre_emphasis(x, coef)
    assert np.allclose(e.numpy(), signal.lfilter([1.0, -coef], [1.0], x.numpy(), axis=-1), rtol=0, atol=1e-13)
    y = F.de_emphasis(x, coef)
    assert np.allclose(y.numpy(), signal.lfilter([1.0], [1.0, -coef], x.numpy(), axis=-1), rtol=1e-10, atol=1e-10)
    assert torch.allclose(F.de_emphasis(e, coef), x, atol=1e-11)
    assert F.de_emphasis(x.float(), coef).dtype == torch.float32


def test_mel_to_linear_nnls_matches_scipy_objective():
    optimize = pytest.importorskip("scipy.optimize")
    basis = F.mel_filterbank(16000, 256, 20, dtype=torch.float64)
    X_true = torch.rand(129, 6, dtype=torch.float64) ** 3
    M = basis @ X_true
    ours = F.mel_to_linear(M, basis, power=1.0, n_iter=2000)
    assert (ours >= 0).all()
    for t in range(M.shape[1]):
        x_ref, _ = optimize.nnls(basis.numpy(), M[:, t].numpy())
        r_ref = np.linalg.norm(basis.numpy() @ x_ref - M[:, t].numpy())
        r_ours = float(torch.linalg.vector_norm(basis @ ours[:, t] - M[:, t]))
        assert r_ours <= r_ref + 1e-6 * float(M[:, t].norm())
    pinv = F.mel_to_linear(M, basis, power=1.0, method="pinv")
    assert torch.linalg.matrix_norm(basis @ ours - M) < torch.linalg.matrix_norm(basis @ pinv - M)


def test_griffin_lim_converges_and_fast_beats_classic():
    y = speechlike(8000)
    S = F.spectrogram(y, 512, 128)
    g = torch.Generator().manual_seed(0)
    scs = {}
    for momentum in (0.0, 0.99):
        for n_iter in (4, 32):
            g.manual_seed(0)
            y_hat = F.griffin_lim(S, n_iter, 128, n_fft=512, momentum=momentum, generator=g, length=len(y))
            scs[momentum, n_iter] = float(F.spectral_convergence(S, F.spectrogram(y_hat, 512, 128)))
    assert scs[0.0, 32] < scs[0.0, 4]
    assert scs[0.99, 32] < scs[0.99, 4]
    assert scs[0.99, 32] < scs[0.0, 32]
    assert scs[0.99, 32] < 0.2


def test_griffin_lim_seeded_random_init_is_reproducible():
    S = F.spectrogram(speechlike(3000), 256, 64)
    a = F.griffin_lim(S, 3, 64, generator=torch.Generator().manual_seed(5))
    b = F.griffin_lim(S, 3, 64, generator=torch.Generator().manual_seed(5))
    c = F.griffin_lim(S, 3, 64, generator=torch.Generator().manual_seed(6))
    assert torch.equal(a, b) and not torch.equal(a, c)


@pytest.mark.parametrize("device", DEVICES)
def test_device_results_equal_cpu(device):
    y = speechlike(4000, dtype=torch.float32)
    M_cpu = F.melspectrogram(y, 16000, 512, 160, 400, "hamming", n_mels=80)
    M_dev = F.melspectrogram(y.to(device), 16000, 512, 160, 400, "hamming", n_mels=80)
    assert M_dev.device.type == device
    torch.testing.assert_close(M_dev.cpu(), M_cpu, rtol=1e-4, atol=1e-5 * float(M_cpu.max()))
    S = F.spectrogram(y.to(device), 512, 128)
    out = F.griffin_lim(S, 2, 128, init="zeros")
    assert out.device.type == device


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda y: F.stft(y, n_fft=256, win_length=512), "win_length"),
        (lambda y: F.stft(y, n_fft=0), "n_fft"),
        (lambda y: F.stft(y, n_fft=256, hop_length=-1), "hop_length"),
        (lambda y: F.stft(y, n_fft=256, window="kaiser"), "window"),
        (lambda y: F.stft(y, n_fft=256, pad_mode="wrap"), "pad_mode"),
        (lambda y: F.stft(y[:10], n_fft=256, center=False), "shorter"),
        (lambda y: F.mel_filterbank(16000, 512, fmax=9000), "Nyquist"),
        (lambda y: F.mel_filterbank(16000, 512, fmin=5000, fmax=4000), "fmin"),
        (lambda y: F.griffin_lim(F.spectrogram(y, 256), momentum=-1), "momentum"),
        (lambda y: F.griffin_lim(F.spectrogram(y, 256), n_fft=512), "frequency bins"),
        (lambda y: F.power_to_db(y, amin=0), "amin"),
        (lambda y: F.resample(y, 0, 16000), "orig_sr"),
        (lambda y: F.pre_emphasis(y, 1.0), "emphasis"),
        (lambda y: F.de_emphasis(y, -0.1), "emphasis"),
    ],
)
def test_bad_parameters_raise_clear_errors(call, message):
    with pytest.raises(ParameterError, match=message):
        call(speechlike(2000))


def test_pghi_compiled_and_python_heap_walks_agree():
    rng = np.random.default_rng(0)
    log_mag = rng.standard_normal((30, 17))
    dphi_t, dphi_f = rng.standard_normal((2, 30, 17))
    python = E.heap_integrate(log_mag, dphi_t, dphi_f, -1.0)
    compiled = E.heap_integrator()(log_mag, dphi_t, dphi_f, -1.0)
    np.testing.assert_array_equal(python, compiled)
    assert (python[log_mag < -1.0] == 0).all()


@pytest.mark.parametrize("window,n_fft,hop,win", [("hamming", 512, 160, 400), ("hann", 1024, 256, 1024)])
def test_pghi_initial_phase_is_far_better_than_random(window, n_fft, hop, win):
    from sightsound.audio import io
    from tests.conftest import SPEECH_FILE

    y, _ = io.load(SPEECH_FILE, dtype=torch.float64)
    S = F.spectrogram(y, n_fft, hop, win, window)

    def sc(init, n_iter):
        y_hat = F.griffin_lim(S, n_iter, hop, win, n_fft, window, init=init, length=len(y),
                              generator=torch.Generator().manual_seed(0))
        return float(F.spectral_convergence(S, F.spectrogram(y_hat, n_fft, hop, win, window)))

    assert sc("pghi", 0) < 0.5 * sc("random", 0)
    assert sc("pghi", 32) < 0.8 * sc("random", 32)


def test_pghi_after_32_iterations_beats_librosa_fast_griffin_lim_on_speech():
    """The stretch target of the front-end issue, as a quality property on the shipped speech."""
    librosa = pytest.importorskip("librosa")
    from sightsound.audio import io
    from tests.conftest import SPEECH_FILE

    y, _ = io.load(SPEECH_FILE, dtype=torch.float64)
    kw = dict(n_fft=512, hop_length=160, win_length=400)
    S = F.spectrogram(y, window="hamming", **kw)
    ours = F.griffin_lim(S, 32, window="hamming", init="pghi", length=len(y), **kw)
    ref = torch.from_numpy(librosa.griffinlim(S.numpy(), n_iter=32, window="hamming", random_state=0, length=len(y), **kw))
    sc_ours = float(F.spectral_convergence(S, F.spectrogram(ours, window="hamming", **kw)))
    sc_ref = float(F.spectral_convergence(S, F.spectrogram(ref, window="hamming", **kw)))
    assert sc_ours <= 0.7 * sc_ref


def test_pghi_rejects_non_gaussian_like_window():
    with pytest.raises(ParameterError, match="Gaussian-like"):
        F.phase_gradient_heap_integration(torch.rand(129, 10), 64, 256, "rectangular")


def test_filterbanks_built_per_call_are_never_confused():
    """melspectrogram without a basis builds one per call: a new one at a freed one's address must not reuse
    the bands prepared for the old one."""
    y = speechlike(4000)
    for sr, fmax in ((16000, 8000.0), (16000, 4000.0), (22050, None), (16000, 8000.0), (16000, 3000.0)):
        basis = F.mel_filterbank(sr, 512, 40, fmax=fmax, dtype=torch.float64)
        expected = basis @ (F.stft(y, 512, 160, 400, "hamming").abs() ** 2)
        torch.testing.assert_close(F.melspectrogram(y, sr, 512, 160, 400, "hamming", n_mels=40, fmax=fmax), expected,
                                   rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("y, needle", [
    (torch.zeros(4000, dtype=torch.int16), "floating point"),
    (torch.tensor([0.0, float("nan")] * 2000), "not finite"),
    (torch.tensor([0.0, float("inf")] * 2000), "not finite"),
])
def test_integer_or_non_finite_audio_is_refused(y, needle):
    """As librosa's valid_audio: integer PCM and NaN/Inf never reach the transform silently."""
    for transform in (lambda: F.stft(y, 512), lambda: F.spectrogram(y, 512),
                      lambda: F.melspectrogram(y, 16000, 512, 160, 400, "hamming", n_mels=40)):
        with pytest.raises(ParameterError, match=needle):
            transform()


def test_modulation_spectrum_peaks_at_the_envelope_rate_and_sums_to_one():
    t = torch.arange(250) / 100.0
    for rate in (3.0, 5.5, 8.0):
        spectrum = F.modulation_spectrum(torch.sin(2 * torch.pi * rate * t) + 2.0, 100.0)
        freqs = torch.fft.rfftfreq(1024, 0.01)
        freqs = freqs[(freqs >= 1.0) & (freqs <= 10.0)]
        assert abs(float(freqs[spectrum.argmax()]) - rate) < 0.15
        assert float(spectrum.sum()) == pytest.approx(1.0, abs=1e-5)
    assert F.modulation_spectrum(torch.randn(3, 400), 100.0).shape == (3, 92)
