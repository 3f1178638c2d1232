"""Attention correctness on a world with ground truth (the synthetic shapes, ``data/shapes.py``).

For every generated word that names an object or one of its attributes (its shape, colour or size word),
the score is the share of that word's attention mass that falls inside the object's mask:

    correctness(word) = sum_i alpha_i * cover_i,

where cover_i is the fraction of grid cell i covered by the mask. This equals the mass inside the mask
after spreading each cell's weight evenly over its pixels (nearest upsampling). The baseline is the
mask's area fraction: what attention spread evenly over the image would score.

Which object a word refers to: the generated caption is cut into noun phrases (attribute words directly
before a shape word, plus "that is / which is <attribute>" after it); a phrase is matched to the scene
object with that shape and the phrase's colour and size (the leftmost unused one if several); words of
phrases that match no object (wrong shape or colour) are not scored but counted as ``unmatched``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

SHAPE_WORDS = ("circle", "square", "triangle")
COLOUR_WORDS = ("red", "green", "blue", "yellow", "purple")
SIZE_WORDS = ("small", "large")


def noun_phrases(words: list[str]) -> list[dict]:
    """[{"indices": [word positions], "shape": ..., "colour": ... | None, "size": ... | None}]"""
    phrases = []
    for j, word in enumerate(words):
        if word not in SHAPE_WORDS:
            continue
        phrase = {"indices": [j], "shape": word, "colour": None, "size": None}
        k = j - 1
        while k >= 0 and words[k] in COLOUR_WORDS + SIZE_WORDS:
            key = "colour" if words[k] in COLOUR_WORDS else "size"
            phrase[key] = phrase[key] or words[k]
            phrase["indices"].insert(0, k)
            k -= 1
        if words[j + 1: j + 3] in (["that", "is"], ["which", "is"]) and j + 3 < len(words):
            extra = words[j + 3]
            key = "colour" if extra in COLOUR_WORDS else "size" if extra in SIZE_WORDS else None
            if key and phrase[key] is None:
                phrase[key] = extra
                phrase["indices"].append(j + 3)
        phrases.append(phrase)
    return phrases


def mask_cover(mask: torch.Tensor, grid: int) -> torch.Tensor:
    """(S, S) bool mask -> (grid * grid,) fraction of each cell it covers."""
    m = mask.float()[None, None]
    return F.adaptive_avg_pool2d(m, grid).flatten()


def attention_correctness(words: list[str], alphas: torch.Tensor, objects: list[dict], masks: torch.Tensor,
                          grid: int) -> dict:
    """Per-word scores of one caption. alphas (T, grid*grid) for the T words; objects [{"shape", "colour",
    "size", "cx", ...}]; masks (n, S, S) bool -> {"words": [(position, word, object, correctness, area)],
    "unmatched": count of attribute words whose phrase matched no object}."""
    covers = [mask_cover(m, grid) for m in masks]
    areas = [float(m.float().mean()) for m in masks]
    used: set[int] = set()
    scored, unmatched = [], 0
    order = sorted(range(len(objects)), key=lambda i: objects[i]["cx"])
    for phrase in noun_phrases(words):
        candidates = [i for i in order if objects[i]["shape"] == phrase["shape"]
                      and phrase["colour"] in (None, objects[i]["colour"])
                      and phrase["size"] in (None, objects[i]["size"])]
        fresh = [i for i in candidates if i not in used]
        chosen = (fresh or candidates or [None])[0]
        if chosen is None:
            unmatched += len(phrase["indices"])
            continue
        used.add(chosen)
        for position in phrase["indices"]:
            value = float((alphas[position].float() * covers[chosen]).sum())
            scored.append((position, words[position], chosen, value, areas[chosen]))
    return {"words": scored, "unmatched": unmatched}
