"""Captioning with a trained Show-Attend-Tell model: from image files to words and their attention maps
(the evaluation of a caption folder is ``evaluation/captioner.py``).

``ImageCaptioner.from_pretrained("flickr8k-1k" | "shapes" | run folder)`` reads ``config.json``,
``model.safetensors`` and ``vocab.json`` (no pickle). Models trained on precomputed features get their
encoder (EfficientNet-Lite0 from its wheel) back automatically; folder evaluation caches the features.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from sightsound.errors import UserInputError
from sightsound.fileio import read_text
from sightsound.models.captioner import Captioner
from sightsound.models.captioner_search import decode
from sightsound.text.captions import Vocabulary
from sightsound.vision.encoders import resize_square
from sightsound.vision.io import load_image


@dataclass
class CaptionResult:
    image: str
    words: list[str]
    maps: torch.Tensor       # (T, G, G) attention of each word (rows sum to 1 over the grid)
    betas: torch.Tensor      # (T,) the gate of each word
    log_prob: float
    finished: bool

    @property
    def text(self) -> str:
        return " ".join(self.words)

    def to_json(self) -> dict:
        return {"image": self.image, "caption": self.text, "words": self.words, "log_prob": round(self.log_prob, 4),
                "finished": self.finished, "grid": list(self.maps.shape[1:]),
                "maps": [[[round(float(v), 5) for v in row] for row in m] for m in self.maps],
                "betas": [round(float(b), 4) for b in self.betas]}


@dataclass(frozen=True)
class Decoding:
    """A captioner's beam-search settings (``models/captioner_search.py``): block repeated n-grams of this length
    (0 = off) and GNMT's length penalty alpha (0 = rank by log-probability). A model folder may ship its own in
    ``decoding.json`` (chosen on a selection split; see the model card); without it both are off."""

    no_repeat_ngram: int = 0
    length_penalty: float = 0.0


class ImageCaptioner:
    def __init__(self, model: Captioner, vocab: Vocabulary, name: str, encoder=None, cache_dir: str | None = None,
                 decoding: Decoding = Decoding()):
        self.model, self.vocab, self.name, self.encoder = model.eval(), vocab, name, encoder
        self.cache_dir, self.decoding = cache_dir, decoding
        if len(vocab) != model.config.vocab_size:
            raise UserInputError(f"{name}: vocab.json has {len(vocab)} words, the model {model.config.vocab_size}")

    @classmethod
    def from_pretrained(cls, name: str | os.PathLike = "flickr8k-1k", cache_dir: str | None = None) -> "ImageCaptioner":
        from sightsound.pretrained import REGISTRY, load_pretrained

        model = load_pretrained(name, expect=(Captioner, "a captioning model"))
        folder = REGISTRY.get(str(name), Path(name))
        vocab_path = folder / "vocab.json"
        if not vocab_path.is_file():
            raise UserInputError(f"{name}: no vocab.json beside the model")
        try:
            vocab = Vocabulary.from_json(read_text(vocab_path, "vocabulary"))
        except (ValueError, KeyError, TypeError) as error:
            raise UserInputError(f"{vocab_path}: not a caption vocabulary ({error})") from None
        encoder = None
        if model.config.encoder == "features":
            from sightsound.vision.encoders import EfficientNetLite0Encoder

            encoder = EfficientNetLite0Encoder(model.config.grid * 32).eval()
        decoding = Decoding()
        if (folder / "decoding.json").is_file():
            try:
                decoding = Decoding(**json.loads(read_text(folder / "decoding.json", "decoding settings")))
            except (ValueError, TypeError) as error:
                raise UserInputError(f"{folder / 'decoding.json'}: not decoding settings ({error})") from None
        return cls(model, vocab, str(name), encoder, cache_dir, decoding)

    def options(self, no_repeat_ngram: int | None = None, length_penalty: float | None = None) -> dict:
        """The beam-search options: the given ones, the model's own (``decoding.json``) for those left None."""
        return {"no_repeat_ngram": self.decoding.no_repeat_ngram if no_repeat_ngram is None else no_repeat_ngram,
                "length_penalty": self.decoding.length_penalty if length_penalty is None else length_penalty}

    @property
    def grid(self) -> int:
        return self.model.config.grid

    @property
    def image_size(self) -> int:
        return self.encoder.image_size if self.encoder is not None else self.model.cnn.image_size

    @torch.no_grad()
    def inputs_for(self, images: list[torch.Tensor]) -> torch.Tensor:
        """Model inputs for (3, H, W) images in [0, 1]: features (B, L, C) or pixels (B, 3, S, S)."""
        if self.encoder is not None:
            batch = torch.stack([self.encoder.preprocess(im) for im in images])
            return self.encoder(batch).flatten(2).transpose(1, 2)  # (B, C, G, G) -> (B, L, C)
        return torch.stack([resize_square(im, self.image_size) * 2.0 - 1.0 for im in images])  # [-1, 1] pixels

    def _results(self, names: list[str], inputs: torch.Tensor, beam: int, no_repeat_ngram: int | None,
                 length_penalty: float | None) -> list[CaptionResult]:
        g = self.grid
        out = []
        options = self.options(no_repeat_ngram, length_penalty)
        for name, cap in zip(names, decode(self.model, inputs, beam=beam, **options)):
            out.append(CaptionResult(name, self.vocab.decode(cap.ids), cap.alphas.reshape(-1, g, g), cap.betas,
                                     cap.log_prob, cap.finished))
        return out

    def caption(self, image: str | Path | torch.Tensor, beam: int = 3, no_repeat_ngram: int | None = None,
                length_penalty: float | None = None) -> CaptionResult:
        """Caption one image file (or a (3, H, W) tensor in [0, 1]). ``no_repeat_ngram`` and ``length_penalty``
        (``models/captioner_search.py``) default to the model's own decoding settings (``Decoding``)."""
        name = str(image) if not isinstance(image, torch.Tensor) else "<tensor>"
        pixels = load_image(image, max_side=4 * self.image_size) if not isinstance(image, torch.Tensor) else image
        return self._results([name], self.inputs_for([pixels]), beam, no_repeat_ngram, length_penalty)[0]

    def caption_files(self, paths: list[Path], beam: int = 3, batch_size: int = 16, progress: bool = True,
                      no_repeat_ngram: int | None = None, length_penalty: float | None = None):
        """Captions of many image files; pretrained features come from (and go to) the on-disk cache."""
        from tqdm import tqdm

        if self.encoder is not None:
            from sightsound.vision.features import FeatureCache

            features = FeatureCache(self.encoder, self.cache_dir).get(paths, progress=progress)
        results = []
        bar = tqdm(total=len(paths), desc=f"captions (beam {beam})", unit="img", disable=not progress, leave=False)
        for start in range(0, len(paths), batch_size):
            chunk = paths[start:start + batch_size]
            if self.encoder is not None:
                inputs = features[start:start + batch_size].float()
            else:
                inputs = self.inputs_for([load_image(p, max_side=4 * self.image_size) for p in chunk])
            results += self._results([p.name for p in chunk], inputs, beam, no_repeat_ngram, length_penalty)
            bar.update(len(chunk))
        bar.close()
        return results
