"""Kill a training run with SIGKILL at random moments, resume it each time, and check that it ends bit-identical to
an uninterrupted run: final weights, optimiser, EMA, RNG state, best/ and the log (timings aside).

    .venv/bin/python scripts/kill_loop.py --kills 20 --seed 0 --out /tmp/kill-loop

The run is the character GPT's tiny preset (6,000 steps) on a small generated text, with an EMA (so every kind of state the
run folder holds is exercised), launched through the real command line. Slow (minutes): run before a release,
not in `make test` (tests/training/test_kills.py injects kills at each write step there).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch
from safetensors.torch import load_file

from sightsound.data import charlm

SETS = ["--set", "train.ema_decay=0.9", "--set", "train.max_steps=6000", "--set", "train.save_every=7",
        "--set", "train.eval_every=11", "--set", "train.log_every=3"]


def command(data: Path, out: Path, resume: bool) -> list[str]:
    base = [sys.executable, "-m", "sightsound", "train", "--no-progress"]
    if resume:
        return base + ["--resume", str(out)]
    return base + ["recipes/char_lm.py", "--preset", "tiny", "--data", str(data), "--out", str(out), *SETS]


def final_state(run: Path) -> dict:
    """Everything the two runs must agree on."""
    latest = json.loads((run / "checkpoints" / "latest.json").read_text())["dir"]
    last = run / "checkpoints" / latest
    state = json.loads((last / "state.json").read_text())
    log = [{k: v for k, v in json.loads(line).items() if k != "examples_per_s"}
           for line in (run / "metrics.jsonl").read_text().splitlines()]
    tensors = {f"{folder}/{name}": load_file(run / folder / name)
               for folder in (".", f"checkpoints/{latest}", "checkpoints/best")
               for name in ("model.safetensors", "optimizer.safetensors", "ema.safetensors", "rng.safetensors")
               if (run / folder / name).is_file()}
    return {"tensors": tensors, "state": {k: v for k, v in state.items()}, "log": log,
            "best": json.loads((run / "checkpoints" / "best" / "best.json").read_text())}


def identical(a: dict, b: dict) -> list[str]:
    problems = []
    if a["tensors"].keys() != b["tensors"].keys():
        problems.append(f"different files: {sorted(a['tensors'].keys() ^ b['tensors'].keys())}")
    for name in a["tensors"].keys() & b["tensors"].keys():
        for key, value in a["tensors"][name].items():
            if key not in b["tensors"][name] or not torch.equal(value, b["tensors"][name][key]):
                problems.append(f"{name}:{key} differs")
    for part in ("state", "log", "best"):
        if a[part] != b[part]:
            problems.append(f"{part} differs")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20, help="at least this many SIGKILLs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="/tmp/kill-loop")
    args = parser.parse_args()
    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    charlm.write_synthetic(out / "data")
    started = time.perf_counter()
    done = subprocess.run(command(out / "data", out / "reference", False), capture_output=True, text=True)
    if done.returncode:
        print(done.stderr, file=sys.stderr)
        return 1
    duration = time.perf_counter() - started
    rng = random.Random(args.seed)
    kills, resumes, run = 0, 0, out / "killed"
    resume = False
    while True:
        process = subprocess.Popen(command(out / "data", run, resume), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)
        if kills < args.kills:
            time.sleep(rng.uniform(0.5, min(8.0, duration / 4)))  # startup (imports) included: kills land anywhere
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                kills += 1
        _, err = process.communicate()
        if process.returncode == 0:
            break
        if process.returncode != -signal.SIGKILL:
            print(f"resume {resumes} failed (exit {process.returncode}): {err.strip()}", file=sys.stderr)
            return 1
        resume = (run / "config.json").is_file()  # killed before it: nothing to resume, start again
        resumes += resume
    problems = identical(final_state(out / "reference"), final_state(run))
    report = {"command": " ".join(["python", *sys.argv]), "sigkills": kills, "resumes": resumes,
              "uninterrupted_seconds": round(duration, 1), "identical": not problems, "problems": problems[:10]}
    print(json.dumps(report, indent=2))
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
