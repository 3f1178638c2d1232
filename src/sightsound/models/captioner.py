"""Show, Attend and Tell (Xu et al. 2015), deterministic soft attention.

An encoder gives L = G*G annotation vectors a_i (Sec. 3.1.1); an LSTM writes the caption word by word:

    h_0, c_0  = tanh(f_init,h(mean_i a_i)), tanh(f_init,c(mean_i a_i))             (Sec. 3.1.2)
    e_ti      = w . tanh(W_a a_i + W_h h_{t-1}),   alpha_t = softmax_i(e_t)        (Eq. 4-5)
    z_t       = beta_t * sum_i alpha_ti a_i,       beta_t = sigmoid(f_beta(h_{t-1}))  (Eq. 6, Sec. 4.2.1)
    h_t, c_t  = LSTM([E y_{t-1}; z_t], (h_{t-1}, c_{t-1}))                         (Eq. 1-3)
    p(y_t)    = softmax(L_o(E y_{t-1} + L_h h_t + L_z z_t))                          (Eq. 7, deep output)

Loss (Eq. 14): -sum_t log p(y_t) + lambda * sum_i (1 - sum_t alpha_ti)^2, the doubly stochastic
regulariser summed over locations (popular reimplementations average it over locations, 196x weaker),
normalised here by the number of predicted words of the batch; optionally (``attention_entropy`` > 0, not
in the paper) plus eta times the mean entropy of the words' attention distributions, for sharper maps.

``encoder="features"``: the batch holds precomputed (B, L, C) annotation vectors (a frozen pretrained CNN,
cached on disk); ``encoder="small_cnn"``: the batch holds (B, 3, S, S) images in [-1, 1] and a SmallCNN is
trained with the captioner; ``encoder="efficientnet_lite0"``: images in [-1, 1] through the pretrained
EfficientNet-Lite0, whose last ``fine_tune_blocks`` blocks (and head) are trained with the captioner (its
batch-norm statistics stay frozen). Decoding (greedy and beam search, both with per-word attention maps) is in
``captioner_search.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from sightsound.attention.functional import attention_entropy
from sightsound.attention.layers import SoftAttention
from sightsound.errors import ParameterError
from sightsound.vision.encoders import SmallCNN, SmallCNNConfig


@dataclass(frozen=True)
class CaptionerConfig:
    vocab_size: int = 1000
    encoder: str = "features"           # "features" (precomputed annotation vectors), "small_cnn", "efficientnet_lite0"
    fine_tune_blocks: int = 0           # efficientnet_lite0: train its last n MBConv blocks and its head
    encoder_channels: int = 1280        # C of the annotation vectors (EfficientNet-Lite0: 1280)
    grid: int = 14                      # G: the decoder attends over G*G locations
    image_size: int = 112               # small_cnn input size; grid = image_size / 2**len(cnn_channels)
    cnn_channels: tuple[int, ...] = (32, 64, 128)
    cnn_dilations: tuple[int, ...] = (1,)  # SmallCNN's grid-level convs (receptive field)
    embed_dim: int = 512                # m in the paper
    hidden_dim: int = 512               # n
    attention_dim: int = 512
    dropout: float = 0.5                # on the deep-output input (and the features, feature_dropout)
    feature_dropout: float = 0.0
    doubly_stochastic: float = 1.0      # lambda of Eq. 14
    attention_entropy: float = 0.0      # eta: + eta * mean entropy of each word's attention (sharper maps)
    max_len: int = 20                   # longest caption generated (words, without <end>)
    pad_id: int = 0
    start_id: int = 1
    end_id: int = 2
    unk_id: int = 3                     # never generated (decoding masks <pad>, <start> and <unk>)

    @classmethod
    def tiny(cls) -> "CaptionerConfig":
        return cls(vocab_size=30, encoder="small_cnn", image_size=32, cnn_channels=(8, 16), grid=8,
                   encoder_channels=16, embed_dim=16, hidden_dim=24, attention_dim=16, dropout=0.0, max_len=8)

    @classmethod
    def cpu(cls) -> "CaptionerConfig":
        return cls(embed_dim=256, hidden_dim=512, attention_dim=256, feature_dropout=0.2)

    @classmethod
    def paper(cls) -> "CaptionerConfig":
        return cls(embed_dim=512, hidden_dim=1800, attention_dim=512)  # Flickr8k/30k sizes of the authors' code

    def __post_init__(self):
        if self.encoder not in ("features", "small_cnn", "efficientnet_lite0"):
            raise ParameterError(f"encoder must be 'features', 'small_cnn' or 'efficientnet_lite0', not {self.encoder!r}")
        if self.encoder == "small_cnn" and self.image_size // 2 ** len(self.cnn_channels) != self.grid:
            raise ParameterError(f"small_cnn: image_size {self.image_size} / 2**{len(self.cnn_channels)} != grid "
                             f"{self.grid}")


class Captioner(nn.Module):
    def __init__(self, config: CaptionerConfig):
        super().__init__()
        self.config = c = config
        self.cnn = None
        if c.encoder == "small_cnn":
            self.cnn = SmallCNN(SmallCNNConfig(c.image_size, c.cnn_channels, c.encoder_channels, c.cnn_dilations))
        elif c.encoder == "efficientnet_lite0":
            from sightsound.vision.encoders import EfficientNetLite0Encoder

            self.cnn = EfficientNetLite0Encoder(c.grid * 32, c.fine_tune_blocks)
        self.init_h = nn.Linear(c.encoder_channels, c.hidden_dim)
        self.init_c = nn.Linear(c.encoder_channels, c.hidden_dim)
        self.attention = SoftAttention(c.encoder_channels, c.hidden_dim, c.attention_dim)
        self.f_beta = nn.Linear(c.hidden_dim, 1)
        self.embed = nn.Embedding(c.vocab_size, c.embed_dim)
        self.lstm = nn.LSTMCell(c.embed_dim + c.encoder_channels, c.hidden_dim)
        self.L_h = nn.Linear(c.hidden_dim, c.embed_dim)
        self.L_z = nn.Linear(c.encoder_channels, c.embed_dim)
        self.L_o = nn.Linear(c.embed_dim, c.vocab_size)
        self.dropout = nn.Dropout(c.dropout)
        self.feature_dropout = nn.Dropout(c.feature_dropout)

    def train(self, mode: bool = True) -> "Captioner":
        super().train(mode)
        if self.config.encoder == "efficientnet_lite0":
            self.cnn.eval()  # pretrained batch-norm statistics are kept (small batches would spoil them)
        return self

    # -- encoder side --------------------------------------------------------------------------------
    def annotations(self, inputs: torch.Tensor) -> torch.Tensor:
        """(B, L, C) annotation vectors from precomputed features (B, L, C) or images (B, 3, S, S)."""
        if self.cnn is not None:
            if inputs.dim() != 4:
                raise ParameterError(f"{self.config.encoder} captioner expects (B, 3, S, S) images, got {tuple(inputs.shape)}")
            if self.config.encoder == "efficientnet_lite0":
                inputs = ((inputs + 1.0) * 127.5 - 127.0) / 128.0  # [-1, 1] -> EfficientNet-Lite's (255 x - 127) / 128
            return self.cnn(inputs).flatten(2).transpose(1, 2)  # (B, C, G, G) -> (B, G*G, C)
        if inputs.dim() != 3 or inputs.shape[-1] != self.config.encoder_channels:
            raise ParameterError(f"expected (B, L, {self.config.encoder_channels}) features, got {tuple(inputs.shape)}")
        return self.feature_dropout(inputs.float())

    def init_state(self, a: torch.Tensor):
        """Decoder state for annotations a (B, L, C): (h, c, W_a a)."""
        mean = a.mean(dim=1)  # (B, C)
        return torch.tanh(self.init_h(mean)), torch.tanh(self.init_c(mean)), self.attention.project_features(a)

    def step(self, a, projected, prev_word, h, c):
        """One decoding step. a (B, L, C), projected (B, L, A), prev_word (B,), h/c (B, n)
        -> logits (B, V), h, c, alpha (B, L), beta (B, 1)."""
        context, alpha = self.attention(a, h, projected)  # (B, C), (B, L)   Eq. 4-5
        beta = torch.sigmoid(self.f_beta(h))  # (B, 1)                         Sec. 4.2.1
        z = beta * context  # (B, C)
        e = self.embed(prev_word)  # (B, m)
        h, c = self.lstm(torch.cat([e, z], dim=1), (h, c))
        logits = self.L_o(self.dropout(e + self.L_h(h) + self.L_z(z)))  # Eq. 7
        return logits, h, c, alpha, beta

    def forward(self, inputs: torch.Tensor, captions: torch.Tensor):
        """Teacher forcing. captions (B, T) = <start> w ... <end> <pad>...
        -> logits (B, T-1, V) predicting captions[:, 1:], alphas (B, T-1, L), betas (B, T-1)."""
        a = self.annotations(inputs)
        h, c, projected = self.init_state(a)
        logits, alphas, betas = [], [], []
        for t in range(captions.shape[1] - 1):
            step_logits, h, c, alpha, beta = self.step(a, projected, captions[:, t], h, c)
            logits.append(step_logits)
            alphas.append(alpha)
            betas.append(beta.squeeze(1))
        return torch.stack(logits, 1), torch.stack(alphas, 1), torch.stack(betas, 1)

    def loss(self, batch) -> tuple[torch.Tensor, dict[str, float]]:
        inputs, captions = batch[0], batch[1]
        logits, alphas, _ = self(inputs, captions)
        losses = caption_losses(logits, alphas, captions[:, 1:], self.config.doubly_stochastic,
                                self.config.attention_entropy)
        return losses["loss"], {k: float(v.detach()) for k, v in losses.items()}

    @torch.no_grad()
    def evaluate(self, batches) -> dict[str, float]:
        """Teacher-forced validation loss and perplexity (caption metrics come from `sightsound eval
        caption`, which decodes free-running and never teacher-forces)."""
        totals = {"ce_sum": 0.0, "reg_sum": 0.0, "entropy_sum": 0.0, "words": 0, "captions": 0}
        for batch in batches:
            logits, alphas, _ = self(batch[0], batch[1])
            targets = batch[1][:, 1:]
            losses = caption_losses(logits, alphas, targets, self.config.doubly_stochastic)
            words = int((targets != 0).sum())
            totals["ce_sum"] += float(losses["ce"]) * words  # back from means to sums over the whole set
            totals["entropy_sum"] += float(losses["attention_entropy"]) * words
            totals["reg_sum"] += float(losses["attention_reg"]) * len(targets)
            totals["words"] += words
            totals["captions"] += len(targets)
        words = max(totals["words"], 1)
        ce, entropy = totals["ce_sum"] / words, totals["entropy_sum"] / words
        return {"loss": (totals["ce_sum"] + self.config.doubly_stochastic * totals["reg_sum"]) / words
                + self.config.attention_entropy * entropy,
                "ce": ce, "perplexity": float(torch.tensor(ce).exp()),
                "attention_reg": totals["reg_sum"] / max(totals["captions"], 1), "attention_entropy": entropy}


def doubly_stochastic_penalty(alphas: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """sum_i (1 - sum_t alpha_ti)^2 per caption, over the valid steps only (Eq. 14's regulariser).
    alphas (B, T, L), mask (B, T) bool -> (B,)."""
    coverage = (alphas * mask.unsqueeze(-1)).sum(dim=1)  # (B, L)
    return ((1.0 - coverage) ** 2).sum(dim=1)


def caption_losses(logits: torch.Tensor, alphas: torch.Tensor, targets: torch.Tensor, lam: float,
                   eta: float = 0.0) -> dict:
    """Eq. 14 per batch, normalised by the number of predicted words: (sum of word NLLs + lambda * sum over
    captions of the penalty) / words, plus eta * the mean entropy of the words' attention maps (not in the
    paper: an option that sharpens the maps). logits (B, T, V), alphas (B, T, L), targets (B, T), 0 = pad."""
    mask = targets != 0
    ce = F.cross_entropy(logits.transpose(1, 2), targets, reduction="none")  # (B, T)
    words = mask.sum().clamp_min(1)
    ce_sum = (ce * mask).sum()
    penalty = doubly_stochastic_penalty(alphas, mask)  # (B,)
    entropy = attention_entropy(alphas, mask)
    return {"loss": (ce_sum + lam * penalty.sum()) / words + eta * entropy, "ce": ce_sum / words,
            "attention_reg": penalty.mean(), "attention_entropy": entropy}
