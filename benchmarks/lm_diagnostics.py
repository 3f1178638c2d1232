"""Two diagnostics of a character GPT quoted in the README and the notes.

    .venv/bin/python benchmarks/lm_diagnostics.py --model runs/char-lm-final --data ../shared/data \
        --out benchmarks/results/lm_diagnostics.json

1. Validation loss on the whole validation text (non-overlapping windows), and the spread of the
   estimate nanoGPT prints (20 random batches of 12 windows), over 50 such estimates.
2. Zero-shot multiple choice: scoring each choice of the multiple-choice task by the LM's
   log-likelihood of the continuation (no fine-tuning), on the first 300 validation examples.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import torch
import torch.nn.functional as F_nn

from sightsound.data import shakespeare_tasks
from sightsound.models.gpt import language_model_loss
from sightsound.pretrained import load_char_lm


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", default="benchmarks/results/lm_diagnostics.json")
    args = parser.parse_args()
    model, vocab = load_char_lm(args.model)
    text = (Path(args.data) / "tinyshakespeare" / "input.txt").read_text(encoding="utf-8")
    val = vocab.encode(text[int(len(text) * 0.9):])
    full, count = language_model_loss(model, val)
    block = model.config.block_size
    g = torch.Generator().manual_seed(0)
    estimates = []
    with torch.no_grad():
        for _ in range(50):
            ix = torch.randint(len(val) - block - 1, (20 * 12,), generator=g)
            x = torch.stack([val[i : i + block] for i in ix])
            y = torch.stack([val[i + 1 : i + 1 + block] for i in ix])
            logits = model(x)[0]
            estimates.append(float(F_nn.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))))
    val_mc = shakespeare_tasks.build(Path(args.data), shakespeare_tasks.Config(task="multiple_choice",
                                                                               block_size=block)).val
    V = len(vocab)
    correct, n = 0, 300
    with torch.no_grad():
        for i in range(n):
            ids, lengths, label = val_mc[i]
            scores = []
            for k in range(ids.shape[0]):
                seq = ids[k, : lengths[k]].tolist()
                d = seq.index(V + 1)  # the delimiter
                context, answer = seq[1:d], seq[d + 1 : -1]
                x = torch.tensor([context + answer])
                logp = F_nn.log_softmax(model(x[:, :-1])[0][0], dim=-1)
                targets = x[0, 1:]
                scores.append(float(logp[torch.arange(len(targets)), targets][len(context) - 1 :].sum()))
            correct += int(max(range(len(scores)), key=scores.__getitem__) == int(label))
    results = {"command": " ".join([Path(sys.executable).name, *sys.argv]),
               "val_loss_full_text": full, "val_characters": count,
               "nanogpt_style_estimates": {"mean": statistics.mean(estimates), "sd": statistics.stdev(estimates),
                                           "min": min(estimates), "n": len(estimates)},
               "zero_shot_multiple_choice_accuracy": correct / n, "zero_shot_examples": n}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
