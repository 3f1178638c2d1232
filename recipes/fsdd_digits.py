"""Spoken-digit recognition from log-mel spectrograms (Free Spoken Digit Dataset).

Command:  sightsound train recipes/fsdd_digits.py --preset cpu --data ../shared/data --out runs/fsdd
Data:     DATA/fsdd/recordings/{digit}_{speaker}_{index}.wav (8 kHz); validation = clip indices 5-9
          (300 clips, every speaker and digit), training = the other 2,400.
Time:     cpu preset: 2 min 15 s on the 2-core development machine (1,500 steps, batch 32).
Metric:   validation accuracy (val/accuracy): 0.9967 (299 / 300) at step 1,500 with the cpu preset.
GPU:      sightsound train recipes/fsdd_digits.py --preset paper --data DATA (or torchrun: README, Commands).
"""

MODEL = "mel_classifier"
DATA = "fsdd"

PRESETS = {
    "tiny": {
        "data": {"limit": 96, "seconds": 0.5},
        "train": {"max_steps": 30, "batch_size": 16, "lr": 1e-2, "eval_every": 10, "log_every": 5,
                  "save_every": 10, "grad_clip": 1.0},
    },
    "cpu": {
        "train": {"max_steps": 1500, "batch_size": 32, "lr": 2e-3, "weight_decay": 0.01, "schedule": "cosine",
                  "warmup_steps": 100, "eval_every": 100, "save_every": 100, "log_every": 20,
                  "early_stop_metric": "val/accuracy", "early_stop_mode": "max"},
    },
    "paper": {
        "train": {"max_steps": 6000, "batch_size": 128, "lr": 1e-3, "weight_decay": 0.05, "schedule": "cosine",
                  "warmup_steps": 300, "eval_every": 250, "save_every": 250, "precision": "bf16",
                  "ema_decay": 0.999, "early_stop_metric": "val/accuracy", "early_stop_mode": "max",
                  "num_workers": 4},
    },
}
