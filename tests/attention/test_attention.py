"""reference: attention against torch SDPA and hand computation; masks; layers."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F_nn

from sightsound.attention import functional as AF
from sightsound.attention.layers import LocationSensitiveAttention, MultiHeadAttention, SoftAttention


@pytest.mark.reference
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("L,S", [(7, 7), (1, 9), (4, 10)])
def test_sdpa_matches_torch(causal, L, S):
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 3, n, 8, generator=g, dtype=torch.float64) for n in (L, S, S))
    ours, w = AF.scaled_dot_product_attention(q, k, v, causal=causal, return_weights=True)
    mask = AF.causal_mask(L, S) if causal else None
    ref = F_nn.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    torch.testing.assert_close(ours, ref, rtol=0, atol=1e-12)
    torch.testing.assert_close(w.sum(-1), torch.ones(2, 3, L, dtype=torch.float64))
    # Eq. 1 by hand for one head
    manual = torch.softmax(q[0, 0] @ k[0, 0].T / math.sqrt(8) + (0 if mask is None else (~mask) * -1e30), -1) @ v[0, 0]
    torch.testing.assert_close(ours[0, 0], manual, rtol=0, atol=1e-12)


def test_padding_mask_and_fully_masked_rows():
    q, k, v = torch.randn(2, 1, 3, 4), torch.randn(2, 1, 5, 4), torch.randn(2, 1, 5, 4)
    keep = AF.lengths_to_mask(torch.tensor([5, 2]), 5)  # (B, S)
    out, w = AF.scaled_dot_product_attention(q, k, v, mask=keep[:, None, None, :], return_weights=True)
    assert torch.all(w[1, ..., 2:] == 0)
    none = torch.zeros(2, 1, 3, 5, dtype=torch.bool)
    out, w = AF.scaled_dot_product_attention(q, k, v, mask=none, return_weights=True)
    assert torch.all(out == 0) and torch.all(w == 0)


@pytest.mark.reference
@pytest.mark.parametrize("causal", [False, True])
def test_multihead_sdpa_path_equals_explicit_path_and_cache(causal):
    torch.manual_seed(0)
    mha = MultiHeadAttention(32, 4, causal=causal).eval()
    x = torch.randn(3, 10, 32)
    fast, none, _ = mha(x)
    slow, weights, _ = mha(x, need_weights=True)
    assert none is None and weights.shape == (3, 4, 10, 10)
    torch.testing.assert_close(fast, slow, rtol=0, atol=1e-5)
    if causal:  # token by token with a cache equals the full pass
        cache, outs = None, []
        for t in range(10):
            out, _, cache = mha(x[:, t : t + 1], cache=cache)
            outs.append(out)
        torch.testing.assert_close(torch.cat(outs, 1), fast, rtol=0, atol=1e-5)


def test_soft_attention_step():
    torch.manual_seed(0)
    att = SoftAttention(encoder_dim=16, decoder_dim=8, attention_dim=12)
    features, hidden = torch.randn(2, 196, 16), torch.randn(2, 8)
    context, alpha = att(features, hidden)
    assert context.shape == (2, 16) and alpha.shape == (2, 196)
    torch.testing.assert_close(alpha.sum(-1), torch.ones(2))
    energies = torch.tanh(att.encoder_proj(features) + att.decoder_proj(hidden)[:, None]) @ att.w
    torch.testing.assert_close(context, (torch.softmax(energies, -1)[..., None] * features).sum(1))


def test_location_sensitive_attention_uses_previous_alignment():
    torch.manual_seed(0)
    att = LocationSensitiveAttention(query_dim=10, memory_dim=6, attention_dim=8, n_filters=4, kernel_size=5)
    memory, query = torch.randn(2, 20, 6), torch.randn(2, 10)
    prev = torch.zeros(2, 20)
    prev[:, 3] = 1.0
    other = torch.zeros(2, 20)
    other[:, 15] = 1.0
    c1, a1 = att(query, memory, prev, prev)
    c2, a2 = att(query, memory, other, other)
    assert a1.shape == (2, 20) and not torch.allclose(a1, a2)
    mask = AF.lengths_to_mask(torch.tensor([20, 12]), 20)
    _, a3 = att(query, memory, prev, prev, mask=mask)
    assert torch.all(a3[1, 12:] == 0)


def test_gradcheck_sdpa():
    q, k, v = (torch.randn(1, 2, 3, 4, dtype=torch.float64, requires_grad=True) for _ in range(3))
    assert torch.autograd.gradcheck(lambda a, b, c: AF.scaled_dot_product_attention(a, b, c, causal=True), (q, k, v))
