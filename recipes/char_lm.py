"""Character-level GPT on tinyshakespeare (nanoGPT's CPU configuration).

Command:  sightsound train recipes/char_lm.py --preset cpu --data ../shared/data --out runs/char-lm
Data:     DATA/tinyshakespeare/input.txt; first 90% of the characters train, last 10% validate.
Time:     cpu preset: 1 min 09 s on the 2-core development machine (2,000 steps, 8 validations).
Metric:   validation loss 1.8737 nats/char over the whole validation text (nanoGPT reports 1.88 for this
          configuration from 20 random validation batches).
GPU:      --preset paper is the `small` model (6 layers, 6 heads, 384 dims, block 256, dropout 0.2).
"""

MODEL = "gpt"
DATA = "charlm"

PRESETS = {
    "tiny": {
        "data": {"block_size": 32},
        "train": {"max_steps": 40, "batch_size": 16, "lr": 3e-3, "eval_every": 20, "log_every": 5,
                  "save_every": 20, "eval_batches": 5},
    },
    "cpu": {  # nanoGPT's shakespeare_char CPU settings: 4 layers, 4 heads, 128 dims, block 64, batch 12
        "data": {"block_size": 64},
        "model": {"dropout": 0.0, "tie_weights": False},  # untied: val 1.874 vs 1.893 tied (docs/experiments/2026-11-development-history.md)
        "train": {"max_steps": 2000, "batch_size": 12, "lr": 1e-3, "schedule": "cosine", "warmup_steps": 100,
                  "min_lr_ratio": 0.1, "betas": (0.9, 0.99), "weight_decay": 0.1, "grad_clip": 1.0,
                  "eval_every": 250, "save_every": 250, "log_every": 50},
    },
    "paper": {  # nanoGPT's GPU shakespeare_char run
        "data": {"block_size": 256},
        "model": {"block_size": 256, "n_layer": 6, "n_head": 6, "n_embd": 384, "dropout": 0.2},
        "train": {"max_steps": 5000, "batch_size": 64, "lr": 1e-3, "schedule": "cosine", "warmup_steps": 100,
                  "min_lr_ratio": 0.1, "betas": (0.9, 0.99), "weight_decay": 0.1, "grad_clip": 1.0,
                  "eval_every": 250, "save_every": 250, "precision": "bf16", "num_workers": 2},
    },
}
