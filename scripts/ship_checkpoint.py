"""Copy a training run's weights into the package as a shipped checkpoint (config.json + model.safetensors,
optionally half precision to halve the size; loading casts back to the model's float32).

    .venv/bin/python scripts/ship_checkpoint.py runs/tacotron2-cpu src/sightsound/pretrained/checkpoints/tacotron2-grid --half

The format belongs to ``sightsound.training.checkpoint`` (``export_run``); this is its command line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sightsound.errors import SightsoundError
from sightsound.training.checkpoint import export_run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("dest")
    parser.add_argument("--half", action="store_true", help="store float tensors as float16")
    parser.add_argument("--weights", help="ship this safetensors file of the run (e.g. checkpoints/step_000600/"
                                          "model.safetensors) instead of the run's final model.safetensors")
    args = parser.parse_args()
    try:
        dest = export_run(Path(args.run_dir), Path(args.dest), half=args.half, weights=args.weights)
    except SightsoundError as error:
        print(f"ship_checkpoint: error: {error}", file=sys.stderr)
        return 2
    size = (dest / "model.safetensors").stat().st_size / 1e6
    print(f"shipped {args.run_dir} -> {dest} ({size:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
