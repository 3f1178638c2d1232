"""GPT language models: ``gpt sample``, ``attention-map``, ``eval lm``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from sightsound.cli.common import (
    IMAGE_SUFFIXES,
    Parser,
    bounded_int,
    check_output,
    non_negative_float,
    positive_int,
    seed_int,
)
from sightsound.errors import UserInputError
from sightsound.fileio import read_text


def cmd_gpt_sample(args) -> int:
    import torch

    from sightsound import jit
    from sightsound.models import gpt_fast
    from sightsound.pretrained import load_char_lm

    model, vocab = load_char_lm(args.model)
    prompt = vocab.encode(args.prompt or "\n").unsqueeze(0)  # (1, L)
    generator = torch.Generator().manual_seed(args.seed)
    if jit.numba_available() and not jit.is_cached(gpt_fast._step):
        print("sightsound: compiling the cached decoding step with numba (first run only, about half a minute)...",
              file=sys.stderr, flush=True)
    out = model.generate(prompt, args.tokens, temperature=args.temperature, top_k=args.top_k, top_p=args.top_p,
                         generator=generator)
    print(vocab.decode(out[0]))
    return 0


def cmd_eval_lm(args) -> int:
    import math

    from sightsound.models.gpt import language_model_loss
    from sightsound.pretrained import load_char_lm

    model, vocab = load_char_lm(args.model)
    path = Path(args.text)
    if not path.is_file():
        raise UserInputError(f"{path}: no such file")
    text = read_text(path)
    loss, count = language_model_loss(model, vocab.encode(text))
    report = {"loss": round(loss, 5), "bits_per_char": round(loss / math.log(2), 5), "characters": count,
              "model": str(args.model), "text": str(path)}
    print(json.dumps(report) if args.json else f"loss {loss:.4f} nats/char = {loss / math.log(2):.4f} bits/char "
          f"over {count} characters")
    return 0


def cmd_attention_map(args) -> int:
    import torch

    from sightsound.pretrained import load_char_lm
    from sightsound.viz import plots

    out = check_output(Path(args.output), [], args.force, IMAGE_SUFFIXES)
    model, vocab = load_char_lm(args.model)
    ids = vocab.encode(args.prompt)[-model.config.block_size :].unsqueeze(0)
    with torch.no_grad():
        _, weights, _ = model(ids, need_weights=True)
    tokens = [vocab.decode([i]) for i in ids[0]]
    plots.save_figure(plots.attention_grid_figure([w[0] for w in weights], tokens, title=repr(args.prompt)), out,
                      overwrite=args.force)
    print(f"wrote {out}")
    return 0


def register(sub, eval_sub) -> None:
    """Add this group's commands to the top-level and ``eval`` sub-parsers."""
    p = sub.add_parser("gpt", help="GPT language models")
    gpt_sub = p.add_subparsers(dest="gpt_command", required=True, parser_class=Parser)
    q = gpt_sub.add_parser("sample", help="sample text from a character language model")
    q.add_argument("--model", required=True, help="run folder or shipped name")
    q.add_argument("--prompt", default="\n")
    q.add_argument("--tokens", type=bounded_int(1, 1_000_000, "a number of tokens"), default=200)
    q.add_argument("--seed", type=seed_int, default=0)
    q.add_argument("--temperature", type=non_negative_float, default=0.8)
    q.add_argument("--top-k", type=positive_int)
    q.add_argument("--top-p", type=non_negative_float)
    q.set_defaults(func=cmd_gpt_sample)
    p = sub.add_parser("attention-map", help="attention weights of every layer and head for a prompt")
    p.add_argument("--model", required=True)
    p.add_argument("--prompt", required=True)
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_attention_map)
    q = eval_sub.add_parser("lm", help="loss and bits per character of a text under a language model")
    q.add_argument("--model", required=True)
    q.add_argument("--text", required=True)
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_eval_lm)
