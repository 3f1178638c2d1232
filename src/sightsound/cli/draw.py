"""DALL-E: ``draw`` (text -> a grid of samples, optionally re-ranked, with their dVAE tokens) and ``eval draw``."""

from __future__ import annotations

import json
from pathlib import Path

from sightsound.cli.common import IMAGE_SUFFIXES, bounded_int, check_output, seed_int
from sightsound.errors import UserInputError


def _sampling(args) -> dict:
    if args.top_k is not None and args.top_k < 1:
        raise UserInputError(f"--top-k must be >= 1, got {args.top_k}")
    if args.top_p is not None and not 0.0 < args.top_p <= 1.0:
        raise UserInputError(f"--top-p must lie in (0, 1], got {args.top_p}")
    if not 0.0 <= args.temperature <= 5.0:
        raise UserInputError(f"--temperature must lie in [0, 5], got {args.temperature}")
    return {"top_k": args.top_k, "top_p": args.top_p, "temperature": args.temperature}


def cmd_draw(args) -> int:
    import torch

    from sightsound.pretrained.dalle import Drawer
    from sightsound.viz.dalle import samples_figure
    from sightsound.viz.plots import save_figure

    sampling = _sampling(args)
    out = check_output(Path(args.out), [], args.force, IMAGE_SUFFIXES)
    drawer = Drawer.from_pretrained(args.model)
    drawer.encode(args.text)  # a bad prompt fails before any work
    generator = torch.Generator().manual_seed(args.seed)
    images, tokens, scores = drawer.draw(args.text, args.n, generator=generator, **sampling)
    if args.rerank:
        images, tokens, scores = drawer.rerank(images, tokens, scores)
    save_figure(samples_figure(args.text, images, scores, tokens if args.tokens else None, ranked=args.rerank), out,
                overwrite=args.force)
    if args.json:
        print(json.dumps({"prompt": args.text, "picture": str(out), "scores": [round(float(s), 4) for s in scores],
                          "reranked": args.rerank}))
        return 0
    print(f"{args.n} samples of {args.text!r} -> {out}" + (" (re-ranked, best first)" if args.rerank else ""))
    return 0


def read_prompts(path: Path) -> list[str]:
    """Non-empty lines of a UTF-8 text file; one-line errors for a missing or empty file."""
    if not path.is_file():
        raise UserInputError(f"{path}: prompts file not found")
    try:
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    except UnicodeDecodeError:
        raise UserInputError(f"{path}: not a UTF-8 text file (one prompt per line)") from None
    prompts = [line for line in lines if line and not line.startswith("#")]
    if not prompts:
        raise UserInputError(f"{path}: no prompts (one per line)")
    return prompts


def cmd_eval_draw(args) -> int:
    from sightsound.data.dalle_shapes import encode_text, parse_prompt
    from sightsound.evaluation.dalle import evaluate_draw

    sampling = _sampling(args)
    prompts = None
    if args.prompts:
        prompts = read_prompts(Path(args.prompts))
        for i, p in enumerate(prompts, 1):
            try:
                encode_text(p)
                parse_prompt(p)
            except UserInputError as error:
                raise UserInputError(f"{args.prompts}, line {i}: {error}") from None
    report = evaluate_draw(args.model, args.judge, args.split, prompts, args.n, seed=args.seed,
                           judge_scenes=args.judge_scenes, progress=not args.json, **sampling)
    report.pop("examples")
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"{report['samples_per_prompt']} samples per prompt, {report['split']} split; right = the judge reads "
          "back exactly the prompt")
    for kind in ("one_object", "two_objects", "held_out", "held_out_two"):
        if kind in report:
            r = report[kind]
            print(f"  {kind:<13} {r['prompts']:>3} prompts: unranked {r['unranked']:.3f}  re-ranked top-1 "
                  f"{r['reranked']:.3f}  any of {report['samples_per_prompt']} {r['any_of_n']:.3f}")
    j = report["judge"]
    print(f"  judge on {j['scenes']} rendered scenes: originals {j['originals']:.3f}, dVAE reconstructions "
          f"{j['reconstructions']:.3f}")
    print(f"  {report['seconds_per_prompt']:.2f} s per prompt (median, {report['samples_per_prompt']} samples, "
          "drawing + re-ranking)")
    return 0


def _sampling_args(p) -> None:
    p.add_argument("--top-k", type=int, default=64, help="sample among the k most likely codes (default 64)")
    p.add_argument("--top-p", type=float, help="... and/or the smallest set with this much probability")
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--seed", type=seed_int, default=0)
    p.add_argument("--model", default="dalle-shapes", help="shipped model name or run folder")


def register(sub, eval_sub) -> None:
    """Add this group's commands to the top-level and ``eval`` sub-parsers."""
    p = sub.add_parser("draw", help="draw images for a caption with DALL-E (the shapes world)")
    p.add_argument("text", help='e.g. "a small red circle above a large blue square"')
    p.add_argument("-n", type=bounded_int(1, 64, "a number of samples"), default=8)
    p.add_argument("-o", "--out", required=True, help="the grid picture (.png/.pdf/.svg)")
    p.add_argument("--rerank", action="store_true", help="sort the samples by the text-image model, best first")
    p.add_argument("--tokens", action="store_true", help="show each sample's dVAE token grid under it")
    p.add_argument("--json", action="store_true")
    p.add_argument("--force", action="store_true")
    _sampling_args(p)
    p.set_defaults(func=cmd_draw)
    q = eval_sub.add_parser("draw", help="DALL-E: how often the judge reads back what the prompt says")
    q.add_argument("--prompts", help="a text file, one prompt per line (default: the split's prompt set)")
    q.add_argument("--split", choices=["test", "select"], default="test",
                   help="the world split of the prompts and judge scenes (select: where choices are made)")
    q.add_argument("-n", type=bounded_int(1, 64, "a number of samples"), default=8, help="samples per prompt")
    q.add_argument("--judge", default="shape-judge", help="shipped judge name or run folder")
    q.add_argument("--judge-scenes", type=bounded_int(10, 100_000, "a number of scenes"), default=500)
    q.add_argument("--json", action="store_true")
    _sampling_args(q)
    q.set_defaults(func=cmd_eval_draw)
