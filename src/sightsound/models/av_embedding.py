"""Scene recognition by sound: sounds and photos in one normalised embedding space, tied through text.

The lecture's audio-visual part starts from the observation that what a sound means can be learnt from what
co-occurs with it (SoundNet, Aytar et al. 2016; Look, Listen and Learn, Arandjelovic & Zisserman 2017; Objects
that Sound, 2018). ESC-10's recordings come without pictures and Flickr8k's photos without sounds, so the two are
tied the way audio-image-text models tie unpaired modalities (AudioCLIP, Guzhov et al. 2022; ImageBind, Girdhar
et al. 2023): a third, frozen **text anchor**, the all-MiniLM-L6-v2 sentence space, that both sides align to.

* sound encoder: waveform -> log-mel (the lecture's front-end: 25 ms Hamming window every 10 ms) -> a log-mel
  "picture" (dB, top ``dynamic_range_db`` kept, scaled to [0, 1], low frequencies at the bottom) -> the first
  ``backbone_blocks`` MBConv blocks of ImageNet EfficientNet-Lite0 (frozen unless ``train_blocks`` > 0; ImageNet
  features transfer to spectrograms, as in PANNs/AST-style audio models) -> mean + max pooling over time and
  frequency -> a trained two-layer projection -> unit vector (B, D);
* image encoder: EfficientNet-Lite0's pooled 1280-d feature of the whole photo (cached, ``vision/features.py``)
  -> a trained linear projection -> unit vector (B, D);
* text anchor: MiniLM sentence embeddings (D = 384), frozen: of the ESC class prompts ("a dog barking") and of
  the Flickr captions. They come with the data; the model keeps the class prompts' copy (``class_anchors``) so a
  checkpoint classifies on its own.

Losses (InfoNCE, van den Oord et al. 2018, in CLIP's symmetric form, Radford et al. 2021, Eq. in Fig. 3), each
with its own learnable temperature ``tau = exp(-log_scale)``:

  sound <-> class text:  L_s = 1/2 [ CE(s_i . A^T / tau, y_i)  +  multi-positive CE over the batch's sounds
                                      for each class present (every sound of that class is a positive;
                                      written as a KL divergence, floor 0) ]
  image <-> caption:     L_v = 1/2 [ CE(v . t^T / tau, diag) + CE(t . v^T / tau, diag) ]
  loss = L_s + image_weight * L_v

A sound is classified by its nearest class anchor (zero-shot style: the classifier's weights are the prompts'
embeddings) and finds photos through the shared space: cos(sound, image). The alternative, SoundNet-style
image-teacher distillation, needs videos whose frames and sound co-occur; ESC-10 has none, so it is not built.
The cheap alternative that is measured instead (``scripts/scene_cv.py``): the same sound features with a plain
supervised classifier, and a log-mel CNN trained from scratch.

Axis legend: B batch, S samples, M mel bands, T frames, C channels, D embedding width, K classes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from sightsound.audio import functional as AF
from sightsound.audio.presets import MelClipAnalysis
from sightsound.errors import ParameterError


def info_nce(logits: torch.Tensor) -> torch.Tensor:
    """Symmetric InfoNCE for a (B, B) similarity matrix whose diagonal holds the positives:
    (CE(rows, diag) + CE(columns, diag)) / 2."""
    target = torch.arange(logits.shape[0], device=logits.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))


def class_info_nce(sounds: torch.Tensor, anchors: torch.Tensor, labels: torch.Tensor,
                   scale: torch.Tensor) -> torch.Tensor:
    """InfoNCE between sounds (B, D) and class anchors (K, D), both directions.

    sound -> text: CE over the K anchors. text -> sound: for each class present in the batch, a softmax over the
    B sounds whose target spreads evenly over that class's sounds (the multi-positive form of InfoNCE, as a KL
    divergence so that its floor is 0)."""
    logits = scale * sounds @ anchors.T  # (B, K)
    to_text = F.cross_entropy(logits, labels)
    present = labels.unique()  # (P,)
    positive = (labels[None, :] == present[:, None]).float()  # (P, B)
    target = positive / positive.sum(1, keepdim=True)
    # KL(target || softmax): the cross-entropy less the target's own entropy, so a perfect model scores 0 (the
    # gradient is the cross-entropy's)
    to_sound = (torch.xlogy(target, target) - target * F.log_softmax(logits.T[present], dim=1)).sum(1).mean()
    return 0.5 * (to_text + to_sound)


def paired_recall(sim: torch.Tensor, k: int) -> float:
    """Share of rows of a (N, N) similarity whose diagonal entry is among the row's k largest (ties count
    against it)."""
    others = ~torch.eye(sim.shape[0], dtype=torch.bool, device=sim.device)
    rank = ((sim >= sim.diagonal()[:, None]) & others).sum(1)
    return float((rank < k).float().mean())


@dataclass(frozen=True)
class AVEmbeddingConfig(MelClipAnalysis):
    audio_preset: str = "speech"   # 16 kHz, 25 ms Hamming window every 10 ms (the lecture's analysis)
    mel_bands: int = 64      # the log-mel picture's height (the preset's own n_mels is not used)
    clip_seconds: float = 5.0      # sounds are cropped / zero-padded to this length for training
    dynamic_range_db: float = 80.0
    backbone: str = "efficientnet-lite0"  # or "small-cnn": trained from scratch (tests, no pretrained weights)
    backbone_blocks: int = 12      # MBConv blocks of EfficientNet-Lite0 used (12 of 16: 192 channels)
    train_blocks: int = 0          # > 0: fine-tune the last n of them
    small_channels: tuple[int, ...] = (16, 32)  # the small-cnn backbone's stages
    hidden: int = 512
    embed_dim: int = 384           # MiniLM's width: the text anchor's space
    image_channels: int = 1280     # the pooled EfficientNet-Lite0 photo feature
    photo_size: int = 448          # the photo side EfficientNet-Lite0 sees (set by the data)
    dropout: float = 0.2
    init_temperature: float = 0.07
    image_weight: float = 1.0
    class_names: tuple[str, ...] = ()  # set by the data (ESC categories)
    class_prompts: tuple[str, ...] = ()
    train_folds: tuple[int, ...] = ()  # the folds the model trained on (eval marks those clips)

    def __post_init__(self) -> None:
        if self.backbone not in ("efficientnet-lite0", "small-cnn"):
            raise ParameterError(f"backbone must be efficientnet-lite0 or small-cnn, got {self.backbone!r}")
        if not 1 <= self.backbone_blocks <= 16:
            raise ParameterError(f"backbone_blocks must be in 1..16, got {self.backbone_blocks}")
        if not 0 <= self.train_blocks <= self.backbone_blocks:
            raise ParameterError(f"train_blocks must be in 0..backbone_blocks, got {self.train_blocks}")
        if len(self.class_prompts) != len(self.class_names):  # no classes: a spoken-caption model
            raise ParameterError("class_prompts and class_names must have the same length")

    @classmethod
    def tiny(cls) -> "AVEmbeddingConfig":
        return cls(audio_preset="tiny", mel_bands=16, clip_seconds=0.25, backbone="small-cnn", hidden=32,
                   embed_dim=16, image_channels=8, dropout=0.0, init_temperature=0.1)

    @classmethod
    def cpu(cls) -> "AVEmbeddingConfig":
        return cls()

    @classmethod
    def paper(cls) -> "AVEmbeddingConfig":
        # all 16 blocks, the last four fine-tuned (GPU work: AudioSet/VGGSound-sized folders)
        return cls(mel_bands=128, backbone_blocks=16, train_blocks=4, hidden=1024)


EFFICIENTNET_CHANNELS = (16, 24, 24, 40, 40, 80, 80, 80, 112, 112, 112, 192, 192, 192, 192, 320)


class SoundEncoder(nn.Module):
    """waveform (B, S) -> unit embedding (B, D), through a log-mel picture and a CNN."""

    def __init__(self, config: AVEmbeddingConfig):
        super().__init__()
        self.config = c = config
        p = c.preset
        self.register_buffer("mel_basis", AF.mel_filterbank(p.sample_rate, p.n_fft, **p.mel_kwargs,
                                                            dtype=torch.float32), persistent=False)
        if c.backbone == "efficientnet-lite0":
            from sightsound.vision.encoders import EfficientNetLite0Encoder

            net = EfficientNetLite0Encoder(224)
            self.stem, self.blocks = net.stem, nn.Sequential(*list(net.blocks)[: c.backbone_blocks])
            width = EFFICIENTNET_CHANNELS[c.backbone_blocks - 1]
            for p_ in self.parameters():
                p_.requires_grad_(False)
            for block in list(self.blocks)[len(self.blocks) - c.train_blocks:] if c.train_blocks else []:
                for p_ in block.parameters():
                    p_.requires_grad_(True)
        else:
            layers, previous = [], 3
            for w in c.small_channels:
                layers += [nn.Conv2d(previous, w, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU()]
                previous = w
            self.stem, self.blocks, width = nn.Identity(), nn.Sequential(*layers), previous
        self.head = nn.Sequential(nn.LayerNorm(2 * width), nn.Dropout(c.dropout), nn.Linear(2 * width, c.hidden),
                                  nn.GELU(), nn.Linear(c.hidden, c.embed_dim))

    @property
    def frozen(self) -> bool:
        return self.config.backbone == "efficientnet-lite0"

    def train(self, mode: bool = True):
        super().train(mode)
        if self.frozen:  # frozen ImageNet blocks keep their BatchNorm statistics
            frozen_upto = len(self.blocks) - self.config.train_blocks
            self.stem.eval()
            for block in list(self.blocks)[:frozen_upto]:
                block.eval()
        return self

    def picture(self, waveform: torch.Tensor) -> torch.Tensor:
        """(B, S) -> the log-mel picture (B, M, T) in [0, 1]: dB re the clip's loudest bin, the top
        ``dynamic_range_db`` kept; a silent clip gives all zeros."""
        p = self.config.preset
        mel = AF.melspectrogram(waveform, p.sample_rate, p.n_fft, p.hop_length, p.win_length, p.window,
                                power=2.0, mel_basis=self.mel_basis)  # (B, M, T) power
        db = 10.0 * torch.log10(mel.clamp_min(1e-10))
        top = db.amax(dim=(-2, -1), keepdim=True)
        picture = ((db - top) / self.config.dynamic_range_db + 1.0).clamp(0.0, 1.0)
        return picture * (top > -99.0)  # an all-zero clip sits at the -100 dB floor: keep it black

    def features(self, waveform: torch.Tensor) -> torch.Tensor:
        """(B, S) -> pooled CNN features (B, 2 C)."""
        x = self.picture(waveform).flip(1).unsqueeze(1).expand(-1, 3, -1, -1)  # (B, 3, M, T), low bands at the bottom
        if self.frozen:
            x = (x * 255.0 - 127.0) / 128.0  # EfficientNet-Lite's input scaling
            with torch.set_grad_enabled(torch.is_grad_enabled() and self.config.train_blocks > 0):
                x = self.blocks(self.stem(x))  # (B, C, M/16, T/16)
        else:
            x = self.blocks(x * 2.0 - 1.0)
        return torch.cat([x.mean(dim=(-2, -1)), x.amax(dim=(-2, -1))], dim=1)  # (B, 2C)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.head(self.features(waveform)), dim=-1)  # (B, D)


class AVEmbedding(nn.Module):
    """Sound and image encoders into the text anchor's space; ``loss`` is the two InfoNCE terms."""

    def __init__(self, config: AVEmbeddingConfig):
        super().__init__()
        self.config = c = config
        self.sound = SoundEncoder(c)
        self.image = nn.Sequential(nn.LayerNorm(c.image_channels), nn.Dropout(c.dropout),
                                   nn.Linear(c.image_channels, c.embed_dim))
        start = math.log(1.0 / c.init_temperature)
        self.sound_log_scale = nn.Parameter(torch.tensor(start))
        self.image_log_scale = nn.Parameter(torch.tensor(start))
        self.register_buffer("class_anchors", torch.zeros(len(c.class_names), c.embed_dim))

    def embed_sound(self, waveform: torch.Tensor) -> torch.Tensor:
        """(B, S) -> (B, D) unit vectors."""
        return self.sound(waveform)

    def embed_image(self, features: torch.Tensor) -> torch.Tensor:
        """Pooled photo features (B, image_channels) -> (B, D) unit vectors."""
        return F.normalize(self.image(features), dim=-1)

    def class_logits(self, sounds: torch.Tensor) -> torch.Tensor:
        """Unit sound embeddings (B, D) -> (B, K) scaled cosine similarities to the class anchors."""
        return self._scale(self.sound_log_scale) * sounds @ self.class_anchors.T

    @staticmethod
    def _scale(log_scale: torch.Tensor) -> torch.Tensor:
        return log_scale.clamp(max=math.log(100.0)).exp()  # CLIP caps the scale at 100

    def loss(self, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
        sounds = self.embed_sound(batch["wave"])  # (B, D)
        scale = self._scale(self.sound_log_scale)
        if "sound_text" in batch:  # each sound has its own anchor (a spoken caption's words): plain InfoNCE
            sound_loss = info_nce(scale * sounds @ batch["sound_text"].T)
        else:
            self.class_anchors.copy_(batch["anchors"])
            sound_loss = class_info_nce(sounds, batch["anchors"], batch["label"], scale)
        metrics = {"sound_loss": float(sound_loss.detach())}
        loss = sound_loss
        if "image" in batch and self.config.image_weight > 0:
            images = self.embed_image(batch["image"])  # (Bi, D)
            image_loss = info_nce(self._scale(self.image_log_scale) * images @ batch["text"].T)
            loss = loss + self.config.image_weight * image_loss
            metrics["image_loss"] = float(image_loss.detach())
        with torch.no_grad():
            if "sound_text" in batch:
                metrics["accuracy"] = float(paired_recall(sounds @ batch["sound_text"].T, 1))
            else:
                metrics["accuracy"] = float((sounds @ batch["anchors"].T).argmax(-1).eq(batch["label"]).float().mean())
        return loss, metrics

    @torch.no_grad()
    def evaluate(self, batches) -> dict[str, float]:
        """Selection metrics: sound accuracy against the class anchors, photo -> caption recall@5 among the
        selection photos, and ``score``, their mean (what checkpoints are chosen by)."""
        correct = total = 0
        images, texts, heard, said = [], [], [], []
        for batch in batches:
            keep = batch["has_sound"]
            if "sound_text" in batch:
                heard.append(self.embed_sound(batch["wave"]))
                said.append(batch["sound_text"])
            elif keep.any():
                sounds = self.embed_sound(batch["wave"][keep])
                correct += int((sounds @ batch["anchors"].T).argmax(-1).eq(batch["label"][keep]).sum())
                total += int(keep.sum())
            if "image" in batch:
                keep = batch["has_photo"]
                images.append(self.embed_image(batch["image"][keep]))
                texts.append(batch["text"][keep])
        if heard:  # spoken captions: the share whose own words are among the 5 nearest of the selection's
            out = {"accuracy": paired_recall(torch.cat(heard) @ torch.cat(said).T, 5)}
        else:
            out = {"accuracy": correct / max(1, total)}
        if images:
            out["image_r5"] = paired_recall(torch.cat(images) @ torch.cat(texts).T, 5)  # photo i's caption is text i
            out["score"] = 0.5 * (out["accuracy"] + out["image_r5"])
        else:
            out["score"] = out["accuracy"]
        return out
