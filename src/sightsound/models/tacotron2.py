"""Tacotron 2 (Shen et al. 2018): characters (or phonemes) -> log-mel spectrogram, frame by frame, with
location-sensitive attention; a vocoder (WaveNet or Griffin-Lim) makes the waveform.

    symbols (B, L) -> embedding -> 3 x (conv k5, batch norm, ReLU, dropout) -> BiLSTM -> memory (B, L, D)
    for each decoder step k (r frames per step):
        p = prenet(previous frame)                       2 x (linear 256, ReLU, dropout kept at inference)
        s = attention LSTM([p; context])                 (zoneout optional)
        context, alpha = location-sensitive attention(s, memory, alpha_prev, alpha_cumulative)
        d = decoder LSTM([s; context])
        frames = W [d; context] (r x 80),  stop = w [d; context]
    mel_post = mel + postnet(mel)                         5 x (conv k5, batch norm, tanh), residual

Training and inference share ``_step``; training feeds the true previous frame (teacher forcing),
inference its own output. Losses: MSE (or L1, ``mel_loss``) before and after the postnet, stop-token BCE with a positive-class
weight, and optionally the guided-attention loss (Tachibana et al. 2017) that pushes alignments near
the diagonal and an entropy penalty on each step's attention (``attention_entropy_weight``) that makes
them sharper. Axis legend: B batch, L symbols, T mel frames, K decoder steps (T / r), M mel bands.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F_nn
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from sightsound.attention.functional import attention_entropy, lengths_to_mask
from sightsound.attention.layers import LocationSensitiveAttention
from sightsound.audio.presets import get_preset
from sightsound.errors import ParameterError
from sightsound.text.symbols import N_SYMBOLS

MEL_LOSSES = ("mse", "l1", "l1+mse")


@dataclass(frozen=True)
class Tacotron2Config:
    n_symbols: int = N_SYMBOLS
    embedding_dim: int = 512
    encoder_convs: int = 3
    encoder_kernel: int = 5
    encoder_dim: int = 512            # BiLSTM output: encoder_dim // 2 per direction
    dropout: float = 0.5
    attention_dim: int = 128
    location_filters: int = 32
    location_kernel: int = 31
    prenet_dims: tuple[int, ...] = (256, 256)
    prenet_dropout: float = 0.5       # kept on at inference (Shen et al. 2018, Sec. 2.3)
    attention_rnn_dim: int = 1024
    decoder_rnn_dim: int = 1024
    reduction: int = 1                # r: mel frames per decoder step
    postnet_channels: int = 512
    postnet_layers: int = 5
    postnet_kernel: int = 5
    zoneout: float = 0.1
    gate_pos_weight: float = 5.0
    guided_attention_sigma: float = 0.4
    guided_attention_weight: float = 0.0   # > 0 in the small-data presets
    attention_entropy_weight: float = 0.0  # > 0: penalise the entropy of each step's attention (sharper alignments)
    mel_loss: str = "mse"             # frame loss before/after the postnet: "mse" (the paper), "l1" or "l1+mse"
    gate_threshold: float = 0.5
    max_decoder_steps: int = 1000
    eos_patience: int = 3             # attention-based stop: steps with the peak on the end symbol
    phonemes: bool = False
    letter_names: bool = False        # one-letter words are letter names ("a" -> EY1), see text.symbols
    audio_preset: str = "tts16k"

    def __post_init__(self) -> None:
        if self.encoder_dim % 2:
            raise ParameterError(f"encoder_dim must be even (two LSTM directions), got {self.encoder_dim}")
        if self.reduction < 1:
            raise ParameterError(f"reduction must be >= 1, got {self.reduction}")
        if not 0 <= self.zoneout < 1:
            raise ParameterError(f"zoneout must be in [0, 1), got {self.zoneout}")
        if self.attention_entropy_weight < 0:
            raise ParameterError(f"attention_entropy_weight must be >= 0, got {self.attention_entropy_weight}")
        if self.mel_loss not in MEL_LOSSES:
            raise ParameterError(f"mel_loss must be one of {', '.join(MEL_LOSSES)}, got {self.mel_loss!r}")

    @property
    def n_mels(self) -> int:
        """Mel bands of the named audio preset (its one owner)."""
        return get_preset(self.audio_preset).n_mels

    @classmethod
    def tiny(cls) -> "Tacotron2Config":
        return cls(embedding_dim=32, encoder_convs=1, encoder_dim=32, attention_dim=16,
                   location_filters=4, location_kernel=7, prenet_dims=(32, 32), attention_rnn_dim=64,
                   decoder_rnn_dim=64, reduction=2, postnet_channels=32, postnet_layers=2, zoneout=0.0,
                   guided_attention_weight=1.0, max_decoder_steps=200)

    @classmethod
    def cpu(cls) -> "Tacotron2Config":
        # a quarter of the paper's recurrent width: the per-step weight gradients dominate on a CPU
        return cls(embedding_dim=256, encoder_dim=256, prenet_dims=(128, 128), attention_rnn_dim=256,
                   decoder_rnn_dim=512, reduction=2, postnet_channels=256, zoneout=0.1,
                   guided_attention_weight=1.0, max_decoder_steps=500)

    @classmethod
    def paper(cls) -> "Tacotron2Config":
        return cls()


class Encoder(nn.Module):
    def __init__(self, c: Tacotron2Config):
        super().__init__()
        self.embedding = nn.Embedding(c.n_symbols, c.embedding_dim)
        nn.init.uniform_(self.embedding.weight, -math.sqrt(3.0 / c.embedding_dim), math.sqrt(3.0 / c.embedding_dim))
        self.convs = nn.ModuleList(
            nn.Sequential(nn.Conv1d(c.embedding_dim if i == 0 else c.encoder_dim, c.encoder_dim, c.encoder_kernel,
                                    padding=c.encoder_kernel // 2, bias=False),  # no bias before batch norm
                          nn.BatchNorm1d(c.encoder_dim))
            for i in range(c.encoder_convs))
        self.dropout = c.dropout
        self.lstm = nn.LSTM(c.encoder_dim, c.encoder_dim // 2, batch_first=True, bidirectional=True)

    def forward(self, symbols: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """symbols (B, L), lengths (B,) -> memory (B, L, D), zero beyond each length."""
        x = self.embedding(symbols).transpose(1, 2)  # (B, E, L)
        mask = lengths_to_mask(lengths, symbols.shape[1]).unsqueeze(1)  # (B, 1, L)
        for conv in self.convs:
            x = F_nn.dropout(F_nn.relu(conv(x * mask)), self.dropout, self.training)
        packed = pack_padded_sequence(x.transpose(1, 2), lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=symbols.shape[1])
        return out  # (B, L, D)


class Prenet(nn.Module):
    def __init__(self, n_in: int, dims: tuple[int, ...], dropout: float):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(a, b, bias=False) for a, b in zip((n_in,) + tuple(dims[:-1]), dims))
        self.dropout = dropout

    def forward(self, x: torch.Tensor, masks: list[torch.Tensor] | None = None) -> torch.Tensor:
        """(..., M) -> (..., P). Dropout also at inference; ``masks`` (one per layer, scaled keep masks as
        ``draw_masks`` makes them) replaces the draws."""
        for i, layer in enumerate(self.layers):
            x = F_nn.relu(layer(x))
            x = F_nn.dropout(x, self.dropout, training=True) if masks is None else x * masks[i]
        return x

    def draw_masks(self, n_steps: int, batch: int, like: torch.Tensor) -> list[torch.Tensor]:
        """The dropout of ``n_steps`` decoder steps drawn at once: per layer (K, B, P), 0 or 1 / (1 - p)."""
        keep = 1.0 - self.dropout
        return [torch.bernoulli(like.new_full((n_steps, batch, layer.out_features), keep)) / max(keep, 1e-12)
                for layer in self.layers]  # keep = 0 (p = 1): all zero, as F.dropout


class Postnet(nn.Module):
    def __init__(self, c: Tacotron2Config):
        super().__init__()
        dims = [c.n_mels] + [c.postnet_channels] * (c.postnet_layers - 1) + [c.n_mels]
        self.convs = nn.ModuleList(
            nn.Sequential(nn.Conv1d(a, b, c.postnet_kernel, padding=c.postnet_kernel // 2, bias=False), nn.BatchNorm1d(b))
            for a, b in zip(dims[:-1], dims[1:]))
        self.dropout = c.dropout

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        """(B, M, T) -> residual (B, M, T)."""
        x = mel
        for i, conv in enumerate(self.convs):
            x = conv(x)
            if i < len(self.convs) - 1:
                x = torch.tanh(x)
            x = F_nn.dropout(x, self.dropout, self.training)
        return x


def _zoneout(new: torch.Tensor, old: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """Zoneout (Krueger et al. 2017): each unit keeps its previous value with probability p (training);
    the expectation at inference."""
    if p == 0:
        return new
    if training:
        keep = torch.rand_like(new) < p
        return torch.where(keep, old, new)
    return p * old + (1 - p) * new


@dataclass
class DecoderState:
    attention_h: torch.Tensor   # (B, attention_rnn_dim)
    attention_c: torch.Tensor
    decoder_h: torch.Tensor     # (B, decoder_rnn_dim)
    decoder_c: torch.Tensor
    context: torch.Tensor       # (B, D)
    alpha: torch.Tensor         # (B, L)
    alpha_cum: torch.Tensor     # (B, L)


class Tacotron2(nn.Module):
    def __init__(self, config: Tacotron2Config):
        super().__init__()
        self.config = c = config
        self.encoder = Encoder(c)
        self.prenet = Prenet(c.n_mels, c.prenet_dims, c.prenet_dropout)
        self.attention_rnn = nn.LSTMCell(c.prenet_dims[-1] + c.encoder_dim, c.attention_rnn_dim)
        self.attention = LocationSensitiveAttention(c.attention_rnn_dim, c.encoder_dim, c.attention_dim,
                                                    c.location_filters, c.location_kernel)
        self.decoder_rnn = nn.LSTMCell(c.attention_rnn_dim + c.encoder_dim, c.decoder_rnn_dim)
        self.frame_proj = nn.Linear(c.decoder_rnn_dim + c.encoder_dim, c.n_mels * c.reduction)
        self.gate_proj = nn.Linear(c.decoder_rnn_dim + c.encoder_dim, 1)
        self.postnet = Postnet(c)

    # ---------------------------------------------------------------- the shared decoder step
    def initial_state(self, memory: torch.Tensor) -> DecoderState:
        B, L, D = memory.shape
        c = self.config
        zeros = memory.new_zeros
        return DecoderState(zeros(B, c.attention_rnn_dim), zeros(B, c.attention_rnn_dim), zeros(B, c.decoder_rnn_dim),
                            zeros(B, c.decoder_rnn_dim), zeros(B, D), zeros(B, L), zeros(B, L))

    def _step(self, prenet_out: torch.Tensor, state: DecoderState, memory: torch.Tensor, processed: torch.Tensor,
              mask: torch.Tensor):
        """One decoder step. prenet_out (B, P) -> (frames (B, r*M), gate logit (B,), alpha (B, L), new state)."""
        c = self.config
        h, cell = self.attention_rnn(torch.cat([prenet_out, state.context], -1), (state.attention_h, state.attention_c))
        att_h = _zoneout(h, state.attention_h, c.zoneout, self.training)
        att_c = _zoneout(cell, state.attention_c, c.zoneout, self.training)
        context, alpha = self.attention(att_h, memory, state.alpha, state.alpha_cum, processed, mask)
        h, cell = self.decoder_rnn(torch.cat([att_h, context], -1), (state.decoder_h, state.decoder_c))
        dec_h = _zoneout(h, state.decoder_h, c.zoneout, self.training)
        dec_c = _zoneout(cell, state.decoder_c, c.zoneout, self.training)
        out = torch.cat([dec_h, context], -1)
        new = DecoderState(att_h, att_c, dec_h, dec_c, context, alpha, state.alpha_cum + alpha)
        return self.frame_proj(out), self.gate_proj(out).squeeze(-1), alpha, new

    def encode(self, symbols: torch.Tensor, lengths: torch.Tensor):
        """-> (memory (B, L, D), processed memory (B, L, A), mask (B, L))."""
        memory = self.encoder(symbols, lengths)
        return memory, self.attention.project_memory(memory), lengths_to_mask(lengths, symbols.shape[1])

    def teacher_inputs(self, mel: torch.Tensor) -> torch.Tensor:
        """The previous frame fed at each step: a zero "go" frame, then the last frame of each group of r.
        mel (B, M, T) with T a multiple of r -> (B, K, M)."""
        r = self.config.reduction
        last = mel[:, :, r - 1::r].transpose(1, 2)  # (B, K, M): the last frame of every group
        return torch.cat([torch.zeros_like(last[:, :1]), last[:, :-1]], dim=1)

    # ---------------------------------------------------------------- training
    def forward(self, symbols: torch.Tensor, lengths: torch.Tensor, mel: torch.Tensor):
        """Teacher-forced pass. symbols (B, L), lengths (B,), mel (B, M, T) with T a multiple of r ->
        (mel_before (B, M, T), mel_after (B, M, T), gate logits (B, K), alignments (B, K, L))."""
        c = self.config
        if mel.shape[-1] % c.reduction:
            raise ParameterError(f"{mel.shape[-1]} frames is not a multiple of the reduction factor {c.reduction}")
        memory, processed, mask = self.encode(symbols, lengths)
        prenet_all = self.prenet(self.teacher_inputs(mel))  # (B, K, P): one batched call for every step
        state = self.initial_state(memory)
        frames, gates, alphas = [], [], []
        for k in range(prenet_all.shape[1]):
            f, g, a, state = self._step(prenet_all[:, k], state, memory, processed, mask)
            frames.append(f)
            gates.append(g)
            alphas.append(a)
        return self._outputs(torch.stack(frames, 1), torch.stack(gates, 1), torch.stack(alphas, 1))

    def _outputs(self, frames, gates, alphas):
        """frames (B, K, r M), gates (B, K), alphas (B, K, L) -> (mel, mel + postnet(mel), gates, alphas)."""
        B = frames.shape[0]
        mel = frames.reshape(B, -1, self.config.n_mels).transpose(1, 2)  # (B, K, r*M) -> (B, M, K*r)
        return mel, mel + self.postnet(mel), gates, alphas

    def loss(self, batch) -> tuple[torch.Tensor, dict[str, float]]:
        symbols, lengths, mel, mel_lengths = batch
        before, after, gates, alignments = self(symbols, lengths, mel)
        losses = tacotron2_losses(self.config, mel, mel_lengths, lengths, before, after, gates, alignments)
        c = self.config
        total = (losses["mel"] + losses["postnet"] + losses["gate"] + c.guided_attention_weight * losses["guided"]
                 + c.attention_entropy_weight * losses["entropy"])
        metrics = {k: float(v.detach()) for k, v in losses.items()}
        metrics["focus_rate"] = focus_rate(alignments, mel_lengths, self.config.reduction)
        return total, metrics

    @torch.no_grad()
    def evaluate(self, batches) -> dict[str, float]:
        """Teacher-forced losses and focus rate on the validation set (free-running decoding is
        ``sightsound eval tts``)."""
        sums, n = {}, 0
        for batch in batches:
            total, metrics = self.loss(batch)
            for k, v in {"loss": float(total), **metrics}.items():
                sums[k] = sums.get(k, 0.0) + v * len(batch[0])
            n += len(batch[0])
        return {k: v / max(1, n) for k, v in sums.items()}

    def init_from_state(self, state: dict[str, torch.Tensor], where: str = "init_from") -> None:
        """Load trained weights (``train.init_from``), also from a model with another reduction factor: only
        the frame projection depends on r; its rows come in r blocks of n_mels (frame j of the step), and
        block j of the new projection starts from the old block min(j, r_old - 1), so the first frame after
        the fed-back one keeps its predictor."""
        state = dict(state)
        weight, bias = state["frame_proj.weight"], state["frame_proj.bias"]
        M, r = self.config.n_mels, self.config.reduction
        if weight.shape[0] % M:
            raise ParameterError(f"{where}: a frame projection of {weight.shape[0]} rows does not fit {M} mels")
        r_old = weight.shape[0] // M
        if r_old != r:
            blocks = [min(j, r_old - 1) for j in range(r)]
            state["frame_proj.weight"] = torch.cat([weight[b * M:(b + 1) * M] for b in blocks])
            state["frame_proj.bias"] = torch.cat([bias[b * M:(b + 1) * M] for b in blocks])
        try:
            self.load_state_dict(state)
        except RuntimeError as error:
            raise ParameterError(f"{where}: the weights do not fit this Tacotron 2 ({str(error).splitlines()[0]})") from None

    # ---------------------------------------------------------------- inference
    @torch.no_grad()
    def infer(self, symbols: torch.Tensor, lengths: torch.Tensor | None = None, *, max_steps: int | None = None,
              gate_threshold: float | None = None, backend: str = "auto") -> dict[str, torch.Tensor]:
        """Free-running synthesis for a batch. symbols (B, L) (or (L,)), lengths (B,) -> dict with
        ``mel`` (B, M, T) after the postnet (zero beyond each length; ``mel_before``: before it), ``lengths`` (B,) frames,
        ``alignments`` (B, K, L), ``hit_limit`` (B,) bool: stopped by ``max_steps`` rather than the gate or
        the attention-based fallback (the attention peak on the end symbol for ``eos_patience`` steps).
        ``backend``: "torch" (``_step`` per step), "numba" (the whole loop compiled,
        ``models/tacotron2_fast.py``; CPU float32) or "auto" (numba for a single sentence where it can run,
        torch for batches, whose products torch spreads over the cores). The prenet's dropout masks are drawn up
        front, so both backends decode the same sentence from the same seed."""
        from sightsound.models import tacotron2_fast

        if backend not in ("auto", "torch", "numba"):
            raise ParameterError(f"backend must be auto, torch or numba, got {backend!r}")
        if symbols.ndim == 1:
            symbols = symbols.unsqueeze(0)
        compiled = tacotron2_fast.available(self, symbols)
        if backend == "numba" and not compiled:
            raise ParameterError("the numba decoder needs numba and scipy, a CPU float32 model and a 2-layer prenet")
        if backend == "numba" or (backend == "auto" and compiled and symbols.shape[0] == 1):
            # torch's few operations on one thread: its idle OpenMP workers would spin against the loop's BLAS
            with tacotron2_fast.torch_threads(1):
                return self._infer(symbols, lengths, max_steps, gate_threshold, tacotron2_fast.decode)
        return self._infer(symbols, lengths, max_steps, gate_threshold, Tacotron2._decode_torch)

    def _infer(self, symbols, lengths, max_steps, gate_threshold, decode):
        """``infer`` with the loop ``decode(model, memory, processed, mask, lengths, masks, threshold)``."""
        c = self.config
        B, L = symbols.shape
        device = symbols.device
        lengths = torch.full((B,), L, device=device) if lengths is None else lengths.to(device)
        max_steps = max_steps or c.max_decoder_steps
        threshold = c.gate_threshold if gate_threshold is None else gate_threshold
        memory, processed, mask = self.encode(symbols, lengths)
        masks = self.prenet.draw_masks(max_steps, B, memory)
        frames, gates, alphas, steps, done = decode(self, memory, processed, mask, lengths, masks, threshold)
        before, mel, _, alignments = self._outputs(frames, gates, alphas)
        n_frames = steps * c.reduction
        keep = torch.arange(mel.shape[-1], device=device)[None, None, :] < n_frames[:, None, None]
        return {"mel": mel * keep, "mel_before": before * keep, "lengths": n_frames, "alignments": alignments,
                "hit_limit": ~done}

    def _decode_torch(self, memory, processed, mask, lengths, masks, threshold):
        """The free-running loop, one ``_step`` per decoder step -> frames (B, K, r M), gates (B, K),
        alphas (B, K, L), steps (B,) (K_max where it never stopped), done (B,)."""
        c = self.config
        B, device, max_steps = memory.shape[0], memory.device, masks[0].shape[0]
        state = self.initial_state(memory)
        prev = memory.new_zeros(B, c.n_mels)
        done = torch.zeros(B, dtype=torch.bool, device=device)
        steps = torch.full((B,), max_steps, dtype=torch.long, device=device)
        on_end = torch.zeros(B, dtype=torch.long, device=device)
        frames, gates, alphas = [], [], []
        for k in range(max_steps):
            f, g, a, state = self._step(self.prenet(prev, [m[k] for m in masks]), state, memory, processed, mask)
            frames.append(f)
            gates.append(g)
            alphas.append(a)
            prev = f[:, -c.n_mels:]  # the last of the r frames
            at_end = a.argmax(-1) == lengths - 1
            on_end = torch.where(at_end, on_end + 1, torch.zeros_like(on_end))
            stop = (torch.sigmoid(g) > threshold) | (on_end >= c.eos_patience)
            newly = stop & ~done
            steps = torch.where(newly, torch.full_like(steps, k + 1), steps)
            done |= stop
            if bool(done.all()):
                break
        return torch.stack(frames, 1), torch.stack(gates, 1), torch.stack(alphas, 1), steps, done


# ------------------------------------------------------------------------------------------------
# losses and alignment measures (functional)


def guided_attention_weights(n_steps: int, n_symbols: int, step_lengths: torch.Tensor, symbol_lengths: torch.Tensor,
                             sigma: float) -> torch.Tensor:
    """Tachibana et al. 2017, Eq. (5): W[k, l] = 1 - exp(-(l/L - k/K)^2 / (2 sigma^2)), zero outside each
    item's (K_b, L_b). -> (B, K, L)."""
    k = torch.arange(n_steps, device=step_lengths.device, dtype=torch.float32)[None, :, None] / step_lengths[:, None, None]
    pos = torch.arange(n_symbols, device=step_lengths.device, dtype=torch.float32)[None, None, :] / symbol_lengths[:, None, None]
    W = 1.0 - torch.exp(-((pos - k) ** 2) / (2 * sigma**2))
    inside = (k < 1.0) & (pos < 1.0)
    return W * inside


def tacotron2_losses(c: Tacotron2Config, mel, mel_lengths, symbol_lengths, before, after, gates, alignments):
    """Masked frame loss before/after the postnet (``c.mel_loss``: MSE as the paper, L1, or their sum; the
    postnet MSE is always reported as ``postnet_mse`` so that runs with different losses compare), stop-token
    BCE (positive weight), guided attention, and the mean attention entropy over the valid decoder steps."""
    B, M, T = mel.shape
    frame_mask = lengths_to_mask(mel_lengths, T).unsqueeze(1).to(mel.dtype)  # (B, 1, T)
    denom = frame_mask.sum() * M

    def frame_losses(pred):  # -> (configured loss, MSE), each averaged over the valid frames and bands
        diff = (pred - mel) * frame_mask
        mse = diff.square().sum() / denom
        if c.mel_loss == "mse":
            return mse, mse
        l1 = diff.abs().sum() / denom
        return (l1 if c.mel_loss == "l1" else l1 + mse), mse

    mel_loss, _ = frame_losses(before)
    post_loss, post_mse = frame_losses(after)
    K = gates.shape[1]
    step_lengths = torch.div(mel_lengths + c.reduction - 1, c.reduction, rounding_mode="floor")  # (B,)
    target = (torch.arange(K, device=gates.device)[None] >= (step_lengths - 1)[:, None]).to(gates.dtype)
    gate_loss = F_nn.binary_cross_entropy_with_logits(
        gates, target, pos_weight=torch.tensor(c.gate_pos_weight, device=gates.device, dtype=gates.dtype))
    steps_mask = torch.arange(K, device=gates.device)[None] < step_lengths[:, None]  # (B, K)
    W = guided_attention_weights(K, alignments.shape[2], step_lengths, symbol_lengths, c.guided_attention_sigma)
    # the expected penalty under each step's attention, averaged over the valid decoder steps: summing over
    # symbols (not averaging) keeps the pull towards the diagonal from shrinking with the sentence length
    guided = (alignments * W).sum() / step_lengths.sum().clamp_min(1)
    return {"mel": mel_loss, "postnet": post_loss, "postnet_mse": post_mse, "gate": gate_loss, "guided": guided,
            "entropy": attention_entropy(alignments, steps_mask)}


def focus_rate(alignments: torch.Tensor, frame_lengths: torch.Tensor, reduction: int) -> float:
    """Mean over every item's decoder steps of the largest attention weight (FastSpeech's focus rate)."""
    K = alignments.shape[1]
    steps = torch.div(frame_lengths + reduction - 1, reduction, rounding_mode="floor").clamp(max=K)
    mask = torch.arange(K, device=alignments.device)[None] < steps[:, None]  # (B, K)
    peaks = alignments.max(-1).values  # (B, K)
    return float((peaks.detach() * mask).sum() / mask.sum().clamp_min(1))
