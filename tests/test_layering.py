"""The import layering of GUIDE.md section 2: a module imports only from its own layer or below.

audio, vision, text, attention  <  data, models  <  metrics  <  training, viz  <  pretrained  <  evaluation  <  cli
(errors, jit, fileio, the package root and __main__ are usable by all.)
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "sightsound"
LAYERS = {
    "errors": 0, "jit": 0, "fileio": 0,
    "audio": 1, "vision": 1, "text": 1, "attention": 1,
    "data": 2, "models": 2,
    "metrics": 3,
    "training": 4, "viz": 4,
    "pretrained": 5,
    "evaluation": 6,  # runs the shipped pipelines: above pretrained, training and metrics
    "cli": 7,
}
FORBIDDEN_BELOW_VIZ = ("matplotlib",)  # plotting stays in viz (and the cli above it)


def component(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "sightsound" else None


def imports_of(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
            found += [f"{node.module}.{alias.name}" for alias in node.names if node.module == "sightsound"]
    return found


def test_every_component_has_a_layer():
    for path in PACKAGE.iterdir():
        name = path.stem
        if name.startswith("__") or name == "py":
            continue
        assert name in LAYERS, f"{name} has no layer in tests/test_layering.py"


def test_imports_respect_layers():
    violations = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0].startswith("__"):
            continue
        own = LAYERS[rel.parts[0].removesuffix(".py")]
        for module in imports_of(path):
            target = component(module)
            if target is not None and target in LAYERS and LAYERS[target] > own:
                violations.append(f"{rel} imports {module}")
            if own < LAYERS["viz"] and module.split(".")[0] in FORBIDDEN_BELOW_VIZ:
                violations.append(f"{rel} imports {module}")
    assert not violations, "\n".join(violations)


def test_the_checker_catches_a_violation(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from sightsound.viz import plots\nimport matplotlib.pyplot\n")
    assert "sightsound.viz" in imports_of(bad) and "matplotlib.pyplot" in imports_of(bad)
    assert LAYERS[component("sightsound.viz.plots")] > LAYERS["audio"]
