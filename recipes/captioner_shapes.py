"""Show, Attend and Tell on the synthetic shapes world (ground-truth masks for attention correctness).

Command:  sightsound train recipes/captioner_shapes.py --preset cpu --out runs/captioner-shapes
Shipped:  that run, then 800 steps more with the attention-entropy penalty (sharper maps):
          sightsound train recipes/captioner_shapes.py --preset cpu --out runs/shapes-entropy
            --set model.attention_entropy=0.3 --set train.init_from=runs/captioner-shapes --set train.lr=5e-4
            --set train.warmup_steps=0 --set train.max_steps=800 --set train.eval_every=200 --set train.save_every=200
Data:     generated in memory (sightsound.data.shapes, seeded): 8,000 training scenes (seed 0), 300
          validation scenes (seed 1); a held-out folder for `sightsound eval caption` is written with
          `sightsound shapes --out DIR --images 500 --seed 2`. --data is not needed.
Model:    SmallCNN (3 stride-2 stages + CoordConv, 112 px -> 128 x 14 x 14) trained with the captioner.
Time:     see docs/models/shapes.md (cpu preset, 2-core development machine).
Metric:   teacher-forced val/ce here; BLEU-4 and attention correctness from `sightsound eval caption`.
"""

MODEL = "captioner"
DATA = "shapes"

_MODEL = {"encoder": "small_cnn", "image_size": 112, "cnn_channels": (32, 64, 128), "cnn_dilations": (1,), "grid": 14,
          "encoder_channels": 128, "embed_dim": 128, "hidden_dim": 256, "attention_dim": 128, "dropout": 0.1,
          "feature_dropout": 0.0, "doubly_stochastic": 0.0, "max_len": 20}

PRESETS = {
    "tiny": {
        "data": {"n_train": 64, "n_val": 16, "image_size": 32},
        "model": {"image_size": 32, "cnn_channels": (8, 16), "grid": 8, "encoder_channels": 16, "embed_dim": 16,
                  "hidden_dim": 32, "attention_dim": 16, "dropout": 0.0},
        "train": {"max_steps": 30, "batch_size": 16, "lr": 3e-3, "eval_every": 15, "log_every": 5,
                  "save_every": 15},
    },
    "cpu": {
        "model": _MODEL,
        "train": {"max_steps": 4000, "batch_size": 48, "lr": 2e-3, "schedule": "cosine", "warmup_steps": 100,
                  "min_lr_ratio": 0.05, "grad_clip": 5.0, "eval_every": 500, "save_every": 500, "log_every": 50},
    },
    "paper": {
        "data": {"n_train": 50000, "n_val": 1000},
        "model": dict(_MODEL, hidden_dim=512, embed_dim=256, attention_dim=256),
        "train": {"max_steps": 20000, "batch_size": 64, "lr": 1e-3, "schedule": "cosine", "warmup_steps": 500,
                  "grad_clip": 5.0, "eval_every": 1000, "save_every": 1000, "num_workers": 2},
    },
}
