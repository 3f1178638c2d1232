"""The common end of the standalone benchmark scripts: print the report as JSON and, with --out, write it."""

from __future__ import annotations

import json
from pathlib import Path


def emit(report: dict, out: str | None) -> None:
    text = json.dumps(report, indent=2)
    print(text)
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text + "\n")
