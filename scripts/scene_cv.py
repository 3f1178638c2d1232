"""ESC cross-validation of scene recognition by sound: for each fold k, train the audio-visual embedding and the
supervised log-mel CNN with fold k held out (checkpoints chosen on the selection recordings of the other folds),
score both on fold k, and fit the MFCC + logistic-regression baseline on the other folds. Writes a JSON report.

    .venv/bin/python scripts/scene_cv.py --data ../shared/data --out runs/scene-cv \
        --json benchmarks/results/scene_cv.json

Run folders are reused when they already hold a model (``out/embedding-fold<k>``, ``out/supervised_cnn-fold<k>``),
so an interrupted cross-validation continues where it stopped. (evaluation/scene.py: ``cross_validation``.)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sightsound.errors import SightsoundError
from sightsound.evaluation.scene import cross_validation


def markdown(report: dict) -> str:
    """The accuracy table (one row per held-out fold) and, when measured, sound -> photo precision@k."""
    lines = ["| held-out fold | clips | AV embedding | supervised log-mel CNN | MFCC + logistic regression |",
             "|---|---|---|---|---|"]
    for r in report["rounds"]:
        lines.append(f"| {r['test_fold']} | {r['clips']} | {r['embedding']:.3f} | {r['supervised_cnn']:.3f} | "
                     f"{r['mfcc_logistic']:.3f} |")
    m = report["mean_accuracy"]
    lines.append(f"| mean | | **{m['embedding']:.3f}** | {m['supervised_cnn']:.3f} | {m['mfcc_logistic']:.3f} |")
    s2p = report.get("sound_to_photo")
    if s2p and s2p.get("per_class"):
        lines += ["", f"Sound -> photo precision@{s2p['k']} among {s2p['photos']} validation photos (classes with >= "
                      f"{s2p['min_photos']} matching photos; each clip ranked by the model that never heard its fold):",
                  "", "| class | clips | matching photos | precision@10 | chance |", "|---|---|---|---|---|"]
        for cls, row in s2p["per_class"].items():
            lines.append(f"| {cls} | {row['clips']} | {s2p['matching_photos'][cls]} | {row['precision_at_k']:.3f} | "
                         f"{row['chance']:.2f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="data root holding esc10/ and flickr8k-1k/")
    parser.add_argument("--out", required=True, help="folder for the per-fold runs")
    parser.add_argument("--json", required=True, help="write the report here")
    parser.add_argument("--folds", type=int, nargs="+", default=[1, 2, 3, 4])
    parser.add_argument("--preset", default="cpu")
    parser.add_argument("--set", dest="sets", action="append", default=[], help="extra settings for the embedding")
    args = parser.parse_args()
    try:
        report = cross_validation(args.data, args.out, tuple(args.folds), preset=args.preset, sets=tuple(args.sets),
                                  progress=False)
    except SightsoundError as error:
        print(f"scene_cv: error: {error}", file=sys.stderr)
        return 2
    report = {"command": " ".join(["python", *sys.argv]), "markdown": markdown(report), **report}
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(report, indent=1) + "\n")
    for row in report["rounds"]:
        print(f"fold {row['test_fold']}: " + "  ".join(f"{m} {row[m]:.3f}" for m in
                                                       ("embedding", "supervised_cnn", "mfcc_logistic")))
    print("mean:   " + "  ".join(f"{m} {v:.3f}" for m, v in report["mean_accuracy"].items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
