"""Lip motion (models/lip_motion.py) and its sync expert (models/sync_expert.py): the face-frame normalisation
round trip, audio-frame alignment (video frame k <-> samples 640k...640k+639 <-> mel frames 4k...4k+3), shapes,
batch consistency, the offset search; and tiny models that learn a synthetic mouth driven by a tone's loudness."""

from __future__ import annotations

import math

import pytest
import torch

from sightsound.data import lip_motion as D
from sightsound.errors import ParameterError, UserInputError
from sightsound.models.lip_motion import (
    LipMotion,
    LipMotionConfig,
    landmark_distance,
    pearson,
)
from sightsound.models.sync_expert import (
    SyncExpert,
    SyncExpertConfig,
    best_offset,
    offset_curve,
)
from sightsound.training import recipes
from sightsound.vision.landmarks import (
    denormalise,
    face_frame,
    mouth_opening,
    normalise,
)


def _face(angle=0.3, scale=57.0, shift=(180.0, 120.0), seed=0) -> torch.Tensor:
    """68 pixel landmarks: eyes at (-0.5, 0) and (0.5, 0) in the face frame, the rest random, then a similarity."""
    g = torch.Generator().manual_seed(seed)
    points = torch.randn(68, 2, generator=g)
    points[36:42] = torch.tensor([-0.5, 0.0]) + 0.05 * torch.randn(6, 2, generator=g)
    points[36:42] -= points[36:42].mean(dim=0) - torch.tensor([-0.5, 0.0])
    points[42:48] = torch.tensor([0.5, 0.0]) + 0.05 * torch.randn(6, 2, generator=g)
    points[42:48] -= points[42:48].mean(dim=0) - torch.tensor([0.5, 0.0])
    rotation = torch.tensor([[math.cos(angle), math.sin(angle)], [-math.sin(angle), math.cos(angle)]])
    return points @ rotation * scale + torch.tensor(shift)


def test_normalisation_round_trip_and_similarity_invariance():
    face = _face()
    points = face[48:68]
    normal = normalise(points, face)
    assert torch.allclose(denormalise(normal, face), points, atol=1e-4)
    origin, rotation, scale = face_frame(face)
    assert float(scale) == pytest.approx(57.0, rel=1e-4)
    assert torch.allclose(rotation @ rotation.T, torch.eye(2), atol=1e-6)
    # the same face moved, turned and scaled: the same normalised shape
    other = _face(angle=-0.7, scale=120.0, shift=(40.0, 300.0))
    assert torch.allclose(normalise(other[48:68], other), normal, atol=1e-4)
    # batched over frames
    both = torch.stack([face, other])
    assert torch.allclose(normalise(both[:, 48:68], both), torch.stack([normal, normal]), atol=1e-4)


def test_mouth_opening_of_the_template_is_the_gap_asked():
    gaps = torch.tensor([0.0, 0.1, 0.3])
    assert torch.allclose(mouth_opening(D.template_mouth(gaps)), gaps, atol=1e-5)


def test_audio_frames_line_up_with_video_frames():
    config = D.Config()
    assert D.mel_per_frame(config) == 4
    wave = torch.zeros(10 * 640)
    k = 6
    wave[640 * k: 640 * (k + 1)] = 0.5 * torch.sin(torch.arange(640) * 2 * math.pi * 1000 / 16000)
    mel = D.clip_mel(wave, 10, config)                               # (80, 40)
    assert mel.shape == (80, 40)
    energy = mel.exp().sum(dim=0)
    loud = set(torch.topk(energy, 4).indices.tolist())
    assert loud <= set(range(4 * k, 4 * k + 5)), loud    # the burst's mel frames (centred: one may spill over)
    # the model's stride-4 convolution maps mel frames 4k..4k+3 to video frame k: a change there moves frame k
    model = LipMotion(LipMotionConfig.tiny()).eval()
    torch.nn.init.normal_(model.out.weight, std=0.1)
    base = model(mel[None])
    bumped = mel.clone()
    bumped[:, 4 * k: 4 * k + 4] += 3.0
    changed = (model(bumped[None]) - base).abs().sum(dim=(2, 3))[0]
    assert int(changed.argmax()) == k


def test_shapes_rest_mouth_and_batch_consistency():
    rest = D.template_mouth(torch.tensor(0.05))
    model = LipMotion(LipMotionConfig.tiny().__class__(**{**LipMotionConfig.tiny().__dict__,
                                                          "rest_mouth": tuple(rest.flatten().tolist())})).eval()
    mel = torch.randn(3, 80, 48)
    out = model(mel)
    assert out.shape == (3, 12, 20, 2)
    assert torch.allclose(out, rest.expand_as(out))              # the output layer starts at zero: the rest mouth
    torch.nn.init.normal_(model.out.weight, std=0.1)
    assert torch.allclose(model(mel)[1:2], model(mel[1:2]), atol=1e-5)
    with pytest.raises(UserInputError):
        model(torch.randn(1, 40, 48))
    with pytest.raises(ParameterError):
        LipMotionConfig(rest_mouth=(0.0,) * 7)


def test_distance_and_correlation_helpers():
    a = torch.zeros(5, 20, 2)
    b = a.clone()
    b[..., 0] += 0.3
    b[..., 1] += 0.4
    assert torch.allclose(landmark_distance(a, b), torch.full((5,), 0.5))
    x = torch.arange(10.0)
    assert float(pearson(x, 2 * x + 1)) == pytest.approx(1.0)
    assert float(pearson(x, -x)) == pytest.approx(-1.0)
    assert float(pearson(x, torch.ones(10))) == 0.0


def test_offset_curve_finds_a_known_shift():
    g = torch.Generator().manual_seed(0)
    audio = torch.nn.functional.normalize(torch.randn(60, 16, generator=g), dim=-1)
    shift = 4
    video = torch.roll(audio, shifts=-shift, dims=0)           # video at t matches audio at t + 4
    offset, confidence = best_offset(offset_curve(video, audio, max_offset=10))
    assert offset == shift and confidence > 0.3
    with pytest.raises(UserInputError):
        offset_curve(video[:8], audio[:8], max_offset=10)


def test_tiny_lip_model_learns_the_tone_mouth(tmp_path):
    resolved = recipes.resolve("recipes/lip_motion_grid.py", "tiny")
    recipes.run(resolved, None, tmp_path / "run", progress=False)
    from sightsound.pretrained import load_pretrained

    model = load_pretrained(tmp_path / "run").eval()
    config = resolved.data_config
    val = D.ToneClips(config, 8, seed=123)                   # clips it never saw
    batch = D.collate([val[i] for i in range(len(val))])
    result = model.evaluate([batch])
    rest = torch.tensor(model.config.rest_mouth).reshape(20, 2)
    mean_distance = float(landmark_distance(rest.expand_as(batch["mouth"]), batch["mouth"]).mean())
    assert result["opening_corr"] > 0.8
    assert result["distance"] < 0.7 * mean_distance


def test_tiny_sync_expert_finds_the_offset_of_tone_clips(tmp_path):
    resolved = recipes.resolve("recipes/sync_expert_grid.py", "tiny")
    recipes.run(resolved, None, tmp_path / "run", progress=False)
    from sightsound.pretrained import load_pretrained

    expert = load_pretrained(tmp_path / "run").eval()
    assert isinstance(expert, SyncExpert)
    val = D.ToneClips(resolved.data_config, 8, seed=321)
    found, shifted = 0, 0
    for item in val:
        mel, crops = item["mel"][None], item["crops"][None]
        found += abs(expert.offsets(mel, crops)[0][0]) <= 1
        shifted += abs(expert.offsets(mel[:, :, 12:], crops[:, :-3])[0][0] + 3) <= 1   # audio advanced 3 frames
    assert found >= 6 and shifted >= 6
    with pytest.raises(UserInputError):
        expert.offsets(item["mel"][None], torch.zeros(1, 40, 9, 9, dtype=torch.uint8))


def test_sync_expert_config_presets():
    assert SyncExpert(SyncExpertConfig.tiny()).config.dim == 16
    assert SyncExpertConfig.paper().mouth_size == (64, 96)
