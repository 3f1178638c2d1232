"""The supervised baseline for scene recognition by sound: a log-mel CNN trained from scratch on ESC-10's labels
alone (no photos, no text, no pretrained weights), on exactly the folds the audio-visual embedding uses.

Command:  sightsound train recipes/esc10_supervised.py --preset cpu --data ../shared/data --out runs/esc10-cnn
          --set data.test_folds=[4]   (scripts/scene_cv.py runs it for every fold beside the embedding)
Data:     DATA/esc10; the held-out fold is never loaded; every 5th recording of each class of the other folds is
          the selection split (checkpoints are chosen on it).
Model:    models/mel_classifier.py at 16 kHz with the lecture's front-end (25 ms Hamming window, 10 ms hop),
          64 mel bands, four conv blocks; random circular time shifts as augmentation.
Time:     cpu preset: about 6 min per fold on the 2-core machine (300 steps of 32 clips).
Metric:   accuracy on the held-out fold, four-fold mean 0.812 (scripts/scene_cv.py; docs/models/av-esc10.md).
"""

MODEL = "mel_classifier"
DATA = "esc"

_MODEL = {"sample_rate": 16000, "n_fft": 512, "hop_length": 160, "win_length": 400, "window": "hamming",
          "n_mels": 64, "channels": 24, "n_blocks": 4, "dropout": 0.3}

PRESETS = {
    "tiny": {
        "data": {"subdir": "esc", "seconds": 0.25, "select_every": 3},
        "model": {"sample_rate": 16000, "n_fft": 256, "hop_length": 80, "win_length": 200, "n_mels": 16,
                  "channels": 8, "n_blocks": 1},
        "train": {"max_steps": 20, "batch_size": 8, "lr": 3e-3, "eval_every": 10, "save_every": 10, "log_every": 5},
    },
    "cpu": {
        "model": _MODEL,
        "train": {"max_steps": 300, "batch_size": 32, "lr": 2e-3, "weight_decay": 0.01, "schedule": "cosine",
                  "warmup_steps": 30, "eval_every": 50, "save_every": 50, "log_every": 10,
                  "early_stop_metric": "val/accuracy", "early_stop_mode": "max"},
    },
    "paper": {
        "model": {**_MODEL, "n_mels": 128, "channels": 64},
        "train": {"max_steps": 20000, "batch_size": 256, "lr": 1e-3, "weight_decay": 0.05, "schedule": "cosine",
                  "warmup_steps": 500, "eval_every": 500, "save_every": 500, "precision": "bf16",
                  "early_stop_metric": "val/accuracy", "early_stop_mode": "max", "num_workers": 4},
    },
}
