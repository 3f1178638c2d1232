"""Speed of DALL-E drawing: 8 samples of one prompt (all image tokens, the dVAE decode and the re-ranker's
scores) on one and two CPU threads, with the KV cache and with the whole sequence recomputed at every step
(medians; speed-up = recomputed / cached, in the same run). The shipped model or a run folder.

    .venv/bin/python benchmarks/dalle_sampling.py --out benchmarks/results/dalle_sampling.json
"""

from __future__ import annotations

import argparse
import platform

import torch
from _report import emit, median_seconds  # benchmarks/_report.py (on sys.path)
from threadpoolctl import threadpool_limits

from sightsound.pretrained.dalle import Drawer

PROMPT = "a small red circle above a large blue square"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="dalle-shapes")
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out")
    args = parser.parse_args()
    drawer = Drawer.from_pretrained(args.model)
    c = drawer.model.config
    rows = {}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        with threadpool_limits(threads):
            cached = median_seconds(lambda: drawer.draw(PROMPT, args.samples), args.repeats)
            recomputed = median_seconds(lambda: drawer.draw(PROMPT, args.samples, use_cache=False), args.repeats)
        rows[f"{threads} thread{'s' if threads > 1 else ''}"] = {
            "kv_cache_s": cached, "recompute_s": recomputed, "speedup_kv_cache": recomputed / cached}
    emit({"benchmark": "dalle_sampling", "command": ".venv/bin/python benchmarks/dalle_sampling.py --out "
          "benchmarks/results/dalle_sampling.json", "model": args.model, "prompt": PROMPT, "samples": args.samples,
          "image_tokens": c.image_tokens, "text_tokens": c.text_length, "layers": c.n_layer, "width": c.n_embd,
          "repeats": args.repeats, "machine": platform.processor() or platform.machine(), "torch": torch.__version__,
          "results": rows}, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
