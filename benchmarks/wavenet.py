"""WaveNet generation speed: samples/s of naive generation (the whole network recomputed over the
receptive field for every sample) against Fast WaveNet's ring buffers (numba and torch backends), for
three model sizes, with 1 and 2 threads. Random weights (speed does not depend on training); batch 1
unless the key says otherwise; medians.

    .venv/bin/python benchmarks/wavenet.py --out benchmarks/results/wavenet.json
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch
from threadpoolctl import threadpool_limits

from sightsound.models import wavenet_fast as G
from sightsound.models.wavenet import WaveNet, WaveNetConfig

MODELS = {  # name -> (layers, cycles, residual, gate, skip); kernel 3 (the cpu preset) for all
    "2-layer 4/8/4": (2, 1, 4, 8, 4),
    "12-layer 64/128/64": (12, 2, 64, 128, 64),
    "24-layer 128/256/128": (24, 2, 128, 256, 128),
}


def model_for(layers, cycles, residual, gate, skip) -> WaveNet:
    torch.manual_seed(0)
    config = replace(WaveNetConfig.cpu(), n_layers=layers, n_cycles=cycles, residual_channels=residual,
                     gate_channels=gate, skip_channels=skip, kernel_size=3)
    return WaveNet(config).eval()


def rate(fn, n_samples: int, repeats: int) -> float:
    rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        rates.append(n_samples / (time.perf_counter() - started))
    return statistics.median(rates)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results/wavenet.json")
    parser.add_argument("--seconds", type=float, default=1.0, help="audio generated per incremental timing")
    args = parser.parse_args()
    results = {"command": " ".join([Path(sys.executable).name, *sys.argv]), "torch": torch.__version__,
               "machine": platform.platform(), "numba": G.numba_available(), "samples_per_s": {}}
    frames = int(round(args.seconds * 16000 / 200))
    mel = torch.randn(1, 80, frames)
    for threads in (1, 2):
        torch.set_num_threads(threads)
        with threadpool_limits(threads):
            for name, shape in MODELS.items():
                model = model_for(*shape)
                n = frames * 200
                entry = {"receptive_field": model.config.receptive_field}
                backends = ["numba", "torch"] if G.numba_available() else ["torch"]
                for backend in backends:
                    model.generate(mel[..., :2], backend=backend)  # compile / warm up
                    entry[f"incremental_{backend}"] = rate(
                        lambda: model.generate(mel, generator=torch.Generator().manual_seed(0), backend=backend), n, 3)
                n_naive = {2: 400, 12: 100}.get(shape[0], 8)  # the naive way is slow: fewer samples
                entry["naive"] = rate(lambda: G.generate_naive(model, mel, n_naive), n_naive, 3 if shape[0] <= 12 else 1)
                entry["speedup"] = entry[f"incremental_{backends[0]}"] / entry["naive"]
                results["samples_per_s"][f"{name}/threads{threads}"] = entry
                print(f"{name}, {threads} thread(s): " + ", ".join(
                    f"{k} {v:,.0f}" if k != "speedup" else f"{k} {v:.0f}x" for k, v in entry.items()), flush=True)
            batch_mel = mel.expand(4, -1, -1)
            model = model_for(*MODELS["12-layer 64/128/64"])
            key = f"12-layer 64/128/64 batch4/threads{threads}"
            results["samples_per_s"][key] = {"incremental": rate(
                lambda: model.generate(batch_mel, generator=torch.Generator().manual_seed(0)), 4 * frames * 200, 3)}
            print(f"{key}: {results['samples_per_s'][key]['incremental']:,.0f} samples/s (all utterances)")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
