"""The training configuration: one frozen dataclass of plain values (what a recipe's ``train`` holds)."""

from __future__ import annotations

from dataclasses import dataclass, fields

from sightsound.errors import ParameterError


@dataclass(frozen=True)
class TrainConfig:
    """Everything the loop needs besides the model and the data.

    Steps count optimiser updates; one update sees ``batch_size * accumulate`` examples (the global
    batch: under DDP each of the ``world_size`` processes takes ``batch_size / world_size``).
    """

    max_steps: int = 1000
    batch_size: int = 32
    accumulate: int = 1                 # gradient accumulation micro-steps per update
    lr: float = 1e-3
    weight_decay: float = 0.0           # AdamW decay, applied to >= 2-D weights only
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    optimizer: str = "adamw"            # adamw | adam
    schedule: str = "constant"          # constant | cosine | exponential | noam
    warmup_steps: int = 0
    min_lr_ratio: float = 0.1           # cosine floor, as a fraction of lr
    gamma: float = 0.999                # exponential decay per step
    noam_d_model: int = 512             # Noam: lr * d^-0.5 * min(step^-0.5, step * warmup^-1.5)
    grad_clip: float | None = 1.0       # max global gradient norm; None disables
    precision: str = "fp32"             # fp32 | bf16 | fp16 (fp16 on CUDA only, with a grad scaler)
    ema_decay: float | None = None      # keep an exponential moving average of the weights
    eval_every: int = 100
    eval_batches: int | None = None     # limit validation to this many batches
    log_every: int = 10
    save_every: int = 100
    keep_last: int = 2
    early_stop_metric: str | None = None  # e.g. "val/loss"
    early_stop_mode: str = "min"        # min | max
    patience: int | None = None         # evaluations without improvement before stopping
    seed: int = 0
    num_workers: int = 0
    init_from: str | None = None        # a run folder whose model.safetensors initialises the model (fine-tuning)

    def __post_init__(self) -> None:
        positive = ("max_steps", "batch_size", "accumulate", "eval_every", "log_every", "save_every", "keep_last")
        for name in positive:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ParameterError(f"train.{name} must be a positive integer, got {value!r}")
        if self.lr <= 0:
            raise ParameterError(f"train.lr must be > 0, got {self.lr}")
        choices = {"optimizer": ("adam", "adamw"), "schedule": ("constant", "cosine", "exponential", "noam"),
                   "precision": ("fp32", "bf16", "fp16"), "early_stop_mode": ("min", "max")}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ParameterError(f"train.{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")
        if self.ema_decay is not None and not 0.0 < self.ema_decay < 1.0:
            raise ParameterError(f"train.ema_decay must be in (0, 1), got {self.ema_decay}")
        if self.grad_clip is not None and self.grad_clip <= 0:
            raise ParameterError(f"train.grad_clip must be > 0 or None, got {self.grad_clip}")

    @classmethod
    def keys(cls) -> list[str]:
        return [f.name for f in fields(cls)]
