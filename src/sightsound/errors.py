"""Exceptions that the command line reports as one line with exit code 2.

Every layer may import this module (it imports nothing from the package).
"""


class SightsoundError(Exception):
    """Base class of the errors a user can fix (bad input, bad parameters)."""


class ParameterError(SightsoundError, ValueError):
    """A parameter is out of range or inconsistent with another one (e.g. ``win_length > n_fft``)."""


class UserInputError(SightsoundError):
    """An input file or path is missing, empty, corrupt, silent or unsupported."""


class TrainingError(SightsoundError):
    """Training had to stop: a non-finite loss, a checkpoint that could not be written, no checkpoint
    to resume from. The message names the step and the last good checkpoint."""
