"""Drawing with a trained DALL-E (``models/dalle.py``): a prompt -> N samples, their dVAE tokens and the
re-ranker's scores. The evaluation is ``evaluation/dalle.py``.

``Drawer.from_pretrained("dalle-shapes" | run folder)``; ``draw(prompt, n, ...)`` returns the samples in drawing
order with their scores (``rerank`` sorts them best first); ``reconstruct(images)`` passes images through the
dVAE (encode to tokens, decode) to show what the token grid keeps.
"""

from __future__ import annotations

import os

import torch

from sightsound.data.dalle_shapes import encode_text
from sightsound.errors import UserInputError
from sightsound.models.dalle import DALLE

MAX_SAMPLES = 64


class Drawer:
    def __init__(self, model: DALLE, name: str = ""):
        self.model, self.name = model.eval(), name

    @classmethod
    def from_pretrained(cls, name: str | os.PathLike = "dalle-shapes") -> "Drawer":
        from sightsound.pretrained import load_pretrained

        return cls(load_pretrained(name, expect=(DALLE, "a DALL-E model")), str(name))

    @property
    def image_size(self) -> int:
        return self.model.config.image_size

    @property
    def grid(self) -> int:
        return self.model.config.grid

    def encode(self, prompt: str) -> torch.Tensor:
        """(1, Lt) token ids; one-line errors for an empty prompt or words outside the vocabulary."""
        return encode_text(prompt, self.model.config.text_length)[None]

    @torch.inference_mode()
    def draw(self, prompt: str, n: int = 8, *, top_k: int | None = 64, top_p: float | None = None,
             temperature: float = 1.0, generator: torch.Generator | None = None, use_cache: bool = True):
        """n samples of one prompt: images (n, 3, H, W) in [0, 1], tokens (n, G, G), re-ranker scores (n,)."""
        if not 1 <= n <= MAX_SAMPLES:
            raise UserInputError(f"the number of samples must lie in [1, {MAX_SAMPLES}], got {n}")
        text = self.encode(prompt).expand(n, -1)
        images, tokens = self.model.draw(text, temperature=temperature, top_k=top_k, top_p=top_p,
                                         generator=generator, use_cache=use_cache)
        return images, tokens, self.model.reranker.score(images, text)

    @staticmethod
    def rerank(images: torch.Tensor, tokens: torch.Tensor, scores: torch.Tensor):
        """The samples sorted by the re-ranker's score, best first."""
        order = scores.argsort(descending=True)
        return images[order], tokens[order], scores[order]

    @torch.inference_mode()
    def reconstruct(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 3, H, W) in [0, 1] -> (the dVAE's reconstruction (B, 3, H, W), its tokens (B, G, G))."""
        tokens = self.model.dvae.encode(images)
        return self.model.dvae.decode(tokens).clamp(0, 1), tokens
