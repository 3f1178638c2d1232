"""GPT-1 heads on a pretrained character GPT: held-out accuracy of each task against chance.

    .venv/bin/python benchmarks/gpt_finetune.py --body runs/char-lm-final --data ../shared/data \
        --out benchmarks/results/gpt_finetune.json

Runs recipes/gpt_finetune.py (cpu preset) once per task with train.init_from=BODY, and, as a control,
once per task from random initialisation (same steps), so the value of pre-training is visible.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from sightsound.training import recipes

CHANCE = {"classification": 0.5, "similarity": 0.5, "multiple_choice": 0.25}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--body", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", default="benchmarks/results/gpt_finetune.json")
    parser.add_argument("--runs", default="runs/finetune")
    args = parser.parse_args()
    results = {"command": " ".join([Path(sys.executable).name, *sys.argv]), "body": args.body, "tasks": {}}
    for task, chance in CHANCE.items():
        entry = {"chance": chance}
        for init in ("pretrained", "scratch"):
            sets = [f"data.task={task}"] + ([f"train.init_from={args.body}"] if init == "pretrained" else [])
            resolved = recipes.resolve("recipes/gpt_finetune.py", "cpu", sets)
            started = time.perf_counter()
            out = Path(args.runs) / f"{task}-{init}"
            result = recipes.run(resolved, args.data, out, progress=False)
            final = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
            accuracies = [r["val/accuracy"] for r in final if "val/accuracy" in r]
            entry[init] = {"best_val_accuracy": max(accuracies), "final_val_accuracy": accuracies[-1],
                           "steps": result.step, "seconds": round(time.perf_counter() - started, 1), "run": str(out)}
            print(f"{task:16s} {init:10s} best {max(accuracies):.3f} final {accuracies[-1]:.3f} (chance {chance})",
                  flush=True)
        results["tasks"][task] = entry
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
