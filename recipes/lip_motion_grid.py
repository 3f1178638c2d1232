"""Lip motion on GRID: speaker s1's speech -> the 20 mouth landmarks of every video frame.

Command:  sightsound train recipes/lip_motion_grid.py --preset cpu --data ../shared/data --out runs/lips-b
Data:     DATA/grid-s1 (audio + 25 fps video). The mouth landmarks come from dlib's 68-point model (the `lips`
          extra), extracted once and cached: 0.18 s per clip, 900 clips in about 3 min (100 s on two processes;
          docs/models/lip-motion-grid.md). Training: random 2 s windows of the 800 training clips; selection:
          the 50 selection clips whole.
Time:     about 10 min on one thread of the 2-core CPU (5000 steps of 16 x 2 s), the sync expert training on the
          other core at the same time.
Metric:   val/score: mean per-clip correlation between the predicted and true mouth opening (selection clips);
          held-out numbers from `sightsound eval lips --data ../shared/data`.
GPU:      the paper preset (torchrun --nproc_per_node N -m sightsound train ... --preset paper): 512 channels,
          8 dilated layers.
"""

MODEL = "lip_motion"
DATA = "lip_motion"

PRESETS = {
    "tiny": {  # the tones world: a synthetic mouth opens with a tone's loudness
        "data": {"layout": "tones", "tone_clips": 48, "tone_seconds": 1.0},
        "train": {"max_steps": 60, "batch_size": 8, "lr": 3e-3, "eval_every": 30, "log_every": 5,
                  "save_every": 30, "early_stop_metric": "val/score", "early_stop_mode": "max"},
    },
    "cpu": {
        "train": {"max_steps": 5000, "batch_size": 16, "lr": 1e-3, "schedule": "cosine", "warmup_steps": 100,
                  "eval_every": 250, "save_every": 250, "log_every": 50, "grad_clip": 1.0,
                  "early_stop_metric": "val/score", "early_stop_mode": "max"},
    },
    "paper": {
        "data": {"window_frames": 75},
        "train": {"max_steps": 50000, "batch_size": 64, "lr": 3e-4, "eval_every": 1000, "save_every": 1000,
                  "precision": "bf16", "early_stop_metric": "val/score", "early_stop_mode": "max", "num_workers": 4},
    },
}
