"""The tour's frame: the context every section reads (the input, the shipped models, the output folder), the
``Section`` a chapter returns, and small HTML helpers. Chapters: ``sound``, ``attention``, ``speech``,
``vision``, ``scene``."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import torch

from sightsound.audio import io as audio_io
from sightsound.audio.analysis import analyse, check_audible
from sightsound.audio.presets import SPEECH, AudioPreset
from sightsound.viz import plots


@dataclass
class TourContext:
    out: Path
    audio_path: Path
    input_note: str = "the input file"  # what the input is, in words (e.g. "speech synthesised now by flite")
    preset: AudioPreset = SPEECH
    char_lm: tuple | None = None        # (GPT, CharVocab) for the attention sections, when available
    finetune: dict | None = None        # measured GPT-1 head accuracies (benchmarks/gpt_finetune.py)
    vocoder: object | None = None       # a sightsound.pretrained.vocoder.Vocoder (WaveNet), when available
    vocoder_eval: dict | None = None    # its measured `sightsound eval vocoder` report
    synthesizer: object | None = None   # a sightsound.pretrained.tts.Synthesizer (Tacotron 2), when available
    tts_eval: dict | None = None        # its measured `sightsound eval tts` report
    captioners: dict | None = None      # {"shapes" | "flickr8k-1k": (ImageCaptioner, eval report or None)}
    photos: tuple = ()                  # photos to caption when no Flickr folder is given
    flickr: Path | None = None          # a flickr8k-1k folder: its validation photos and their human captions
    scene: tuple | None = None          # (SceneListener, eval report or None): the audio-visual embedding
    esc: Path | None = None             # an ESC-layout folder (esc10/) whose clips the scene section plays
    speech2face: tuple | None = None    # (FaceFromVoice, eval report or None): the Speech2Face model
    av_speakers: Path | None = None     # a data folder with av-speakers/ and grid-s1/: real voices and faces
    dalle: tuple | None = None          # (Drawer, eval report or None): DALL-E on the shapes world
    prompts: tuple = ()                 # prompts for the DALL-E section (default: its own)
    separation: tuple | None = None     # (Separator, audio-only Separator or None, eval report or None): Looking to Listen
    lips: tuple | None = None           # (LipAnimator, eval report or None): lip motion
    cache: dict = field(default_factory=dict)

    def asset(self, name: str) -> Path:
        return self.out / "assets" / name

    def figure(self, fig, name: str, alt: str) -> str:
        """Save ``fig`` as ``assets/name`` (JPEG for figures of photographs: far smaller), described by ``alt``."""
        plots.save_figure(fig, self.asset(name))
        return f'<img src="assets/{name}" alt="{html.escape(alt)}" loading="lazy">'

    def sound(self, y: torch.Tensor, name: str, label: str, sample_rate: int | None = None) -> str:
        audio_io.save(self.asset(name), y.float().clamp(-1, 1), sample_rate or self.preset.sample_rate, overwrite=True)
        return (f'<figure class="sound"><figcaption>{html.escape(label)}</figcaption>'
                f'<audio controls preload="metadata" src="assets/{name}"></audio></figure>')

    @property
    def waveform(self) -> torch.Tensor:
        if "waveform" not in self.cache:
            y, _ = audio_io.load(self.audio_path, sr=self.preset.sample_rate)
            check_audible(y, str(self.audio_path))
            self.cache["waveform"] = y
        return self.cache["waveform"]

    @property
    def analysis(self):
        if "analysis" not in self.cache:
            self.cache["analysis"] = analyse(self.waveform, self.preset)
        return self.cache["analysis"]


@dataclass(frozen=True)
class Section:
    anchor: str
    title: str
    body: str


def paragraphs(*texts: str) -> str:
    return "".join(f"<p>{t}</p>" for t in texts)


def plural(n: int, word: str, many: str | None = None) -> str:
    """"1 frame", "2 frames"."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


def number(value, digits: int = 2) -> str:
    """A table cell: the value, or a dash where a measure does not apply (never "nan")."""
    if value is None or (isinstance(value, float) and value != value):
        return "&mdash;"
    return f"{value:.{digits}f}"


def missing_model(anchor: str, title: str, what: str, recipe: str) -> Section:
    return Section(anchor, title, paragraphs(
        f"The shipped {what} was not found, so this section has no live output; train one with "
        f"<code>sightsound train recipes/{recipe}.py --preset cpu</code>."))
