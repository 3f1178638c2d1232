"""One cached GPT generation step as a compiled loop (numba): the KV-cache path without per-operation overhead.

A cached step of a small GPT is a few dozen tiny operations (a 1 x 128 by 128 x 384 product, a layer norm
of 128 numbers, attention of one query over at most a block of keys): in torch each costs a few
microseconds of dispatch, far more than its arithmetic. Here the whole step — embedding, every block,
the final norm and the output projection — is one compiled call; the matrix-vector products go to BLAS.
The maths is :meth:`sightsound.models.gpt.GPT._decode_step`'s (Radford et al. 2018; pre-LN as GPT-2, post-LN as GPT-1):

    pre-LN:   x += Attn(LN1(x));  x += W2 gelu(W1 LN2(x) + b1) + b2;  logits = W_head LN_f(x)
    post-LN:  x = LN1(x + Attn(x));  x = LN2(x + MLP(x));             logits = W_head x
    Attn(h):  q, k, v = split(W_qkv h + b);  k, v appended to the cache at this position;
              per head a = softmax(q . K^T / sqrt(Dh)) V;  W_proj a + b

Keys and values are written into the torch ``KVCache`` buffers themselves (numpy views of the same
memory), so the torch path can take over at any step. float32 or float64, CPU only.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from sightsound.jit import compiled, numba_available  # noqa: F401  (numba_available: for callers)


def _layer_norm(x, w, b, eps):  # (B, D) -> (B, D), biased variance as torch
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        mean = x[i].mean()
        centred = x[i] - mean
        inv = 1.0 / math.sqrt((centred * centred).mean() + eps)
        out[i] = centred * inv * w + b
    return out


def _step(tokens, pos_vec, emb, ln1, qkv_w, qkv_b, proj_w, proj_b, ln2, fc_w, fc_b, mp_w, mp_b, eps, lnf, lnf_eps,
          head_t, keys, values, length, n_head, pre_ln):
    """tokens (B,) int64; pos_vec (D,); emb (V, D); ln1/ln2 (L, 2, D) weight and bias; qkv_w L x (D, 3D);
    qkv_b (L, 3D); proj_w L x (D, D); fc_w L x (D, 4D); mp_w L x (4D, D); eps (L, 2); lnf (2, D) (pre-LN);
    head_t (D, V); keys/values: tuples of L arrays (B, H, capacity, Dh), position ``length`` is written.
    -> logits (B, V). numba-compilable."""
    B, D = tokens.shape[0], emb.shape[1]
    Dh = D // n_head
    scale = 1.0 / math.sqrt(Dh)
    x = np.empty((B, D), dtype=emb.dtype)
    for i in range(B):
        x[i] = emb[tokens[i]] + pos_vec
    for layer in range(len(qkv_w)):
        h = _layer_norm(x, ln1[layer, 0], ln1[layer, 1], eps[layer, 0]) if pre_ln else x
        qkv = np.dot(h, qkv_w[layer]) + qkv_b[layer]  # (B, 3D)
        K, V = keys[layer], values[layer]
        a = np.empty((B, D), dtype=x.dtype)
        for i in range(B):
            for hd in range(n_head):
                q = qkv[i, hd * Dh:(hd + 1) * Dh]
                K[i, hd, length] = qkv[i, D + hd * Dh: D + (hd + 1) * Dh]
                V[i, hd, length] = qkv[i, 2 * D + hd * Dh: 2 * D + (hd + 1) * Dh]
                scores = np.dot(K[i, hd, : length + 1], q) * scale  # (S,)
                p = np.exp(scores - scores.max())
                p /= p.sum()
                a[i, hd * Dh:(hd + 1) * Dh] = np.dot(p.astype(V.dtype), V[i, hd, : length + 1])
        a = np.dot(a, proj_w[layer]) + proj_b[layer]
        if pre_ln:
            x = x + a
            h = _layer_norm(x, ln2[layer, 0], ln2[layer, 1], eps[layer, 1])
        else:
            x = _layer_norm(x + a, ln1[layer, 0], ln1[layer, 1], eps[layer, 0])
            h = x
        f = np.dot(h, fc_w[layer]) + fc_b[layer]  # (B, 4D)
        for i in range(B):
            for j in range(f.shape[1]):
                f[i, j] = 0.5 * f[i, j] * (1.0 + math.erf(f[i, j] * 0.7071067811865476))  # exact GELU
        m = np.dot(f, mp_w[layer]) + mp_b[layer]
        x = x + m if pre_ln else _layer_norm(x + m, ln2[layer, 0], ln2[layer, 1], eps[layer, 1])
    if pre_ln:
        x = _layer_norm(x, lnf[0], lnf[1], lnf_eps)
    return np.dot(x, head_t)  # (B, V)


def _compiled():
    return compiled(_step, helpers=("_layer_norm",))


def pack(model) -> dict:
    """The model's weights in the layout ``_step`` wants (contiguous numpy, the model's dtype; looked up once
    per generation)."""
    c = model.config
    D = c.n_embd
    blocks = list(model.blocks)
    with torch.no_grad():
        def stack(get):
            return np.ascontiguousarray(torch.stack([get(b) for b in blocks]).numpy())

        def matrices(get):  # a tuple of C-contiguous (in, out) matrices: numba indexes it without copying
            return tuple(np.ascontiguousarray(get(b).numpy()) for b in blocks)

        def bias(p, n):
            return p if p is not None else torch.zeros(n, dtype=model.tok_emb.weight.dtype)

        def norm(ln):  # (2, D): weight and bias
            return torch.stack([ln.weight, bias(ln.bias, D)])

        packed = {
            "emb": model.tok_emb.weight.numpy(),
            "ln1": stack(lambda b: norm(b.ln1)), "ln2": stack(lambda b: norm(b.ln2)),
            "qkv_w": matrices(lambda b: b.attn.qkv.weight.t()), "qkv_b": stack(lambda b: bias(b.attn.qkv.bias, 3 * D)),
            "proj_w": matrices(lambda b: b.attn.proj.weight.t()), "proj_b": stack(lambda b: bias(b.attn.proj.bias, D)),
            "fc_w": matrices(lambda b: b.mlp.fc.weight.t()), "fc_b": stack(lambda b: bias(b.mlp.fc.bias, 4 * D)),
            "mp_w": matrices(lambda b: b.mlp.proj.weight.t()), "mp_b": stack(lambda b: bias(b.mlp.proj.bias, D)),
            "eps": np.array([[b.ln1.eps, b.ln2.eps] for b in blocks]),
            "lnf": (norm(model.ln_f).numpy() if c.pre_ln else np.zeros((2, D), dtype=model.tok_emb.weight.numpy().dtype)),
            "lnf_eps": float(model.ln_f.eps) if c.pre_ln else 0.0,
            "head": np.ascontiguousarray(model.lm_head.weight.t().numpy()),
        }
    return packed


def decode_step(model, tokens: torch.Tensor, caches, packed: dict) -> torch.Tensor:
    """Cached step (B, 1) -> logits (B, V), as ``GPT._decode_step``; appends to the caches in place."""
    c = model.config
    pos = caches[0].length
    pos_vec = (model.pos_emb.weight[pos] if c.position == "learned" else model.pos_table[pos]).detach().numpy()
    for cache in caches:
        cache.reserve(1)
    p = packed
    logits = _compiled()(tokens[:, 0].numpy(), pos_vec, p["emb"], p["ln1"], p["qkv_w"], p["qkv_b"], p["proj_w"],
                         p["proj_b"], p["ln2"], p["fc_w"], p["fc_b"], p["mp_w"], p["mp_b"], p["eps"], p["lnf"],
                         p["lnf_eps"], p["head"], tuple(cache._k.numpy() for cache in caches),
                         tuple(cache._v.numpy() for cache in caches), pos, c.n_head, c.pre_ln)
    for cache in caches:
        cache.length = pos + 1
    return torch.from_numpy(logits)
