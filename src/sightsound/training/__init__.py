"""One small training loop for every model: see ``loop.train`` for the model contract."""

from sightsound.training.config import TrainConfig
from sightsound.training.loop import TrainResult, evaluate, train

__all__ = ["TrainConfig", "TrainResult", "evaluate", "train"]
