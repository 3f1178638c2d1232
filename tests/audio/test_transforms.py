"""sightsound.audio.transforms: modules equal the functional core; buffers follow .to()/.double()."""

from __future__ import annotations

import torch

from sightsound.audio import SPEECH, TTS
from sightsound.audio import functional as F
from sightsound.audio import transforms as T


def test_modules_equal_functional():
    y = torch.randn(2, 4000)
    mel = T.MelSpectrogram.from_preset(SPEECH)
    expected = F.melspectrogram(y, 16000, 512, 160, 400, "hamming", n_mels=80, fmax=8000.0, power=2.0)
    torch.testing.assert_close(mel(y), expected)
    torch.testing.assert_close(mel.double()(y.double()), expected.double(), rtol=1e-5, atol=1e-5)
    spec = T.Spectrogram(512, 128, power=2.0)
    torch.testing.assert_close(spec(y), F.spectrogram(y, 512, 128, power=2.0))
    S = spec(y).sqrt()
    g = T.GriffinLim(512, n_iter=3, hop_length=128, init="zeros")
    torch.testing.assert_close(g(S), F.griffin_lim(S, 3, 128, n_fft=512, init="zeros"))
    q = T.MuLawEncoding()(y.clamp(-1, 1))
    torch.testing.assert_close(T.MuLawDecoding()(q), F.mu_law_decode(q))


def test_inverse_mel_recovers_linear_spectrogram():
    y = torch.randn(8000, dtype=torch.float64)
    mel = T.MelSpectrogram.from_preset(TTS).double()
    M = mel(y)
    linear = T.InverseMel.from_preset(TTS).double()(M)
    S = F.spectrogram(y, 1024, 256, 1024, power=1.0)
    assert linear.shape == S.shape
    # the mel projection is lossy; the recovered spectrogram must reproduce the mel spectrogram
    M2 = mel.mel_basis @ linear
    assert torch.linalg.matrix_norm(M2 - M) / torch.linalg.matrix_norm(M) < 1e-3


def test_amplitude_to_db_module():
    S = torch.rand(3, 40, 20) + 1e-3
    torch.testing.assert_close(T.AmplitudeToDB("power", top_db=60)(S), F.power_to_db(S, top_db=60))
    torch.testing.assert_close(T.AmplitudeToDB("magnitude")(S), F.amplitude_to_db(S))
