"""Show, Attend and Tell on real photos: flickr8k-1k (700 training / 100 validation photos, 5 captions each).

Command:  sightsound train recipes/captioner_flickr.py --preset cpu --data ../shared/data --out runs/captioner-flickr
Data:     DATA/flickr8k-1k/images + captions.txt; fixed split: photos sorted by name, every 8th is validation
          (sightsound.data.captions). Features: frozen ImageNet EfficientNet-Lite0, 1280 x 14 x 14 at 448 px,
          cached on disk (first run about 2 min, plus 2 min for the mirrored photos used as augmentation).
Time:     see docs/models/flickr8k-1k.md (cpu preset, 2-core development machine, after the features are cached).
Metric:   teacher-forced val/ce here; BLEU/METEOR/ROUGE-L/CIDEr with `sightsound eval caption --beam 3`.
GPU:      --preset paper: the authors' Flickr sizes on full Flickr8k/30k (Karpathy JSON: data.captions_file).
          Add --set data.fine_tune_blocks=2 to fine-tune EfficientNet-Lite0's last blocks with the captioner.
"""

MODEL = "captioner"
DATA = "captions"

PRESETS = {
    "tiny": {
        "data": {"limit": 16, "min_count": 1},
        "model": {"embed_dim": 16, "hidden_dim": 32, "attention_dim": 16, "dropout": 0.0, "doubly_stochastic": 0.1},
        "train": {"max_steps": 40, "batch_size": 8, "lr": 3e-3, "eval_every": 20, "log_every": 5, "save_every": 20,
                  "eval_batches": 2},
    },
    "cpu": {
        "data": {"min_count": 5, "flip": True},
        "model": {"embed_dim": 256, "hidden_dim": 512, "attention_dim": 256, "dropout": 0.5, "feature_dropout": 0.3,
                  "doubly_stochastic": 1.0},
        "train": {"max_steps": 1200, "batch_size": 32, "lr": 1e-3, "schedule": "cosine", "warmup_steps": 50,
                  "min_lr_ratio": 0.05, "weight_decay": 1e-3, "grad_clip": 5.0, "eval_every": 100, "save_every": 100,
                  "log_every": 50, "keep_last": 12},
    },
    "paper": {
        "data": {"subdir": "flickr8k", "captions_file": "dataset_flickr8k.json", "min_count": 5, "flip": False},
        "model": {"embed_dim": 512, "hidden_dim": 1800, "attention_dim": 512, "dropout": 0.5},
        "train": {"max_steps": 60000, "batch_size": 64, "lr": 4e-4, "schedule": "cosine", "warmup_steps": 500,
                  "grad_clip": 5.0, "eval_every": 1000, "save_every": 1000, "num_workers": 2},
    },
}
