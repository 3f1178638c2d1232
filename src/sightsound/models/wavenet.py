"""WaveNet: an autoregressive waveform model of dilated causal convolutions (van den Oord et al. 2016),
conditioned on log-mel frames as a vocoder (Shen et al. 2018, Sec. 2.3).

    log-mel (B, M, T+2c) --conv k=2c+1--> (B, C, T) --transposed convs x s1, x s2...--> (B, C, S = T*hop)
    previous samples (B, S) --1x1--> x (B, R, S)
    per layer l (dilation d_l):  a = W_l *_d x + V_l c (+ U_l g)               # Eq. (2), (3)
                                 z = tanh(a_f) * sigmoid(a_g)                     # gated activation
                                 x = (x + W_res z) / sqrt 2,   skip += W_skip z   # residual + skip
    relu -> 1x1 -> relu -> 1x1 -> logits (B, Q, S): 256-class mu-law softmax, or the parameters of a
    mixture of logistics (Salimans et al. 2017; Oord et al. 2018).

Generation is Fast WaveNet (Paine et al. 2016): each layer keeps a ring buffer of its last
``(K-1) d_l + 1`` inputs, so a new sample costs O(layers), not O(receptive field). The conditioning is
projected for every layer once per chunk (``V_l c`` plus biases), and the per-sample loop runs either
in numba (one compiled loop of small matrix-vector products) or in torch (batched ``baddbmm``s);
both are checked against the teacher-forced forward pass. Axis legend: B batch, S samples, T frames,
M mel bands, C conditioning channels, R residual, G gate, K kernel, L layers, Q output channels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F_nn
from torch import nn

from sightsound.audio import functional as AF
from sightsound.audio.presets import get_preset
from sightsound.errors import ParameterError

OUTPUTS = ("mulaw", "mol")


@dataclass(frozen=True)
class WaveNetConfig:
    audio_preset: str = "tts16k"              # the log-mel analysis the vocoder expects: n_mels, hop, rate
    upsample_scales: tuple[int, ...] = (10, 20)  # their product is the preset's hop_length
    cond_channels: int = 80
    cond_context: int = 2                     # mel frames of context on each side (conv kernel 2c+1)
    residual_channels: int = 64
    gate_channels: int = 128                  # the gated activation halves it: z has gate_channels // 2
    skip_channels: int = 64
    kernel_size: int = 3
    n_layers: int = 12
    n_cycles: int = 2                         # dilations 1, 2, ..., 2^(n_layers/n_cycles - 1), repeated
    output: str = "mulaw"                     # "mulaw" (Q-class softmax) or "mol" (mixture of logistics)
    quantization_channels: int = 256
    n_mixtures: int = 10
    log_scale_min: float = -7.0               # lower bound of the logistic log-scales (MoL)
    n_speakers: int = 0                       # > 0: global conditioning on a speaker embedding
    speaker_dim: int = 16
    pre_emphasis: float = 0.0                 # > 0: model e[n] = x[n] - a x[n-1]; generate() de-emphasises

    def __post_init__(self) -> None:
        if self.output not in OUTPUTS:
            raise ParameterError(f"output must be one of {', '.join(OUTPUTS)}, got {self.output!r}")
        if math.prod(self.upsample_scales) != self.hop_length:
            raise ParameterError(f"upsample_scales {self.upsample_scales} multiply to "
                                 f"{math.prod(self.upsample_scales)}, not the hop_length {self.hop_length} of "
                                 f"the audio preset {self.audio_preset!r}")
        if self.n_layers % self.n_cycles:
            raise ParameterError(f"n_layers ({self.n_layers}) must be a multiple of n_cycles ({self.n_cycles})")
        if self.gate_channels % 2:
            raise ParameterError(f"gate_channels must be even, got {self.gate_channels}")
        if self.kernel_size < 2:
            raise ParameterError(f"kernel_size must be >= 2, got {self.kernel_size}")
        if not 0.0 <= self.pre_emphasis < 1.0:
            raise ParameterError(f"pre_emphasis must be in [0, 1), got {self.pre_emphasis}")

    @classmethod
    def tiny(cls) -> "WaveNetConfig":
        return cls(audio_preset="tiny", upsample_scales=(2, 4), cond_channels=8, cond_context=1,
                   residual_channels=8, gate_channels=16, skip_channels=8, kernel_size=2, n_layers=4,
                   n_cycles=2, quantization_channels=64, n_mixtures=3)

    @classmethod
    def cpu(cls) -> "WaveNetConfig":
        return cls()

    @classmethod
    def paper(cls) -> "WaveNetConfig":
        # Shen et al. 2018: 30 layers in 3 cycles, 10-component mixture of logistics; 128/256/128 channels
        return cls(residual_channels=128, gate_channels=256, skip_channels=128, kernel_size=3, n_layers=30,
                   n_cycles=3, output="mol", cond_channels=128)

    # the audio settings belong to the named preset (audio/presets.py); these read them
    @property
    def n_mels(self) -> int:
        return get_preset(self.audio_preset).n_mels

    @property
    def hop_length(self) -> int:
        return get_preset(self.audio_preset).hop_length

    @property
    def sample_rate(self) -> int:
        return get_preset(self.audio_preset).sample_rate

    @property
    def dilations(self) -> list[int]:
        per_cycle = self.n_layers // self.n_cycles
        return [2 ** (i % per_cycle) for i in range(self.n_layers)]

    @property
    def receptive_field(self) -> int:
        """Samples of audio history one output sample sees (the current one is predicted, not seen)."""
        return (self.kernel_size - 1) * sum(self.dilations) + 1

    @property
    def out_channels(self) -> int:
        return self.quantization_channels if self.output == "mulaw" else 3 * self.n_mixtures


class ConditionUpsampler(nn.Module):
    """Log-mel frames -> conditioning at the sample rate: a context convolution over ``2c+1`` frames
    (no padding: the caller supplies ``c`` frames on each side), then one transposed convolution per
    scale (kernel 2s, stride s), LeakyReLU between. (B, M, T + 2c) -> (B, C, T * hop)."""

    def __init__(self, config: WaveNetConfig):
        super().__init__()
        c = config
        self.context = nn.Conv1d(c.n_mels, c.cond_channels, 2 * c.cond_context + 1)
        self.scales = tuple(c.upsample_scales)
        self.ups = nn.ModuleList(nn.ConvTranspose1d(c.cond_channels, c.cond_channels, 2 * s, stride=s)
                                 for s in self.scales)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        h = F_nn.leaky_relu(self.context(mel), 0.4)  # (B, C, T)
        for i, (scale, up) in enumerate(zip(self.scales, self.ups)):
            n = h.shape[-1] * scale
            h = up(h)[..., scale // 2: scale // 2 + n]  # (B, C, n + scale) -> (B, C, n)
            if i < len(self.ups) - 1:
                h = F_nn.leaky_relu(h, 0.4)
        return h


class ResidualLayer(nn.Module):
    """One dilated causal layer, channels last. The dilated convolution is a linear map of the K taps
    ``[x_{t-(K-1)d}; ...; x_{t-d}; x_t]`` (weight (G, K*R)): one GEMM in training, one matrix-vector
    product per sample in generation."""

    def __init__(self, config: WaveNetConfig, dilation: int):
        super().__init__()
        c = config
        self.dilation, self.kernel_size = dilation, c.kernel_size
        self.conv = nn.Linear(c.kernel_size * c.residual_channels, c.gate_channels)
        self.cond = nn.Linear(c.cond_channels, c.gate_channels, bias=False)
        self.speaker = nn.Linear(c.speaker_dim, c.gate_channels, bias=False) if c.n_speakers else None
        # residual and skip 1x1 convolutions as one: rows [:R] residual, [R:] skip
        self.out = nn.Linear(c.gate_channels // 2, c.residual_channels + c.skip_channels)

    def forward(self, x: torch.Tensor, cond: torch.Tensor, speaker: torch.Tensor | None):
        """x (B, S, R), cond (B, S, C), speaker (B, E) or None -> (x (B, S, R), skip (B, S, Sk))."""
        S, R, d = x.shape[1], x.shape[2], self.dilation
        padded = F_nn.pad(x, (0, 0, (self.kernel_size - 1) * d, 0))  # causal: zeros before t = 0
        taps = torch.cat([padded[:, k * d: k * d + S] for k in range(self.kernel_size)], dim=-1)  # (B, S, K*R)
        a = torch.addmm(self.conv.bias, taps.reshape(-1, taps.shape[-1]), self.conv.weight.t()).view(*x.shape[:2], -1)
        a = a + self.cond(cond)  # (B, S, G)
        if self.speaker is not None:
            a = a + self.speaker(speaker).unsqueeze(1)
        filt, gate = a.chunk(2, dim=-1)
        z = torch.tanh(filt) * torch.sigmoid(gate)  # Eq. (2): (B, S, G/2)
        out = self.out(z)
        return (x + out[..., :R]) * math.sqrt(0.5), out[..., R:]


class WaveNet(nn.Module):
    def __init__(self, config: WaveNetConfig):
        super().__init__()
        self.config = c = config
        self.upsampler = ConditionUpsampler(c)
        self.speaker_embedding = nn.Embedding(c.n_speakers, c.speaker_dim) if c.n_speakers else None
        self.input = nn.Linear(1, c.residual_channels)
        self.layers = nn.ModuleList(ResidualLayer(c, d) for d in c.dilations)
        self.head1 = nn.Linear(c.skip_channels, c.skip_channels)
        self.head2 = nn.Linear(c.skip_channels, c.out_channels)

    # ---------------------------------------------------------------- description
    def receptive_field(self) -> tuple[int, float]:
        """(samples, milliseconds) of audio history each prediction sees."""
        n = self.config.receptive_field
        return n, 1000.0 * n / self.config.sample_rate

    def describe(self) -> str:
        n, ms = self.receptive_field()
        c = self.config
        params = sum(p.numel() for p in self.parameters())
        return (f"WaveNet: {c.n_layers} layers (K={c.kernel_size}, dilations up to {max(c.dilations)}), "
                f"{c.residual_channels}/{c.gate_channels}/{c.skip_channels} channels, {c.output} output"
                f"{f' of the pre-emphasised signal (a = {c.pre_emphasis})' if c.pre_emphasis else ''}, "
                f"receptive field {n} samples = {ms:.1f} ms, {params / 1e6:.2f} M parameters")

    # ---------------------------------------------------------------- training
    def modelled(self, wave: torch.Tensor) -> torch.Tensor:
        """The signal the network models (is fed, and predicts): the waveform itself, or with
        ``pre_emphasis`` a its first difference ``e[n] = x[n] - a x[n-1]`` (the sample before a training
        window counts as 0). Generation draws e and de-emphasises it (:meth:`output_wave`), so the noise
        of the draws (mu-law quantisation, sampling) comes out tilted like speech - quiet at high
        frequencies, where speech is quiet - instead of white (as in LPCNet, Valin & Skoglund 2019).
        (B, S) -> (B, S)."""
        a = self.config.pre_emphasis
        return AF.pre_emphasis(wave, a) if a else wave

    def output_wave(self, modelled: torch.Tensor) -> torch.Tensor:
        """Inverse of :meth:`modelled`: drawn samples (B, S) -> waveform (B, S)."""
        a = self.config.pre_emphasis
        return AF.de_emphasis(modelled, a) if a else modelled

    def input_values(self, wave: torch.Tensor) -> torch.Tensor:
        """What the network is fed for a sample of a waveform: the modelled signal mu-law quantised (so
        training sees exactly what generation feeds back), or clipped for the mixture output. (B, S) -> (B, S)."""
        c = self.config
        e = self.modelled(wave)
        if c.output == "mulaw":
            return AF.mu_law_decode(AF.mu_law_encode(e, c.quantization_channels), c.quantization_channels,
                                    dtype=wave.dtype)
        return e.clamp(-1.0, 1.0)

    def conditioning(self, mel: torch.Tensor) -> torch.Tensor:
        """(B, M, T + 2c) -> (B, T * hop, C), channels last."""
        return self.upsampler(mel).transpose(1, 2)

    def forward(self, wave: torch.Tensor, mel: torch.Tensor, speaker: torch.Tensor | None = None) -> torch.Tensor:
        """Teacher-forced logits. wave (B, S) in [-1, 1] with S = T * hop, mel (B, M, T + 2c) log-mel
        (``cond_context`` extra frames each side), speaker (B,) int64 or None -> logits (B, S, Q), where
        ``logits[:, t]`` predicts ``wave[:, t]`` from ``wave[:, :t]``."""
        cond = self.conditioning(mel)  # (B, S, C)
        if cond.shape[1] != wave.shape[-1]:
            raise ParameterError(f"{wave.shape[-1]} samples do not match {mel.shape[-1]} mel frames "
                                 f"(need (frames - {2 * self.config.cond_context}) * {self.config.hop_length})")
        g = self._speaker(speaker, wave.shape[0])
        prev = F_nn.pad(self.input_values(wave), (1, -1))  # shift right: (B, S)
        return self.logits_from(prev, cond, g)

    def logits_from(self, prev: torch.Tensor, cond: torch.Tensor, g: torch.Tensor | None = None) -> torch.Tensor:
        """The network on given inputs: prev (B, S) the previous sample values (as fed back), cond (B, S, C)
        upsampled conditioning, g (B, E) speaker embedding or None -> logits (B, S, Q)."""
        x = self.input(prev.unsqueeze(-1))  # (B, S, R)
        skip = 0.0
        for layer in self.layers:
            x, s = layer(x, cond, g)
            skip = skip + s
        return self._head(skip * math.sqrt(1.0 / len(self.layers)))

    def _speaker(self, speaker: torch.Tensor | None, batch: int) -> torch.Tensor | None:
        if self.speaker_embedding is None:
            return None
        if speaker is None:
            raise ParameterError("this WaveNet is conditioned on a speaker: pass speaker ids")
        return self.speaker_embedding(speaker.reshape(batch))

    def _head(self, skip: torch.Tensor) -> torch.Tensor:
        return self.head2(F_nn.relu(self.head1(F_nn.relu(skip))))

    def nll(self, logits: torch.Tensor, wave: torch.Tensor) -> torch.Tensor:
        """Mean negative log-likelihood per sample (nats). logits (B, S, Q), wave (B, S) -> ()."""
        c = self.config
        wave = self.modelled(wave)
        if c.output == "mulaw":
            target = AF.mu_law_encode(wave, c.quantization_channels)
            return F_nn.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), target.reshape(-1))
        return discretized_mol_nll(logits, wave, c.n_mixtures, c.log_scale_min).mean()

    def loss(self, batch) -> tuple[torch.Tensor, dict[str, float]]:
        wave, mel, speaker = batch
        loss = self.nll(self(wave, mel, speaker), wave)
        return loss, {}

    @torch.no_grad()
    def evaluate(self, batches) -> dict[str, float]:
        total, n = 0.0, 0
        for wave, mel, speaker in batches:
            total += float(self.nll(self(wave, mel, speaker), wave)) * wave.numel()
            n += wave.numel()
        return {"loss": total / max(1, n)}

    # ---------------------------------------------------------------- generation
    @torch.no_grad()
    def generate(self, mel: torch.Tensor, lengths: torch.Tensor | None = None, speaker: torch.Tensor | None = None,
                 *, generator: torch.Generator | None = None, temperature: float = 1.0, backend: str = "auto",
                 chunk: int = 4000, progress: bool = False) -> torch.Tensor:
        """Sample waveforms for log-mel frames. mel (B, M, T) without context (edges are replicated),
        lengths (B,) frames per item (None: all T) -> wave (B, T * hop), zero after each item's
        ``lengths * hop`` samples. Reproducible for a seeded ``generator``; ``backend``: "numba",
        "torch" or "auto" (numba when installed and on CPU)."""
        from sightsound.models import wavenet_fast as gen

        return gen.generate(self, mel, lengths, speaker, generator=generator, temperature=temperature,
                            backend=backend, chunk=chunk, progress=progress)

    def pad_context(self, mel: torch.Tensor) -> torch.Tensor:
        """(B, M, T) -> (B, M, T + 2c) by repeating the edge frames (what ``generate`` feeds the upsampler)."""
        c = self.config.cond_context
        if c == 0:
            return mel
        return torch.cat([mel[..., :1].expand(-1, -1, c), mel, mel[..., -1:].expand(-1, -1, c)], dim=-1)


# ------------------------------------------------------------------------------------------------
# mixture of logistics (Salimans et al. 2017, Eq. 2; 16-bit audio as in Oord et al. 2018)


def mol_parameters(logits: torch.Tensor, n_mixtures: int, log_scale_min: float):
    """(B, S, 3N) -> (logit_pi, mean, log_scale), each (B, S, N)."""
    logit_pi, mean, log_scale = logits.float().split(n_mixtures, dim=-1)
    return logit_pi, mean, torch.clamp(log_scale, min=log_scale_min)


def discretized_mol_nll(logits: torch.Tensor, wave: torch.Tensor, n_mixtures: int, log_scale_min: float,
                        n_bins: int = 65536) -> torch.Tensor:
    """Negative log-likelihood (B, S) of samples in [-1, 1] under a mixture of logistics discretised to
    ``n_bins`` levels; the edge bins take the tails. logits (B, S, 3N), wave (B, S)."""
    logit_pi, mean, log_scale = mol_parameters(logits, n_mixtures, log_scale_min)
    x = wave.clamp(-1.0, 1.0).unsqueeze(-1)  # (B, S, 1)
    centred = x - mean
    inv_s = torch.exp(-log_scale)
    half = 1.0 / (n_bins - 1)
    plus, minus = inv_s * (centred + half), inv_s * (centred - half)
    cdf_plus, cdf_minus = torch.sigmoid(plus), torch.sigmoid(minus)
    log_cdf_plus = plus - F_nn.softplus(plus)            # log sigmoid(plus): the left edge bin
    log_one_minus_cdf_minus = -F_nn.softplus(minus)      # log(1 - sigmoid(minus)): the right edge bin
    mid = inv_s * centred
    log_pdf_mid = mid - log_scale - 2.0 * F_nn.softplus(mid)  # density at the bin centre
    delta = cdf_plus - cdf_minus
    # inner bins: log of the bin's mass, or (when it underflows) density x bin width
    log_inner = torch.where(delta > 1e-5, torch.log(delta.clamp_min(1e-12)), log_pdf_mid - math.log((n_bins - 1) / 2))
    # the edge bins (only they: with 16-bit bins a fixed +-0.999 test would give the tail to dozens of bins)
    log_prob = torch.where(x < -1.0 + half, log_cdf_plus, torch.where(x > 1.0 - half, log_one_minus_cdf_minus, log_inner))
    return -torch.logsumexp(log_prob + F_nn.log_softmax(logit_pi, dim=-1), dim=-1)  # (B, S)
