"""Sound representation: waveform, power spectrum, STFT, spectrogram, mel, and back (Griffin-Lim).

``functional`` holds the maths (pure tensor functions), ``transforms`` the nn.Module wrappers,
``io`` file reading/writing with resampling, ``presets`` the named analysis settings.
"""

from sightsound.audio import functional, io, presets, transforms
from sightsound.audio.io import load, save
from sightsound.audio.presets import SPEECH, TTS, AudioPreset, get_preset

__all__ = ["functional", "io", "presets", "transforms", "load", "save", "SPEECH", "TTS", "AudioPreset", "get_preset"]
