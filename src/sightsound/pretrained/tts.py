"""Text to speech end to end: ``Synthesizer`` = Tacotron 2 (text -> log-mel) + a ``Vocoder`` (log-mel -> wave).

    tts = Synthesizer.from_pretrained("tacotron2-grid", vocoder="griffinlim")
    result = tts(["bin blue at f two now"])          # batched, masks per sentence
    result.waves[0], result.alignments[0], result.mels[0]

Its evaluation (``eval tts``) is ``evaluation/tts.py``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from sightsound.audio.presets import get_preset
from sightsound.errors import UserInputError
from sightsound.pretrained.vocoder import GRIFFIN_LIM, Vocoder
from sightsound.text import symbols as S


@dataclass
class Synthesis:
    texts: list[str]
    mels: list[torch.Tensor]          # (M, T_i) log-mel after the postnet
    alignments: list[torch.Tensor]    # (K_i, L_i) decoder step x symbol
    waves: list[torch.Tensor]         # (S_i,)
    hit_limit: list[bool]
    mel_seconds: float                # wall time of text -> mel
    sample_rate: int

    def focus_rates(self) -> list[float]:
        return [float(a.max(-1).values.mean()) for a in self.alignments]


class Synthesizer:
    def __init__(self, model, vocoder: Vocoder, name: str = "", vocabulary: dict | None = None):
        self.model, self.vocoder, self.name, self.vocabulary = model, vocoder, name, vocabulary
        self.preset = get_preset(model.config.audio_preset)
        if vocoder.preset.sample_rate != self.preset.sample_rate or vocoder.preset.hop_length != self.preset.hop_length:
            raise UserInputError(f"the vocoder expects {vocoder.preset.name} mels, the TTS model makes "
                                 f"{self.preset.name} mels")

    @classmethod
    def from_pretrained(cls, name: str | os.PathLike = "tacotron2-grid", vocoder: str = GRIFFIN_LIM,
                        vocoder_model: str = "wavenet-grid", n_iter: int = 32) -> "Synthesizer":
        """A shipped Tacotron 2 by name or run folder, voiced by "griffinlim" or "wavenet" (``vocoder_model``)."""
        from sightsound.models.tacotron2 import Tacotron2
        from sightsound.pretrained import load_pretrained

        model = load_pretrained(name, expect=(Tacotron2, "a Tacotron 2 model"))
        if vocoder == GRIFFIN_LIM:
            voc = Vocoder.from_pretrained(GRIFFIN_LIM, preset=model.config.audio_preset, n_iter=n_iter)
        elif vocoder == "wavenet":
            voc = Vocoder.from_pretrained(vocoder_model)
        else:
            raise UserInputError(f"unknown vocoder {vocoder!r}; choose griffinlim or wavenet")
        return cls(model, voc, str(name), _vocabulary(name))

    def unknown_words(self, text: str) -> tuple[list[str], str]:
        """(words of ``text`` the voice cannot be trusted to say, why): outside its training vocabulary when that
        is closed (``vocabulary.json`` beside the weights: GRID's 51 words), else, for a phoneme voice, outside
        the pronunciation dictionary (CMUdict: they are spelled letter by letter). ([], "") when all are fine."""
        from sightsound.text.normalize import normalize

        words = list(dict.fromkeys(S.words(normalize(text))))
        if self.vocabulary is not None and self.vocabulary["closed"]:
            known = set(self.vocabulary["words"])
            return [w for w in words if w not in known], f"outside the {len(known)} words {self.name} was trained on"
        if self.model.config.phonemes:
            lexicon = S.pronunciations()
            missing = [w for w in words if w not in lexicon and not (self.model.config.letter_names and len(w) == 1)]
            return missing, "not in the pronunciation dictionary (CMUdict): spelled letter by letter"
        return [], ""

    def symbols(self, text: str) -> list[str]:
        """The model's reading of ``text``: characters or phonemes, as it was trained, end symbol included."""
        return S.to_symbols(text, self.model.config.phonemes, self.model.config.letter_names)

    def encode(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        ids = [torch.tensor([S.SYMBOL_ID[s] for s in self.symbols(t)], dtype=torch.long) for t in texts]
        batch = torch.zeros(len(ids), max(len(i) for i in ids), dtype=torch.long)
        for row, i in enumerate(ids):
            batch[row, : len(i)] = i
        return batch, torch.tensor([len(i) for i in ids])

    @torch.no_grad()
    def mels(self, texts: list[str], *, seed: int = 0, max_steps: int | None = None):
        """Text -> (mels, alignments, hit_limit, seconds) without the vocoder."""
        ids, lengths = self.encode(texts)
        torch.manual_seed(seed)  # the prenet's dropout stays on at inference: seed it
        started = time.perf_counter()
        out = self.model.infer(ids, lengths, max_steps=max_steps)
        seconds = time.perf_counter() - started
        r = self.model.config.reduction
        mels = [out["mel"][i, :, : int(out["lengths"][i])] for i in range(len(texts))]
        alignments = [out["alignments"][i, : int(out["lengths"][i]) // r, : int(lengths[i])] for i in range(len(texts))]
        return mels, alignments, out["hit_limit"].tolist(), seconds

    @torch.no_grad()
    def teacher_forced_mel(self, text: str, mel: torch.Tensor, *, seed: int = 0) -> torch.Tensor:
        """The postnet mel (M, T) the model predicts for ``text`` when fed the true previous frame of ``mel``
        (M, T) at every step, as in training: its frame prediction without its own errors fed back."""
        ids, lengths = self.encode([text])
        r, T = self.model.config.reduction, mel.shape[-1]
        padded = torch.nn.functional.pad(mel, (0, -T % r), value=float(mel.min()))[None]  # (1, M, T') T' = r k
        torch.manual_seed(seed)
        _, after, _, _ = self.model(ids, lengths, padded.to(next(self.model.parameters()).dtype))
        return after[0, :, :T].float()

    @torch.no_grad()
    def __call__(self, texts: list[str] | str, *, seed: int = 0, max_steps: int | None = None,
                 progress: bool = False) -> Synthesis:
        texts = [texts] if isinstance(texts, str) else list(texts)
        mels, alignments, hit_limit, seconds = self.mels(texts, seed=seed, max_steps=max_steps)
        waves = []
        for mel in mels:
            hop = self.preset.hop_length
            waves.append(self.vocoder(mel, seed=seed, progress=progress)[: (mel.shape[-1] - 1) * hop + 1])
        return Synthesis(texts, mels, alignments, waves, hit_limit, seconds, self.preset.sample_rate)


def _vocabulary(name: str | os.PathLike) -> dict | None:
    """The ``vocabulary.json`` beside a voice's weights ({"closed": bool, "words": [...]}), or None."""
    import json

    from sightsound.pretrained import REGISTRY

    path = REGISTRY.get(str(name), Path(name)) / "vocabulary.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {"closed": bool(data["closed"]), "words": list(data["words"])}
    except (ValueError, KeyError, TypeError) as error:
        raise UserInputError(f"{path}: not a vocabulary file ({error})") from None
