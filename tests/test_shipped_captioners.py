"""The shipped captioners: `shapes` describes new scenes and looks at what it names; `flickr8k-1k` captions
the bundled photo and, on the 100 validation photos of the fixed split, meets the issue's targets."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from sightsound.data.shapes import captions_for, render_scene
from sightsound.metrics.attention import attention_correctness
from sightsound.pretrained import PHOTO_SAMPLES
from sightsound.pretrained.captioner import ImageCaptioner


@pytest.fixture(scope="module")
def shapes():
    return ImageCaptioner.from_pretrained("shapes")


def test_shapes_model_describes_new_scenes_and_attends_to_the_objects(shapes):
    rng = np.random.default_rng(12345)  # scenes no training run drew (those use seeds 0 and 1)
    exact, scores, areas = 0, [], []
    n = 40
    for _ in range(n):
        image, objects, masks = render_scene(rng, 112)
        canonical = captions_for(objects, np.random.default_rng(0))[0]
        result = shapes.caption(torch.from_numpy(image).permute(2, 0, 1).float() / 255, beam=3)
        exact += result.text == canonical
        torch.testing.assert_close(result.maps.flatten(1).sum(-1), torch.ones(len(result.words)))
        scored = attention_correctness(result.words, result.maps.flatten(1), [o.to_json() for o in objects],
                                       torch.from_numpy(masks), shapes.grid)
        scores += [w[3] for w in scored["words"]]
        areas += [w[4] for w in scored["words"]]
    assert exact / n >= 0.25  # measured 0.33: the rest are other grammar paraphrases (BLEU-4 0.915 on 500 scenes)
    # measured 0.84 here (area baseline 0.053); 0.83 on 500 held-out scenes (README; target 0.80)
    assert np.mean(scores) >= 0.75 and np.mean(scores) > 10 * np.mean(areas)


def test_per_word_maps_differ(shapes):
    image, _, _ = render_scene(np.random.default_rng(7), 112)
    result = shapes.caption(torch.from_numpy(image).permute(2, 0, 1).float() / 255)
    flat = result.maps.flatten(1)
    assert (flat[:, None] - flat[None]).abs().sum(-1).max() > 0.5  # some words look at other places


@pytest.fixture(scope="module")
def flickr():
    pytest.importorskip("efficientnet_lite_pytorch")
    return ImageCaptioner.from_pretrained("flickr8k-1k")


def test_flickr_model_captions_the_bundled_photo(flickr):
    result = flickr.caption(PHOTO_SAMPLES[1], beam=3)  # chelsea.jpg
    assert 3 <= len(result.words) <= flickr.model.config.max_len and result.finished
    assert result.maps.shape == (len(result.words), 14, 14)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("java") is None, reason="coco-caption needs Java")
def test_flickr_model_meets_the_targets_on_the_validation_photos(flickr, real_data, tmp_path):
    pytest.importorskip("pycocoevalcap")
    from sightsound.evaluation.captioner import evaluate_captioner

    report = evaluate_captioner(flickr, real_data / "flickr8k-1k", beam=3, images="val", progress=False,
                                meteor=False)
    assert report["images"] == 100
    assert report["scores"]["CIDEr"] >= 0.35 and report["scores"]["BLEU-4"] >= 0.12
