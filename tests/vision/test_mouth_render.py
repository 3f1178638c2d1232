"""The mouth renderer (vision/mouth_render.py) and the video writer (vision/video.py): every pixel outside the
mouth region stays as it was, the reference's own mouth reproduces the reference, an open mouth darkens the inside
of the lips; an MP4 with sound round-trips its frame count, size and audio length."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sightsound.data.lip_motion import template_mouth
from sightsound.vision.landmarks import denormalise, normalise

pytest.importorskip("cv2")

from sightsound.vision.mouth_render import MouthRenderer  # noqa: E402


def _reference(seed=0):
    """A textured image and 68 landmarks: eyes 60 px apart, a template mouth below them."""
    rng = np.random.default_rng(seed)
    image = rng.integers(60, 200, size=(240, 320, 3)).astype(np.uint8)
    landmarks = torch.zeros(68, 2)
    landmarks[36:42] = torch.tensor([130.0, 100.0])
    landmarks[42:48] = torch.tensor([190.0, 100.0])
    landmarks[48:68] = denormalise(template_mouth(torch.tensor(0.0)), landmarks)
    landmarks[:36] = torch.tensor([160.0, 60.0])
    return image, landmarks.numpy()


def test_frame_outside_the_mouth_region_is_unchanged():
    image, landmarks = _reference()
    renderer = MouthRenderer(image, landmarks)
    shapes = template_mouth(torch.tensor([0.0, 0.1, 0.25]))
    frames = renderer.render(shapes)
    assert frames.shape == (3, 240, 320, 3) and frames.dtype == np.uint8
    ring = denormalise(renderer.ring, torch.from_numpy(landmarks)).numpy()
    import cv2

    region = np.zeros((240, 320), dtype=np.uint8)
    cv2.fillPoly(region, [np.round(ring).astype(np.int32)], 1)
    region = cv2.dilate(region, np.ones((3, 3), np.uint8))      # one pixel of rounding slack at the ring
    outside = region == 0
    for frame in frames:
        assert np.array_equal(frame[outside], image[outside])
    # the open mouths change the region, the widest the most; the inner lip becomes darker
    changed = [int((np.abs(f.astype(int) - image.astype(int)).sum(-1) > 0).sum()) for f in frames]
    assert changed[2] > changed[1] > 0
    centre = np.round(denormalise(template_mouth(torch.tensor(0.25))[12:].mean(0, keepdim=True),
                                  torch.from_numpy(landmarks))[0].numpy()).astype(int)
    below = centre + [0, 3]                                       # below the teeth band, inside the cavity
    assert frames[2][below[1], below[0]].mean() < 80


def test_own_mouth_reproduces_the_reference_closely():
    image, landmarks = _reference(1)
    renderer = MouthRenderer(image, landmarks)
    own = normalise(torch.from_numpy(landmarks[48:68]), torch.from_numpy(landmarks))
    frame = renderer.render(own[None])[0]
    assert np.abs(frame.astype(int) - image.astype(int)).mean() < 0.5


def test_rest_mouth_means_displacement_for_another_face():
    image, landmarks = _reference(2)
    rest = template_mouth(torch.tensor(0.05))
    renderer = MouthRenderer(image, landmarks, rest=rest)
    moved = renderer.target_pixels(rest)[:20]                     # the rest shape: no displacement
    assert np.allclose(moved, landmarks[48:68], atol=1e-3)


def test_bad_inputs():
    from sightsound.errors import UserInputError

    image, landmarks = _reference()
    with pytest.raises(UserInputError):
        MouthRenderer(image[..., 0], landmarks)
    with pytest.raises(UserInputError):
        MouthRenderer(image, landmarks).render(torch.zeros(3, 19, 2))


def test_video_round_trip(tmp_path):
    pytest.importorskip("av")
    from sightsound.errors import UserInputError
    from sightsound.vision.video import read_rgb_frames, video_info, write_video

    frames = np.zeros((20, 65, 81, 3), dtype=np.uint8)            # odd sizes: cut to even for H.264
    frames[:, :, :40] = 200
    audio = 0.3 * np.sin(np.arange(12800) * 2 * np.pi * 440 / 16000)
    path = write_video(tmp_path / "v.mp4", frames, 25.0, audio, 16000)
    info = video_info(path)
    assert info["frames"] == 20 and (info["width"], info["height"]) == (80, 64) and info["fps"] == 25.0
    assert info["audio_seconds"] == pytest.approx(0.8, abs=0.07)
    back, fps = read_rgb_frames(path)
    assert back.shape == (20, 64, 80, 3) and fps == pytest.approx(25.0)
    assert abs(int(back[5, 30, 10, 0]) - 200) < 12 and int(back[5, 30, 70, 0]) < 12
    with pytest.raises(UserInputError, match="exists"):
        write_video(path, frames, 25.0)
    assert not list(tmp_path.glob(".v.*"))                          # no temporary file left behind
