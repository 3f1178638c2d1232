"""The common end of the standalone benchmark scripts: print the report as JSON and, with --out, write it."""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path


def median_seconds(fn, repeats: int) -> float:
    """The median wall time of ``fn()`` over ``repeats`` calls, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def emit(report: dict, out: str | None) -> None:
    text = json.dumps(report, indent=2)
    print(text)
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text + "\n")
