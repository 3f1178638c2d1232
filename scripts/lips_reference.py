"""Write the reference face of a shipped lip-motion model: a rest-pose frame of a GRID s1 training clip
(``data/lip_motion.reference_frame``) as ``reference.jpg`` and its 68 dlib landmarks as ``reference.json``.

    .venv/bin/python scripts/lips_reference.py ../shared/data src/sightsound/pretrained/checkpoints/lip-motion-grid
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main() -> int:
    from PIL import Image

    from sightsound.data.lip_motion import Config, reference_frame
    from sightsound.errors import SightsoundError

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="the data folder holding grid-s1/")
    parser.add_argument("dest", help="the checkpoint folder")
    args = parser.parse_args()
    try:
        ref = reference_frame(Path(args.data), Config())
    except SightsoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    dest = Path(args.dest)
    Image.fromarray(ref["image"]).save(dest / "reference.jpg", quality=92)
    info = {"source": f"grid-s1 clip {ref['name']}, frame {ref['frame']}",
            "licence": "GRID audio-visual corpus (Cooke et al. 2006), CC BY 4.0",
            "landmarks": [[round(float(x), 2), round(float(y), 2)] for x, y in ref["landmarks"]]}
    (dest / "reference.json").write_text(json.dumps(info) + "\n", encoding="utf-8")
    print(f"reference: {info['source']} -> {dest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
