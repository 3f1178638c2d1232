"""Training: ``train`` (a recipe, tiny/cpu/paper, DDP under torchrun) and ``plot-run``."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from sightsound.cli.common import IMAGE_SUFFIXES, check_output
from sightsound.errors import UserInputError


def cmd_train(args) -> int:
    from sightsound.training import recipes

    if args.resume:
        run_dir = Path(args.resume)
        resolved, saved_data = recipes.resolve_from_run(run_dir)
        if args.recipe or args.set or args.preset:
            print("sightsound: note: --resume continues with the run's own config.json; other settings are ignored",
                  file=sys.stderr)
        data = args.data or saved_data
    else:
        if not args.recipe:
            raise UserInputError("train needs a RECIPE (or --resume RUN_DIR)")
        resolved = recipes.resolve(args.recipe, args.preset or "cpu", args.set)
        run_dir = Path(args.out) if args.out else Path("runs") / f"{resolved.path.stem}-{resolved.preset}-{time.strftime('%Y%m%d-%H%M%S')}"
        if (run_dir / "checkpoints").exists() or (run_dir / "metrics.jsonl").exists():
            raise UserInputError(f"{run_dir}: already holds a run; continue it with --resume {run_dir} or choose another --out")
        if run_dir.exists() and not run_dir.is_dir():
            raise UserInputError(f"{run_dir}: exists and is not a folder")
        held = sorted(p.name for p in run_dir.iterdir() if not p.name.startswith(".")) if run_dir.is_dir() else []
        if held and not args.force:
            raise UserInputError(f"{run_dir}: holds files ({', '.join(held[:3])}{', ...' if len(held) > 3 else ''}) that "
                                 "training would overwrite; choose another --out or pass --force")
        data = args.data
    result = recipes.run(resolved, data, run_dir, resume=bool(args.resume), progress=not args.no_progress,
                         device=args.device)
    if int(os.environ.get("RANK", "0")) == 0:
        best = f", best {result.best[0]} = {result.best[1]:.4f}" if result.best else ""
        print(f"{result.stopped} at step {result.step}{best}; run: {run_dir}")
    if result.stopped == "interrupted":
        print(f"sightsound: interrupted; continue with: sightsound train --resume {run_dir}", file=sys.stderr)
        return 130
    return 0


def cmd_plot_run(args) -> int:
    from sightsound.viz import plots

    run_dir = Path(args.run_dir)
    log = run_dir / "metrics.jsonl"
    if not log.is_file():
        raise UserInputError(f"{run_dir}: no metrics.jsonl (not a run directory?)")
    out = check_output(Path(args.output), [log], args.force, IMAGE_SUFFIXES)
    records = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:  # a half-written last line (a run killed while logging)
            continue
        if isinstance(record, dict):
            records.append(record)
    try:
        fig = plots.run_curves_figure(records, title=run_dir.name)
    except ValueError as error:
        raise UserInputError(f"{run_dir}: {error}") from None
    plots.save_figure(fig, out, overwrite=args.force)
    print(f"wrote {out}")
    return 0


def register(sub, eval_sub) -> None:
    """Add this group's commands to the top-level and ``eval`` sub-parsers."""
    p = sub.add_parser("train", help="train a recipe (tiny/cpu/paper preset); DDP when launched by torchrun")
    p.add_argument("recipe", nargs="?", help="recipe file, or a name in ./recipes")
    p.add_argument("--preset", choices=["tiny", "cpu", "paper"], help="default: cpu")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a value, e.g. --set train.lr=3e-4 --set model.channels=64")
    p.add_argument("--data", help="data folder (default: $SIGHTSOUND_DATA)")
    p.add_argument("--out", help="run directory (default: runs/RECIPE-PRESET-TIME)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted run exactly")
    p.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: cuda when present)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (logs still go to metrics.jsonl)")
    p.add_argument("--force", action="store_true", help="train into a folder that holds other files (never one "
                                                         "that holds a run: use --resume)")
    p.set_defaults(func=cmd_train)
    p = sub.add_parser("plot-run", help="draw a run's loss and metric curves")
    p.add_argument("run_dir")
    p.add_argument("-o", "--output", required=True, help="figure (.png, .pdf or .svg)")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_plot_run)
