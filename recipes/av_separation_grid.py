"""Looking to Listen on GRID: speaker s1's voice pulled out of a mixture with another voice, using s1's face.

Command:  the audio-only baseline: sightsound train recipes/av_separation_grid.py --preset cpu --data ../shared/data
          --out runs/l2l-ao --set model.visual=False
          the shipped audio-visual model, in two stages (the second adds the auxiliary visual loss; see
          docs/experiments/2026-12-07-looking-to-listen.md): the same command with --out runs/l2l-av, stopped after
          its step-1000 checkpoint (runs/l2l-av/checkpoints/step_001000), then
          sightsound train recipes/av_separation_grid.py --preset cpu --data ../shared/data --out runs/l2l-av3
          --set model.visual_aux=1.0 --set "train.init_from='runs/l2l-av/checkpoints/step_001000'"
          --set train.max_steps=4000
Data:     DATA/grid-s1 (audio + 25 fps video; the mouth crops are tracked with OpenCV's Haar face detector and
          cached on the first run, about 4 min for the 900 clips); interferers from DATA/kathleen, DATA/fsdd,
          DATA/av-speakers and DATA/flickr8k-1k/spoken. Training: 800 s1 clips, 1.2 s windows mixed on the fly
          (30 % with another s1 clip) at -5..5 dB; selection: 100 fixed mixtures of the 50 selection clips.
Time:     the audio-only run 50 min (3500 steps), the audio-visual stages 19 + 72 min, the two models training at
          once on the 2-core machine (one thread each; about 1 s per step of 16 x 1.2 s).
Metric:   val/score: mean SI-SDR improvement (dB) over the selection mixtures (different and same speaker);
          held-out test numbers from `sightsound eval separation --data ../shared/data`.
GPU:      the paper preset (torchrun --nproc_per_node N -m sightsound train ... --preset paper): the paper's
          sizes (15 dilated audio layers of 96 channels, BiLSTM 400, three FC 600), 3 s windows.
"""

MODEL = "av_separation"
DATA = "av_mixtures"

PRESETS = {
    "tiny": {  # the tones world: two tone "voices" from one distribution; only the synthetic mouth tells them apart
        "data": {"layout": "tones", "sample_rate": 4000, "mouth_size": (8, 12), "tone_clips": 64,
                 "tone_seconds": 1.0},
        "train": {"max_steps": 40, "batch_size": 8, "lr": 3e-3, "eval_every": 20, "log_every": 5,
                  "save_every": 20, "early_stop_metric": "val/score", "early_stop_mode": "max"},
    },
    "cpu": {
        "train": {"max_steps": 3500, "batch_size": 16, "lr": 1e-3, "schedule": "cosine", "warmup_steps": 100,
                  "eval_every": 250, "save_every": 250, "log_every": 25, "grad_clip": 5.0,
                  "early_stop_metric": "val/score", "early_stop_mode": "max"},
    },
    "paper": {
        "data": {"seconds": 3.0, "mouth_size": (64, 96)},
        "train": {"max_steps": 200000, "batch_size": 24, "lr": 3e-5, "eval_every": 2000, "save_every": 2000,
                  "precision": "bf16", "early_stop_metric": "val/score", "early_stop_mode": "max", "num_workers": 4},
    },
}
