"""A SyncNet-style lip-sync expert on GRID s1: mouth crops and speech -> in sync or not; the lip-motion metric.

Command:  sightsound train recipes/sync_expert_grid.py --preset cpu --data ../shared/data --out runs/sync
Data:     DATA/grid-s1 (audio + 25 fps video; the 32 x 48 mouth crops are tracked with OpenCV's Haar detector and
          cached, as for Looking to Listen, about 4 min for the 900 clips). Training: random 2 s windows of the
          800 training clips; selection: the 50 selection clips whole.
Time:     about 25 min on two threads of the 2-core CPU (2000 steps of 16 x 2 s).
Metric:   val/score: the share of selection clips whose audio-video offset the expert finds within +-1 frame;
          held-out numbers from `sightsound eval lips --data ../shared/data`.
GPU:      the paper preset (torchrun --nproc_per_node N -m sightsound train ... --preset paper): 64 x 96 crops,
          512-wide embeddings.
"""

MODEL = "sync_expert"
DATA = "lip_motion"

PRESETS = {
    "tiny": {  # the tones world: a synthetic mouth opens with a tone's loudness
        "data": {"layout": "tones", "crops": True, "mouth_size": (8, 12), "tone_clips": 32, "tone_seconds": 1.6},
        "train": {"max_steps": 40, "batch_size": 8, "lr": 3e-3, "eval_every": 20, "log_every": 5,
                  "save_every": 20, "early_stop_metric": "val/score", "early_stop_mode": "max"},
    },
    "cpu": {
        "data": {"crops": True},
        "train": {"max_steps": 2000, "batch_size": 16, "lr": 1e-3, "schedule": "cosine", "warmup_steps": 100,
                  "eval_every": 250, "save_every": 250, "log_every": 50, "grad_clip": 5.0,
                  "early_stop_metric": "val/score", "early_stop_mode": "max"},
    },
    "paper": {
        "data": {"crops": True, "mouth_size": (64, 96)},
        "train": {"max_steps": 50000, "batch_size": 64, "lr": 3e-4, "eval_every": 1000, "save_every": 1000,
                  "precision": "bf16", "early_stop_metric": "val/score", "early_stop_mode": "max", "num_workers": 4},
    },
}
