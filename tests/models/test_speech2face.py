"""Speech2Face: Eq. (1) against hand-computed values, gradients reach the voice side only, the decoder's shape
and range, and the retrieval metric on hand-made cases."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
from torch import nn

from sightsound.errors import ParameterError
from sightsound.models.speech2face import (
    Speech2Face,
    Speech2FaceConfig,
    distillation,
    recall_in_groups,
    speech2face_loss,
)


def _layers():
    first = nn.Linear(2, 2)
    classifier = nn.Linear(2, 3)
    with torch.no_grad():
        first.weight.copy_(torch.tensor([[1.0, 2.0], [0.0, -1.0]]))
        first.bias.copy_(torch.tensor([0.5, 0.0]))
        classifier.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
        classifier.bias.zero_()
    return first, classifier


def test_loss_matches_a_hand_computed_case():
    first, classifier = _layers()
    v_f, v_s = torch.tensor([[3.0, 4.0]]), torch.tensor([[1.0, 0.0]])
    # f_dec: v_f -> (3 + 8 + .5, -4) = (11.5, -4); v_s -> (1.5, 0): L1 mean = (10 + 4) / 2 = 7
    decoder = 7.0
    # normalised: (0.6, 0.8) vs (1, 0): squared distance 0.16 + 0.64 = 0.8
    feature = 0.8
    # logits: teacher (3, 4, 7), student (1, 0, 1), both / T = 2
    t = torch.tensor([1.5, 2.0, 3.5]).softmax(0)
    s_log = torch.tensor([0.5, 0.0, 0.5]).log_softmax(0)
    distill = float((t * (t.log() - s_log)).sum())
    terms = speech2face_loss(v_f, v_s, first, classifier, 0.025, 200.0, 2.0)
    assert float(terms["decoder"]) == pytest.approx(decoder)
    assert float(terms["feature"]) == pytest.approx(feature, abs=1e-6)
    assert float(terms["distill"]) == pytest.approx(distill, abs=1e-6)
    assert float(terms["loss"]) == pytest.approx(decoder + 0.025 * feature + 200.0 * distill, rel=1e-6)


def test_distillation_is_zero_for_equal_logits_and_positive_otherwise():
    logits = torch.randn(4, 6)
    assert float(distillation(logits, logits, 2.0)) == pytest.approx(0.0, abs=1e-6)
    assert float(distillation(logits, logits.flip(1), 2.0)) > 0.01


def test_gradients_reach_the_voice_features_only():
    first, classifier = _layers()
    v_f = torch.randn(5, 2, requires_grad=True)
    v_s = torch.randn(5, 2, requires_grad=True)
    speech2face_loss(v_f, v_s, first, classifier, 0.025, 200.0, 2.0)["loss"].backward()
    assert v_s.grad is not None and v_s.grad.abs().sum() > 0
    assert v_f.grad is None and first.weight.grad is None and classifier.weight.grad is None


def _tiny() -> Speech2Face:
    return Speech2Face(dataclasses.replace(Speech2FaceConfig.tiny(), identities=5))


def test_decoder_draws_faces_of_the_configured_size_in_the_unit_range():
    model = _tiny().eval()
    with torch.no_grad():
        faces = model.draw(torch.randn(3, model.config.feature_dim) * 10)
    assert faces.shape == (3, 1, 32, 32)
    assert float(faces.min()) >= 0.0 and float(faces.max()) <= 1.0
    features = model.face_feature(torch.rand(3, 1, 32, 32))
    assert features.shape == (3, model.config.feature_dim)
    assert model.voice_feature(torch.randn(2, 8000)).shape == (2, model.config.feature_dim)


def test_the_training_loss_trains_each_part_on_its_own_term():
    model = _tiny()
    batch = {"photo": torch.rand(4, 1, 32, 32), "canonical": torch.rand(4, 1, 32, 32),
             "identity": torch.tensor([0, 1, 2, 3]), "wave": torch.randn(4, 8000),
             "has_voice": torch.tensor([True, True, False, False])}
    loss, metrics = model.loss(batch)
    loss.backward()
    assert {"identity", "decoder_l1", "voice_loss", "voice_distill"} <= set(metrics)
    assert all(p.grad is not None for p in model.voice_encoder.parameters() if p.requires_grad)
    # the decoder learns from its L1 term only, never from the voice loss: its first layer's gradient equals
    # the gradient of the L1 term alone
    l1_only = torch.nn.functional.l1_loss(model.decoder(model.face_encoder(batch["photo"]).detach()),
                                          batch["canonical"])
    grad = torch.autograd.grad(l1_only, model.decoder.first.weight)[0]
    assert torch.allclose(model.decoder.first.weight.grad, grad, atol=1e-6)


def test_voiceless_batches_skip_the_voice_loss():
    model = _tiny()
    batch = {"photo": torch.rand(2, 1, 32, 32), "canonical": torch.rand(2, 1, 32, 32),
             "identity": torch.tensor([0, 1]), "wave": torch.zeros(2, 8000), "has_voice": torch.tensor([False, False])}
    _, metrics = model.loss(batch)
    assert "voice_loss" not in metrics


def test_recall_in_groups_on_hand_made_cases():
    faces = torch.eye(20)
    assert recall_in_groups(faces, faces, 10, 1) == 1.0
    assert recall_in_groups(-faces, faces, 10, 1) == 0.0          # ties and worse count against the query
    shuffled = faces[torch.randperm(20, generator=torch.Generator().manual_seed(0))]
    wrong = recall_in_groups(shuffled + 0.01 * torch.randn(20, 20), faces, 10, 5, rounds=50)
    assert wrong < 0.8


def test_config_checks():
    with pytest.raises(ParameterError):
        Speech2FaceConfig(face_size=40)
    with pytest.raises(ParameterError):
        Speech2Face(Speech2FaceConfig.tiny())  # identities unset
    assert math.isclose(Speech2FaceConfig().clip_samples, 40000)
