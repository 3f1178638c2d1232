"""Copy a training run's weights into the package as a shipped checkpoint (config.json + model.safetensors,
optionally half precision to halve the size; loading casts back to the model's float32).

    .venv/bin/python scripts/ship_checkpoint.py runs/tacotron2-cpu src/sightsound/pretrained/checkpoints/tacotron2-grid --half
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import torch

from sightsound.training.checkpoint import load_tensors, save_tensors_atomic


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("dest")
    parser.add_argument("--half", action="store_true", help="store float tensors as float16")
    parser.add_argument("--weights", help="ship this safetensors file of the run (e.g. checkpoints/step_000600/"
                                          "model.safetensors) instead of the run's final model.safetensors")
    args = parser.parse_args()
    run, dest = Path(args.run_dir), Path(args.dest)
    dest.mkdir(parents=True, exist_ok=True)
    source = run / (args.weights or "model.safetensors")
    tensors = load_tensors(source)
    if args.half:
        tensors = {k: v.half() if v.is_floating_point() else v for k, v in tensors.items()}
    save_tensors_atomic(dest / "model.safetensors", tensors, {"source_run": run.name, "source": str(source.relative_to(run)),
                                                                  "half": str(args.half)})
    config = json.loads((run / "config.json").read_text())
    config["recipe"] = f"recipes/{Path(config['recipe']).name}"  # no machine-specific path
    (dest / "config.json").write_text(json.dumps(config, indent=2))
    for extra in ("vocab.json",):
        if (run / extra).is_file():
            shutil.copy(run / extra, dest / extra)
    size = (dest / "model.safetensors").stat().st_size / 1e6
    print(f"shipped {run} -> {dest} ({size:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
