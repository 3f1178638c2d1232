"""Speech2Face: from a few seconds of speech to a face feature, and from the feature to a canonical face.

Oh, Dekel, Kim, Mosseri, Freeman, Rubinstein, Matusik, "Speech2Face: Learning the Face Behind a Voice",
CVPR 2019. The paper's three parts, at small scale:

* **face encoder** (the paper uses a fixed, pretrained VGG-Face; no such weights exist here, so it is trained,
  on grey 64x64 faces, by identity classification exactly as VGG-Face was): CNN -> face feature ``v_f`` (B, D)
  -> identity logits (the "last layer" whose outputs the distillation term compares);
* **face decoder**: ``v_f`` -> a canonical face (frontal, neutral, evenly lit) (B, 1, 64, 64) in [0, 1]; its
  first layer ``f_dec`` is the fully connected map from the feature; trained with an L1 loss on the canonical
  face, on detached features (the paper trains its decoder separately, with the encoder fixed);
* **voice encoder**: waveform -> log-mel (the lecture's front-end: 25 ms Hamming window, 10 ms hop), in dB,
  standardised per clip -> 1-D dilated convolutions over time -> mean + standard-deviation pooling, beside a
  rhythm branch (the modulation spectrum, 1-10 Hz, of the clip's loudness envelope -> a linear layer: how fast
  syllables come, which pooled convolutions barely see) -> two fully connected layers -> ``v_s`` (B, D), the
  predicted face feature.

The voice encoder's loss is the paper's Eq. (1), with the face side fixed (its features, the decoder's first
layer and the classifier are not changed by it):

    L = || f_dec(v_f) - f_dec(v_s) ||_1  +  lambda_1 || v_f / ||v_f|| - v_s / ||v_s|| ||_2^2
        +  lambda_2 L_distill(f_VGG(v_f), f_VGG(v_s))

with lambda_1 = 0.025, lambda_2 = 200 and L_distill the knowledge-distillation loss at temperature T = 2
(Hinton et al. 2015): the cross-entropy of the student's softened identity distribution under the teacher's,
written here as the KL divergence (the same gradient, floor 0). The L1 term is a mean over the first layer's
units. ``stage="joint"`` trains the three in one loop, each on its own loss (identity cross-entropy, decoder L1,
Eq. (1)), the face side's outputs detached where the other losses read them; the paper's order is two stages:
``stage="faces"`` (face encoder, classifier and decoder only) and then ``stage="voice"`` (initialised from the
first, the face side frozen, BatchNorm statistics included: the targets of Eq. (1) no longer move).

Axis legend: B batch, S samples, M mel bands, T frames, C channels, D feature width, K identities.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from sightsound.audio import functional as AF
from sightsound.audio.presets import MelClipAnalysis
from sightsound.audio.transforms import MelSpectrogram
from sightsound.errors import ParameterError


@dataclass(frozen=True)
class Speech2FaceConfig(MelClipAnalysis):
    audio_preset: str = "speech"
    mel_bands: int = 64
    clip_seconds: float = 2.5                      # the voice window the encoder is trained on
    face_size: int = 64
    feature_dim: int = 128                         # D: the face feature (VGG-Face fc7 in the paper: 4096)
    face_channels: tuple[int, ...] = (16, 32, 64, 128)
    voice_channels: int = 128
    voice_dilations: tuple[int, ...] = (1, 2, 4, 8, 16, 32)   # receptive field ~1.3 s
    rhythm_width: int = 32                         # the modulation-spectrum branch (speaking rate); 0 = none
    decoder_channels: tuple[int, ...] = (96, 48, 24, 12)
    identities: int = 0                            # K: set by the data (the face encoder's identity classes)
    lambda_feature: float = 0.025                  # Eq. (1) lambda_1
    lambda_distill: float = 200.0                  # Eq. (1) lambda_2
    temperature: float = 2.0                       # T of L_distill
    voice_weight: float = 1.0                      # Eq. (1)'s weight beside the face losses in the one loop
    stage: str = "joint"                           # joint | faces (face side only) | voice (face side frozen)
    dropout: float = 0.1

    def __post_init__(self) -> None:
        if self.face_size != 16 * (self.face_size // 16) or self.face_size < 16:
            raise ParameterError(f"face_size must be a multiple of 16, got {self.face_size}")
        if len(self.decoder_channels) != 4 or len(self.face_channels) < 1:
            raise ParameterError("decoder_channels needs 4 widths (4x4 -> 64x64 in four doublings)")
        if self.stage not in ("joint", "faces", "voice"):
            raise ParameterError(f"stage must be joint, faces or voice, not {self.stage!r}")
        if self.clip_seconds <= 0 or self.feature_dim < 2:
            raise ParameterError("clip_seconds must be > 0 and feature_dim >= 2")

    @classmethod
    def tiny(cls) -> "Speech2FaceConfig":
        return cls(audio_preset="tiny", mel_bands=16, clip_seconds=0.5, face_size=32, feature_dim=16,
                   face_channels=(8, 16), voice_channels=16, voice_dilations=(1, 2), decoder_channels=(16, 16, 8, 8),
                   rhythm_width=8)

    @classmethod
    def cpu(cls) -> "Speech2FaceConfig":
        return cls()

    @classmethod
    def paper(cls) -> "Speech2FaceConfig":
        # the paper's voice encoder reads 6 s; VGG-Face's feature is 4096-d (here 512 at 64 px)
        return cls(clip_seconds=6.0, mel_bands=80, feature_dim=512, face_channels=(64, 128, 256, 512),
                   voice_channels=512, voice_dilations=(1, 2, 4, 8, 16, 32, 64), decoder_channels=(512, 256, 128, 64))


def normalized_features(x: torch.Tensor) -> torch.Tensor:
    """(B, D) -> (B, D) of unit L2 norm."""
    return x / x.norm(dim=-1, keepdim=True).clamp_min(1e-8)


def distillation(teacher_logits: torch.Tensor, student_logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """KL(softmax(teacher / T) || softmax(student / T)), mean over the batch: (B, K), (B, K) -> ()."""
    p = F.softmax(teacher_logits / temperature, dim=-1)
    return (torch.xlogy(p, p) - p * F.log_softmax(student_logits / temperature, dim=-1)).sum(-1).mean()


def speech2face_loss(v_f: torch.Tensor, v_s: torch.Tensor, first_layer: nn.Linear, classifier: nn.Linear,
                     lambda_feature: float, lambda_distill: float, temperature: float) -> dict[str, torch.Tensor]:
    """Eq. (1) for face features ``v_f`` (B, D) and voice features ``v_s`` (B, D). The face side (``v_f``, the
    decoder's first layer, the classifier) is constant: gradients reach ``v_s`` only. Returns the three terms
    and their weighted sum ``loss``."""
    v_f = v_f.detach()
    w1, b1 = first_layer.weight.detach(), first_layer.bias.detach()
    wc, bc = classifier.weight.detach(), classifier.bias.detach()
    decoder_term = (F.linear(v_f, w1, b1) - F.linear(v_s, w1, b1)).abs().mean()
    feature_term = (normalized_features(v_f) - normalized_features(v_s)).pow(2).sum(-1).mean()
    distill_term = distillation(F.linear(v_f, wc, bc), F.linear(v_s, wc, bc), temperature)
    loss = decoder_term + lambda_feature * feature_term + lambda_distill * distill_term
    return {"loss": loss, "decoder": decoder_term, "feature": feature_term, "distill": distill_term}


def _conv_block(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]


class FaceEncoder(nn.Module):
    """Grey face (B, 1, H, W) in [0, 1] -> face feature (B, D): conv blocks, each halving the size, then global
    average pooling and a linear map."""

    def __init__(self, channels: tuple[int, ...], feature_dim: int):
        super().__init__()
        layers, previous = [], 1
        for width in channels:
            layers += [*_conv_block(previous, width), nn.MaxPool2d(2)]
            previous = width
        self.body = nn.Sequential(*layers)
        self.out = nn.Linear(previous, feature_dim)

    def forward(self, face: torch.Tensor) -> torch.Tensor:
        x = self.body((face - 0.5) / 0.25)           # (B, 1, H, W) -> (B, C, H / 2^n, W / 2^n)
        return self.out(x.mean(dim=(-2, -1)))        # (B, C) -> (B, D)


class FaceDecoder(nn.Module):
    """Face feature (B, D) -> canonical face (B, 1, size, size) in [0, 1]: ``first`` (the paper's f_dec, a fully
    connected layer to a 4x4 map of ``channels[0]`` (size / 16 = 4 at 64 px)), then four (upsample x2, conv)
    blocks."""

    def __init__(self, feature_dim: int, channels: tuple[int, ...], size: int):
        super().__init__()
        self.base = size // 16
        self.c0 = channels[0]
        self.first = nn.Linear(feature_dim, channels[0] * self.base * self.base)
        layers, previous = [], channels[0]
        for width in channels:
            layers += [nn.Upsample(scale_factor=2, mode="nearest"), *_conv_block(previous, width)]
            previous = width
        self.body = nn.Sequential(*layers, nn.Conv2d(previous, 1, 3, padding=1))

    def forward(self, feature: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.first(feature)).view(-1, self.c0, self.base, self.base)  # (B, D) -> (B, C, 4, 4)
        return torch.sigmoid(self.body(x))                                        # -> (B, 1, size, size)


class VoiceEncoder(nn.Module):
    """Waveform (B, S) -> predicted face feature (B, D)."""

    def __init__(self, config: Speech2FaceConfig):
        super().__init__()
        self.config = c = config
        p = c.preset
        self.mel = MelSpectrogram.from_preset(p.with_(power=2.0))
        layers, previous = [], c.mel_bands
        for d in c.voice_dilations:
            layers += [nn.Conv1d(previous, c.voice_channels, 3, padding=d, dilation=d, bias=False),
                       nn.BatchNorm1d(c.voice_channels), nn.ReLU()]
            previous = c.voice_channels
        self.body = nn.Sequential(*layers)
        self.frame_rate = p.sample_rate / p.hop_length
        bins = AF.modulation_spectrum(torch.zeros(1, 8), self.frame_rate).shape[-1]
        self.rhythm = nn.Sequential(nn.Linear(bins, c.rhythm_width), nn.ReLU()) if c.rhythm_width else None
        self.head = nn.Sequential(nn.Linear(2 * c.voice_channels + c.rhythm_width, c.voice_channels), nn.ReLU(),
                                  nn.Dropout(c.dropout), nn.Linear(c.voice_channels, c.feature_dim))

    def log_mel(self, waveform: torch.Tensor) -> torch.Tensor:
        """(B, S) -> log-mel (B, M, T) in dB, standardised per clip (loudness is not a property of the face)."""
        db = 10.0 * torch.log10(self.mel(waveform).clamp_min(1e-10))     # (B, S) -> (B, M, T) power, in dB
        db = torch.maximum(db, db.amax(dim=(-2, -1), keepdim=True) - 80.0)
        return (db - db.mean(dim=(-2, -1), keepdim=True)) / db.std(dim=(-2, -1), keepdim=True).clamp_min(1e-3)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        x = self.log_mel(waveform)                                   # (B, M, T)
        h = self.body(x)                                             # (B, M, T) -> (B, C, T)
        pooled = [h.mean(-1), h.std(-1)]                             # 2 x (B, C)
        if self.rhythm is not None:
            spectrum = AF.modulation_spectrum(x.mean(1), self.frame_rate)  # (B, T) loudness -> (B, K)
            pooled.append(self.rhythm(torch.log(spectrum + 1e-4)))   # (B, R)
        return self.head(torch.cat(pooled, dim=-1))                  # (B, 2C + R) -> (B, D)


def recall_in_groups(voice: torch.Tensor, face: torch.Tensor, group: int = 10, k: int = 1, seed: int = 0,
                     rounds: int = 1) -> float:
    """Voice -> face retrieval among ``group`` candidates: for query i (row i of ``voice`` (N, D)), its own face
    (row i of ``face`` (N, D)) and ``group - 1`` others drawn at random; the share whose own face is among the
    ``k`` most cosine-similar (ties count against it). ``rounds`` draws of the distractors are averaged."""
    n = voice.shape[0]
    group = min(group, n)
    sim = normalized_features(voice) @ normalized_features(face).T   # (N, N)
    g = torch.Generator().manual_seed(seed)
    hits = 0.0
    for _ in range(rounds):
        for i in range(n):
            others = torch.randperm(n - 1, generator=g)[: group - 1]
            others = others + (others >= i).long()
            better = (sim[i, others] >= sim[i, i]).sum().item()
            hits += float(better < k)
    return hits / (n * rounds)


class Speech2Face(nn.Module):
    """The three parts (face encoder + identity classifier, face decoder, voice encoder) and their losses.

    Batches (``data/speech2face.py``): ``photo`` (B, 1, H, W), ``canonical`` (B, 1, H, W), ``identity`` (B,)
    long, ``wave`` (B, S), ``has_voice`` (B,) bool (faces without a voice, e.g. ORL, train the face side only).
    """

    def __init__(self, config: Speech2FaceConfig):
        super().__init__()
        if config.identities < 2:
            raise ParameterError("Speech2FaceConfig.identities must be >= 2 (the data sets it)")
        self.config = config
        self.face_encoder = FaceEncoder(config.face_channels, config.feature_dim)
        self.classifier = nn.Linear(config.feature_dim, config.identities)
        self.decoder = FaceDecoder(config.feature_dim, config.decoder_channels, config.face_size)
        self.voice_encoder = VoiceEncoder(config)
        if config.stage == "voice":
            for part in self.face_side:
                part.requires_grad_(False)

    @property
    def face_side(self) -> tuple[nn.Module, ...]:
        return self.face_encoder, self.classifier, self.decoder

    def train(self, mode: bool = True):
        super().train(mode)
        if self.config.stage == "voice":  # a frozen face side keeps its BatchNorm statistics
            for part in self.face_side:
                part.eval()
        return self

    def face_feature(self, face: torch.Tensor) -> torch.Tensor:
        """(B, 1, H, W) -> v_f (B, D)."""
        return self.face_encoder(face)

    def voice_feature(self, waveform: torch.Tensor) -> torch.Tensor:
        """(B, S) -> v_s (B, D)."""
        return self.voice_encoder(waveform)

    def draw(self, feature: torch.Tensor) -> torch.Tensor:
        """(B, D) -> canonical face (B, 1, H, W) in [0, 1]."""
        return self.decoder(feature)

    def loss(self, batch: dict) -> tuple[torch.Tensor, dict]:
        c = self.config
        voiced = batch["has_voice"]
        if c.stage == "voice":
            if not bool(voiced.any()):  # a batch of voiceless faces teaches the voice nothing
                zero = sum(p.sum() for p in self.voice_encoder.parameters()) * 0.0
                return zero, {}
            with torch.no_grad():
                v_f = self.face_encoder(batch["photo"][voiced])
            v_s = self.voice_encoder(batch["wave"][voiced])
            terms = speech2face_loss(v_f, v_s, self.decoder.first, self.classifier, c.lambda_feature,
                                     c.lambda_distill, c.temperature)
            return terms["loss"], {f"voice_{k}": v.detach() for k, v in terms.items()}
        if int(batch["identity"].max()) >= c.identities:  # model.identities set below the data's count
            raise ParameterError(f"identity {int(batch['identity'].max())} has no class among the classifier's "
                                 f"{c.identities}: only stage='voice' trains with fewer classes than identities")
        v_f = self.face_encoder(batch["photo"])                                   # (B, D)
        identity = F.cross_entropy(self.classifier(v_f), batch["identity"])
        decoded = F.l1_loss(self.decoder(v_f.detach()), batch["canonical"])
        metrics = {"identity": identity.detach(), "decoder_l1": decoded.detach()}
        total = identity + decoded
        if c.stage == "joint" and bool(voiced.any()):
            v_s = self.voice_encoder(batch["wave"][voiced])                       # (B', D)
            terms = speech2face_loss(v_f[voiced], v_s, self.decoder.first, self.classifier,
                                     c.lambda_feature, c.lambda_distill, c.temperature)
            total = total + c.voice_weight * terms["loss"]
            metrics.update({f"voice_{k}": v.detach() for k, v in terms.items()})
        return total, metrics

    @torch.no_grad()
    def evaluate(self, batches) -> dict[str, float]:
        """Selection metrics on held-apart speakers: voice -> face recall@1 among 10 (``score``) and @5, the
        voice loss, the decoder's L1 on canonical faces."""
        voices, faces, l1, n = [], [], 0.0, 0
        for batch in batches:
            voiced = batch["has_voice"]
            v_f = self.face_encoder(batch["photo"][voiced])
            voices.append(self.voice_encoder(batch["wave"][voiced]))
            faces.append(v_f)
            l1 += F.l1_loss(self.decoder(v_f), batch["canonical"][voiced], reduction="sum").item()
            n += int(voiced.sum())
        if n == 0:
            raise ParameterError("the selection split has no speakers with a voice")
        v_s, v_f = torch.cat(voices), torch.cat(faces)
        terms = speech2face_loss(v_f, v_s, self.decoder.first, self.classifier, self.config.lambda_feature,
                                 self.config.lambda_distill, self.config.temperature)
        pixels = n * self.config.face_size ** 2
        return {"score": recall_in_groups(v_s.cpu(), v_f.cpu(), 10, 1, rounds=5),
                "recall@5": recall_in_groups(v_s.cpu(), v_f.cpu(), 10, 5, rounds=5),
                "voice_loss": float(terms["loss"]), "decoder_l1": l1 / pixels}
