"""Tacotron 2 on one real speaker: GRID s1 (900 short sentences), characters -> log-mel (preset tts16k).

Command:  sightsound train recipes/tacotron2_grid.py --preset cpu --data ../shared/data --out runs/tacotron2
Data:     DATA/grid-s1/audio/*.flac with transcripts from align/*.align (silences dropped, trimmed to the words
          +- 0.1 s); validation = every 18th clip by name (50 clips, the WaveNet split), training = the other 850.
Time:     see docs/models/tacotron2-grid.md (cpu preset, 2-core development machine).
Metric:   teacher-forced validation losses and focus rate (val/focus_rate); `sightsound eval tts` decodes
          free-running: focus rate, step-limit hits, WER, real-time factor.
GPU:      --preset paper: the paper's sizes (512/1024, r = 1), NVIDIA's hyperparameters, LJSpeech-size data.
"""

MODEL = "tacotron2"
DATA = "tts"

PRESETS = {
    "tiny": {
        "data": {"val_every": 4, "reduction": 2},
        "train": {"max_steps": 40, "batch_size": 4, "lr": 3e-3, "eval_every": 20, "log_every": 5,
                  "save_every": 20, "grad_clip": 1.0},
    },
    "cpu": {
        "data": {"reduction": 2},
        "train": {"max_steps": 3000, "batch_size": 16, "lr": 1e-3, "schedule": "cosine", "warmup_steps": 100,
                  "min_lr_ratio": 0.1, "weight_decay": 1e-6, "grad_clip": 1.0, "eval_every": 250,
                  "save_every": 250, "log_every": 25},
    },
    "paper": {  # NVIDIA/tacotron2 hparams: batch 64, lr 1e-3, weight decay 1e-6, clip 1, r = 1
        "data": {"source": "ljspeech", "reduction": 1, "val_every": 100, "preset": "tts"},
        "model": {"guided_attention_weight": 0.0},
        "train": {"max_steps": 150000, "batch_size": 64, "lr": 1e-3, "schedule": "exponential", "warmup_steps": 0,
                  "weight_decay": 1e-6, "grad_clip": 1.0, "eval_every": 1000, "save_every": 1000,
                  "num_workers": 4},
    },
}
