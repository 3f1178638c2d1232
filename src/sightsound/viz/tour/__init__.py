"""``sightsound tour``: one HTML page that walks through the lecture with real outputs.

Each chapter module (``sound``, ``attention``, ``speech``, ``vision``, ``scene``) has section functions
``(ctx) -> Section``; a section writes its pictures and sounds into the output folder and returns HTML whose
every statement about an output is computed from that output. ``build_tour`` runs them in the lecture's order.
"""

from __future__ import annotations

import html
import os
import shutil
import time
from pathlib import Path
from typing import Callable

import torch
from tqdm.auto import tqdm

from sightsound.errors import UserInputError
from sightsound.fileio import atomic_path
from sightsound.viz.tour import (
    attention,
    dalle,
    lips,
    scene,
    separation,
    sound,
    speech,
    speech2face,
    vision,
)
from sightsound.viz.tour.page import Section, TourContext

MARKER = ".sightsound-tour"

SECTIONS: list[Callable[[TourContext], Section]] = [*sound.SECTIONS, *attention.SECTIONS, *speech.SECTIONS,
                                                    *vision.SECTIONS, *scene.SECTIONS,
            *speech2face.SECTIONS, *dalle.SECTIONS, *separation.SECTIONS, *lips.SECTIONS]

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 980px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.5; }
h1 { margin-bottom: 0.2em; } nav a { margin-right: 1em; } img { max-width: 100%; height: auto; margin: 0.6em 0; }
section { border-top: 1px solid #ddd; padding-top: 1em; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.6em 0; } td, th { border: 1px solid #ccc; padding: 0.3em 0.8em; text-align: left; }
code { background: #f3f3f3; padding: 0 0.2em; } pre { white-space: pre-wrap; } .sound { margin: 0.5em 0; }
.meta { color: #666; font-size: 0.9em; } .row { display: flex; gap: 1em; flex-wrap: wrap; } figure { margin: 0.5em 0; }
"""


def _prepare_out(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise UserInputError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists() and not force:
        raise UserInputError(
            f"{out}: folder is not empty and was not written by 'sightsound tour'; choose another --out or pass --force"
        )
    (out / "assets").mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("written by sightsound tour\n")


def build_tour(out: str | os.PathLike, audio_path: str | os.PathLike, *, force: bool = False,
               progress: bool = True, input_note: str | None = None, char_lm: tuple | None = None,
               finetune: dict | None = None, vocoder=None, vocoder_eval: dict | None = None, synthesizer=None,
               tts_eval: dict | None = None, captioners: dict | None = None, photos: tuple = (),
               flickr: str | os.PathLike | None = None, scene: tuple | None = None,
               esc: str | os.PathLike | None = None, speech2face: tuple | None = None,
               av_speakers: str | os.PathLike | None = None, dalle: tuple | None = None,
               prompts: tuple = (), separation: tuple | None = None, lips: tuple | None = None) -> Path:
    """Write ``out/index.html`` (and ``out/assets/``) for the sound in ``audio_path``. Returns the page.

    ``input_note`` says in words what the input is; ``char_lm`` = (GPT, CharVocab) feeds the attention sections;
    ``finetune`` the heads' accuracies; ``vocoder`` (a WaveNet ``Vocoder``) and ``vocoder_eval`` (its measured
    report) the vocoder section; ``synthesizer`` (a Tacotron 2 ``Synthesizer``) and ``tts_eval`` the
    text-to-speech section; ``captioners`` ({name: (ImageCaptioner, report)}) the visual-attention sections, on
    the validation photos of ``flickr`` (a flickr8k-1k folder) when given, else on ``photos``; ``scene``
    ((SceneListener, report)) the scene-by-sound section, which plays clips of ``esc`` (an ESC-layout folder);
    ``speech2face`` ((FaceFromVoice, report)) the Speech2Face section, which shows real people of ``av_speakers``
    (a data folder with av-speakers/ and grid-s1/) when given; ``dalle`` ((Drawer, report)) the DALL-E section,
    which draws ``prompts`` (default: its own three); ``separation`` ((Separator, audio-only Separator, report))
    the Looking-to-Listen section, which separates held-out GRID mixtures of ``av_speakers`` when given; ``lips``
    ((LipAnimator, report)) the lip-motion section, which animates a held-out GRID sentence of ``av_speakers``."""
    out = Path(out)
    audio_path = Path(audio_path)
    _prepare_out(out, force)
    ctx = TourContext(out=out, audio_path=audio_path, input_note=input_note or audio_path.name, char_lm=char_lm,
                      finetune=finetune, vocoder=vocoder, vocoder_eval=vocoder_eval, synthesizer=synthesizer,
                      tts_eval=tts_eval, captioners=captioners, photos=tuple(photos),
                      flickr=Path(flickr) if flickr else None, scene=scene, esc=Path(esc) if esc else None,
                      speech2face=speech2face, av_speakers=Path(av_speakers) if av_speakers else None,
                      dalle=dalle, prompts=tuple(prompts), separation=separation, lips=lips)
    ctx.waveform  # load and check the input before any work
    sections = []
    started = time.perf_counter()
    for make in tqdm(SECTIONS, desc="tour", unit="section", disable=not progress):
        sections.append(make(ctx))
    nav = "".join(f'<a href="#{s.anchor}">{html.escape(s.title)}</a>' for s in sections)
    content = "".join(f'<section id="{s.anchor}"><h2>{html.escape(s.title)}</h2>{s.body}</section>' for s in sections)
    meta = (f"Input: {html.escape(ctx.input_note)}, analysed at {ctx.preset.sample_rate} Hz (the "
            f"{html.escape(ctx.preset.name)} preset). Written in {time.perf_counter() - started:.0f} s with torch "
            f"{html.escape(torch.__version__)} on {torch.get_num_threads()} threads.")
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'><title>sightsound tour</title>"
        f"<style>{STYLE}</style></head><body><h1>sightsound: a tour of the lecture</h1>"
        "<p>Attention-based visual and sound models, made real. Every picture and sound below was computed "
        "from the input when this page was written.</p>"
        f"<p class='meta'>{meta}</p><nav>{nav}</nav>{content}</body></html>"
    )
    index = out / "index.html"
    with atomic_path(index) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return index


DEMO_TEXT = ("The lecture shows how a computer hears. Sound becomes a waveform, the waveform becomes a "
             "spectrogram, and the spectrogram becomes a picture that a network can read.")


def synthesize_demo_speech(path: Path, text: str = DEMO_TEXT) -> bool:
    """Speak ``text`` with flite (16 kHz voice) into ``path``; False when flite is not installed."""
    import subprocess

    flite = shutil.which("flite")
    if flite is None:
        return False
    result = subprocess.run([flite, "-voice", "kal16", "-t", text, "-o", str(path)], capture_output=True)
    return result.returncode == 0 and path.exists() and path.stat().st_size > 44
