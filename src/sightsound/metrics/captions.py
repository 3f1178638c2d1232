"""Caption metrics with the official coco-caption code (``pycocoevalcap``; it runs Java for the PTB
tokenizer and METEOR): BLEU-1..4, METEOR, ROUGE-L, CIDEr(-D) over a set of images.

Scores are corpus-level as in the coco-caption server: BLEU over all candidate/reference n-grams, CIDEr
with document frequencies from the references given here (so it depends on the set of images scored).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys

from sightsound.errors import UserInputError


@contextlib.contextmanager
def _quiet_stderr():
    """The Java tokenizer reports its speed on the process's stderr: send that to /dev/null."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (embedded interpreters)
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def coco_scores(references: dict[str, list[str]], candidates: dict[str, str], meteor: bool = True) -> dict[str, float]:
    """{"BLEU-1".."BLEU-4", "METEOR", "ROUGE-L", "CIDEr"} for raw-text captions keyed by image id."""
    try:
        from pycocoevalcap.bleu.bleu import Bleu
        from pycocoevalcap.cider.cider import Cider
        from pycocoevalcap.meteor.meteor import Meteor
        from pycocoevalcap.rouge.rouge import Rouge
        from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer
    except ImportError:
        raise UserInputError("caption metrics need pycocoevalcap (pip install 'sightsound[eval]')") from None
    if shutil.which("java") is None:
        raise UserInputError("caption metrics need Java (the coco-caption tokenizer and METEOR run on it)")
    ids = sorted(candidates)
    if not ids:
        raise UserInputError("no captions to score")
    missing = [i for i in ids if not references.get(i)]
    if missing:
        raise UserInputError(f"no reference captions for {missing[0]}")
    tokenizer = PTBTokenizer()
    with _quiet_stderr():
        refs = tokenizer.tokenize({i: [{"caption": c} for c in references[i]] for i in ids})
        cands = tokenizer.tokenize({i: [{"caption": candidates[i] or "."}] for i in ids})
    out: dict[str, float] = {}
    bleu, _ = Bleu(4).compute_score(refs, cands, verbose=0)
    out.update({f"BLEU-{n + 1}": float(b) for n, b in enumerate(bleu)})
    if meteor:
        scorer = Meteor()
        try:
            out["METEOR"] = float(scorer.compute_score(refs, cands)[0])
        finally:
            _close_meteor(scorer)
    out["ROUGE-L"] = float(Rouge().compute_score(refs, cands)[0])
    out["CIDEr"] = float(Cider().compute_score(refs, cands)[0])
    return out


def _close_meteor(scorer) -> None:
    """Stop METEOR's Java subprocess now (pycocoevalcap only does it at garbage collection)."""
    process = getattr(scorer, "meteor_p", None)
    if process is not None and process.poll() is None:  # (its __del__ repeats this harmlessly later)
        with scorer.lock:
            process.stdin.close()
            process.kill()
            process.wait()


def human_agreement(references: dict[str, list[str]], meteor: bool = False) -> dict[str, float]:
    """Scores of one human caption (the first) against the others of the same image: the ceiling the
    issue quotes for scale (BLEU-4 about 0.21, CIDEr about 0.77 on flickr8k-1k)."""
    held = {i: caps[0] for i, caps in references.items() if len(caps) > 1}
    rest = {i: references[i][1:] for i in held}
    return coco_scores(rest, held, meteor=meteor)
