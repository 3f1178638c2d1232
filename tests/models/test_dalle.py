"""DALL-E: the dVAE's shapes and token range; the transformer's incremental decoding equals its full forward
pass; cached and recomputed sampling draw the same tokens; the text/image loss weighting against a hand-computed
case; each training stage gives gradients to its own part only; the re-ranker's contrastive loss."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
import torch.nn.functional as F

from sightsound.attention.layers import KVCache
from sightsound.data import dalle_shapes as world
from sightsound.errors import ParameterError
from sightsound.models.dalle import DALLE, DALLEConfig, dalle_loss
from sightsound.models.dvae import DiscreteVAE, DVAEConfig


def _model(stage="prior", **changes):
    torch.manual_seed(0)
    return DALLE(dataclasses.replace(DALLEConfig.tiny(), stage=stage, **changes))


def test_dvae_encode_decode_shapes_and_token_range():
    dvae = DiscreteVAE(DVAEConfig(image_size=32, downsample=8, channels=8, codebook_size=16, codebook_dim=8))
    images = torch.rand(3, 3, 32, 32)
    tokens = dvae.encode(images)
    dvae.requires_grad_(False)
    assert tokens.shape == (3, 4, 4) and tokens.dtype == torch.int64
    assert int(tokens.min()) >= 0 and int(tokens.max()) < 16
    decoded = dvae.decode(tokens)
    assert decoded.shape == (3, 3, 32, 32) and float(decoded.min()) >= 0 and float(decoded.max()) <= 1
    # the soft path at a one-hot input equals the token path
    onehot = F.one_hot(tokens, 16).permute(0, 3, 1, 2).float()
    torch.testing.assert_close(dvae.decode_onehot(onehot), decoded)


def test_dvae_schedules_follow_the_paper():
    c = DVAEConfig(tau_steps=100, kl_weight=6.6, kl_warmup=10)
    assert c.tau(0) == pytest.approx(1.0) and c.tau(100) == pytest.approx(1 / 16) and c.tau(10_000) == pytest.approx(1 / 16)
    assert c.tau(50) == pytest.approx(0.25)  # exponential: halfway in log space
    assert c.beta(0) == 0.0 and c.beta(5) == pytest.approx(3.3) and c.beta(99) == pytest.approx(6.6)
    with pytest.raises(ParameterError):
        DVAEConfig(downsample=6)


def test_dvae_reconstruction_term_is_the_configured_one():
    images = torch.rand(2, 3, 32, 32)
    for name, reference in (("mse", F.mse_loss), ("l1", F.l1_loss)):
        torch.manual_seed(0)
        dvae = DiscreteVAE(DVAEConfig(image_size=32, channels=8, codebook_size=16, codebook_dim=8, tau_steps=10,
                                      recon_loss=name))
        with torch.no_grad():
            loss, terms = dvae.loss(images, step=10)  # the polish phase: the hard tokens' reconstruction alone
            recon = dvae.decode(dvae.encode(images))
        assert float(loss) == pytest.approx(float(reference(recon, images)), rel=1e-5)
        assert float(terms["mse"]) == pytest.approx(float(F.mse_loss(recon, images)), rel=1e-5)
    with pytest.raises(ParameterError, match="recon_loss"):
        DVAEConfig(recon_loss="huber")


def test_dalle_loss_weighting_matches_a_hand_computed_case():
    # text: one position, logits (0, 0) -> CE = log 2; image: two positions of 4 codes
    text_logits, text_targets = torch.zeros(1, 1, 2), torch.tensor([[1]])
    image_logits = torch.tensor([[[math.log(3.0), 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]])
    image_targets = torch.tensor([[0, 2]])
    # image CE: position 0: -log(3/6) = log 2; position 1: log 4; mean = (log 2 + log 4) / 2 = 1.5 log 2
    terms = dalle_loss(text_logits, text_targets, image_logits, image_targets, text_weight=1 / 8)
    assert float(terms["text_ce"]) == pytest.approx(math.log(2))
    assert float(terms["image_ce"]) == pytest.approx(1.5 * math.log(2))
    assert float(terms["loss"]) == pytest.approx(math.log(2) / 8 + 7 / 8 * 1.5 * math.log(2))


def test_incremental_decoding_equals_the_full_forward_pass():
    model = _model().eval()
    text = torch.stack([world.encode_text("a large red circle"), world.encode_text("a small blue square above "
                                                                                    "a large red circle")])
    N = model.config.image_tokens
    image = torch.randint(0, model.config.codebook_size, (2, N))
    with torch.no_grad():
        _, full = model(text, image)                                     # (2, N, K) teacher-forced
        heads, width = model.config.n_head, model.config.n_embd
        fresh = [KVCache(2, heads, width // heads, 8, model.text_pos) for _ in model.blocks]  # small: it grows
        h, caches = model.run_blocks(model.embed(text, None), fresh)
        steps = [model.image_head(h[:, -1])]
        for j in range(N - 1):
            h, caches = model.run_blocks(model.embed(None, image[:, j:j + 1], image_start=j), caches)
            steps.append(model.image_head(h[:, -1]))
    torch.testing.assert_close(torch.stack(steps, dim=1), full, atol=1e-5, rtol=0)


def test_cached_and_recomputed_sampling_draw_the_same_tokens():
    model = _model().eval()
    text = world.encode_text("a small red triangle")[None].expand(3, -1)
    a = model.sample(text, top_k=8, generator=torch.Generator().manual_seed(3))
    b = model.sample(text, top_k=8, generator=torch.Generator().manual_seed(3), use_cache=False)
    assert a.shape == (3, model.config.image_tokens)
    assert torch.equal(a, b)
    images, tokens = model.draw(text, temperature=0.0)
    assert images.shape == (3, 3, 32, 32) and tokens.shape == (3, 4, 4)


@pytest.mark.parametrize("stage,part", [("dvae", "dvae"), ("prior", "blocks"), ("rerank", "reranker")])
def test_each_stage_trains_its_own_part_only(stage, part):
    model = _model(stage).train()
    images, scenes = world.make_world(6, 0, 32, object_scale=0.9)
    data = world.ShapeScenes(images, scenes, 0)
    batch = {k: torch.stack([data[i][k] for i in range(6)]) for k in data[0]}
    loss, _ = model.loss(batch)
    loss.backward()
    with_grad = {name.split(".")[0] for name, p in model.named_parameters() if p.grad is not None}
    assert with_grad == ({"blocks", "text_emb", "image_emb", "text_pos", "row_pos", "col_pos", "ln_f", "text_head",
                          "image_head"} if stage == "prior" else {part})
    assert all(p.grad is None for name, p in model.named_parameters() if not p.requires_grad)


def test_the_reranker_prefers_a_matching_caption_after_a_few_steps():
    torch.manual_seed(0)
    model = _model("rerank").train()
    images, scenes = world.make_world(64, 0, 32, object_scale=0.9, two_fraction=0.0)
    data = world.ShapeScenes(images, scenes, 0)
    batch = {k: torch.stack([data[i][k] for i in range(64)]) for k in data[0]}
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], 1e-2)
    first = None
    for _ in range(60):
        loss, metrics = model.loss(batch)
        first = float(loss.detach()) if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss.detach()) < 0.5 * first
    model.eval()
    with torch.no_grad():
        right = model.reranker.score(batch["image"].float() / 255, batch["text"])
        wrong = model.reranker.score(batch["image"].float() / 255, batch["negative"])
    assert float((right > wrong).float().mean()) > 0.8


def test_the_config_matches_the_vocabulary():
    assert DALLEConfig().text_vocab == len(world.VOCAB) and DALLEConfig().text_length == world.TEXT_LENGTH
