"""Captioning with a trained Show-Attend-Tell model: from image files to words and their attention maps,
and the evaluation of a caption folder with the official coco-caption scorer.

``ImageCaptioner.from_pretrained("flickr8k-1k" | "shapes" | run folder)`` reads ``config.json``,
``model.safetensors`` and ``vocab.json`` (no pickle). Models trained on precomputed features get their
encoder (EfficientNet-Lite0 from its wheel) back automatically; folder evaluation caches the features.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from sightsound.errors import UserInputError
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


class ImageCaptioner:
    def __init__(self, model: Captioner, vocab: Vocabulary, name: str, encoder=None, cache_dir: str | None = None):
        self.model, self.vocab, self.name, self.encoder = model.eval(), vocab, name, encoder
        self.cache_dir = cache_dir
        if len(vocab) != model.config.vocab_size:
            raise UserInputError(f"{name}: vocab.json has {len(vocab)} words, the model {model.config.vocab_size}")

    @classmethod
    def from_pretrained(cls, name: str | os.PathLike = "flickr8k-1k", cache_dir: str | None = None) -> "ImageCaptioner":
        from sightsound.pretrained import REGISTRY, load_pretrained

        model = load_pretrained(name)
        if not isinstance(model, Captioner):
            raise UserInputError(f"{name}: not a captioning model (it is a {type(model).__name__})")
        folder = REGISTRY.get(str(name), Path(name))
        vocab_path = folder / "vocab.json"
        if not vocab_path.is_file():
            raise UserInputError(f"{name}: no vocab.json beside the model")
        vocab = Vocabulary.from_json(vocab_path.read_text(encoding="utf-8"))
        encoder = None
        if model.config.encoder == "features":
            from sightsound.vision.encoders import EfficientNetLite0Encoder

            encoder = EfficientNetLite0Encoder(model.config.grid * 32).eval()
        return cls(model, vocab, str(name), encoder, cache_dir)

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

    def _results(self, names: list[str], inputs: torch.Tensor, beam: int) -> list[CaptionResult]:
        g = self.grid
        out = []
        for name, cap in zip(names, decode(self.model, inputs, beam=beam)):
            out.append(CaptionResult(name, self.vocab.decode(cap.ids), cap.alphas.reshape(-1, g, g), cap.betas,
                                     cap.log_prob, cap.finished))
        return out

    def caption(self, image: str | Path | torch.Tensor, beam: int = 3) -> CaptionResult:
        """Caption one image file (or a (3, H, W) tensor in [0, 1])."""
        name = str(image) if not isinstance(image, torch.Tensor) else "<tensor>"
        pixels = load_image(image, max_side=4 * self.image_size) if not isinstance(image, torch.Tensor) else image
        return self._results([name], self.inputs_for([pixels]), beam)[0]

    def caption_files(self, paths: list[Path], beam: int = 3, batch_size: int = 16, progress: bool = True):
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
            results += self._results([p.name for p in chunk], inputs, beam)
            bar.update(len(chunk))
        bar.close()
        return results


def evaluate_captioner(captioner: ImageCaptioner, folder: str | Path, beam: int = 3, images: str = "all",
                       limit: int | None = None, progress: bool = True, meteor: bool = True) -> dict:
    """Free-running captions of a caption folder (``images/`` + ``captions.txt``; ``images`` = all | val |
    train of the fixed split) scored with coco-caption; on a shapes folder (``objects.json`` + ``masks.npz``)
    also attention correctness against the area baseline. Never teacher-forced."""
    from sightsound.data.captions import read_caption_folder
    from sightsound.metrics.attention import attention_correctness
    from sightsound.metrics.captions import coco_scores

    folder = Path(folder)
    image_dir, captions, splits = read_caption_folder(folder)
    names = sorted(n for n in captions if images == "all" or splits[n] == images)[:limit]
    if not names:
        raise UserInputError(f"{folder}: no images in the {images!r} split")
    start = time.perf_counter()
    results = captioner.caption_files([image_dir / n for n in names], beam=beam, progress=progress)
    decode_seconds = time.perf_counter() - start
    scores = coco_scores({n: captions[n] for n in names}, {r.image: r.text for r in results}, meteor=meteor)
    report = {"model": captioner.name, "data": str(folder), "images": len(names), "split": images, "beam": beam,
              "scores": {k: round(v, 4) for k, v in scores.items()},
              "finished": sum(r.finished for r in results), "vocabulary_used": len({w for r in results for w in r.words}),
              "decode_seconds": round(decode_seconds, 2),
              "examples": [{"image": r.image, "caption": r.text, "reference": captions[r.image][0]} for r in results[:8]]}
    objects_file, masks_file = folder / "objects.json", folder / "masks.npz"
    if objects_file.is_file() and masks_file.is_file():
        objects = json.loads(objects_file.read_text())
        with np.load(masks_file) as masks:
            per_word = []
            unmatched = 0
            for r in results:
                scored = attention_correctness(r.words, r.maps.flatten(1), objects[r.image],
                                               torch.from_numpy(masks[r.image]), captioner.grid)
                per_word += scored["words"]
                unmatched += scored["unmatched"]
        report["attention"] = {
            "correctness": round(float(np.mean([w[3] for w in per_word])), 4) if per_word else None,
            "area_baseline": round(float(np.mean([w[4] for w in per_word])), 4) if per_word else None,
            "scored_words": len(per_word), "unmatched_words": unmatched,
            "by_kind": _by_kind(per_word)}
    return report


def _by_kind(per_word) -> dict:
    from sightsound.metrics.attention import COLOUR_WORDS, SHAPE_WORDS

    kinds: dict[str, list[float]] = {"shape": [], "colour": [], "size": []}
    for _, word, _, value, _ in per_word:
        kinds["shape" if word in SHAPE_WORDS else "colour" if word in COLOUR_WORDS else "size"].append(value)
    return {k: round(float(np.mean(v)), 4) for k, v in kinds.items() if v}
