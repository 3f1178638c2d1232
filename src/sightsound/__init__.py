"""sightsound: the attention-based visual and sound models of the lecture, as real software.

Sub-packages (lowest layer first): ``audio`` (waveforms, spectrograms, mel, Griffin-Lim),
``metrics`` (pure evaluation functions), ``viz`` (figures and the HTML tour), ``cli``.
"""

from sightsound.errors import ParameterError, SightsoundError, TrainingError, UserInputError

__version__ = "0.1.0"
__all__ = ["ParameterError", "SightsoundError", "TrainingError", "UserInputError", "__version__"]
