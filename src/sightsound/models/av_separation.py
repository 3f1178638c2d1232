"""Looking to Listen: audio-visual speech separation with a complex ratio mask (Ephrat et al., SIGGRAPH 2018).

The mixture's power-law-compressed complex STFT and the target speaker's mouth crops go in; a complex ratio mask
per output comes out. Output 0 is the speaker whose face was given, output 1 everything else. Without the visual
stream (``visual=False``) the same network is the audio-only baseline: it cannot know which voice the user wants,
so it is trained with a permutation-invariant loss (Yu et al. 2017) over its two outputs.

* input: the mixture scaled to unit RMS (the network never sees the level), STFT with a 25 ms Hann window every
  10 ms at 16 kHz (Sec. 4: the paper's analysis), ``F = n_fft / 2 + 1`` bins; real and imaginary parts of the
  power-law-compressed spectrogram ``c(X) = |X|^p e^{i angle X}``, p = 0.3 (Sec. 4) -> (B, 2, T, F);
* audio stream (Sec. 4, Table 1 at small scale): a 1x7 and a 7x1 convolution, then 3x3 convolutions dilated in
  time and frequency, batch norm + ReLU each, then a 1x1 convolution to ``fuse_channels`` maps; the first layer
  may stride in frequency (``freq_stride``) to save time on a CPU (the mask head restores every bin);
* visual stream: each 25 fps mouth crop (B, V, h, w) -> a small CNN (the paper uses FaceNet embeddings; here the
  model learns its own features from the crops) -> dilated temporal 1-D convolutions -> repeated to the STFT
  frame rate (4 STFT frames per video frame at 16 kHz, 10 ms hop, 25 fps);
* fusion: concatenation per STFT frame -> a BiLSTM -> fully connected layers -> ``K = 2`` complex masks
  (B, K, 2, T, F), bounded by ``mask_bound * tanh``;
* estimate ``c(Y_k) = M_k * c(X)`` (complex product on the compressed spectrogram), the waveform by inverting
  the compression and the STFT; loss: the squared error between compressed clean and compressed estimated
  spectrograms, summed over real and imaginary parts (Sec. 4, "the loss ... between the power-law compressed
  clean spectrogram and the enhanced one").
* optionally (``visual_aux`` > 0; not in the paper, which starts from pretrained face embeddings): an auxiliary
  head reads the target's band energies per video frame from the visual features alone (squared error), a
  direct training signal for the visual stream that here learns from raw mouth crops.

Axis legend: B batch, S samples, T STFT frames, F frequency bins, V video frames, K outputs, C channels.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from sightsound.audio import functional as AF
from sightsound.errors import ParameterError, UserInputError


@dataclass(frozen=True)
class AVSeparationConfig:
    visual: bool = True                # False: the audio-only baseline (same network, no visual stream, PIT loss)
    sample_rate: int = 16000
    n_fft: int = 512
    win_length: int = 400              # 25 ms
    hop_length: int = 160              # 10 ms
    fps: float = 25.0                  # video frames per second (4 STFT frames per video frame)
    compress: float = 0.3              # power-law exponent p
    audio_channels: int = 16
    audio_dilations: tuple = ((1, 1), (2, 1), (4, 1), (8, 1), (2, 2))  # (time, frequency)
    freq_stride: int = 2
    fuse_channels: int = 8
    audio_proj: int = 256              # the flattened audio maps -> this width before fusion (0: none)
    mouth_size: tuple = (32, 48)       # (h, w) of the mouth crops
    visual_dim: int = 128
    visual_dilations: tuple = (1, 2, 4, 8)
    visual_aux: float = 0.0            # weight of the auxiliary loss: the target's band energies from the face alone
    aux_bands: int = 8
    lstm_hidden: int = 200
    fc_hidden: int = 400
    fc_layers: int = 2
    outputs: int = 2                   # K: the target (output 0) and the rest
    mask_bound: float = 1.5

    def __post_init__(self) -> None:
        frames = self.sample_rate / (self.fps * self.hop_length)
        if abs(frames - round(frames)) > 1e-9 or round(frames) < 1:
            raise ParameterError(f"sample_rate / (fps * hop_length) must be a whole number, got {frames}")
        if self.outputs < 1 or (not self.visual and self.outputs < 2):
            raise ParameterError("the audio-only model needs at least two outputs (it cannot pick one voice)")

    @property
    def frames_per_video_frame(self) -> int:
        return int(round(self.sample_rate / (self.fps * self.hop_length)))

    @property
    def samples_per_video_frame(self) -> int:
        return self.frames_per_video_frame * self.hop_length

    @property
    def bins(self) -> int:
        return self.n_fft // 2 + 1

    @classmethod
    def tiny(cls) -> "AVSeparationConfig":
        return cls(n_fft=128, win_length=100, hop_length=40, sample_rate=4000, audio_channels=8,
                   audio_dilations=((1, 1), (2, 1)), fuse_channels=4, audio_proj=64, mouth_size=(8, 12),
                   visual_dim=16, visual_dilations=(1, 2), lstm_hidden=32, fc_hidden=64, fc_layers=1)

    @classmethod
    def cpu(cls) -> "AVSeparationConfig":
        return cls()

    @classmethod
    def paper(cls) -> "AVSeparationConfig":
        # Table 1: 15 audio layers of 96 channels, dilations up to 32 (the paper's are 5x5 kernels, 3x3 here); BiLSTM
        # 400; three FC of 600
        dilations = ((1, 1), (2, 1), (4, 1), (8, 1), (16, 1), (32, 1), (1, 1), (2, 2), (4, 4), (8, 8), (16, 16),
                     (32, 32), (1, 1))
        return cls(audio_channels=96, audio_dilations=dilations, freq_stride=1, fuse_channels=8, audio_proj=0,
                   mouth_size=(64, 96), visual_dim=256, visual_dilations=(1, 2, 4, 8, 16), lstm_hidden=400,
                   fc_hidden=600, fc_layers=3)


# ------------------------------------------------------------------------------------------------------------
# functional core: compressed complex spectrograms


def compress(X: torch.Tensor, p: float) -> torch.Tensor:
    """c(X) = |X|^p e^{i angle X}, complex in and out (Sec. 4)."""
    magnitude = X.abs()
    return X * (magnitude.clamp_min(1e-8) ** (p - 1))


def decompress(Xc: torch.Tensor, p: float) -> torch.Tensor:
    """The inverse of ``compress``."""
    magnitude = Xc.abs()
    return Xc * (magnitude.clamp_min(1e-8) ** (1 / p - 1))


def complex_multiply(mask: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    """(..., 2, T, F) real/imaginary mask times complex (..., T, F) -> complex (..., T, F)."""
    return torch.complex(mask[..., 0, :, :], mask[..., 1, :, :]) * X


def permutation_invariant_mse(estimates: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """PIT for two outputs: (B, 2, ...) complex or real -> (mean loss of the better assignment, (B,) True where
    the outputs are swapped)."""
    def per_item(e: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return (e - t).abs().pow(2).flatten(1).mean(dim=1)  # (B, ...) -> (B,)

    kept = per_item(estimates[:, 0], targets[:, 0]) + per_item(estimates[:, 1], targets[:, 1])
    swapped = per_item(estimates[:, 0], targets[:, 1]) + per_item(estimates[:, 1], targets[:, 0])
    return torch.minimum(kept, swapped).mean() / 2, swapped < kept


def _conv_block(c_in: int, c_out: int, kernel, dilation=(1, 1), stride=(1, 1)) -> nn.Sequential:
    padding = tuple(d * (k - 1) // 2 for k, d in zip(kernel, dilation))
    return nn.Sequential(nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, dilation=dilation),
                         nn.BatchNorm2d(c_out), nn.ReLU())


class MouthEncoder(nn.Module):
    """Mouth crops (B, V, h, w) in [0, 1] -> per-frame features -> dilated temporal convolutions -> (B, V, D)."""

    def __init__(self, config: AVSeparationConfig):
        super().__init__()
        h, w = config.mouth_size
        widths = (16, 32, 64)
        layers, c = [], 1
        for width in widths:  # each halves h and w
            layers += [nn.Conv2d(c, width, 3, stride=2, padding=1), nn.BatchNorm2d(width), nn.ReLU()]
            c = width
            h, w = (h + 1) // 2, (w + 1) // 2
        self.frames = nn.Sequential(*layers)
        self.project = nn.Linear(c * h * w, config.visual_dim)
        D = config.visual_dim
        self.temporal = nn.ModuleList(
            nn.Sequential(nn.Conv1d(D, D, 5, padding=2 * d, dilation=d), nn.BatchNorm1d(D), nn.ReLU())
            for d in config.visual_dilations)

    def forward(self, mouths: torch.Tensor) -> torch.Tensor:
        B, V, h, w = mouths.shape
        x = mouths.reshape(B * V, 1, h, w)
        mean = x.reshape(B, -1).mean(dim=1).repeat_interleave(V)[:, None, None, None]  # per-clip standardisation
        std = x.reshape(B, -1).std(dim=1).clamp_min(1e-3).repeat_interleave(V)[:, None, None, None]
        x = self.frames((x - mean) / std)                          # (B*V, 1, h, w) -> (B*V, C, h', w')
        x = self.project(x.flatten(1)).reshape(B, V, -1)           # (B*V, C*h'*w') -> (B, V, D)
        x = x.transpose(1, 2)                                      # (B, V, D) -> (B, D, V)
        for layer in self.temporal:
            x = x + layer(x)                                       # residual dilated temporal convolutions
        return x.transpose(1, 2)                                   # (B, D, V) -> (B, V, D)


class AVSeparation(nn.Module):
    """``forward(mixture (B, S), mouths (B, V, h, w) or None) -> dict`` with ``masks`` (B, K, 2, T, F),
    ``estimates`` (B, K, S) waveforms and the spectrograms; ``loss(batch)`` for training."""

    def __init__(self, config: AVSeparationConfig):
        super().__init__()
        self.config = config
        C = config.audio_channels
        self.audio = nn.Sequential(
            _conv_block(2, C, (1, 7), stride=(1, config.freq_stride)),
            _conv_block(C, C, (7, 1)),
            *[_conv_block(C, C, (3, 3), dilation=d) for d in config.audio_dilations],
            _conv_block(C, config.fuse_channels, (1, 1)))
        reduced = (config.bins + config.freq_stride - 1) // config.freq_stride
        flat = config.fuse_channels * reduced
        self.audio_proj = nn.Linear(flat, config.audio_proj) if config.audio_proj else nn.Identity()
        width = config.audio_proj or flat
        self.mouth = MouthEncoder(config) if config.visual else None
        # the auxiliary head: what the face says about the target's loudness per band and video frame
        self.aux = nn.Linear(config.visual_dim, config.aux_bands) if config.visual and config.visual_aux else None
        fused = width + (config.visual_dim if config.visual else 0)
        self.lstm = nn.LSTM(fused, config.lstm_hidden, batch_first=True, bidirectional=True)
        layers, c = [], 2 * config.lstm_hidden
        for _ in range(config.fc_layers):
            layers += [nn.Linear(c, config.fc_hidden), nn.ReLU()]
            c = config.fc_hidden
        self.fc = nn.Sequential(*layers)
        self.mask = nn.Linear(c, config.outputs * 2 * config.bins)

    def init_from_state(self, state: dict[str, torch.Tensor], where: str = "the pretrained weights") -> None:
        """Start from another separation model's weights (``train.init_from``): every tensor must fit, except
        that the auxiliary head may be new (it then keeps its initialisation)."""
        own = self.state_dict()
        missing = sorted(k for k in set(own) - set(state) if not k.startswith("aux."))
        unused = sorted(set(state) - set(own))
        wrong = sorted(k for k in set(own) & set(state) if own[k].shape != state[k].shape)
        if missing or unused or wrong:
            raise ParameterError(f"{where}: the weights do not fit this model (missing: {', '.join(missing[:3]) or 'none'};"
                                 f" unused: {', '.join(unused[:3]) or 'none'}; other shape: {', '.join(wrong[:3]) or 'none'})")
        self.load_state_dict(state, strict=False)

    # -- analysis and synthesis ----------------------------------------------------------------------------
    def stft(self, y: torch.Tensor) -> torch.Tensor:
        """(B, S) -> complex (B, T, F)."""
        c = self.config
        return AF.stft(y, n_fft=c.n_fft, hop_length=c.hop_length, win_length=c.win_length,
                       window="hann").transpose(-1, -2)

    def istft(self, X: torch.Tensor, length: int) -> torch.Tensor:
        """complex (..., T, F) -> (..., S)."""
        c = self.config
        return AF.istft(X.transpose(-1, -2), hop_length=c.hop_length, win_length=c.win_length, n_fft=c.n_fft,
                        window="hann", length=length)

    def check_inputs(self, mixture: torch.Tensor, mouths: torch.Tensor | None) -> None:
        c = self.config
        if mixture.ndim != 2:
            raise ParameterError(f"mixture must be (B, S), got {tuple(mixture.shape)}")
        if c.visual:
            if mouths is None:
                raise UserInputError("this model separates the voice of a face: it needs the face video")
            if mouths.ndim != 4 or tuple(mouths.shape[2:]) != tuple(c.mouth_size):
                raise ParameterError(f"mouths must be (B, V, {c.mouth_size[0]}, {c.mouth_size[1]}), "
                                     f"got {tuple(mouths.shape)}")
            if mouths.shape[1] * c.samples_per_video_frame != mixture.shape[1]:
                raise ParameterError(f"{mouths.shape[1]} video frames cover {mouths.shape[1] * c.samples_per_video_frame}"
                                     f" samples, the mixture has {mixture.shape[1]}")

    # -- the network ---------------------------------------------------------------------------------------
    def masks(self, Xc: torch.Tensor, mouths: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Compressed mixture spectrogram (B, T, F) complex (+ mouths (B, V, h, w)) -> (masks (B, K, 2, T, F),
        the visual features (B, V, D_v) or None)."""
        c = self.config
        visual = None
        B, T, Fb = Xc.shape
        x = torch.stack([Xc.real, Xc.imag], dim=1)                 # (B, T, F) -> (B, 2, T, F)
        a = self.audio(x)                                          # (B, 2, T, F) -> (B, C', T, F')
        a = self.audio_proj(a.permute(0, 2, 1, 3).flatten(2))      # (B, C', T, F') -> (B, T, C'*F') -> (B, T, D_a)
        if self.mouth is not None:
            v = visual = self.mouth(mouths)                        # (B, V, D_v)
            v = v.repeat_interleave(c.frames_per_video_frame, dim=1)  # (B, V, D_v) -> (B, 4V, D_v)
            v = F.pad(v.transpose(1, 2), (0, max(0, T - v.shape[1])), mode="replicate").transpose(1, 2)[:, :T]
            a = torch.cat([a, v], dim=2)                           # (B, T, D_a + D_v)
        h, _ = self.lstm(a)                                        # (B, T, 2 H)
        m = self.mask(self.fc(h))                                  # (B, T, K*2*F)
        m = c.mask_bound * torch.tanh(m.reshape(B, T, c.outputs, 2, Fb))
        return m.permute(0, 2, 3, 1, 4), visual                    # (B, T, K, 2, F) -> (B, K, 2, T, F)

    def forward(self, mixture: torch.Tensor, mouths: torch.Tensor | None = None) -> dict:
        """mixture (B, S) float, mouths (B, V, h, w) floats in [0, 1] with V * 640 == S (16 kHz, 25 fps) ->
        {"masks" (B, K, 2, T, F), "estimates" (B, K, S), "mixture_spec" complex (B, T, F), "estimate_spec"
        complex (B, K, T, F)} (spectrograms uncompressed)."""
        self.check_inputs(mixture, mouths)
        p = self.config.compress
        scale = mixture.pow(2).mean(dim=1, keepdim=True).sqrt().clamp_min(1e-5)  # (B, 1)
        X = self.stft(mixture / scale)                             # (B, T, F)
        Xc = compress(X, p)
        masks, visual = self.masks(Xc, mouths)
        Yc = complex_multiply(masks, Xc[:, None])                  # (B, K, T, F)
        Y = decompress(Yc, p)
        estimates = self.istft(Y, mixture.shape[1]) * scale[:, :, None]  # (B, K, S)
        return {"masks": masks, "estimates": estimates, "mixture_spec": X * scale[:, :, None],
                "estimate_spec": Y * scale[:, :, None, None], "compressed": Yc, "scale": scale,
                "visual": visual}

    def loss(self, batch: dict) -> tuple[torch.Tensor, dict]:
        """Squared error of compressed spectrograms (Sec. 4); PIT for the audio-only model."""
        out = self.forward(batch["mixture"], batch.get("mouths") if self.config.visual else None)
        return self.loss_of(out, batch)

    def loss_of(self, out: dict, batch: dict) -> tuple[torch.Tensor, dict]:
        """``loss`` for an output of ``forward`` already computed on ``batch``."""
        p = self.config.compress
        sources = torch.stack([batch["target"], batch["rest"]], dim=1)[:, : self.config.outputs]  # (B, K, S)
        clean = compress(self.stft(sources.flatten(0, 1) / out["scale"].repeat_interleave(sources.shape[1], 0)), p)
        clean = clean.reshape(*sources.shape[:2], *clean.shape[1:])  # (B*K, T, F) -> (B, K, T, F)
        if self.config.visual:
            loss = (out["compressed"] - clean).abs().pow(2).mean()
        else:
            loss, _ = permutation_invariant_mse(out["compressed"], clean)
        metrics = {"loss": float(loss.detach())}
        if self.aux is not None:
            aux = F.mse_loss(self.aux(out["visual"]), self.band_energies(clean[:, 0], out["visual"].shape[1]))
            metrics["aux"] = float(aux.detach())
            loss = loss + self.config.visual_aux * aux
        return loss, metrics

    def band_energies(self, clean: torch.Tensor, frames: int) -> torch.Tensor:
        """The target's compressed magnitude (B, T, F) averaged over each video frame's STFT frames and over
        ``aux_bands`` equal frequency bands -> (B, V, bands): what the auxiliary head predicts from the face."""
        k = self.config.frames_per_video_frame
        magnitude = clean.abs()[:, : frames * k]                            # (B, 4V, F)
        magnitude = magnitude.reshape(magnitude.shape[0], frames, k, -1).mean(dim=2)  # (B, V, F)
        return F.adaptive_avg_pool1d(magnitude, self.config.aux_bands)       # (B, V, bands)

    @torch.no_grad()
    def evaluate(self, batches) -> dict[str, float]:
        """Mean SI-SDR improvement of output 0 (audio-only: of its better output) over the selection mixtures,
        per kind (different speaker / same speaker); ``score`` is the mean of the two."""
        gains = {0: [], 1: []}
        losses = []
        for batch in batches:
            out = self.forward(batch["mixture"], batch.get("mouths") if self.config.visual else None)
            loss, _ = self.loss_of(out, batch)
            losses.append(float(loss))
            target = batch["target"][:, None]                               # (B, 1, S)
            outputs = out["estimates"][:, :1] if self.config.visual else out["estimates"]  # (B, K', S)
            gain = (AF.si_sdr(target, outputs) - AF.si_sdr(target, batch["mixture"][:, None])).amax(dim=1)  # (B,)
            for g, same in zip(gain.tolist(), batch["same_speaker"].tolist()):
                gains[int(same)].append(g)
        def mean(values):
            return sum(values) / len(values) if values else float("nan")
        result = {"loss": mean(losses), "si_sdri_different": mean(gains[0]), "si_sdri_same": mean(gains[1])}
        present = [mean(v) for v in gains.values() if v]
        result["score"] = sum(present) / len(present)
        return result
