"""The audio-visual embedding: InfoNCE by hand, shapes and unit norms, the frozen ImageNet blocks, and the
retrieval metrics on hand-made cases."""

from __future__ import annotations

import math

import pytest
import torch

from sightsound.metrics.retrieval import (
    chance_recall,
    confusion_matrix,
    paired_ranks,
    per_class_recall,
    precision_at_k,
    recall_at_k,
)
from sightsound.models.av_embedding import (
    AVEmbedding,
    AVEmbeddingConfig,
    class_info_nce,
    info_nce,
)


def test_info_nce_matches_a_hand_computed_case():
    logits = torch.tensor([[2.0, 0.0], [1.0, 3.0]])
    rows = -(2 - math.log(math.exp(2) + 1)) - (3 - math.log(math.exp(1) + math.exp(3)))
    cols = -(2 - math.log(math.exp(2) + math.exp(1))) - (3 - math.log(1 + math.exp(3)))
    assert float(info_nce(logits)) == pytest.approx(0.5 * (rows / 2 + cols / 2), abs=1e-6)


def test_class_info_nce_matches_a_hand_computed_case():
    sounds = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])  # labels 0, 1, 0
    anchors = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    labels = torch.tensor([0, 1, 0])
    scale = torch.tensor(2.0)
    e2, e0 = math.exp(2), 1.0
    to_text = 3 * -math.log(e2 / (e2 + e0)) / 3
    # class 0's column over the 3 sounds: [2, 0, 2], two positives with weight 1/2 each
    class0 = -0.5 * 2 * (2 - math.log(2 * e2 + e0)) - math.log(2)  # less the target's entropy (a KL divergence)
    class1 = -(2 - math.log(e2 + 2 * e0))  # column [0, 2, 0], one positive
    expected = 0.5 * (to_text + (class0 + class1) / 2)
    assert float(class_info_nce(sounds, anchors, labels, scale)) == pytest.approx(expected, abs=1e-6)


def _tiny(**changes) -> AVEmbedding:
    config = AVEmbeddingConfig.tiny()
    fields = dict(class_names=("a", "b"), class_prompts=("x", "y"), embed_dim=8) | changes
    return AVEmbedding(AVEmbeddingConfig(**{**config.__dict__, **fields}))


def test_embeddings_have_the_documented_shapes_and_unit_norm():
    model = _tiny().eval()
    wave = torch.randn(3, model.config.clip_samples)
    sounds = model.embed_sound(wave)
    images = model.embed_image(torch.randn(5, model.config.image_channels))
    assert sounds.shape == (3, 8) and images.shape == (5, 8)
    assert torch.allclose(sounds.norm(dim=-1), torch.ones(3), atol=1e-5)
    assert torch.allclose(images.norm(dim=-1), torch.ones(5), atol=1e-5)
    assert model.class_logits(sounds).shape == (3, 2)
    picture = model.sound.picture(wave)
    assert picture.min() >= 0 and picture.max() == 1 and picture.shape[1] == model.config.mel_bands
    assert torch.equal(model.sound.picture(torch.zeros(1, 4000)), torch.zeros_like(model.sound.picture(torch.zeros(1, 4000))))


def test_the_loss_trains_both_sides_and_keeps_the_anchors():
    model = _tiny(image_channels=6)
    anchors = torch.nn.functional.normalize(torch.randn(2, 8), dim=-1)
    batch = {"wave": torch.randn(4, model.config.clip_samples), "label": torch.tensor([0, 1, 0, 1]),
             "anchors": anchors, "image": torch.randn(4, 6),
             "text": torch.nn.functional.normalize(torch.randn(4, 8), dim=-1)}
    loss, metrics = model.loss(batch)
    loss.backward()
    assert set(metrics) == {"sound_loss", "image_loss", "accuracy"}
    assert model.image[-1].weight.grad is not None and model.sound.head[-1].weight.grad is not None
    assert model.sound_log_scale.grad is not None and model.image_log_scale.grad is not None
    assert torch.equal(model.class_anchors, anchors)  # a checkpoint classifies on its own
    assert "class_anchors" in model.state_dict()


def test_the_imagenet_blocks_stay_frozen_with_their_statistics():
    pytest.importorskip("efficientnet_lite_pytorch")
    model = AVEmbedding(AVEmbeddingConfig(backbone_blocks=3, class_names=("a",), class_prompts=("x",)))
    model.train()
    assert not any(p.requires_grad for p in model.sound.blocks.parameters())
    assert not any(b.training for b in model.sound.blocks) and not model.sound.stem.training
    assert model.sound.head.training
    before = [b.clone() for b in model.sound.blocks.buffers()]
    model.embed_sound(torch.randn(2, 16000)).sum().backward()
    assert all(torch.equal(a, b) for a, b in zip(before, model.sound.blocks.buffers()))
    tuned = AVEmbedding(AVEmbeddingConfig(backbone_blocks=3, train_blocks=1, class_names=("a",), class_prompts=("x",)))
    assert any(p.requires_grad for p in tuned.sound.blocks[-1].parameters())
    assert not any(p.requires_grad for p in tuned.sound.blocks[0].parameters())


def test_paired_ranks_and_recall_on_a_hand_made_case():
    sim = torch.tensor([[0.9, 0.1, 0.2], [0.8, 0.3, 0.1], [0.0, 0.5, 0.4]])
    ranks = paired_ranks(sim)
    assert ranks.tolist() == [0, 1, 1]
    assert recall_at_k(ranks, (1, 2)) == {"r1": pytest.approx(1 / 3), "r2": 1.0}
    assert paired_ranks(torch.ones(3, 3)).tolist() == [2, 2, 2]  # ties count against the query
    assert chance_recall(100) == {"r1": 0.01, "r5": 0.05, "r10": 0.1}


def test_precision_confusion_and_per_class_recall():
    sim = torch.tensor([[0.9, 0.8, 0.1, 0.0], [0.1, 0.2, 0.3, 0.4]])
    relevant = torch.tensor([[True, False, True, False], [True, True, False, False]])
    assert precision_at_k(sim, relevant, 2).tolist() == [0.5, 0.0]
    confusion = confusion_matrix(torch.tensor([0, 0, 1, 2]), torch.tensor([0, 1, 1, 1]), 3)
    assert confusion.tolist() == [[1, 1, 0], [0, 1, 0], [0, 1, 0]]
    assert per_class_recall(confusion).tolist() == [0.5, 1.0, 0.0]
