"""Write the ``eval.json`` of a scene model (what the card, the README and the tour quote): the ESC
cross-validation report of ``scripts/scene_cv.py`` (accuracies per fold, the baselines, the pooled confusion
matrix, sound -> photo precision@10 by the models that never heard each clip) and the spoken-caption retrieval of
the model itself on the validation photos (``sightsound eval av-retrieval``), optionally beside the end-to-end
spoken-caption model.

    .venv/bin/python scripts/scene_eval_json.py --model runs/av-esc10 --cv runs/scene-cv.json \
        --data ../shared/data/flickr8k-1k [--end-to-end runs/av-spoken] --out runs/av-esc10/eval.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sightsound.errors import SightsoundError
from sightsound.evaluation.scene import spoken_caption_retrieval
from sightsound.pretrained.scene import SceneListener


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--cv", required=True, help="the JSON written by scripts/scene_cv.py")
    parser.add_argument("--data", required=True, help="the caption folder with spoken/ (flickr8k-1k)")
    parser.add_argument("--end-to-end", help="a model from recipes/av_spoken_captions.py, scored beside")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    try:
        report = {"model": args.model, "cross_validation": json.loads(Path(args.cv).read_text()),
                  "spoken_captions": spoken_caption_retrieval(SceneListener.from_pretrained(args.model), args.data,
                                                              progress=False)}
        if args.end_to_end:
            report["spoken_captions_end_to_end"] = spoken_caption_retrieval(
                SceneListener.from_pretrained(args.end_to_end), args.data, progress=False, method="end-to-end")
            report["spoken_captions_end_to_end"]["model"] = args.end_to_end
    except (SightsoundError, OSError, ValueError) as error:
        print(f"scene_eval_json: error: {error}", file=sys.stderr)
        return 2
    Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps({k: report["spoken_captions"][k] for k in ("speech_to_photo", "photo_to_speech", "chance")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
