"""GRID s1 packed for a GPU machine reached through a 64 MiB transfer: training clips only (every 18th, the
validation split, never travels), trimmed to the words +- 0.1 s, align times shifted; of the other 850, every
19th and then every 5th of what is left is dropped to fit (641 clips travel).

    .venv/bin/python scripts/device/pack_grid.py ../shared/data/grid-s1 .gpu/data/grid-s1
"""
import sys
from pathlib import Path

import soundfile as sf

UNITS = 25000        # align files count 1/25000 s
MARGIN = 0.1         # seconds kept around the words (Tacotron's own trimming)


def main(src: Path, dst: Path) -> None:
    (dst / "audio").mkdir(parents=True, exist_ok=True)
    (dst / "align").mkdir(parents=True, exist_ok=True)
    names = sorted((src / "audio").glob("*.flac"))
    held_out = set(names[::18])  # the validation clips never travel
    rest = [f for f in names if f not in held_out]
    rest = [f for i, f in enumerate(rest, 1) if i % 19]
    rest = [f for i, f in enumerate(rest, 1) if i % 5]
    for flac in rest:
        rows = [line.split() for line in (src / "align" / f"{flac.stem}.align").read_text().splitlines() if line.strip()]
        words = [(int(a), int(b)) for a, b, w in rows if w not in ("sil", "sp")]
        y, sr = sf.read(flac, dtype="int16")
        start = max(0, int((words[0][0] / UNITS - MARGIN) * sr))
        end = min(len(y), int((words[-1][1] / UNITS + MARGIN) * sr))
        sf.write(dst / "audio" / flac.name, y[start:end], sr, subtype="PCM_16", compression_level=1.0)
        shift = round(start / sr * UNITS)
        (dst / "align" / f"{flac.stem}.align").write_text(
            "".join(f"{max(0, int(a) - shift)} {max(0, int(b) - shift)} {w}\n" for a, b, w in rows))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
