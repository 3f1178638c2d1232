"""Scene recognition by sound: ESC-10 sounds and Flickr8k photos in one embedding space, tied by MiniLM text anchors.

Command:  sightsound train recipes/av_embedding_esc10.py --preset cpu --data ../shared/data --out runs/av-esc10
          (cross-validation round k: add --set data.test_folds=[k]; scripts/scene_cv.py runs all four rounds and
          the baselines)
Data:     DATA/esc10 (meta.csv + audio/, folds 1-4; every 5th recording of each class of the training folds is
          the selection split) and DATA/flickr8k-1k (training photos; every 10th is the selection split; the
          validation photos are never loaded: they are the retrieval test).
Time:     cpu preset: 5 min 32 s on the 2-core machine (400 steps), once the photo features are cached.
Metric:   ESC-10 four-fold accuracy 0.900 (scripts/scene_cv.py); selection score (val/score) 0.809 at step 150.
Model:    docs/models/av-esc10.md (what the numbers are, and the command that measures each).
GPU:      the paper preset (torchrun --nproc_per_node N -m sightsound train ... --preset paper) expects folders of
          the same layout (an AudioSet/VGGSound export written as meta.csv + audio/).
"""

MODEL = "av_embedding"
DATA = "av_scenes"

PRESETS = {
    "tiny": {
        "data": {"subdir": "esc", "photos": "", "seconds": 0.25, "select_every": 3},
        "train": {"max_steps": 40, "batch_size": 8, "lr": 3e-3, "eval_every": 20, "log_every": 10,
                  "save_every": 20, "early_stop_metric": "val/score", "early_stop_mode": "max"},
    },
    "cpu": {
        "train": {"max_steps": 400, "batch_size": 32, "lr": 1e-3, "weight_decay": 0.05, "schedule": "cosine",
                  "warmup_steps": 30, "eval_every": 50, "save_every": 50, "log_every": 10,
                  "early_stop_metric": "val/score", "early_stop_mode": "max"},
    },
    "paper": {
        "train": {"max_steps": 20000, "batch_size": 256, "lr": 3e-4, "weight_decay": 0.05, "schedule": "cosine",
                  "warmup_steps": 500, "eval_every": 500, "save_every": 500, "precision": "bf16",
                  "early_stop_metric": "val/score", "early_stop_mode": "max", "num_workers": 4},
    },
}
