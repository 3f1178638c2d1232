"""Transformer speed: training ms/iteration at the char-LM `cpu` preset (explicit vs SDPA attention;
the recipe's untied output layer, and tied for comparison)
and generation tokens/s with and without the KV cache (block 64 and 512; the cached step in numba and in torch), 1 and 2 threads.

    .venv/bin/python benchmarks/transformer.py --out benchmarks/results/transformer.json
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
import torch.nn.functional as F_nn

from sightsound.jit import numba_available
from sightsound.models.gpt import GPT, GPTConfig
from sightsound.training import TrainConfig
from sightsound.training.optim import build_optimizer


def train_ms_per_iter(explicit: bool, tie_weights: bool, iters: int = 60, warmup: int = 10) -> float:
    torch.manual_seed(0)
    model = GPT(replace(GPTConfig.cpu(), tie_weights=tie_weights))
    if explicit:  # route every block through the explicit softmax(QK^T/sqrt(d))V path
        for block in model.blocks:
            block.attn.forward = _explicit(block.attn)
    opt = build_optimizer(model, TrainConfig(lr=1e-3, weight_decay=0.1, betas=(0.9, 0.99)))
    x = torch.randint(0, 65, (12, 65))
    times = []
    for i in range(warmup + iters):
        started = time.perf_counter()
        logits, _, _ = model(x[:, :-1])
        loss = F_nn.cross_entropy(logits.reshape(-1, 65), x[:, 1:].reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        if i >= warmup:
            times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def _explicit(attn):
    original = attn.forward

    def forward(x, mask=None, cache=None, need_weights=False):
        return original(x, mask, cache, need_weights=True)

    return forward


def generation_tokens_per_s(block: int, use_cache: bool, n_tokens: int, repeats: int = 5, backend: str = "auto") -> float:
    """Median over ``repeats`` generations of ``n_tokens`` tokens from a one-token prompt."""
    torch.manual_seed(0)
    model = GPT(GPTConfig(block_size=block, n_layer=4, n_head=4, n_embd=128)).eval()
    prompt = torch.zeros(1, 1, dtype=torch.long)
    model.generate(prompt, 8, use_cache=use_cache, backend=backend)  # warm-up (and numba compilation)
    rates = []
    for r in range(repeats):
        started = time.perf_counter()
        model.generate(prompt, n_tokens, use_cache=use_cache, generator=torch.Generator().manual_seed(r), backend=backend)
        rates.append(n_tokens / (time.perf_counter() - started))
    return statistics.median(rates)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results/transformer.json")
    parser.add_argument("--sliding", action="store_true",
                        help="only the case past the block: 500 new tokens at block 64, where the window slides and "
                             "is re-encoded every token (write it with --out benchmarks/results/transformer_sliding.json)")
    args = parser.parse_args()
    if args.sliding:
        return sliding(args)
    results = {"command": " ".join([Path(sys.executable).name, *sys.argv]), "torch": torch.__version__,
               "machine": platform.platform(), "train_ms_per_iter": {}, "generation_tokens_per_s": {}}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for explicit, tied in ((False, False), (True, False), (False, True)):
            key = f"{'explicit' if explicit else 'sdpa'}{'/tied' if tied else ''}/threads{threads}"
            results["train_ms_per_iter"][key] = train_ms_per_iter(explicit, tied)
            print(f"train {key}: {results['train_ms_per_iter'][key]:.1f} ms/iter", flush=True)
        for block in (64, 512):
            n = block - 1  # fill the context once: every token within the block
            cached = generation_tokens_per_s(block, True, n, backend="numba" if numba_available() else "torch")
            cached_torch = generation_tokens_per_s(block, True, n, backend="torch")
            plain = generation_tokens_per_s(block, False, n)
            key = f"block{block}/threads{threads}"
            results["generation_tokens_per_s"][key] = {
                "kv_cache": cached, "kv_cache_torch_step": cached_torch, "recompute": plain,
                "speedup": cached / plain, "speedup_torch_step": cached_torch / plain,
                "cached_step": "numba" if numba_available() else "torch"}
            print(f"generate {key}: cache {cached:.0f} tok/s (torch step {cached_torch:.0f}), recompute {plain:.0f} "
                  f"tok/s, {cached / plain:.1f}x ({cached_torch / plain:.1f}x)", flush=True)
    return write(results, args.out)


def write(results: dict, out: str) -> int:
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2))
    print(f"wrote {path}")
    return 0


def sliding(args) -> int:
    """Past the block the cache cannot be reused (learned positions shift with the window), so each new token
    re-encodes the whole window: the KV cache's advantage is gone. Measured with 1 and 2 threads."""
    results = {"command": " ".join([Path(sys.executable).name, *sys.argv]), "torch": torch.__version__,
               "machine": platform.platform(), "block": 64, "new_tokens": 500, "generation_tokens_per_s": {}}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        cached = generation_tokens_per_s(64, True, 500, backend="numba" if numba_available() else "torch")
        plain = generation_tokens_per_s(64, False, 500)
        results["generation_tokens_per_s"][f"threads{threads}"] = {"kv_cache": cached, "recompute": plain,
                                                                   "speedup": cached / plain}
        print(f"500 tokens at block 64, {threads} thread(s): cache {cached:.0f} tok/s, recompute {plain:.0f} tok/s, "
              f"{cached / plain:.2f}x", flush=True)
    return write(results, args.out)


if __name__ == "__main__":
    sys.exit(main())
