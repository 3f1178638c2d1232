"""How far the output format alone keeps a vocoder from the original: the held-out GRID clips quantised to
Q mu-law levels and back, scored against the originals with the measures of `sightsound eval vocoder` (MCD,
LSD, spectral convergence over speech frames). A WaveNet with a 256-class mu-law softmax cannot do better
than the 256-level row, however well it is trained. With ``--pre-emphasis a`` the quantised signal is the
first difference ``x[n] - a x[n-1]`` (what a WaveNet with ``pre_emphasis = a`` models), de-emphasised after
the round trip: the quantisation noise then comes back tilted like speech instead of white.

    .venv/bin/python benchmarks/mulaw_floor.py --data ../shared/data/grid-s1 --out benchmarks/results/mulaw_floor.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from _report import emit  # benchmarks/_report.py (this folder is on sys.path)
from sightsound.audio import functional as AF
from sightsound.audio import io
from sightsound.audio.presets import get_preset
from sightsound.data import grid
from sightsound.metrics.speech import log_spectral_distance, mel_cepstral_distortion


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="a folder laid out like grid-s1 (audio/, align/)")
    parser.add_argument("--levels", type=int, nargs="+", default=[256, 1024, 65536])
    parser.add_argument("--pre-emphasis", type=float, nargs="+", default=[0.0, 0.85, 0.9, 0.97],
                        help="emphasis coefficients to compare (0: the waveform itself)")
    parser.add_argument("--out")
    args = parser.parse_args()
    root = Path(args.data)
    preset = get_preset("tts16k")
    _, names = grid.clip_names(root, grid.Config(subdir="."))  # the validation clips of `eval vocoder --clips val`
    waves = [io.load(root / "audio" / f"{n}.flac", sr=preset.sample_rate)[0] for n in names]
    rows = {}
    for q, a in ((q, a) for a in args.pre_emphasis for q in args.levels):
        scores = {"mcd_db": [], "lsd_db": [], "spectral_convergence": []}
        for y in waves:
            z = AF.de_emphasis(AF.mu_law_decode(AF.mu_law_encode(AF.pre_emphasis(y, a), q), q), a)
            scores["mcd_db"].append(mel_cepstral_distortion(y, z, preset.sample_rate))
            scores["lsd_db"].append(log_spectral_distance(y, z, preset.sample_rate))
            S_ref, S_q = AF.spectrogram(y, **preset.stft_kwargs), AF.spectrogram(z, **preset.stft_kwargs)
            scores["spectral_convergence"].append(float(AF.spectral_convergence(S_ref, S_q)))
        rows[f"{q} levels, pre-emphasis {a}"] = {k: round(sum(v) / len(v), 4) for k, v in scores.items()}
    report = {"command": " ".join([Path(sys.executable).name, *sys.argv]), "clips": len(names), "mu_law_levels": rows}
    emit(report, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
