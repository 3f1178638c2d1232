"""The docs' benchmark tables are generated from benchmarks/results/*.json, and the README stays a user's page."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_benchmark_tables_are_generated_from_the_results():
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "docs_tables.py"), "--check"], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr


def test_readme_is_short_and_names_every_subcommand():
    from sightsound.cli import build_parser

    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    names = set(sub.choices) - {"eval"}
    evals = set(next(a for a in sub.choices["eval"]._actions if a.dest == "eval_command").choices)
    missing = [n for n in sorted(names) if not re.search(rf"sightsound {re.escape(n)}\b", readme)]
    missing += [f"eval {n}" for n in sorted(evals) if f"sightsound eval {n}" not in readme]
    assert not missing, f"README lacks an example of: {', '.join(missing)}"


def test_every_shipped_model_has_a_card():
    from sightsound.pretrained import REGISTRY

    for name in REGISTRY:
        card = ROOT / "docs" / "models" / f"{name}.md"
        assert card.is_file(), f"no model card {card}"
        assert name in (ROOT / "README.md").read_text()
