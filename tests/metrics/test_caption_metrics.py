"""Caption metrics: coco-caption scores behave (perfect = 1 for BLEU; worse captions score lower), and
attention correctness on a hand-made example."""

from __future__ import annotations

import shutil

import pytest
import torch

from sightsound.metrics.attention import attention_correctness, mask_cover, noun_phrases


def test_noun_phrases_and_trailing_attributes():
    words = "a small red circle to the left of a blue square that is large".split()
    phrases = noun_phrases(words)
    assert [(p["shape"], p["colour"], p["size"], p["indices"]) for p in phrases] == \
        [("circle", "red", "small", [1, 2, 3]), ("square", "blue", "large", [9, 10, 13])]


def test_attention_correctness_by_hand():
    masks = torch.zeros(2, 8, 8, dtype=torch.bool)
    masks[0, :4, :4] = True    # object 0: top-left cell of a 2 x 2 grid
    masks[1, 4:, 6:] = True    # object 1: half of the bottom-right cell
    objects = [{"shape": "circle", "colour": "red", "size": "small", "cx": 2},
               {"shape": "square", "colour": "blue", "size": "large", "cx": 7}]
    torch.testing.assert_close(mask_cover(masks[1], 2), torch.tensor([0.0, 0.0, 0.0, 0.5]))
    words = "a red circle and a green square".split()
    alphas = torch.tensor([[0.25] * 4, [1.0, 0, 0, 0], [0.5, 0.5, 0, 0], [0.25] * 4, [0.25] * 4,
                           [0, 0, 0, 1.0], [0, 0, 0, 1.0]])
    out = attention_correctness(words, alphas, objects, masks, grid=2)
    assert [(w[1], w[2], round(w[3], 3), round(w[4], 3)) for w in out["words"]] == \
        [("red", 0, 1.0, 0.25), ("circle", 0, 0.5, 0.25)]
    assert out["unmatched"] == 2  # "green square": no green square in the scene


@pytest.mark.skipif(shutil.which("java") is None, reason="coco-caption needs Java")
def test_coco_scores():
    pytest.importorskip("pycocoevalcap")
    from sightsound.metrics.captions import coco_scores

    refs = {"1": ["a dog runs on the grass", "a brown dog running in a field"],
            "2": ["two children play in the snow", "kids playing in snow outside"]}
    perfect = coco_scores(refs, {"1": "a dog runs on the grass", "2": "two children play in the snow"}, meteor=False)
    worse = coco_scores(refs, {"1": "a cat sleeps", "2": "a man rides a bike"}, meteor=True)
    assert perfect["BLEU-4"] == pytest.approx(1.0, abs=1e-6) and perfect["BLEU-1"] == pytest.approx(1.0, abs=1e-6)
    assert worse["BLEU-4"] < 0.01 and worse["CIDEr"] < perfect["CIDEr"] and 0 <= worse["METEOR"] < 0.5
