"""Show, Attend and Tell: attention distributions, the doubly stochastic regulariser, greedy vs beam search,
and the tiny recipes' losses going down."""

from __future__ import annotations

import json
import math

import pytest
import torch

from sightsound.models.captioner import (
    Captioner,
    CaptionerConfig,
    caption_losses,
    doubly_stochastic_penalty,
)
from sightsound.models.captioner_search import (
    beam_search,
    decode,
    greedy,
    word_log_probs,
)
from sightsound.training import recipes
from tests.conftest import ROOT


def _model(seed=0, **changes):
    torch.manual_seed(seed)
    config = CaptionerConfig(vocab_size=40, encoder="features", encoder_channels=12, grid=4, embed_dim=16,
                             hidden_dim=20, attention_dim=8, dropout=0.0, max_len=9, **changes)
    model = Captioner(config).eval()
    with torch.no_grad():  # sharper, more varied predictions than the default initialisation
        model.L_o.weight.mul_(6.0)
        model.attention.w.mul_(8.0)
    return model


def _features(batch=3, seed=1):
    return torch.randn(batch, 16, 12, generator=torch.Generator().manual_seed(seed))


def test_alpha_is_a_distribution_at_every_step_and_maps_differ():
    model = _model()
    captions = torch.randint(4, 40, (3, 7), generator=torch.Generator().manual_seed(2))
    captions[:, 0] = 1
    logits, alphas, betas = model(_features(), captions)
    assert logits.shape == (3, 6, 40) and alphas.shape == (3, 6, 16) and betas.shape == (3, 6)
    torch.testing.assert_close(alphas.sum(-1), torch.ones(3, 6))
    assert (alphas >= 0).all() and ((betas > 0) & (betas < 1)).all()
    for cap in greedy(model, _features()):
        torch.testing.assert_close(cap.alphas.sum(-1), torch.ones(len(cap.ids)))
        assert len(cap.ids) >= 2
        assert (cap.alphas[1:] - cap.alphas[:-1]).abs().max() > 1e-3  # each word looks somewhere else


def test_regulariser_on_a_hand_computed_example():
    # 2 steps over 3 locations; the second caption has one padded step
    alphas = torch.tensor([[[0.5, 0.25, 0.25], [0.5, 0.5, 0.0]],
                           [[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]]])
    mask = torch.tensor([[True, True], [True, False]])
    # caption 1: coverage (1.0, 0.75, 0.25) -> 0 + 0.0625 + 0.5625 = 0.625
    # caption 2: coverage (0.2, 0.3, 0.5)   -> 0.64 + 0.49 + 0.25 = 1.38   (summed over locations, not averaged)
    torch.testing.assert_close(doubly_stochastic_penalty(alphas, mask), torch.tensor([0.625, 1.38]))
    logits = torch.zeros(2, 2, 5)  # uniform: each word costs log 5
    targets = torch.tensor([[3, 2], [2, 0]])
    out = caption_losses(logits, alphas, targets, lam=2.0)
    words = 3
    expected = (words * torch.log(torch.tensor(5.0)) + 2.0 * (0.625 + 1.38)) / words
    torch.testing.assert_close(out["loss"], expected)
    torch.testing.assert_close(out["ce"], torch.log(torch.tensor(5.0)))
    # the entropy option: the three valid steps have entropies 1.5 ln 2, ln 2 and H(0.2, 0.3, 0.5)
    h3 = -(0.2 * math.log(0.2) + 0.3 * math.log(0.3) + 0.5 * math.log(0.5))
    sharp = caption_losses(logits, alphas, targets, lam=2.0, eta=0.5)
    torch.testing.assert_close(sharp["attention_entropy"], torch.tensor((2.5 * math.log(2) + h3) / 3))
    torch.testing.assert_close(sharp["loss"], expected + 0.5 * sharp["attention_entropy"])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_beam_of_one_is_greedy_exactly(seed):
    model = _model(seed)
    feats = _features(4, seed + 10)
    greedy_caps = greedy(model, feats)
    for i, g in enumerate(greedy_caps):
        b = beam_search(model, feats[i: i + 1], beam=1)
        assert b.ids == g.ids and b.finished == g.finished
        torch.testing.assert_close(b.alphas, g.alphas)
        assert b.log_prob == pytest.approx(g.log_prob, abs=1e-5)


def test_beam_search_is_at_least_as_likely_as_greedy():
    model = _model(3)
    feats = _features(4, 5)
    for i, g in enumerate(greedy(model, feats)):
        b = beam_search(model, feats[i: i + 1], beam=5)
        if g.finished:
            assert b.log_prob >= g.log_prob - 1e-5
        assert b.alphas.shape == (len(b.ids), 16)


def test_decoding_never_emits_unk_pad_or_start():
    model = _model(6)
    with torch.no_grad():
        model.L_o.bias[[0, 1, 3]] = 50.0  # the model would love to say them
    for beam in (1, 3):
        for cap in decode(model, _features(3), beam=beam):
            assert not {0, 1, 3} & set(cap.ids)


def test_beam_search_returns_without_end():
    model = _model(4)
    with torch.no_grad():
        model.L_o.bias[model.config.end_id] = -1e9  # <end> can never be emitted
    for beam in (1, 3):
        cap = decode(model, _features(2), beam=beam)[0]
        assert not cap.finished and len(cap.ids) == model.config.max_len
        assert cap.alphas.shape == (model.config.max_len, 16)
        assert torch.isfinite(torch.tensor(cap.log_prob))


def test_back_pointers_follow_the_right_parent():
    """Every returned hypothesis must be re-scorable by teacher forcing to its reported log-probability."""
    model = _model(5)
    feats = _features(2, 7)
    for i in range(2):
        cap = beam_search(model, feats[i: i + 1], beam=4)
        ids = [1] + cap.ids + ([2] if cap.finished else [])
        with torch.no_grad():
            logits, alphas, _ = model(feats[i: i + 1], torch.tensor([ids]))
        logp = word_log_probs(model, logits[0]).gather(1, torch.tensor(ids[1:])[:, None]).sum()
        assert float(logp) == pytest.approx(cap.log_prob, abs=1e-4)
        torch.testing.assert_close(alphas[0, : len(cap.ids)], cap.alphas)


def test_small_cnn_config_checks_grid():
    with pytest.raises(ValueError):
        CaptionerConfig(encoder="small_cnn", image_size=112, cnn_channels=(8, 16), grid=14)


def _losses(run):
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return [r["train/ce"] for r in rows if "train/ce" in r]


def test_tiny_shapes_recipe_lowers_the_loss(tmp_path):
    run = tmp_path / "run"
    recipes.run(recipes.resolve(ROOT / "recipes" / "captioner_shapes.py", "tiny"), None, run, progress=False)
    losses = _losses(run)
    assert losses[-1] < 0.7 * losses[0]
    assert (run / "vocab.json").is_file() and (run / "model.safetensors").is_file()


@pytest.mark.slow
def test_tiny_flickr_recipe_lowers_the_loss(tmp_path):
    """The real-photo recipe's code path (EfficientNet-Lite0 features, cache, flips) on a small folder in
    the same layout."""
    pytest.importorskip("efficientnet_lite_pytorch")
    from sightsound.data.shapes import write_shapes

    write_shapes(tmp_path / "photos", 20, seed=5, size=64)
    run = tmp_path / "run"
    resolved = recipes.resolve(ROOT / "recipes" / "captioner_flickr.py", "tiny",
                               ["data.subdir='photos'", f"data.cache_dir='{tmp_path / 'cache'}'", "data.val_every=5"])
    recipes.run(resolved, str(tmp_path), run, progress=False)
    losses = _losses(run)
    assert losses[-1] < 0.8 * losses[0]
    assert len(list((tmp_path / "cache" / "efficientnet-lite0-448").glob("*.safetensors"))) == 20 + 16  # + flips


@pytest.mark.slow
def test_fine_tuning_efficientnet_trains_only_its_last_blocks(tmp_path):
    """encoder="efficientnet_lite0" with fine_tune_blocks: the last blocks, the head and the decoder learn;
    the rest of the pretrained encoder (and its batch-norm statistics) do not move."""
    pytest.importorskip("efficientnet_lite_pytorch")
    from sightsound.data.shapes import write_shapes

    write_shapes(tmp_path / "photos", 10, seed=6, size=64)
    run = tmp_path / "run"
    resolved = recipes.resolve(ROOT / "recipes" / "captioner_flickr.py", "tiny",
                               ["data.subdir='photos'", "data.val_every=5", "data.image_size=64",
                                "data.fine_tune_blocks=2", "train.max_steps=4", "train.eval_every=4"])
    recipes.run(resolved, str(tmp_path), run, progress=False)
    from sightsound.pretrained import load_pretrained

    model = load_pretrained(run)
    assert model.config.encoder == "efficientnet_lite0" and model.config.grid == 2
    fresh = Captioner(model.config)
    moved = {n for n, p in model.state_dict().items() if p.is_floating_point()
             and not torch.equal(p, fresh.state_dict()[n]) and n.startswith("cnn.")}
    last = {f"blocks.{len(model.cnn.blocks) - 2}", f"blocks.{len(model.cnn.blocks) - 1}", "head.0", "head.1"}
    assert moved and all(any(n.startswith(f"cnn.{k}.") for k in last) for n in moved), sorted(moved)[:5]
    assert not any("running_mean" in n for n in moved)


def test_repeated_ngram_words_and_length_normalisation():
    from sightsound.models.captioner_search import (
        length_normalised,
        repeated_ngram_words,
    )

    seq = [5, 6, 7, 5, 6]
    assert repeated_ngram_words(seq, 2) == [7]            # "6 7" would repeat after "... 6"
    assert repeated_ngram_words(seq, 3) == [7]            # "5 6 7" would repeat
    assert repeated_ngram_words(seq, 1) == seq            # no word twice
    assert repeated_ngram_words([1], 3) == []
    assert length_normalised(-6.0, 7, 0.0) == -6.0
    assert length_normalised(-6.0, 7, 1.0) == pytest.approx(-3.0)  # (5 + 7) / 6 = 2


def test_beam_search_blocks_repeated_ngrams():
    """This random model repeats word pairs; with blocking no caption does, and with the options off beam 1 is
    greedy exactly."""
    model, inputs = _model(), _features(batch=8)

    def repeats(ids):
        pairs = list(zip(ids, ids[1:]))
        return len(pairs) != len(set(pairs))

    plain = [beam_search(model, inputs[i:i + 1], beam=3).ids for i in range(8)]
    blocked = [beam_search(model, inputs[i:i + 1], beam=3, no_repeat_ngram=2).ids for i in range(8)]
    assert any(repeats(ids) for ids in plain)
    assert not any(repeats(ids) for ids in blocked)
    for i in range(8):
        assert beam_search(model, inputs[i:i + 1], beam=1).ids == greedy(model, inputs[i:i + 1])[0].ids
