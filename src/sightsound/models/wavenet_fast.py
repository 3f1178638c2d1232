"""Fast WaveNet generation (Paine et al. 2016): ring buffers per layer, O(layers) work per sample.

The per-sample recursion, for a batch of B utterances at time t (shapes per item):

    x = w_in * s_{t-1} + b_in                                   (R,)
    for each layer l:  buffer_l[t] = x
                       a = W_l [x_{t-(K-1)d}; ...; x_t] + P_l[t]  (G,)   P = V_l c_t + biases (+ U_l g), precomputed
                       z = tanh(a_f) * sigmoid(a_g)               (G/2,)
                       o = W_out,l z + b_out,l;  x = (x + o_res) / sqrt 2;  skip += o_skip
    logits = W_2 relu(W_1' relu(skip) + b_1) + b_2,   W_1' = W_1 / sqrt(L)
    s_t = sample(logits, uniforms[t])  (or the given sample, for the teacher-forced check)
    with pre-emphasis a, s is the emphasised signal e_t = x_t - a x_{t-1}; the waveform is de-emphasised after

It runs in numba (a compiled loop of small matrix-vector products: no Python per sample) or in torch
(batched matrix products per layer: the fallback, and the path on GPUs). Uniform random numbers are
drawn up front from the caller's generator, so both backends sample the same waveform.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from tqdm.auto import tqdm

from sightsound.audio import functional as AF
from sightsound.errors import ParameterError
from sightsound.jit import compiled, numba_available

BACKENDS = ("auto", "numba", "torch")
MODE_TEACHER, MODE_MULAW, MODE_MOL = 0, 1, 2


# ------------------------------------------------------------------------------------------------
# weights in the layout the recursion wants


def _weights(model) -> dict[str, torch.Tensor]:
    """Parameters rearranged for one step (all contiguous, the model's dtype)."""
    c = model.config
    L, R = c.n_layers, c.residual_channels
    with torch.no_grad():
        return {
            "w_in": model.input.weight.reshape(R).contiguous(),
            "b_in": model.input.bias.contiguous(),
            # tap k of the (G, K*R) weight multiplies x_{t-(K-1-k)d}
            "W_dil": torch.stack([layer.conv.weight for layer in model.layers]).contiguous(),  # (L, G, K*R)
            "b_dil": torch.stack([layer.conv.bias for layer in model.layers]),               # (L, G)
            "V": torch.stack([layer.cond.weight for layer in model.layers]),                  # (L, G, C)
            "W_out": torch.stack([layer.out.weight for layer in model.layers]).contiguous(),  # (L, R+Sk, G/2)
            "b_out": torch.stack([layer.out.bias for layer in model.layers]).contiguous(),    # (L, R+Sk)
            "W1": (model.head1.weight * math.sqrt(1.0 / L)).contiguous(),                     # (Sk, Sk)
            "b1": model.head1.bias.contiguous(),
            "W2": model.head2.weight.contiguous(),                                            # (Q, Sk)
            "b2": model.head2.bias.contiguous(),
        }


def _speaker_terms(model, speaker: torch.Tensor | None, batch: int) -> torch.Tensor | None:
    """U_l g for every layer: (B, L, G) or None."""
    g = model._speaker(speaker, batch)
    if g is None:
        return None
    return torch.stack([layer.speaker(g) for layer in model.layers], dim=1)


def _projected_conditioning(W: dict, cond: torch.Tensor, start: int, stop: int,
                            speaker_terms: torch.Tensor | None) -> torch.Tensor:
    """P_l[t] = V_l c_t + b_l (+ U_l g) for t in [start, stop): cond (B, S, C) -> (n, B, L, G)."""
    P = torch.einsum("lgc,bnc->nblg", W["V"], cond[:, start:stop]) + W["b_dil"]
    if speaker_terms is not None:
        P = P + speaker_terms
    return P.contiguous()


# ------------------------------------------------------------------------------------------------
# the recursion in numba


def _steps_numba(P, prev, uniforms, teacher, mode, w_in, b_in, W_dil, b_out, W_out, dilations, offsets, spans,
                 positions, buffers, W1, b1, W2, b2, values, n_mix, log_scale_min, temperature,
                 samples, logits_out, record):
    """n steps for B items. P (n, B, L, G); prev (B,) last samples (updated); uniforms (n, B, 2);
    teacher (n, B) (MODE_TEACHER); buffers (B, sum spans, R); positions (L,) ring heads (updated);
    values (Q,) mu-law levels; samples (n, B) and logits_out (n, B, Q) are written. numba-compilable."""
    n, B, L, G = P.shape
    R = w_in.shape[0]
    K = W_dil.shape[2] // R
    half = G // 2
    Q = W2.shape[0]
    scale = math.sqrt(0.5)
    one = np.ones(1, dtype=P.dtype)[0]  # scalars of the arrays' dtype: a float64 literal would upcast float32
    zero = one - one
    vec = np.empty(K * R, dtype=P.dtype)
    x = np.empty(R, dtype=P.dtype)
    skip = np.empty(W1.shape[0], dtype=P.dtype)
    for t in range(n):
        for b in range(B):
            for r in range(R):
                x[r] = w_in[r] * prev[b] + b_in[r]
            skip[:] = zero
            for l in range(L):
                span, off, d, p = spans[l], offsets[l], dilations[l], positions[l]
                buffers[b, off + p, :] = x
                for k in range(K):
                    idx = p - (K - 1 - k) * d
                    if idx < 0:
                        idx += span
                    vec[k * R:(k + 1) * R] = buffers[b, off + idx, :]
                a = np.dot(W_dil[l], vec) + P[t, b, l]
                z = np.tanh(a[:half]) / (one + np.exp(-a[half:]))
                o = np.dot(W_out[l], z) + b_out[l]
                for r in range(R):
                    x[r] = (x[r] + o[r]) * scale
                skip += o[R:]
            h = np.maximum(np.dot(W1, np.maximum(skip, zero)) + b1, zero)
            logits = np.dot(W2, h) + b2
            if record:
                logits_out[t, b, :] = logits
            if mode == 0:
                s = teacher[t, b]
            elif mode == 1:
                z_max = np.max(logits) / temperature
                probs = np.exp(logits / temperature - z_max)
                target = uniforms[t, b, 0] * np.sum(probs)
                q, acc = 0, probs[0]
                while acc <= target and q < Q - 1:  # inverse CDF: first class whose cumulative mass > u
                    q += 1
                    acc += probs[q]
                s = values[q]
            else:
                logit_pi = logits[:n_mix]
                probs = np.exp(logit_pi - np.max(logit_pi))
                target = uniforms[t, b, 0] * np.sum(probs)
                m, acc = 0, probs[0]
                while acc <= target and m < n_mix - 1:
                    m += 1
                    acc += probs[m]
                u = min(max(uniforms[t, b, 1], 1e-5), 1.0 - 1e-5)
                log_s = max(logits[2 * n_mix + m], log_scale_min)
                s = logits[n_mix + m] + math.exp(log_s) * temperature * (math.log(u) - math.log(1.0 - u))
                s = min(max(s, -1.0), 1.0)
            prev[b] = s
            samples[t, b] = s
        for l in range(L):
            positions[l] = (positions[l] + 1) % spans[l]


def _numba_steps():
    return compiled(_steps_numba)


# ------------------------------------------------------------------------------------------------
# the recursion in torch


def _sample(logits, u, mode, values, n_mix, log_scale_min, temperature):
    """One sample per row: logits (B, Q), u (B, 2) uniforms -> (B,). Inverse-CDF sampling, as in numba."""
    if mode == MODE_MULAW:
        probs = torch.softmax(logits / temperature, dim=-1)
        q = torch.searchsorted(torch.cumsum(probs, -1), u[:, :1] * probs.sum(-1, keepdim=True),
                               right=True).clamp_max(probs.shape[-1] - 1)[:, 0]
        return values[q]
    probs = torch.softmax(logits[:, :n_mix], dim=-1)
    m = torch.searchsorted(torch.cumsum(probs, -1), u[:, :1] * probs.sum(-1, keepdim=True),
                           right=True).clamp_max(n_mix - 1)  # (B, 1)
    mean = logits[:, n_mix:2 * n_mix].gather(1, m)[:, 0]
    log_s = logits[:, 2 * n_mix:].gather(1, m)[:, 0].clamp_min(log_scale_min)
    v = u[:, 1].clamp(1e-5, 1.0 - 1e-5)
    return (mean + torch.exp(log_s) * temperature * (torch.log(v) - torch.log1p(-v))).clamp(-1.0, 1.0)


def _steps_torch(P, prev, uniforms, teacher, mode, W, dilations, spans, positions, buffers, values, n_mix,
                 log_scale_min, temperature, samples, logits_out, record):
    """The same recursion with batched torch ops; buffers is a list of (B, span_l, R) tensors."""
    n, B, L, G = P.shape
    R = W["w_in"].shape[0]
    K = W["W_dil"].shape[2] // R
    half = G // 2
    W_dil_t = W["W_dil"].transpose(1, 2)  # (L, K*R, G)
    W_out_t = W["W_out"].transpose(1, 2)  # (L, G/2, R+Sk)
    W1_t, W2_t = W["W1"].t(), W["W2"].t()
    scale = math.sqrt(0.5)
    for t in range(n):
        x = torch.addcmul(W["b_in"], prev.unsqueeze(1), W["w_in"])  # (B, R)
        skip = None
        for l in range(L):
            span, d, p = spans[l], dilations[l], positions[l]
            buffers[l][:, p] = x
            idx = [(p - (K - 1 - k) * d) % span for k in range(K)]
            vec = buffers[l][:, idx].reshape(B, K * R)
            a = torch.addmm(P[t, :, l], vec, W_dil_t[l])  # (B, G)
            z = torch.tanh(a[:, :half]) * torch.sigmoid(a[:, half:])
            o = torch.addmm(W["b_out"][l], z, W_out_t[l])  # (B, R+Sk)
            x = (x + o[:, :R]) * scale
            skip = o[:, R:] if skip is None else skip + o[:, R:]
        h = torch.relu(torch.addmm(W["b1"], torch.relu(skip), W1_t))
        logits = torch.addmm(W["b2"], h, W2_t)  # (B, Q)
        if record:
            logits_out[t] = logits
        s = teacher[t] if mode == MODE_TEACHER else _sample(logits, uniforms[t], mode, values, n_mix,
                                                            log_scale_min, temperature)
        prev = s.to(prev.dtype)
        samples[t] = prev
        for l in range(L):
            positions[l] = (positions[l] + 1) % spans[l]
    return prev


# ------------------------------------------------------------------------------------------------
# driver


def _choose_backend(backend: str, device: torch.device) -> str:
    if backend not in BACKENDS:
        raise ParameterError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
    if backend == "auto":
        return "numba" if device.type == "cpu" and numba_available() else "torch"
    if backend == "numba":
        if device.type != "cpu":
            raise ParameterError("the numba backend runs on the CPU; use backend='torch' on a GPU")
        if not numba_available():
            raise ParameterError("backend='numba' needs numba (pip install numba, or sightsound[fast])")
    return backend


def run(model, cond: torch.Tensor, speaker: torch.Tensor | None, *, mode: int, teacher: torch.Tensor | None = None,
        uniforms: torch.Tensor | None = None, temperature: float = 1.0, backend: str = "auto", chunk: int = 4000,
        record: bool = False, progress: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The recursion over cond (B, S, C) -> (samples (B, S), logits (B, S, Q) if record else None)."""
    c = model.config
    B, S, _ = cond.shape
    device, dtype = cond.device, cond.dtype
    backend = _choose_backend(backend, device)
    W = _weights(model)
    W = {k: v.to(dtype) for k, v in W.items()}
    speaker_terms = _speaker_terms(model, speaker, B)
    dilations = c.dilations
    spans = [(c.kernel_size - 1) * d + 1 for d in dilations]
    Q = c.out_channels
    values = AF.mu_law_decode(torch.arange(c.quantization_channels, device=device), c.quantization_channels, dtype=dtype)
    samples = torch.empty(S, B, dtype=dtype, device=device)
    logits = torch.empty(S, B, Q, dtype=dtype, device=device) if record else None
    if uniforms is None:
        uniforms = torch.zeros(B, S, 2, dtype=dtype, device=device)
    uniforms_t = uniforms.to(dtype).transpose(0, 1).contiguous()  # (S, B, 2)
    teacher_t = (teacher.to(dtype).t().contiguous() if teacher is not None
                 else torch.zeros(S, B, dtype=dtype, device=device))
    prev = torch.zeros(B, dtype=dtype, device=device)
    bar = tqdm(total=S, unit="sample", unit_scale=True, desc="WaveNet", disable=not progress, leave=False)
    if backend == "numba":
        steps = _numba_steps()
        np_W = {k: v.detach().cpu().numpy() for k, v in W.items()}
        offsets = np.cumsum([0] + spans[:-1]).astype(np.int64)
        buffers = np.zeros((B, sum(spans), c.residual_channels), dtype=np_W["w_in"].dtype)
        positions = np.zeros(len(spans), dtype=np.int64)
        prev_np = prev.numpy()
        dil_np, spans_np = np.asarray(dilations, dtype=np.int64), np.asarray(spans, dtype=np.int64)
        dummy = np.zeros((1, 1, 1), dtype=prev_np.dtype)
        for start in range(0, S, chunk):
            stop = min(S, start + chunk)
            P = _projected_conditioning(W, cond, start, stop, speaker_terms).numpy()
            out_logits = logits[start:stop].numpy() if record else dummy
            steps(P, prev_np, uniforms_t[start:stop].numpy(), teacher_t[start:stop].numpy(), mode,
                  np_W["w_in"], np_W["b_in"], np_W["W_dil"], np_W["b_out"], np_W["W_out"], dil_np, offsets,
                  spans_np, positions, buffers, np_W["W1"], np_W["b1"], np_W["W2"], np_W["b2"], values.numpy(),
                  c.n_mixtures, float(c.log_scale_min), float(temperature), samples[start:stop].numpy(),
                  out_logits, record)
            bar.update(stop - start)
    else:
        buffers = [torch.zeros(B, span, c.residual_channels, dtype=dtype, device=device) for span in spans]
        positions = [0] * len(spans)
        for start in range(0, S, chunk):
            stop = min(S, start + chunk)
            P = _projected_conditioning(W, cond, start, stop, speaker_terms)
            prev = _steps_torch(P, prev, uniforms_t[start:stop], teacher_t[start:stop], mode, W, dilations, spans,
                                positions, buffers, values, c.n_mixtures, c.log_scale_min, temperature,
                                samples[start:stop], logits[start:stop] if record else None, record)
            bar.update(stop - start)
    bar.close()
    return samples.t().contiguous(), (logits.transpose(0, 1).contiguous() if record else None)


@torch.no_grad()
def teacher_forced_logits(model, wave: torch.Tensor, mel: torch.Tensor, speaker: torch.Tensor | None = None,
                          backend: str = "auto") -> torch.Tensor:
    """Step-by-step logits when every step is fed the true previous sample: must equal ``model(wave, mel)``.
    wave (B, S), mel (B, M, T + 2c) -> (B, S, Q)."""
    cond = model.conditioning(mel)
    teacher = model.input_values(wave)
    _, logits = run(model, cond, speaker, mode=MODE_TEACHER, teacher=teacher, backend=backend, record=True)
    return logits


@torch.no_grad()
def generate(model, mel: torch.Tensor, lengths: torch.Tensor | None = None, speaker: torch.Tensor | None = None, *,
             generator: torch.Generator | None = None, temperature: float = 1.0, backend: str = "auto",
             chunk: int = 4000, progress: bool = False) -> torch.Tensor:
    """Sample waveforms (B, T * hop) for log-mel (B, M, T); see :meth:`WaveNet.generate`."""
    c = model.config
    if mel.ndim == 2:
        mel = mel.unsqueeze(0)
    if mel.ndim != 3 or mel.shape[1] != c.n_mels:
        raise ParameterError(f"mel must be (batch, {c.n_mels}, frames), got {tuple(mel.shape)}")
    if temperature <= 0:
        raise ParameterError(f"temperature must be > 0, got {temperature}")
    B, _, T = mel.shape
    dtype = next(model.parameters()).dtype
    mel = mel.to(dtype)
    cond = model.conditioning(model.pad_context(mel))  # (B, S, C)
    S = cond.shape[1]
    uniforms = torch.rand(B, S, 2, generator=generator, dtype=torch.float64, device=mel.device)
    mode = MODE_MULAW if c.output == "mulaw" else MODE_MOL
    wave, _ = run(model, cond, speaker, mode=mode, uniforms=uniforms, temperature=temperature, backend=backend,
                  chunk=chunk, progress=progress)
    wave = model.output_wave(wave)
    if lengths is not None:
        lengths = torch.as_tensor(lengths, device=wave.device).reshape(B)
        keep = torch.arange(S, device=wave.device)[None] < (lengths[:, None] * c.hop_length)
        wave = wave * keep
    return wave


@torch.no_grad()
def generate_naive(model, mel: torch.Tensor, n_samples: int, *, generator: torch.Generator | None = None,
                   temperature: float = 1.0) -> torch.Tensor:
    """The baseline Fast WaveNet improves on: for every new sample, run the whole network again over
    the last receptive field of samples (O(receptive field) per sample). Same uniforms and sampler as
    :func:`generate`, so both draw the same waveform. mel (B, M, T) -> wave (B, n_samples)."""
    c = model.config
    cond = model.conditioning(model.pad_context(mel.to(next(model.parameters()).dtype)))  # (B, S, C)
    B, S, _ = cond.shape
    if n_samples > S:
        raise ParameterError(f"{n_samples} samples asked, the mel covers {S}")
    uniforms = torch.rand(B, S, 2, generator=generator, dtype=torch.float64, device=cond.device).to(cond.dtype)
    values = AF.mu_law_decode(torch.arange(c.quantization_channels, device=cond.device), c.quantization_channels,
                              dtype=cond.dtype)
    mode = MODE_MULAW if c.output == "mulaw" else MODE_MOL
    field = c.receptive_field
    prev = torch.zeros(B, S + 1, dtype=cond.dtype, device=cond.device)  # prev[:, t] is fed at step t
    for t in range(n_samples):
        lo = max(0, t + 1 - field)
        logits = model.logits_from(prev[:, lo:t + 1], cond[:, lo:t + 1])[:, -1]  # (B, Q)
        prev[:, t + 1] = _sample(logits, uniforms[:, t], mode, values, c.n_mixtures, c.log_scale_min, temperature)
    return model.output_wave(prev[:, 1:n_samples + 1])
