"""DALL-E: a transformer that models a caption's words followed by its image's dVAE tokens, and so draws images.

Ramesh et al. 2021 ("Zero-Shot Text-to-Image Generation"). Stage one (Sec. 2.1) is the discrete VAE
(``models/dvae.py``): an image becomes a G x G grid of codebook tokens. Stage two (Sec. 2.2) is one decoder-only
transformer over the sequence [text tokens; image tokens] (``attention.layers.TransformerBlock``, causal, with the
project's KV cache), with separate token embeddings and position embeddings per modality (text positions; image
row and column embeddings) and the loss weighted 1/8 text and 7/8 image, each kind's cross-entropy averaged over
its own tokens (Sec. 2.2). Sampling draws the image tokens one by one (top-k / top-p) and the dVAE decodes them;
the candidates are re-ranked by a contrastive text-image model (Sec. 2.5; ``models/text_image.py``).

The three parts live in one module and one checkpoint and train in stages (``DALLEConfig.stage``): ``dvae``
(the dVAE alone), ``prior`` (the transformer on the frozen dVAE's tokens) and ``rerank`` (the text-image model);
each stage's trainable part is the only one with gradients.

Axis legend: B batch, L sequence, Lt text tokens, N = G * G image tokens, D width, K codebook, V text vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from sightsound.attention.layers import KVCache, TransformerBlock
from sightsound.errors import ParameterError
from sightsound.models.dvae import DiscreteVAE, DVAEConfig
from sightsound.models.gpt import sample_next
from sightsound.models.text_image import TextImage, TextImageConfig

STAGES = ("dvae", "prior", "rerank")


@dataclass(frozen=True)
class DALLEConfig:
    stage: str = "dvae"
    image_size: int = 64
    text_vocab: int = 20              # the shapes vocabulary (data/dalle_shapes.VOCAB)
    text_length: int = 13             # <bos> + 12 words
    # the discrete VAE (models/dvae.py)
    downsample: int = 8
    dvae_channels: int = 32
    codebook_size: int = 512
    codebook_dim: int = 64
    tau_steps: int = 3000
    kl_weight: float = 1e-4
    kl_warmup: int = 500
    polish_decoder: bool = True       # the decoder alone on hard tokens once tau has annealed (models/dvae.py)
    dvae_loss: str = "mse"            # the dVAE's reconstruction term: "mse" or "l1" (models/dvae.py)
    # the transformer
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 192
    dropout: float = 0.0
    text_loss_weight: float = 1 / 8   # Sec. 2.2: 1/8 text, 7/8 image
    # the re-ranker (models/text_image.py)
    rerank_dim: int = 128
    rerank_channels: int = 48

    def __post_init__(self):
        if self.stage not in STAGES:
            raise ParameterError(f"stage must be one of {', '.join(STAGES)}, got {self.stage!r}")
        if self.n_embd % self.n_head:
            raise ParameterError(f"n_embd ({self.n_embd}) must divide by n_head ({self.n_head})")
        if not 0.0 <= self.text_loss_weight <= 1.0:
            raise ParameterError(f"text_loss_weight must lie in [0, 1], got {self.text_loss_weight}")

    @property
    def dvae(self) -> DVAEConfig:
        return DVAEConfig(image_size=self.image_size, downsample=self.downsample, channels=self.dvae_channels,
                          codebook_size=self.codebook_size, codebook_dim=self.codebook_dim,
                          tau_steps=self.tau_steps, kl_weight=self.kl_weight, kl_warmup=self.kl_warmup,
                          polish_decoder=self.polish_decoder, recon_loss=self.dvae_loss)

    @property
    def grid(self) -> int:
        return self.dvae.grid

    @property
    def image_tokens(self) -> int:
        return self.grid ** 2

    @classmethod
    def tiny(cls) -> "DALLEConfig":
        return cls(image_size=32, downsample=8, dvae_channels=16, codebook_size=32, codebook_dim=16, tau_steps=100,
                   kl_warmup=20, n_layer=2, n_head=2, n_embd=32, rerank_dim=32, rerank_channels=8)

    @classmethod
    def cpu(cls) -> "DALLEConfig":
        return cls()

    @classmethod
    def paper(cls) -> "DALLEConfig":  # a larger grid and vocabulary, a wider and deeper transformer
        return cls(downsample=4, dvae_channels=128, codebook_size=1024, codebook_dim=128, tau_steps=20000,
                   kl_warmup=5000, n_layer=12, n_head=8, n_embd=512, dropout=0.1, rerank_dim=256, rerank_channels=64)


def dalle_loss(text_logits: torch.Tensor, text_targets: torch.Tensor, image_logits: torch.Tensor,
               image_targets: torch.Tensor, text_weight: float = 1 / 8) -> dict[str, torch.Tensor]:
    """Sec. 2.2: ``text_weight * CE_text + (1 - text_weight) * CE_image``, each cross-entropy the mean over its
    own tokens. text_logits (B, Lt - 1, V) for targets (B, Lt - 1); image_logits (B, N, K) for targets (B, N)."""
    text = F.cross_entropy(text_logits.reshape(-1, text_logits.shape[-1]), text_targets.reshape(-1))
    image = F.cross_entropy(image_logits.reshape(-1, image_logits.shape[-1]), image_targets.reshape(-1))
    return {"loss": text_weight * text + (1 - text_weight) * image, "text_ce": text, "image_ce": image}


class DALLE(nn.Module):
    """The dVAE, the transformer over [text; image tokens] and the re-ranker (see the module docstring).

    ``forward(text, image_tokens)`` -> text logits (B, Lt - 1, V), image logits (B, N, K) (teacher forcing);
    ``sample(text, ...)`` -> image tokens (B, N); ``draw(text, ...)`` -> images (B, 3, H, W) in [0, 1].
    Images come in as uint8 (B, 3, H, W) in batches, as float [0, 1] to the parts.
    """

    def __init__(self, config: DALLEConfig):
        super().__init__()
        self.config = c = config
        self.dvae = DiscreteVAE(c.dvae)
        self.text_emb = nn.Embedding(c.text_vocab, c.n_embd)
        self.image_emb = nn.Embedding(c.codebook_size, c.n_embd)
        self.text_pos = nn.Parameter(torch.zeros(c.text_length, c.n_embd))
        self.row_pos = nn.Parameter(torch.zeros(c.grid, c.n_embd))
        self.col_pos = nn.Parameter(torch.zeros(c.grid, c.n_embd))
        self.blocks = nn.ModuleList(TransformerBlock(c.n_embd, c.n_head, c.dropout, True, True, causal=True)
                                    for _ in range(c.n_layer))
        self.ln_f = nn.LayerNorm(c.n_embd)
        self.text_head = nn.Linear(c.n_embd, c.text_vocab, bias=False)
        self.image_head = nn.Linear(c.n_embd, c.codebook_size, bias=False)
        for module in [self.text_emb, self.image_emb, self.text_head, self.image_head]:
            nn.init.normal_(module.weight, 0.0, 0.02)
        for p in (self.text_pos, self.row_pos, self.col_pos):
            nn.init.normal_(p, 0.0, 0.01)
        self.reranker = TextImage(TextImageConfig(c.text_vocab, c.rerank_dim, c.rerank_channels))
        self.register_buffer("dvae_steps", torch.zeros((), dtype=torch.long))  # the temperature schedule's clock
        self.requires_grad_(True)

    @property
    def parts(self) -> dict[str, list[nn.Module]]:
        prior = [self.text_emb, self.image_emb, self.blocks, self.ln_f, self.text_head, self.image_head]
        return {"dvae": [self.dvae], "prior": prior, "rerank": [self.reranker]}

    def requires_grad_(self, requires_grad: bool = True):  # only the stage's part ever learns
        for name, part in self.parts.items():
            for module in part:
                module.requires_grad_(requires_grad and name == self.config.stage)
        for p in (self.text_pos, self.row_pos, self.col_pos):
            p.requires_grad_(requires_grad and self.config.stage == "prior")
        return self

    def train(self, mode: bool = True):
        super().train(mode)
        for name, part in self.parts.items():  # frozen parts keep their BatchNorm statistics
            if name != self.config.stage:
                for module in part:
                    module.eval()
        return self

    # --- the transformer ---------------------------------------------------------------------------------------

    def image_positions(self, start: int, count: int) -> torch.Tensor:
        """Position embeddings of image tokens start .. start + count - 1: row + column. (count, D)."""
        j = torch.arange(start, start + count, device=self.row_pos.device)
        return self.row_pos[j // self.config.grid] + self.col_pos[j % self.config.grid]

    def embed(self, text: torch.Tensor | None, image_tokens: torch.Tensor | None, image_start: int = 0):
        """[text (B, Lt); image tokens (B, n) that start at image position ``image_start``] -> (B, Lt + n, D)."""
        parts = []
        if text is not None:
            parts.append(self.text_emb(text) + self.text_pos[: text.shape[1]])
        if image_tokens is not None:
            parts.append(self.image_emb(image_tokens) + self.image_positions(image_start, image_tokens.shape[1]))
        return torch.cat(parts, dim=1)

    def run_blocks(self, x: torch.Tensor, caches: list[KVCache] | None = None):
        """(B, L, D) through the blocks (continuing ``caches`` when given) -> normed (B, L, D), caches."""
        new = []
        for i, block in enumerate(self.blocks):
            x, _, cache = block(x, None, caches[i] if caches else None)
            new.append(cache)
        return self.ln_f(x), new

    def forward(self, text: torch.Tensor, image_tokens: torch.Tensor):
        """Teacher forcing: text (B, Lt), image tokens (B, N) -> text logits (B, Lt - 1, V), image logits (B, N, K)."""
        Lt = text.shape[1]
        h, _ = self.run_blocks(self.embed(text, image_tokens[:, :-1]))  # (B, Lt + N - 1, D)
        return self.text_head(h[:, : Lt - 1]), self.image_head(h[:, Lt - 1:])

    @torch.inference_mode()
    def sample(self, text: torch.Tensor, temperature: float = 1.0, top_k: int | None = None,
               top_p: float | None = None, generator: torch.Generator | None = None, use_cache: bool = True):
        """Image tokens (B, N) for captions (B, Lt), one token at a time. With the cache each step embeds one
        token and attends to the cached keys; without it the whole sequence is recomputed every step (the
        reference the benchmark compares with). Both draw the same tokens for the same generator."""
        c = self.config
        B, Lt, N = text.shape[0], text.shape[1], c.image_tokens
        tokens = text.new_zeros(B, 0)
        caches = [KVCache(B, c.n_head, c.n_embd // c.n_head, Lt + N, self.text_pos) for _ in self.blocks]
        h, caches = self.run_blocks(self.embed(text, None), caches if use_cache else None)
        for j in range(N):
            logits = self.image_head(h[:, -1])                                     # (B, K)
            nxt = sample_next(logits, temperature, top_k, top_p, generator)         # (B, 1)
            tokens = torch.cat([tokens, nxt], dim=1)
            if j == N - 1:
                break
            if use_cache:
                h, caches = self.run_blocks(self.embed(None, nxt, image_start=j), caches)
            else:
                h, _ = self.run_blocks(self.embed(text, tokens))
        return tokens

    @torch.inference_mode()
    def draw(self, text: torch.Tensor, **sampling) -> tuple[torch.Tensor, torch.Tensor]:
        """Images (B, 3, H, W) in [0, 1] and their tokens (B, G, G) for captions (B, Lt)."""
        g = self.config.grid
        tokens = self.sample(text, **sampling).view(-1, g, g)
        return self.dvae.decode(tokens).clamp(0, 1), tokens

    # --- training ----------------------------------------------------------------------------------------------

    def loss(self, batch: dict) -> tuple[torch.Tensor, dict]:
        image = batch["image"].float() / 255.0                                    # (B, 3, H, W)
        stage = self.config.stage
        if stage == "dvae":
            loss, metrics = self.dvae.loss(image, int(self.dvae_steps))
            if self.training:
                self.dvae_steps += 1
            return loss, metrics
        if stage == "rerank":
            return self.reranker.loss(image, batch["text"], batch["negative"])
        targets = self.dvae.encode(image).flatten(1)                              # (B, G, G) -> (B, N)
        text_logits, image_logits = self(batch["text"], targets)
        terms = dalle_loss(text_logits, batch["text"][:, 1:], image_logits, targets, self.config.text_loss_weight)
        return terms["loss"], {k: v.detach() for k, v in terms.items() if k != "loss"}

    @torch.no_grad()
    def evaluate(self, batches) -> dict[str, float]:
        """Selection metrics of the stage: dvae — the hard-token reconstruction MSE (``score`` = -MSE) and the
        codes in use; prior — the losses (``score`` = -image CE); rerank — hard-negative accuracy (``score``)."""
        stage, totals, n, codes = self.config.stage, {}, 0, set()
        for batch in batches:
            image = batch["image"].float() / 255.0
            if stage == "dvae":
                tokens = self.dvae.encode(image)
                codes.update(tokens.unique().tolist())
                metrics = {"recon_mse": F.mse_loss(self.dvae.decode(tokens), image)}
            else:
                _, metrics = self.loss(batch)
            for k, v in metrics.items():
                totals[k] = totals.get(k, 0.0) + float(v) * len(image)
            n += len(image)
        out = {k: v / max(1, n) for k, v in totals.items()}
        if stage == "dvae":
            out.update(score=-out["recon_mse"], codes_used=float(len(codes)))
        elif stage == "prior":
            out["score"] = -out["image_ce"]
        else:
            out["score"] = out["hard_negative_acc"]
        return out
