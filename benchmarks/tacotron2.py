"""Tacotron 2 text -> mel speed: real-time factor (decode seconds / seconds of speech made) of the shipped
``tacotron2-grid`` at batch 1 and 16, the free-running loop compiled (numba) against one torch ``_step`` per
decoder step, 1 and 2 threads. Medians over repeats of 10 GRID-grammar sentences (the same for every setting);
both loops decode the same frames (the prenet's dropout masks are drawn up front from the same seed).

    .venv/bin/python benchmarks/tacotron2.py --out benchmarks/results/tacotron2.json
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from _report import emit  # noqa: E402

from sightsound.jit import numba_available  # noqa: E402
from sightsound.evaluation.tts import grammar_sentences  # noqa: E402
from sightsound.pretrained.tts import Synthesizer  # noqa: E402


def real_time_factor(synth: Synthesizer, texts: list[str], batch: int, backend: str, repeats: int) -> float:
    """Median over ``repeats`` of (seconds to decode all ``texts`` in batches of ``batch``) / (seconds of speech)."""
    model, preset = synth.model, synth.preset
    factors = []
    for rep in range(repeats):
        seconds = speech = 0.0
        for start in range(0, len(texts), batch):
            ids, lengths = synth.encode(texts[start:start + batch])
            torch.manual_seed(rep)
            began = time.perf_counter()
            out = model.infer(ids, lengths, backend=backend)
            seconds += time.perf_counter() - began
            speech += float(out["lengths"].sum()) * preset.hop_length / preset.sample_rate
        factors.append(seconds / speech)
    return statistics.median(factors)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tacotron2-grid")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    synth = Synthesizer.from_pretrained(args.model)
    texts = grammar_sentences(10, seed=1)
    backends = ["numba", "torch"] if numba_available() else ["torch"]
    report = {"command": " ".join([Path(sys.executable).name, *sys.argv]), "torch": torch.__version__,
              "machine": platform.platform(), "model": args.model, "sentences": len(texts),
              "real_time_factor": {}}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for batch in (1, 16):
            row = {}
            for backend in backends:
                real_time_factor(synth, texts[:2], batch, backend, 1)  # warm-up (and numba compilation)
                row[backend] = round(real_time_factor(synth, texts, batch, backend, args.repeats), 4)
            if len(backends) == 2:
                row["speedup"] = round(row["torch"] / row["numba"], 2)
            report["real_time_factor"][f"batch{batch}/threads{threads}"] = row
            print(f"batch {batch}, {threads} threads: {row}", file=sys.stderr, flush=True)
    emit(report, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
