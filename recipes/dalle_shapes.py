"""DALL-E on the shapes world: the discrete VAE, then the transformer on its tokens, then the re-ranker.

Command:  three stages, each initialised from the one before (one checkpoint holds all three parts):
          sightsound train recipes/dalle_shapes.py --preset cpu --out runs/dalle-dvae --set train.eval_every=500
          sightsound train recipes/dalle_shapes.py --preset cpu --out runs/dalle-prior --set "model.stage='prior'"
            --set "train.init_from='runs/dalle-dvae'" --set train.max_steps=6000 --set train.lr=1e-3
            --set train.warmup_steps=200 --set train.eval_every=500 --set train.save_every=500
          sightsound train recipes/dalle_shapes.py --preset cpu --out runs/dalle --set "model.stage='rerank'"
            --set "train.init_from='runs/dalle-prior'" --set train.max_steps=1500 --set train.lr=2e-3
          then `sightsound eval draw --model runs/dalle --split select` (choices) / `--split test` (the report).
          The dVAE stage: tau annealed over 6,000 updates, then 1,500 updates of the decoder alone on hard tokens.
Data:     generated in memory (sightsound.data.dalle_shapes): 40,000 training scenes (seed 0) without the held-out
          colour-shape pairs, 1,000 selection scenes (seed 1) for val/score; test prompts (seed 2) are only
          read by `sightsound eval draw --split test`. --data is not needed.
Time:     see docs/models/dalle-shapes.md (cpu preset, 2-core development machine).
Metric:   val/score per stage (dVAE: -reconstruction MSE; prior: -image-token cross-entropy; re-ranker:
          hard-negative accuracy); what the drawings show comes from `sightsound eval draw` and its judge.
GPU:      the paper preset (16 x 16 grid, 1024 codes, a 12-layer transformer) runs under
          torchrun --nproc_per_node N -m sightsound train recipes/dalle_shapes.py --preset paper ...
"""

MODEL = "dalle"
DATA = "dalle_shapes"

PRESETS = {
    "tiny": {  # the dVAE stage; the tests train the prior stage from it on a two-colour world
        "data": {"n_train": 256, "n_val": 32, "image_size": 32, "object_scale": 0.9, "colours": ("red", "blue")},
        "train": {"max_steps": 120, "batch_size": 32, "lr": 1e-2, "eval_every": 40, "log_every": 10,
                  "save_every": 40},
    },
    "cpu": {  # max_steps is the dVAE stage's; the prior and re-ranker stages set their own (above)
        "model": {"tau_steps": 6000},
        "train": {"max_steps": 7500, "batch_size": 64, "lr": 1e-3, "schedule": "cosine", "warmup_steps": 100,
                  "eval_every": 250, "save_every": 250, "log_every": 25, "eval_batches": 8,
                  "early_stop_metric": "val/score", "early_stop_mode": "max"},
    },
    "paper": {
        "data": {"n_train": 200000, "n_val": 2000},
        "train": {"max_steps": 50000, "batch_size": 256, "lr": 1e-3, "schedule": "cosine", "warmup_steps": 1000,
                  "eval_every": 1000, "save_every": 1000, "precision": "bf16", "early_stop_metric": "val/score",
                  "early_stop_mode": "max", "num_workers": 4},
    },
}
