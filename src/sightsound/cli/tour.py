"""``tour``: the HTML walk through the lecture."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from sightsound.errors import UserInputError


def cmd_tour(args) -> int:
    from sightsound.pretrained import (
        PHOTO_SAMPLES,
        SPEECH_SAMPLE,
        shipped_captioners,
        shipped_char_lm,
        shipped_dalle,
        shipped_lips,
        shipped_scene,
        shipped_separation,
        shipped_speech2face,
        shipped_synthesizer,
        shipped_vocoder,
    )
    from sightsound.viz.tour import build_tour, synthesize_demo_speech

    out = Path(args.out)
    if args.prompt:
        from sightsound.data.dalle_shapes import encode_text

        for prompt in args.prompt:
            encode_text(prompt)  # a bad prompt fails before any work
    data = args.data or os.environ.get("SIGHTSOUND_DATA")
    flickr = Path(data) / "flickr8k-1k" if data else None
    if args.data and not (flickr / "images").is_dir():
        raise UserInputError(f"{flickr}: no flickr8k-1k photo folder (images/ and captions.txt) under --data")
    if flickr is not None and not (flickr / "images").is_dir():
        flickr = None  # SIGHTSOUND_DATA without the photos: the bundled photos instead
    esc = Path(data) / "esc10" if data else None
    if esc is not None and not (esc / "meta.csv").is_file():
        esc = None  # the scene section then says where its clips would come from
    char_lm, finetune = shipped_char_lm()
    vocoder, vocoder_eval = shipped_vocoder()
    synthesizer, tts_eval = shipped_synthesizer()
    models = dict(char_lm=char_lm, finetune=finetune, vocoder=vocoder, vocoder_eval=vocoder_eval,
                  synthesizer=synthesizer, tts_eval=tts_eval, captioners=shipped_captioners(), photos=PHOTO_SAMPLES,
                  flickr=flickr, scene=shipped_scene(), esc=esc, speech2face=shipped_speech2face(),
                  av_speakers=Path(data) if data and (Path(data) / "av-speakers").is_dir() else None,
                  dalle=shipped_dalle(), prompts=tuple(args.prompt), separation=shipped_separation(), lips=shipped_lips())
    if args.audio:
        audio = Path(args.audio)
        page = build_tour(out, audio, force=args.force, input_note=f"the file {audio.name}", **models)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            audio = Path(tmp) / "demo_speech.wav"
            if synthesize_demo_speech(audio):
                note = "an English sentence synthesised now by flite (its kal16 voice)"
            else:
                audio = SPEECH_SAMPLE
                note = f"the shipped sample {audio.name} (flite's kal16 voice; flite is not installed here)"
            print(f"input: {note}")
            page = build_tour(out, audio, force=args.force, input_note=note, **models)
    print(f"tour written: {page.resolve()}")
    return 0


def register(sub, eval_sub) -> None:
    """Add this group's commands to the top-level and ``eval`` sub-parsers."""
    p = sub.add_parser("tour", help="write the HTML walk through the lecture (the main job)")
    p.add_argument("--out", required=True, help="output folder (index.html and assets/)")
    p.add_argument("--audio", help="speech to analyse (default: synthesised with flite, else a shipped sample)")
    p.add_argument("--data", help="data folder holding flickr8k-1k/, esc10/ and av-speakers/ (default: "
                                  "$SIGHTSOUND_DATA): caption its validation photos beside their human captions "
                                  "instead of the bundled photos, hear its ESC-10 clips, and draw faces from its "
                                  "real speakers' voices")
    p.add_argument("--prompt", action="append", default=[], metavar="TEXT",
                   help="a caption for the DALL-E section to draw (repeatable; words of the shapes world)")
    p.add_argument("--force", action="store_true", help="write into a non-empty folder not made by the tour")
    p.set_defaults(func=cmd_tour)
