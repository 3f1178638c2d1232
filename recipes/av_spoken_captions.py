"""Spoken caption <-> photo, end to end: the sound encoder of the audio-visual embedding hears Flickr8k's spoken
captions and is pulled towards the MiniLM embedding of the words it hears, while the photo encoder is pulled
towards the photo's captions (the same text-anchored space as recipes/av_embedding_esc10.py).

Command:  sightsound train recipes/av_spoken_captions.py --preset cpu --data ../shared/data --out runs/av-spoken
Time:     cpu preset: 13 min 23 s on the 2-core machine (250 steps of 32 eight-second clips), shared with
          other work part of the time.
Metric:   speech -> own caption recall@5 among the 70 selection clips (val/accuracy) 0.614 at step 250;
          speech -> photo R@10 0.37 on the 100 validation photos (docs/models/av-esc10.md).
Score:    sightsound eval av-retrieval --model runs/av-spoken --data ../shared/data/flickr8k-1k --method end-to-end
Data:     DATA/flickr8k-1k (training photos with spoken/<photo>.mp3; every 10th is the selection split; the
          validation photos are never loaded: they are the test).
Result:   docs/models/av-esc10.md, "Spoken captions": 630 spoken captions are far too few to learn words from
          sound (Harwath et al. trained on 40,000+); the shipped path hears them through pocketsphinx instead.
"""

MODEL = "av_embedding"
DATA = "spoken_captions"

PRESETS = {
    "tiny": {
        "data": {"preset": "tiny", "seconds": 0.5, "image_size": 64, "select_every": 4},
        "model": {"backbone": "small-cnn", "mel_bands": 16, "hidden": 32},
        "train": {"max_steps": 20, "batch_size": 4, "lr": 3e-3, "eval_every": 10, "log_every": 5, "save_every": 10,
                  "early_stop_metric": "val/score", "early_stop_mode": "max"},
    },
    "cpu": {
        "train": {"max_steps": 250, "batch_size": 32, "lr": 1e-3, "weight_decay": 0.05, "schedule": "cosine",
                  "warmup_steps": 30, "eval_every": 50, "save_every": 50, "log_every": 10,
                  "early_stop_metric": "val/score", "early_stop_mode": "max"},
    },
    "paper": {
        "train": {"max_steps": 20000, "batch_size": 256, "lr": 3e-4, "weight_decay": 0.05, "schedule": "cosine",
                  "warmup_steps": 500, "eval_every": 500, "save_every": 500, "precision": "bf16",
                  "early_stop_metric": "val/score", "early_stop_mode": "max", "num_workers": 4},
    },
}
