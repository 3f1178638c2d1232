"""The shapes judge: the detector that reads DALL-E's drawings back into object lists (evaluation/dalle.py).

Command:  sightsound train recipes/shape_judge.py --preset cpu --out runs/shape-judge
Data:     generated in memory (sightsound.data.dalle_shapes) with every colour-shape pair, the held-out ones
          included (the judge must read them; it never sees a generated image): 30,000 training scenes (seed
          100), 1,000 selection scenes (seed 101). --data is not needed.
Time:     see docs/models/dalle-shapes.md (cpu preset, 2-core development machine).
Metric:   val/score: the share of selection scenes read exactly (every object found, every attribute right);
          `sightsound eval draw` also reports its accuracy on fresh originals and on dVAE reconstructions.
"""

MODEL = "shape_judge"
DATA = "dalle_shapes"

PRESETS = {
    "tiny": {
        "data": {"n_train": 256, "n_val": 32, "image_size": 32, "object_scale": 0.9, "hold_out": False, "seed": 100},
        "train": {"max_steps": 40, "batch_size": 32, "lr": 3e-3, "eval_every": 20, "log_every": 10,
                  "save_every": 20},
    },
    "cpu": {
        "data": {"n_train": 30000, "n_val": 1000, "hold_out": False, "seed": 100},
        "train": {"max_steps": 2500, "batch_size": 64, "lr": 2e-3, "schedule": "cosine", "warmup_steps": 100,
                  "eval_every": 250, "save_every": 250, "log_every": 25, "early_stop_metric": "val/score",
                  "early_stop_mode": "max"},
    },
    "paper": {
        "data": {"n_train": 100000, "n_val": 2000, "hold_out": False, "seed": 100},
        "train": {"max_steps": 20000, "batch_size": 256, "lr": 2e-3, "schedule": "cosine", "warmup_steps": 500,
                  "eval_every": 1000, "save_every": 1000, "early_stop_metric": "val/score", "early_stop_mode": "max",
                  "num_workers": 4},
    },
}
