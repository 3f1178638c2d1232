"""Tacotron 2 on a read-speech corpus: Kathleen (one US-English woman reading about 1,000 CMU ARCTIC prompts),
CMUdict phonemes (letters for unknown words) -> log-mel (preset tts16k), an open-vocabulary voice.

Command:  sightsound train recipes/tacotron2_kathleen.py --preset cpu --data ../shared/data --out runs/taco-kathleen
          (resume an interrupted run with: sightsound train --resume runs/taco-kathleen)
Data:     DATA/kathleen (metadata.csv + wavs/ID.flac, 16 kHz, peaks about -14 dBFS: each utterance is trimmed and
          scaled to a -1 dBFS peak). Line order split: every 20th line selects (51), every 20th from the 10th is
          held out for testing (51), the other 917 train.
Time:     about 3 h for the 4500 steps on the 2-core development machine (two threads; r = 3 mel frames per
          decoder step keeps the decoder loop short); the run is resumable across sessions.
Metric:   teacher-forced selection losses and focus rate (val/focus_rate); `sightsound eval tts` decodes
          free-running on the held-out prompts: focus rate, step-limit hits, WER, real-time factor.
GPU:      --preset paper: the paper's sizes (512/1024, r = 1), NVIDIA's hyperparameters.
"""

MODEL = "tacotron2"
DATA = "tts"

PRESETS = {
    "tiny": {
        "data": {"source": "ljspeech", "subdir": "kathleen", "phonemes": True, "val_every": 4, "reduction": 2,
                 "peak_db": -1.0},
        "train": {"max_steps": 40, "batch_size": 4, "lr": 3e-3, "eval_every": 20, "log_every": 5,
                  "save_every": 20, "grad_clip": 1.0},
    },
    "cpu": {
        "data": {"source": "ljspeech", "subdir": "kathleen", "phonemes": True, "val_every": 20, "reduction": 3,
                 "peak_db": -1.0},
        "train": {"max_steps": 4500, "batch_size": 16, "lr": 1e-3, "schedule": "cosine", "warmup_steps": 200,
                  "min_lr_ratio": 0.1, "weight_decay": 1e-6, "grad_clip": 1.0, "eval_every": 500,
                  "save_every": 250, "log_every": 25},
    },
    "paper": {  # NVIDIA/tacotron2 hparams: batch 64, lr 1e-3, weight decay 1e-6, clip 1, r = 1
        "data": {"source": "ljspeech", "subdir": "kathleen", "phonemes": True, "val_every": 20, "reduction": 1,
                 "peak_db": -1.0},
        "model": {"guided_attention_weight": 0.0},
        "train": {"max_steps": 150000, "batch_size": 64, "lr": 1e-3, "schedule": "exponential", "warmup_steps": 0,
                  "weight_decay": 1e-6, "grad_clip": 1.0, "eval_every": 1000, "save_every": 1000,
                  "num_workers": 4},
    },
}
