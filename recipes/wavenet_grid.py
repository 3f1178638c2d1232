"""WaveNet vocoder on real speech: GRID speaker s1, conditioned on log-mel frames (preset ``tts16k``).

Command:  sightsound train recipes/wavenet_grid.py --preset cpu --data ../shared/data --out runs/wavenet
Data:     DATA/grid-s1/audio/*.flac (16 kHz); validation = every 18th clip by name (50 clips), training =
          the other 850, random 0.3 s windows with their ground-truth log-mel.
Time:     see docs/models/wavenet-grid.md (cpu preset, 2-core development machine).
Metric:   validation NLL (nats/sample, mu-law classes) on the middle 0.8 s of each validation clip;
          `sightsound eval vocoder` measures MCD, LSD, spectral convergence and WER against Griffin-Lim.
GPU:      --preset paper: 30 layers, 128/256/128 channels, mixture of logistics (Shen et al. 2018).
Option:   --set model.pre_emphasis=0.9 models e[n] = x[n] - 0.9 x[n-1] and de-emphasises the draws (noise
          shaping, as in LPCNet); docs/experiments/2026-11-development-history.md says what it did on the CPU.
"""

MODEL = "wavenet"
DATA = "grid"

PRESETS = {
    "tiny": {
        "data": {"window_frames": 8, "val_frames": 8, "context": 1, "val_every": 4},
        "model": {"upsample_scales": (10, 20)},
        "train": {"max_steps": 40, "batch_size": 8, "lr": 1e-2, "schedule": "cosine", "eval_every": 20,
                  "log_every": 5, "save_every": 20, "grad_clip": 1.0},
    },
    "cpu": {
        "train": {"max_steps": 7000, "batch_size": 6, "lr": 1e-3, "schedule": "cosine", "warmup_steps": 200, "precision": "bf16",
                  "min_lr_ratio": 0.05, "weight_decay": 0.0, "grad_clip": 1.0, "eval_every": 500,
                  "save_every": 500, "log_every": 50},
    },
    "paper": {
        "data": {"window_frames": 40},
        "train": {"max_steps": 300000, "batch_size": 32, "lr": 1e-3, "schedule": "exponential",
                  "warmup_steps": 1000, "weight_decay": 0.0, "grad_clip": 1.0, "eval_every": 5000,
                  "save_every": 5000, "ema_decay": 0.9999, "precision": "bf16", "num_workers": 4},
    },
}
