"""Tacotron 2's free-running decoder loop as one compiled call (numba): inference without per-operation overhead.

A decoder step of the cpu-preset model is about fifty small torch operations (two LSTM cells, a prenet, the
location-sensitive attention over a few dozen symbols, the frame and stop projections, the stopping rule);
at batch 1 their dispatch costs as much as their arithmetic, and a step must take well under the 10 ms of
audio it makes. Here the whole loop — every step until every sentence has stopped — is one compiled call
making eight matrix products a step at batch 1 (BLAS; location and context per sentence): each LSTM reads its inputs and its state as one concatenated row
against its stacked weights, the frame and stop projections are one product. At batch 1 the step is bound by
reading the LSTM weights from memory. The maths is :meth:`Tacotron2._step` at inference (Shen et al. 2018, Sec. 2.2-2.3;
``models/tacotron2.py`` draws it):

    p = relu(W2 (relu(W1 prev) * m1)) * m2                 prenet, dropout masks m drawn by torch beforehand
    (h_a, c_a) = LSTM_a([p; context], (h_a, c_a)),  then zoneout's expectation  z old + (1 - z) new
    f = U * [alpha; alpha_cum]  (conv, kernel 31)          location features (Chorowski et al. 2015, Eq. 8)
    e_l = v . tanh(W_q h_a + V h_l + W_f f_l);  alpha = softmax over the sentence's symbols;  context = alpha H
    (h_d, c_d) = LSTM_d([h_a; context], (h_d, c_d)),  zoneout's expectation
    frames = W_o [h_d; context] + b_o;  gate = w_g [h_d; context] + b_g;  the last frame is fed back
    stop once sigmoid(gate) > threshold, or the attention peak sat on the end symbol for ``patience`` steps

float32, CPU only; the postnet runs in torch afterwards.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from sightsound.jit import compiled, numba_available, torch_threads  # noqa: F401  (torch_threads: for callers)


def _lstm(x, w, bias, c, zoneout, h_out, c_out):
    """LSTM cell (gates i, f, g, o as torch) with zoneout's inference expectation. x (B, In + H): the input
    and the previous h side by side; w (In + H, 4H): [W_ih; W_hh] transposed; bias (4H,) b_ih + b_hh;
    c (B, H). Writes the new h into ``h_out`` (B, H) (a view of the next product's input row) and c into
    ``c_out``."""
    gates = np.dot(x, w) + bias
    H = c.shape[1]
    h_old = x[:, x.shape[1] - H:]
    for b in range(c.shape[0]):
        for u in range(H):
            i = 1.0 / (1.0 + math.exp(-gates[b, u]))
            f = 1.0 / (1.0 + math.exp(-gates[b, H + u]))
            g = math.tanh(gates[b, 2 * H + u])
            o = 1.0 / (1.0 + math.exp(-gates[b, 3 * H + u]))
            cell = f * c[b, u] + i * g
            hidden = o * math.tanh(cell)
            c_out[b, u] = zoneout * c[b, u] + (1.0 - zoneout) * cell
            h_out[b, u] = zoneout * h_old[b, u] + (1.0 - zoneout) * hidden


def _relu_masked(x, mask):
    """relu(x) * mask, elementwise, (B, P)."""
    out = np.empty_like(x)
    for b in range(x.shape[0]):
        for j in range(x.shape[1]):
            out[b, j] = x[b, j] * mask[b, j] if x[b, j] > 0 else 0.0
    return out


def _loop(memory, processed, lengths, masks1, masks2, pre_w1, pre_w2, a_w, a_b, q_w, loc_conv, loc_w, v, d_w, d_b,
          o_w, o_b, n_mels, zoneout, gate_logit, patience):
    """memory (B, L, D), processed (B, L, A), lengths (B,) int64; masks1/2 (K_max, B, P) the prenet's scaled
    dropout masks; weights as ``pack`` lays them out ((in, out) matrices). -> frames (K, B, r M), gates (K, B),
    alphas (K, B, L), steps (B,) int64 (K_max where no stop), done (B,) bool. numba-compilable."""
    B, L, D = memory.shape
    A = processed.shape[2]
    K_max, P = masks1.shape[0], masks2.shape[2]
    H_a, H_d = a_w.shape[1] // 4, d_w.shape[1] // 4
    n_filters, kernel = loc_conv.shape[0], loc_conv.shape[2]
    half = kernel // 2
    dt = memory.dtype
    # the rows the products read: [prenet | context | h_a], [h_a | context | h_d], [h_d | context]
    a_in = np.zeros((B, P + D + H_a), dt)
    d_in = np.zeros((B, H_a + D + H_d), dt)
    o_in = np.zeros((B, H_d + D), dt)
    c_a, c_d = np.zeros((B, H_a), dt), np.zeros((B, H_d), dt)
    h_a_new, h_d_new = np.zeros((B, H_a), dt), np.zeros((B, H_d), dt)
    alpha = np.zeros((B, L), dt)
    alpha_cum = np.zeros((B, L), dt)
    prev = np.zeros((B, n_mels), dt)
    frames = np.zeros((K_max, B, o_b.shape[0] - 1), dt)
    gates = np.zeros((K_max, B), dt)
    alphas = np.zeros((K_max, B, L), dt)
    steps = np.full(B, K_max, np.int64)
    done = np.zeros(B, np.bool_)
    on_end = np.zeros(B, np.int64)
    location = np.zeros((L, n_filters), dt)
    energies = np.zeros(L, dt)
    K = K_max
    for k in range(K_max):
        p = _relu_masked(np.dot(prev, pre_w1), masks1[k])
        a_in[:, :P] = _relu_masked(np.dot(p, pre_w2), masks2[k])
        _lstm(a_in, a_w, a_b, c_a, zoneout, h_a_new, c_a)
        a_in[:, P + D:] = h_a_new
        d_in[:, :H_a] = h_a_new
        query = np.dot(h_a_new, q_w)  # (B, A)
        for b in range(B):
            n = lengths[b]
            for f in range(n_filters):  # location features: conv of [alpha; alpha_cum] with zero padding
                for t in range(L):
                    acc = 0.0
                    for j in range(kernel):
                        s = t + j - half
                        if 0 <= s < L:
                            acc += loc_conv[f, 0, j] * alpha[b, s] + loc_conv[f, 1, j] * alpha_cum[b, s]
                    location[t, f] = acc
            loc = np.dot(location, loc_w)  # (L, A)
            peak = -np.inf
            for t in range(n):
                e = 0.0
                for a in range(A):
                    e += v[a] * math.tanh(processed[b, t, a] + query[b, a] + loc[t, a])
                energies[t] = e
                peak = max(peak, e)
            total = 0.0
            for t in range(n):
                energies[t] = math.exp(energies[t] - peak)
                total += energies[t]
            for t in range(L):
                alpha[b, t] = energies[t] / total if t < n else 0.0
                alpha_cum[b, t] += alpha[b, t]
            context = np.dot(alpha[b], memory[b])  # (D,)
            a_in[b, P:P + D] = context
            d_in[b, H_a:H_a + D] = context
            o_in[b, H_d:] = context
        _lstm(d_in, d_w, d_b, c_d, zoneout, h_d_new, c_d)
        d_in[:, H_a + D:] = h_d_new
        o_in[:, :H_d] = h_d_new
        out = np.dot(o_in, o_w) + o_b  # (B, r M + 1): frames, then the gate
        frames[k] = out[:, :-1]
        gates[k] = out[:, -1]
        alphas[k] = alpha
        prev = np.ascontiguousarray(out[:, -1 - n_mels:-1])
        for b in range(B):
            on_end[b] = on_end[b] + 1 if np.argmax(alpha[b]) == lengths[b] - 1 else 0
            if not done[b] and (out[b, -1] > gate_logit or on_end[b] >= patience):
                steps[b] = k + 1
                done[b] = True
        if done.all():
            K = k + 1
            break
    return frames[:K], gates[:K], alphas[:K], steps, done


def _compiled():
    return compiled(_loop, helpers=("_lstm", "_relu_masked"))


def available(model, symbols: torch.Tensor) -> bool:
    """The compiled loop runs this model: numba installed, CPU float32, a two-layer prenet."""
    first = next(model.parameters())
    return (numba_available() and first.device.type == "cpu" and first.dtype == torch.float32
            and symbols.device.type == "cpu" and len(model.config.prenet_dims) == 2)


def pack(model) -> dict:
    """The weights in the layout ``_loop`` wants: contiguous (in, out) float32 numpy matrices; each LSTM's
    [W_ih; W_hh] stacked (its input is [x; h]) with the biases summed; the stop-token row appended to the frame
    projection."""
    def t(w):
        return np.ascontiguousarray(w.detach().t().numpy())

    def lstm(cell):
        return t(torch.cat([cell.weight_ih, cell.weight_hh], 1)), (cell.bias_ih + cell.bias_hh).detach().numpy()

    with torch.no_grad():
        a_w, a_b = lstm(model.attention_rnn)
        d_w, d_b = lstm(model.decoder_rnn)
        return {
            "pre_w1": t(model.prenet.layers[0].weight), "pre_w2": t(model.prenet.layers[1].weight),
            "a_w": a_w, "a_b": a_b, "q_w": t(model.attention.query_proj.weight),
            "loc_conv": np.ascontiguousarray(model.attention.location_conv.detach().numpy()),
            "loc_w": t(model.attention.location_proj.weight), "v": model.attention.v.detach().numpy(),
            "d_w": d_w, "d_b": d_b,
            "o_w": t(torch.cat([model.frame_proj.weight, model.gate_proj.weight])),  # (H_d + D, r M + 1)
            "o_b": torch.cat([model.frame_proj.bias, model.gate_proj.bias]).detach().numpy(),
        }


def packed(model) -> dict:
    """``pack(model)``, kept on the model until a weight changes (in place or replaced): packing copies every
    matrix, about 20 ms for the cpu preset, as long as decoding a second of speech."""
    key = tuple((p.data_ptr(), p._version) for p in model.parameters())
    cached = getattr(model, "_numba_pack", None)
    if cached is None or cached[0] != key:
        cached = (key, pack(model))
        model._numba_pack = cached
    return cached[1]


def decode(model, memory: torch.Tensor, processed: torch.Tensor, mask: torch.Tensor, lengths: torch.Tensor,
           masks: list[torch.Tensor], gate_threshold: float):
    """The free-running loop of ``Tacotron2.infer`` (``masks``: the prenet's two (K_max, B, P) dropout masks;
    ``mask``, the symbols' padding, is read from ``lengths``)
    -> frames (B, K, r M), gates (B, K), alphas (B, K, L), steps (B,), done (B,) as torch tensors."""
    c = model.config
    p = packed(model)
    t = gate_threshold  # sigmoid(g) > t  <=>  g > logit(t)
    gate_logit = math.inf if t >= 1 else -math.inf if t <= 0 else math.log(t / (1 - t))
    frames, gates, alphas, steps, done = _compiled()(
        memory.detach().contiguous().numpy(), processed.detach().contiguous().numpy(),
        lengths.to(torch.int64).numpy(), masks[0].contiguous().numpy(), masks[1].contiguous().numpy(), p["pre_w1"],
        p["pre_w2"], p["a_w"], p["a_b"], p["q_w"], p["loc_conv"], p["loc_w"], p["v"], p["d_w"], p["d_b"], p["o_w"],
        p["o_b"], c.n_mels, float(c.zoneout), gate_logit, int(c.eos_patience))
    as_torch = torch.from_numpy
    return (as_torch(frames).transpose(0, 1), as_torch(gates).transpose(0, 1), as_torch(alphas).transpose(0, 1),
            as_torch(steps), as_torch(done))
