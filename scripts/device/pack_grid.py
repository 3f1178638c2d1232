"""GRID s1 packed for a GPU machine reached through a 64 MiB transfer: training clips only (every 18th, the
validation split, never travels), trimmed to the words +- 0.1 s, align times shifted; of the other 850, every
19th and then every 5th of what is left is dropped to fit (645 clips travel; the GPU runs set
data.val_every=200, so 4 of them monitor and 641 train).

    .venv/bin/python scripts/device/pack_grid.py ../shared/data/grid-s1 .gpu/data/grid-s1

``--left-out`` prints instead the names of the 205 training clips that do not travel: a model trained
only on the pack never heard them, so they can tune settings without touching the validation clips.

    .venv/bin/python scripts/device/pack_grid.py --left-out ../shared/data/grid-s1 > unheard.txt
"""
import sys
from pathlib import Path

import soundfile as sf

UNITS = 25000        # align files count 1/25000 s
MARGIN = 0.1         # seconds kept around the words (Tacotron's own trimming)


def packed(src: Path) -> tuple[list[Path], list[Path]]:
    """(the training clips that travel, the training clips left out)."""
    names = sorted((src / "audio").glob("*.flac"))
    held_out = set(names[::18])  # the validation clips never travel
    train = [f for f in names if f not in held_out]
    rest = [f for i, f in enumerate(train, 1) if i % 19]
    rest = [f for i, f in enumerate(rest, 1) if i % 5]
    travel = set(rest)
    return rest, [f for f in train if f not in travel]


def main(src: Path, dst: Path) -> None:
    (dst / "audio").mkdir(parents=True, exist_ok=True)
    (dst / "align").mkdir(parents=True, exist_ok=True)
    for flac in packed(src)[0]:
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
    if sys.argv[1] == "--left-out":
        print("\n".join(f.stem for f in packed(Path(sys.argv[2]))[1]))
    else:
        main(Path(sys.argv[1]), Path(sys.argv[2]))
