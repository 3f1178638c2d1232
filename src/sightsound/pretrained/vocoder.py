"""``Vocoder``: log-mel frames -> waveform, by a trained WaveNet or by Griffin-Lim; what Tacotron 2 and the
command line use.

    vocoder = Vocoder.from_pretrained("wavenet-grid")        # or "griffinlim", or a run folder
    wave = vocoder(mel)                                      # (M, T) -> (T * hop,), or (B, M, T) -> (B, S)
"""

from __future__ import annotations

import os

import torch

from sightsound.audio.features import log_mel, log_mel_to_wave
from sightsound.audio.presets import AudioPreset, get_preset
from sightsound.errors import ParameterError, UserInputError

GRIFFIN_LIM = "griffinlim"
DEFAULT_TEMPERATURE = 1.0   # WaveNet sampling temperature


class Vocoder:
    """A callable ``(log-mel (M, T) or (B, M, T), lengths=None) -> waveform``. ``kind`` is "wavenet" or
    "griffinlim"; ``preset`` is the mel analysis it expects (``sample_rate``, ``hop_length``)."""

    def __init__(self, kind: str, preset: AudioPreset, model=None, n_iter: int = 32, name: str = "",
                 temperature: float = DEFAULT_TEMPERATURE):
        if kind not in ("wavenet", GRIFFIN_LIM):
            raise ParameterError(f"unknown vocoder kind {kind!r}")
        if not temperature > 0:
            raise ParameterError(f"temperature must be > 0, got {temperature}")
        self.kind, self.preset, self.model, self.n_iter, self.name = kind, preset, model, n_iter, name or kind
        self.temperature = temperature

    @classmethod
    def from_pretrained(cls, name: str | os.PathLike = "wavenet-grid", *, preset: str = "tts16k",
                        n_iter: int = 32, temperature: float | None = None) -> "Vocoder":
        """A shipped WaveNet by name, a WaveNet run folder, or "griffinlim" (with the ``preset`` analysis).
        ``temperature`` divides the WaveNet's logits before sampling (None: ``DEFAULT_TEMPERATURE``)."""
        if str(name) == GRIFFIN_LIM:
            return cls(GRIFFIN_LIM, get_preset(preset), n_iter=n_iter)
        from sightsound.models.wavenet import WaveNet
        from sightsound.pretrained import load_pretrained

        model = load_pretrained(name)
        if not isinstance(model, WaveNet):
            raise UserInputError(f"{name}: not a WaveNet vocoder (it is a {type(model).__name__})")
        return cls("wavenet", get_preset(model.config.audio_preset), model=model, name=str(name),
                   temperature=DEFAULT_TEMPERATURE if temperature is None else temperature)

    @property
    def sample_rate(self) -> int:
        return self.preset.sample_rate

    def analyse(self, wave: torch.Tensor) -> torch.Tensor:
        """The log-mel this vocoder expects for a waveform at its rate: (..., S) -> (..., M, T)."""
        return log_mel(wave.to(torch.float32), self.preset)

    @torch.no_grad()
    def __call__(self, mel: torch.Tensor, lengths: torch.Tensor | None = None, *, seed: int = 0,
                 progress: bool = False, backend: str = "auto") -> torch.Tensor:
        single = mel.ndim == 2
        batch = mel.unsqueeze(0) if single else mel
        if batch.ndim != 3 or batch.shape[1] != self.preset.n_mels:
            raise ParameterError(f"expected a log-mel of shape ({self.preset.n_mels}, frames) or "
                                 f"(batch, {self.preset.n_mels}, frames), got {tuple(mel.shape)}")
        generator = torch.Generator().manual_seed(seed)
        if self.kind == GRIFFIN_LIM:
            hop = self.preset.hop_length
            wave = log_mel_to_wave(batch.to(torch.float32), self.preset, n_iter=self.n_iter,
                                   length=(batch.shape[-1] - 1) * hop, generator=generator)
            wave = torch.nn.functional.pad(wave, (0, hop))  # T * hop samples, like the WaveNet
            if lengths is not None:
                keep = torch.arange(wave.shape[-1])[None] < torch.as_tensor(lengths)[:, None] * self.preset.hop_length
                wave = wave * keep
        else:
            wave = self.model.generate(batch, lengths, generator=generator, temperature=self.temperature,
                                       progress=progress, backend=backend)
        return wave[0] if single else wave

    def __repr__(self) -> str:
        extra = f", temperature={self.temperature}" if self.kind != GRIFFIN_LIM else ""
        return f"Vocoder({self.kind}, {self.name}, {self.preset.name}{extra})"
