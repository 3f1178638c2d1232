"""Write the ``eval.json`` of a Speech2Face model (what the card, the README and the tour quote): the synthetic
world's held-out speakers (``sightsound eval speech2face --data WORLD``) and the real people of a data folder
(``--data DATA --world WORLD``: ranks, and the gender AUC through the attribute judge).

    .venv/bin/python scripts/speech2face_eval_json.py --model runs/speech2face --world runs/voices \
        --data ../shared/data --out runs/speech2face/eval.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sightsound.errors import SightsoundError
from sightsound.evaluation.speech2face import evaluate_speech2face


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--world", required=True, help="the world folder (sightsound voices --seed 0)")
    parser.add_argument("--data", required=True, help="a data folder with av-speakers/ and grid-s1/")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    try:
        synthetic = evaluate_speech2face(args.model, args.world, progress=False)
        real = evaluate_speech2face(args.model, args.data, world_for_judge=args.world, progress=False)
    except (SightsoundError, OSError, ValueError) as error:
        print(f"speech2face_eval_json: error: {error}", file=sys.stderr)
        return 2
    for report in (synthetic, real):
        report.pop("examples", None)
    Path(args.out).write_text(json.dumps({"model": args.model, "synthetic": synthetic, "real": real}, indent=1) + "\n")
    print(json.dumps({"retrieval": synthetic["retrieval"], "real_mean_rank": real["mean_rank"],
                      "gender": real.get("gender")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
