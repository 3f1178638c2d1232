"""The ``sightsound`` command line: argument parsing only; the work is done by the library.

One module per command group (``sound``, ``tour``, ``train``, ``gpt``, ``tts``, ``caption``, ``scene``), each with a
``register(sub, eval_sub)`` that adds its commands (and its ``eval`` sub-commands). Every user-fixable
problem (bad file, bad parameter, existing output) ends with one line on stderr and exit code 2; nothing
that exists is overwritten without ``--force``.
"""

from __future__ import annotations

import argparse
import sys

from sightsound import __version__
from sightsound.cli import (
    caption,
    draw,
    gpt,
    lips,
    scene,
    separation,
    sound,
    speech2face,
    tour,
    train,
    tts,
)
from sightsound.cli.common import Parser
from sightsound.errors import SightsoundError

GROUPS = (tour, sound, train, gpt, tts, caption, scene, speech2face, draw, separation, lips)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="sightsound", description="The attention-based visual and sound models of the lecture.")
    parser.add_argument("--version", action="version", version=f"sightsound {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    p = sub.add_parser("eval", help="evaluate a model on a data folder (JSON report with --json)")
    eval_sub = p.add_subparsers(dest="eval_command", required=True, parser_class=Parser)
    for group in GROUPS:
        group.register(sub, eval_sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except SightsoundError as error:
        print(f"sightsound: error: {error}", file=sys.stderr)
        return 2
    except UnicodeDecodeError as error:  # a text file that is not UTF-8, wherever it was read
        print(f"sightsound: error: a text file is not UTF-8 ({error.reason} at byte {error.start})", file=sys.stderr)
        return 2
    except MemoryError:
        print("sightsound: error: out of memory; try smaller sizes", file=sys.stderr)
        return 2
    except OSError as error:  # permissions, disk full, ...
        where = f"{error.filename}: " if error.filename else ""
        print(f"sightsound: error: {where}{error.strerror or error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("sightsound: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
