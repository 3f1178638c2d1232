"""GPT-1 fine-tuning heads on a pretrained character GPT: classification, similarity, multiple choice.

Command:  sightsound train recipes/gpt_finetune.py --preset cpu --data ../shared/data \
              --set train.init_from=runs/char-lm-cpu --set data.task=classification --out runs/ft-classification
          (data.task: classification | similarity | multiple_choice; init_from: a char_lm.py run folder)
Data:     DATA/tinyshakespeare/input.txt; the tasks and their splits are described in
          sightsound/data/shakespeare_tasks.py (classification: which play; similarity: are two text
          fragments consecutive; multiple choice: the true continuation among four).
Time:     cpu preset: about 1, 1.5 and 2.5 minutes (classification, similarity, multiple choice) here.
Metric:   held-out accuracy 0.657 / 0.605 / 0.552 against chance 0.5 / 0.5 / 0.25 (benchmarks/gpt_finetune.py).
"""

MODEL = "gpt_task"
DATA = "shakespeare_tasks"

PRESETS = {
    "tiny": {
        "data": {"block_size": 32, "limit": 64},
        "train": {"max_steps": 30, "batch_size": 8, "lr": 3e-3, "eval_every": 15, "log_every": 5, "save_every": 15,
                  "eval_batches": 4},
    },
    "cpu": {  # on the char_lm.py cpu preset body (4 layers, 128 dims, block 64)
        "data": {"block_size": 64},
        "model": {"lm_weight": 0.5, "head_dropout": 0.1},
        "train": {"max_steps": 1000, "batch_size": 16, "lr": 1e-3, "schedule": "cosine", "warmup_steps": 50,
                  "weight_decay": 0.01, "eval_every": 250, "save_every": 250, "log_every": 50, "eval_batches": 60,
                  "early_stop_metric": "val/accuracy", "early_stop_mode": "max"},
    },
    "paper": {  # GPT-1's fine-tuning settings (Sec. 4.1): lr 6.25e-5, batch 32, 3 epochs, warm-up 0.2%
        "data": {"block_size": 256},
        "model": {"lm_weight": 0.5, "head_dropout": 0.1},
        "train": {"max_steps": 3000, "batch_size": 32, "lr": 6.25e-5, "schedule": "cosine", "warmup_steps": 6,
                  "weight_decay": 0.01, "eval_every": 250, "save_every": 250, "precision": "bf16"},
    },
}
