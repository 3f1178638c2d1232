"""Named analysis settings shared by the whole library (front-end, vocoder, TTS).

``speech`` is the lecture's: 16 kHz, a 25 ms Hamming window every 10 ms, 80 mel bands.
``tts`` is Tacotron 2's (Shen et al. 2018, Sec. 2.1; the NVIDIA reference settings): 22.05 kHz,
n_fft 1024, hop 256, window 1024 (Hann), 80 mel bands from 0 to 8000 Hz, magnitude mel (power 1).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sightsound.errors import ParameterError


@dataclass(frozen=True)
class AudioPreset:
    """All the parameters of waveform -> STFT -> mel analysis, with librosa's names."""

    name: str
    sample_rate: int
    n_fft: int
    hop_length: int
    win_length: int
    window: str = "hann"
    n_mels: int = 80
    fmin: float = 0.0
    fmax: float | None = None
    htk: bool = False
    norm: str | None = "slaney"
    center: bool = True
    pad_mode: str = "constant"
    power: float = 2.0

    def __post_init__(self) -> None:
        for field in ("sample_rate", "n_fft", "hop_length", "win_length", "n_mels"):
            value = getattr(self, field)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ParameterError(f"{field} must be a positive integer, got {value!r}")
        if self.win_length > self.n_fft:
            raise ParameterError(f"win_length ({self.win_length}) must be <= n_fft ({self.n_fft})")
        fmax = self.sample_rate / 2 if self.fmax is None else self.fmax
        if not 0 <= self.fmin < fmax <= self.sample_rate / 2:
            raise ParameterError(
                f"need 0 <= fmin < fmax <= sample_rate / 2, got fmin={self.fmin}, fmax={self.fmax}, "
                f"sample_rate={self.sample_rate}"
            )
        if self.power <= 0:
            raise ParameterError(f"power must be > 0, got {self.power}")

    @property
    def stft_kwargs(self) -> dict:
        """Keyword arguments for ``functional.stft`` / ``spectrogram`` / ``griffin_lim``."""
        return dict(n_fft=self.n_fft, hop_length=self.hop_length, win_length=self.win_length,
                    window=self.window, center=self.center)

    @property
    def mel_kwargs(self) -> dict:
        """Keyword arguments for ``functional.mel_filterbank`` (after ``sr`` and ``n_fft``)."""
        return dict(n_mels=self.n_mels, fmin=self.fmin, fmax=self.fmax, htk=self.htk, norm=self.norm)

    def with_(self, **changes) -> "AudioPreset":
        """A copy with some values changed (validated again)."""
        return replace(self, **changes)


SPEECH = AudioPreset(
    name="speech", sample_rate=16000, n_fft=512, hop_length=160, win_length=400,
    window="hamming", n_mels=80, fmin=0.0, fmax=8000.0, power=2.0,
)
TTS = AudioPreset(
    name="tts", sample_rate=22050, n_fft=1024, hop_length=256, win_length=1024,
    window="hann", n_mels=80, fmin=0.0, fmax=8000.0, power=1.0,
)
# Tacotron 2's analysis at 16 kHz (GRID, FSDD...): 50 ms Hann window every 12.5 ms (Shen et al. 2018, Sec. 2.1),
# magnitude mel 0-8 kHz. The mel representation shared by the WaveNet vocoder and Tacotron 2.
TTS16K = AudioPreset(
    name="tts16k", sample_rate=16000, n_fft=1024, hop_length=200, win_length=800,
    window="hann", n_mels=80, fmin=0.0, fmax=8000.0, power=1.0,
)
# A toy analysis for tests and tiny presets (WaveNetConfig.tiny): 16 mels, 8-sample hop at 16 kHz.
TINY = AudioPreset(
    name="tiny", sample_rate=16000, n_fft=128, hop_length=8, win_length=64,
    window="hann", n_mels=16, fmin=0.0, fmax=8000.0, power=1.0,
)
PRESETS = {p.name: p for p in (SPEECH, TTS, TTS16K, TINY)}


def get_preset(name: str) -> AudioPreset:
    """The preset called ``name`` (``speech``, ``tts``, ``tts16k`` or ``tiny``)."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ParameterError(f"unknown audio preset {name!r}; choose from {', '.join(PRESETS)}") from None


class MelClipAnalysis:
    """Mixin for the frozen config of a model that analyses clips of ``clip_seconds`` with the named preset
    ``audio_preset`` at ``mel_bands`` mel bands (the three fields the config declares)."""

    @property
    def preset(self) -> AudioPreset:
        return get_preset(self.audio_preset).with_(n_mels=self.mel_bands)

    @property
    def clip_samples(self) -> int:
        return int(round(self.clip_seconds * self.preset.sample_rate))
