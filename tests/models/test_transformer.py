"""GPT: incremental_equals_parallel (KV cache), generation semantics, sampling, variants."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from sightsound.attention.layers import KVCache
from sightsound.errors import ParameterError
from sightsound.models import gpt_fast
from sightsound.models.gpt import GPT, GPTConfig, sample_next

needs_numba = pytest.mark.skipif(not gpt_fast.numba_available(), reason="numba is not installed")


def model(**kw) -> GPT:
    torch.manual_seed(0)
    return GPT(GPTConfig(**{**dict(vocab_size=50, block_size=512, n_layer=2, n_head=2, n_embd=32), **kw})).eval()


@pytest.mark.parametrize("variant", [dict(), dict(pre_ln=False), dict(position="sinusoidal", tie_weights=False)])
def test_incremental_equals_parallel_over_500_steps(variant):
    gpt = model(**variant)
    idx = torch.randint(0, 50, (2, 500), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        full, _, _ = gpt(idx)
        caches, steps = None, []
        for t in range(500):
            out, _, caches = gpt(idx[:, t : t + 1], caches)
            steps.append(out)
    assert (torch.cat(steps, 1) - full).abs().max() <= 1e-5


@pytest.mark.parametrize("backend", ["torch", pytest.param("numba", marks=needs_numba)])
@pytest.mark.parametrize("variant", [dict(), dict(pre_ln=False), dict(position="sinusoidal", tie_weights=False)])
def test_cached_and_uncached_generation_agree_beyond_the_block(variant, backend):
    gpt = model(block_size=16, **variant)
    prompt = torch.randint(0, 50, (2, 5), generator=torch.Generator().manual_seed(2))
    a = gpt.generate(prompt, 40, temperature=0.8, top_k=10, generator=torch.Generator().manual_seed(3), backend=backend)
    b = gpt.generate(prompt, 40, temperature=0.8, top_k=10, generator=torch.Generator().manual_seed(3), use_cache=False)
    assert a.shape == (2, 45) and torch.equal(a, b)
    # recomputation semantics: greedy continuation equals argmax of the last block_size tokens
    greedy = gpt.generate(prompt, 30, temperature=0)
    for t in range(20, 35):
        window = greedy[:, max(0, t - 16) : t]
        with torch.no_grad():
            expected = gpt(window)[0][:, -1].argmax(-1)
        assert torch.equal(greedy[:, t], expected)


@needs_numba
@pytest.mark.parametrize("variant", [dict(), dict(pre_ln=False, bias=False), dict(position="sinusoidal", tie_weights=False),
                                     dict(dtype=torch.float64)])
def test_compiled_decode_step_equals_the_torch_step(variant):
    """The numba step (whole cached step in one compiled call) == GPT._decode_step <= 1e-5, caches included."""
    dtype = variant.pop("dtype", torch.float32)
    gpt = model(block_size=32, **variant).to(dtype)
    c = gpt.config
    idx = torch.randint(0, 50, (3, 7), generator=torch.Generator().manual_seed(4))

    def prefix():
        caches = [KVCache(3, c.n_head, c.n_embd // c.n_head, 8, gpt.tok_emb.weight) for _ in range(c.n_layer)]
        return gpt(idx, caches)[2]  # capacity 8: the next steps make the buffers grow

    with torch.inference_mode():
        ours, theirs, packed = prefix(), prefix(), gpt_fast.pack(gpt)
        for t in range(5):
            token = torch.randint(0, 50, (3, 1), generator=torch.Generator().manual_seed(10 + t))
            a = gpt_fast.decode_step(gpt, token, ours, packed)
            b = gpt._decode_step(token, theirs)
            assert a.dtype == dtype and (a - b).abs().max() <= 1e-5
        assert [x.length for x in ours] == [12] * c.n_layer
        assert all((x.k - y.k).abs().max() <= 1e-5 and (x.v - y.v).abs().max() <= 1e-5 for x, y in zip(ours, theirs))


def test_generation_backend_is_checked():
    with pytest.raises(ParameterError, match="unknown backend"):
        model().generate(torch.zeros(1, 1, dtype=torch.long), 2, backend="fast")


def test_sampling_controls():
    logits = torch.tensor([[0.0, 3.0, 1.0, 2.0]])
    assert sample_next(logits, temperature=0).item() == 1
    assert all(sample_next(logits, top_k=1, generator=torch.Generator().manual_seed(s)).item() == 1 for s in range(20))
    assert all(sample_next(logits, top_p=0.5, generator=torch.Generator().manual_seed(s)).item() == 1 for s in range(20))
    draws = {sample_next(logits, top_k=2, generator=torch.Generator().manual_seed(s)).item() for s in range(200)}
    assert draws == {1, 3}
    g1, g2 = torch.Generator().manual_seed(7), torch.Generator().manual_seed(7)
    assert torch.equal(sample_next(logits.repeat(5, 1), generator=g1), sample_next(logits.repeat(5, 1), generator=g2))


def test_weight_tying_and_parameter_count():
    gpt = model()
    assert gpt.lm_head.weight is gpt.tok_emb.weight
    c = GPTConfig.cpu()
    assert (c.n_layer, c.n_head, c.n_embd, c.block_size) == (4, 4, 128, 64)
    b = GPTConfig.base()
    assert (b.n_layer, b.n_head, b.n_embd) == (12, 12, 768)


def test_attention_weights_are_causal():
    gpt = model()
    idx = torch.randint(0, 50, (1, 12))
    with torch.no_grad():
        _, weights, _ = gpt(idx, need_weights=True)
    assert len(weights) == 2 and weights[0].shape == (1, 2, 12, 12)
    assert torch.all(torch.triu(weights[1][0, 0], diagonal=1) == 0)


def test_too_long_input_is_a_clear_error():
    from sightsound.errors import ParameterError

    with pytest.raises(ParameterError, match="block size"):
        model(block_size=8)(torch.zeros(1, 9, dtype=torch.long))


def test_gpt1_heads_init_symmetry_and_padding():
    from sightsound.models.gpt_tasks import GPTForTask, GPTTaskConfig

    body = model(vocab_size=20, block_size=16)
    torch.manual_seed(1)
    sim = GPTForTask(GPTTaskConfig(body=body.config, task="similarity", head_dropout=0.0)).eval()
    sim.init_from_state(body.state_dict())
    torch.testing.assert_close(sim.body.tok_emb.weight[:20], body.tok_emb.weight)
    torch.testing.assert_close(sim.body.blocks[1].mlp.fc.weight, body.blocks[1].mlp.fc.weight)
    s, d, e = sim.start_id, sim.delim_id, sim.extract_id
    a, b = [3, 4, 5], [7, 8]
    ab = torch.tensor([s, *a, d, *b, e, 0, 0, 0])
    ba = torch.tensor([s, *b, d, *a, e, 0, 0, 0])
    lengths = torch.tensor([[8, 8]])
    one = sim(torch.stack([ab, ba]).unsqueeze(0), lengths)
    other = sim(torch.stack([ba, ab]).unsqueeze(0), lengths)
    torch.testing.assert_close(one, other)  # both orders, summed: symmetric in A and B
    # padding after the extract token changes nothing
    padded = torch.stack([torch.cat([ab[:8], torch.tensor([9, 9, 9])]), torch.cat([ba[:8], torch.tensor([9, 9, 9])])])
    torch.testing.assert_close(sim(padded.unsqueeze(0), lengths), one)

    mc = GPTForTask(GPTTaskConfig(body=body.config, task="multiple_choice")).eval()
    ids = torch.randint(0, 20, (2, 4, 10))
    scores = mc(ids, torch.full((2, 4), 10))
    assert scores.shape == (2, 4)
    loss, metrics = mc.loss((ids, torch.full((2, 4), 10), torch.tensor([0, 3])))
    assert torch.isfinite(loss) and {"task_loss", "lm_loss", "accuracy"} <= set(metrics)


def test_shipped_char_lm_loads_and_generates():
    from sightsound.pretrained import load_char_lm

    gpt, vocab = load_char_lm("char-lm-shakespeare")
    out = gpt.generate(vocab.encode("ROMEO:\n").unsqueeze(0), 50, temperature=0.8,
                       generator=torch.Generator().manual_seed(0))
    assert out.shape == (1, 57) and vocab.decode(out[0]).startswith("ROMEO:\n")


def test_shipped_char_lm_validation_loss(real_data):
    """The shipped checkpoint reproduces the README's number on the real validation split."""
    from sightsound.models.gpt import language_model_loss
    from sightsound.pretrained import load_char_lm

    gpt, vocab = load_char_lm("char-lm-shakespeare")
    text = (real_data / "tinyshakespeare" / "input.txt").read_text()
    loss, count = language_model_loss(gpt, vocab.encode(text[int(len(text) * 0.9):]))
    assert count > 100_000 and loss <= 1.88


def test_sampling_frequencies_match_the_distribution():
    """The inverse-CDF sampler draws each token with its softmax probability (and never a masked one)."""
    logits = torch.tensor([[0.0, 1.0, 2.0, -1.0, float("-inf")]]).repeat(20000, 1)
    draws = sample_next(logits, generator=torch.Generator().manual_seed(0)).flatten()
    freq = torch.bincount(draws, minlength=5).double() / len(draws)
    expected = torch.softmax(logits[0].double(), -1)
    assert freq[4] == 0
    assert (freq - expected).abs().max() < 0.01  # 20,000 draws: sd <= 0.0035


def test_gpt1_heads_load_an_untied_body_exactly_and_refuse_what_does_not_fit():
    """The pretrained output layer reaches the body (an untied body into a tied preset used to overwrite the
    embedding with it); a missing tensor or a tying mismatch is a clear error."""
    from sightsound.errors import ParameterError
    from sightsound.models.gpt_tasks import GPTForTask, GPTTaskConfig

    body = model(vocab_size=20, block_size=16, tie_weights=False)
    state = body.state_dict()
    task = GPTForTask(GPTTaskConfig(body=body.config, task="classification"))
    task.init_from_state(state)
    torch.testing.assert_close(task.body.tok_emb.weight[:20], body.tok_emb.weight)
    torch.testing.assert_close(task.body.lm_head.weight[:20], body.lm_head.weight)
    tied = GPTForTask(GPTTaskConfig(body=replace(body.config, tie_weights=True), task="classification"))
    with pytest.raises(ParameterError, match="untied output layer"):
        tied.init_from_state(state)
    with pytest.raises(ParameterError, match="missing: blocks.0.attn.qkv.weight"):
        task.init_from_state({k: v for k, v in state.items() if k != "blocks.0.attn.qkv.weight"})
    assert GPTTaskConfig.cpu().body.tie_weights is False  # the char_lm cpu body it fine-tunes is untied
