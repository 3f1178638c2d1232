"""The DALL-E shapes world: held-out pairs never reach training scenes, captions say what the scene holds (and
parse back), relations are unambiguous, the text encoding's errors, and the hard negatives are wrong."""

from __future__ import annotations

import pytest

from sightsound.data import dalle_shapes as world
from sightsound.errors import UserInputError


def test_training_scenes_never_hold_a_held_out_pair():
    _, scenes = world.make_world(600, 0)
    pairs = {(o.colour, o.shape) for s in scenes for o in s.objects}
    assert not pairs & set(world.HELD_OUT)
    assert len(pairs) == 15 - len(world.HELD_OUT)
    _, test = world.make_world(600, 2, exclude_held_out=False)
    assert {(o.colour, o.shape) for s in test for o in s.objects} & set(world.HELD_OUT)


def test_captions_say_what_the_scene_holds_and_parse_back():
    _, scenes = world.make_world(300, 1)
    for s in scenes:
        objects, rel = world.parse_prompt(s.caption)
        assert sorted(objects) == sorted((o.size, o.colour, o.shape) for o in s.objects)
        if len(s.objects) == 2:
            a = next(o for o in s.objects if (o.size, o.colour, o.shape) == objects[0])
            b = next(o for o in s.objects if o is not a)
            assert world.relation(a, b) == rel
            dx, dy = abs(a.cx - b.cx), abs(a.cy - b.cy)
            assert max(dx, dy) >= 1.3 * min(dx, dy)  # no scene sits on the diagonal
    assert {world.parse_prompt(s.caption)[1] for s in scenes} == set(world.RELATIONS) | {None}


def test_relation_reads_image_coordinates():
    a = world.ShapeObject("circle", "red", "small", 10, 30, 5)
    assert world.relation(a, world.ShapeObject("square", "blue", "small", 40, 32, 5)) == "to the left of"
    assert world.relation(a, world.ShapeObject("square", "blue", "small", 12, 60, 5)) == "above"
    assert world.relation(a, world.ShapeObject("square", "blue", "small", 12, 2, 5)) == "below"


def test_text_encoding_round_trip_and_errors():
    ids = world.encode_text("a small red circle above a large blue square")
    assert ids.shape == (world.TEXT_LENGTH,) and int(ids[0]) == world.BOS
    assert world.decode_text(ids) == "a small red circle above a large blue square"
    with pytest.raises(UserInputError, match="empty"):
        world.encode_text("   ")
    with pytest.raises(UserInputError, match="hexagon, pink"):
        world.encode_text("a pink hexagon")
    with pytest.raises(UserInputError, match="expected"):
        world.parse_prompt("a red circle")


def test_hard_negatives_are_wrong_captions():
    _, scenes = world.make_world(200, 0)
    import numpy as np

    rng = np.random.default_rng(0)
    for s in scenes:
        negative = world.perturb(s, rng)
        assert negative != s.caption
        objects, rel = world.parse_prompt(negative)
        truth, true_rel = world.parse_prompt(s.caption)
        assert (objects, rel) != (truth, true_rel)


def test_a_colour_subset_world():
    config = world.Config(n_train=50, n_val=10, image_size=32, object_scale=0.9, colours=("red", "blue"))
    built = world.build(None, config)
    colours = {o.colour for s in built.train.scenes + built.val.scenes for o in s.objects}
    assert colours <= {"red", "blue"} and len(built.train) == 50
