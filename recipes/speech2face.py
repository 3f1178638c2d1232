"""Speech2Face on the synthetic speaker world (voice and face tied by known rules) plus the ORL faces.

Command:  sightsound train recipes/speech2face.py --preset cpu --data ../shared/data --out runs/speech2face
          (the world of 600 speakers, seed 0, is generated in memory; `sightsound voices --out runs/voices
          --speakers 600 --seed 0` writes the same world to disk, and `eval speech2face --data runs/voices`
          measures its held-out speakers)
Data:     the world's training speakers (i % 10 < 8; 3 clips of 2.5 s and 3 photos each), its selection
          speakers (i % 10 == 8: the selection split); its test speakers (i % 10 == 9) are never loaded.
          DATA/orl-faces: 40 more identities (faces only) for the face encoder and decoder.
Time:     cpu preset: 23 min on the 2-core machine (3000 steps) after about 1.5 min synthesising the world;
          the shipped model adds the voice stage (about 5 min): --set "model.stage='voice'"
          --set "train.init_from='runs/speech2face'" --set train.max_steps=1500 --set train.warmup_steps=0
          --set train.lr=1e-3 --set train.eval_every=250 --out runs/speech2face-voice
Metric:   selection recall@1 among 10 (val/score) 0.570 after the joint stage, 0.593 after the voice stage;
          held-out numbers (R@1 0.549, R@5 0.934 of 10) in docs/models/speech2face-voices.md.
GPU:      the paper preset (torchrun --nproc_per_node N -m sightsound train ... --preset paper --set
          data.layout=paired --data AVSPEECH) expects a paired folder: faces/CLIP.jpg (a face frame) and
          audio/CLIP.wav (its speech), identities.csv optional.
"""

MODEL = "speech2face"
DATA = "speech2face"

PRESETS = {
    "tiny": {  # the paper's first stage (faces); the tests then train the voice stage from it
        "model": {"stage": "faces"},
        "data": {"speakers": 30, "clips": 2, "photos": 2, "seconds": 0.5, "face_size": 32, "preset": "tiny"},
        "train": {"max_steps": 40, "batch_size": 16, "lr": 1e-2, "eval_every": 20, "log_every": 10,
                  "save_every": 20, "early_stop_metric": "val/score", "early_stop_mode": "max"},
    },
    "cpu": {
        "train": {"max_steps": 3000, "batch_size": 64, "lr": 2e-3, "weight_decay": 0.01, "schedule": "cosine",
                  "warmup_steps": 100, "eval_every": 250, "save_every": 250, "log_every": 25,
                  "early_stop_metric": "val/score", "early_stop_mode": "max"},
    },
    "paper": {
        "data": {"seconds": 6.0},
        "train": {"max_steps": 100000, "batch_size": 256, "lr": 1e-3, "weight_decay": 0.01, "schedule": "cosine",
                  "warmup_steps": 1000, "eval_every": 1000, "save_every": 1000, "precision": "bf16",
                  "early_stop_metric": "val/score", "early_stop_mode": "max", "num_workers": 4},
    },
}
