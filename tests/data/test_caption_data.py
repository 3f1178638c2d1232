"""Caption data: PTB-style tokens, the vocabulary, the CSV / Karpathy readers, the fixed split, and the
seeded shapes world (captions follow the grammar, masks match the objects)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sightsound.data.captions import (
    fixed_split,
    read_caption_csv,
    read_caption_folder,
    read_karpathy_json,
)
from sightsound.data.shapes import (
    captions_for,
    make_scenes,
    object_mask,
    write_shapes,
)
from sightsound.errors import UserInputError
from sightsound.text.captions import Vocabulary, tokenize


def test_ptb_style_tokens():
    assert tokenize("A dog's ball, on the GRASS.") == ["a", "dog", "'s", "ball", "on", "the", "grass"]
    assert tokenize("They don't sit!") == ["they", "do", "n't", "sit"]
    assert tokenize("A man in a t-shirt ...") == ["a", "man", "in", "a", "t-shirt"]


def test_vocabulary_min_count_unk_and_round_trip():
    sentences = [["a", "dog", "runs"], ["a", "dog", "sits"], ["a", "cat"]]
    vocab = Vocabulary.build(sentences, min_count=2)
    assert vocab.words == ["<pad>", "<start>", "<end>", "<unk>", "a", "dog"]
    assert vocab.encode(["a", "cat"]) == [1, 4, 3, 2]
    assert vocab.decode([1, 4, 5, 2, 4]) == ["a", "dog"]
    assert vocab.encode(["a"] * 30, max_len=5) == [1] + [4] * 5 + [2]
    assert Vocabulary.from_json(vocab.to_json()).words == vocab.words


def test_csv_reader_handles_commas_header_and_token_files(tmp_path):
    (tmp_path / "c.txt").write_text('image,caption\nx.jpg,"A dog, running ."\nx.jpg,Two dogs\ny.jpg#0,A cat\n')
    assert read_caption_csv(tmp_path / "c.txt") == {"x.jpg": ["A dog, running .", "Two dogs"], "y.jpg": ["A cat"]}
    (tmp_path / "bad.txt").write_text("just one column\n")
    with pytest.raises(UserInputError, match="image,caption"):
        read_caption_csv(tmp_path / "bad.txt")


def test_karpathy_json(tmp_path):
    data = {"images": [{"filename": "a.jpg", "split": "train", "sentences": [{"raw": "A dog .", "tokens": ["a", "dog"]}]},
                       {"filename": "b.jpg", "split": "restval", "sentences": [{"raw": "A cat ."}]},
                       {"filename": "c.jpg", "split": "val", "sentences": [{"raw": "Sky ."}]}]}
    (tmp_path / "images").mkdir()
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        (tmp_path / "images" / name).write_bytes(b"x")
    (tmp_path / "dataset_flickr8k.json").write_text(json.dumps(data))
    captions, splits = read_karpathy_json(tmp_path / "dataset_flickr8k.json")
    assert captions["b.jpg"] == ["A cat ."] and splits["c.jpg"] == "val"
    _, _, folder_splits = read_caption_folder(tmp_path, "dataset_flickr8k.json")
    assert folder_splits == {"a.jpg": "train", "b.jpg": "train", "c.jpg": "val"}
    (tmp_path / "broken.json").write_text("{}")
    with pytest.raises(UserInputError, match="Karpathy"):
        read_karpathy_json(tmp_path / "broken.json")


def test_fixed_split_is_every_eighth_photo():
    names = [f"{i:04d}.jpg" for i in range(800)]
    split = fixed_split(list(reversed(names)))
    val = sorted(n for n, s in split.items() if s == "val")
    assert len(val) == 100 and val[:2] == ["0007.jpg", "0015.jpg"]


def test_real_flickr_split(real_data):
    _, captions, splits = read_caption_folder(real_data / "flickr8k-1k")
    assert len(captions) == 800 and all(len(c) == 5 for c in captions.values())
    assert sum(s == "val" for s in splits.values()) == 100


def test_shapes_world_is_seeded_and_consistent(tmp_path):
    a = make_scenes(20, seed=3)
    b = make_scenes(20, seed=3)
    assert all(np.array_equal(x, y) for x, y in zip(a[0], b[0])) and a[3] == b[3]
    images, objects, masks, captions = a
    for image, objs, mask, caps in zip(images, objects, masks, captions):
        assert image.shape == (112, 112, 3) and 1 <= len(objs) <= 3 and len(caps) == 5 and len(set(caps)) == 5
        assert mask.shape == (len(objs), 112, 112) and not (mask.sum(0) > 1).any()  # no overlaps
        for obj, m in zip(objs, mask):
            colour = image[m].mean(0)
            assert m.sum() > 100 and colour.max() - colour.min() > 80  # a saturated object colour
        leftmost = min(objs, key=lambda o: o.cx)
        assert caps[0].startswith(f"a {leftmost.size} {leftmost.colour} {leftmost.shape}")
    write_shapes(tmp_path, 6, seed=4)
    stored = json.loads((tmp_path / "objects.json").read_text())
    with np.load(tmp_path / "masks.npz") as m:
        for name, objs in stored.items():
            assert m[name].shape[0] == len(objs)
    assert len(read_caption_csv(tmp_path / "captions.txt")) == 6


def test_relations_follow_the_larger_offset():
    from sightsound.data.shapes import ShapeObject

    left = ShapeObject("circle", "red", "small", 20, 50, 10)
    rng = np.random.default_rng(0)
    assert captions_for([left, ShapeObject("square", "blue", "large", 80, 60, 16)], rng)[0] == \
        "a small red circle to the left of a large blue square"
    assert captions_for([left, ShapeObject("square", "blue", "large", 30, 100, 16)], rng)[0] == \
        "a small red circle above a large blue square"
    assert object_mask(left, 112)[50, 20] and not object_mask(left, 112)[50, 40]


def test_object_scale_grows_objects_and_is_checked(tmp_path):
    from sightsound.cli import main

    def mean_area(scale):
        _, _, masks, _ = make_scenes(40, seed=5, object_scale=scale)
        return float(np.mean([m.mean() for scene in masks for m in scene]))

    assert np.array_equal(make_scenes(3, seed=5)[0][0], make_scenes(3, seed=5, object_scale=1.0)[0][0])
    assert mean_area(1.4) > 1.4 * mean_area(1.0)
    with pytest.raises(ValueError, match="object_scale"):
        make_scenes(1, seed=0, object_scale=3.0)
    assert main(["shapes", "--out", str(tmp_path / "big"), "--images", "2", "--object-scale", "9"]) == 2
    assert not (tmp_path / "big").exists()
