"""Things that ship with the package: sample inputs (and, later, small checkpoints and their registry)."""

from pathlib import Path

SAMPLES = Path(__file__).resolve().parent / "samples"
SPEECH_SAMPLE = SAMPLES / "speech_flite_16k.flac"  # 3.8 s, flite kal16 voice, made by samples/make_speech.sh
PHOTO_SAMPLES = (SAMPLES / "astronaut.jpg", SAMPLES / "chelsea.jpg")  # public domain / CC0 (samples/README.md)

import json  # noqa: E402
import os  # noqa: E402

import torch  # noqa: E402

from sightsound.errors import UserInputError  # noqa: E402
from sightsound.fileio import read_text  # noqa: E402
from sightsound.training.checkpoint import load_model  # noqa: E402

# Shipped checkpoints by name -> folder. Each is reproducible by the recipe named in its card (docs/models/).
CHECKPOINTS = Path(__file__).resolve().parent / "checkpoints"
REGISTRY: dict[str, Path] = {
    "char-lm-shakespeare": CHECKPOINTS / "char-lm-shakespeare",  # recipes/char_lm.py --preset cpu
    "wavenet-grid": CHECKPOINTS / "wavenet-grid",                # recipes/wavenet_grid.py --preset cpu
    "tacotron2-grid": CHECKPOINTS / "tacotron2-grid",            # recipes/tacotron2_grid.py --preset cpu
    "flickr8k-1k": CHECKPOINTS / "flickr8k-1k",                  # recipes/captioner_flickr.py --preset cpu
    "shapes": CHECKPOINTS / "shapes",                            # recipes/captioner_shapes.py --preset cpu
    "av-esc10": CHECKPOINTS / "av-esc10",                        # recipes/av_embedding_esc10.py --preset cpu
    "speech2face-voices": CHECKPOINTS / "speech2face-voices",    # recipes/speech2face.py --preset cpu
    "dalle-shapes": CHECKPOINTS / "dalle-shapes",                # recipes/dalle_shapes.py --preset cpu (3 stages)
    "shape-judge": CHECKPOINTS / "shape-judge",                  # recipes/shape_judge.py --preset cpu
    "looking-to-listen-grid": CHECKPOINTS / "looking-to-listen-grid",          # recipes/av_separation_grid.py --preset cpu
    "audio-only-separation-grid": CHECKPOINTS / "audio-only-separation-grid",  # the same, --set model.visual=False
    "lip-motion-grid": CHECKPOINTS / "lip-motion-grid",          # recipes/lip_motion_grid.py --preset cpu
    "sync-expert-grid": CHECKPOINTS / "sync-expert-grid",        # recipes/sync_expert_grid.py --preset cpu
}


def load_pretrained(path_or_name: str | os.PathLike, map_location: str | torch.device = "cpu",
                    expect: tuple[type, str] | None = None) -> torch.nn.Module:
    """Load any model from a run or checkpoint folder (``config.json`` + ``model.safetensors``) or a
    shipped name. Only safetensors and JSON are read: nothing is unpickled. ``expect`` = (model class, its name
    in words): another kind of model is a one-line UserInputError."""
    folder = REGISTRY.get(str(path_or_name), Path(path_or_name))
    if not folder.is_dir():
        known = f"; shipped models: {', '.join(sorted(REGISTRY))}" if REGISTRY else ""
        raise UserInputError(f"{path_or_name}: not a model folder (needs config.json and model.safetensors){known}")
    model = load_model(folder, map_location)
    if expect is not None and not isinstance(model, expect[0]):
        raise UserInputError(f"{path_or_name}: a {type(model).__name__}, not {expect[1]}")
    return model


def load_char_lm(path_or_name: str | os.PathLike, map_location: str | torch.device = "cpu"):
    """(GPT, CharVocab) from a character-LM run folder (``vocab.json`` beside the weights)."""
    from sightsound.data.charlm import CharVocab

    model = load_pretrained(path_or_name, map_location)
    folder = REGISTRY.get(str(path_or_name), Path(path_or_name))
    vocab_path = folder / "vocab.json"
    if not vocab_path.is_file():
        raise UserInputError(f"{path_or_name}: no vocab.json (not a character language model)")
    try:
        return model, CharVocab.from_json(read_text(vocab_path, "vocabulary"))
    except (ValueError, KeyError, TypeError) as error:
        raise UserInputError(f"{vocab_path}: not a character vocabulary ({error})") from None


def shipped_char_lm():
    """((GPT, CharVocab), fine-tuning results dict or None) of the shipped character GPT, or (None, None)."""
    folder = REGISTRY["char-lm-shakespeare"]
    if not (folder / "model.safetensors").is_file():
        return None, None
    finetune = folder / "finetune.json"
    return load_char_lm("char-lm-shakespeare"), (json.loads(finetune.read_text()) if finetune.is_file() else None)


def shipped_vocoder():
    """(Vocoder, measured eval report or None) of the shipped WaveNet, or (None, None)."""
    folder = REGISTRY["wavenet-grid"]
    if not (folder / "model.safetensors").is_file():
        return None, None
    from sightsound.pretrained.vocoder import Vocoder

    report = folder / "eval.json"
    return Vocoder.from_pretrained("wavenet-grid"), (json.loads(report.read_text()) if report.is_file() else None)


def shipped_synthesizer():
    """(Synthesizer voiced by Griffin-Lim, measured eval report or None) of the shipped Tacotron 2, or
    (None, None). Griffin-Lim, not the shipped WaveNet: the WaveNet is less intelligible
    (docs/models/wavenet-grid.md)."""
    folder = REGISTRY["tacotron2-grid"]
    if not (folder / "model.safetensors").is_file():
        return None, None
    from sightsound.pretrained.tts import Synthesizer

    vocoder = "griffinlim"
    report = folder / "eval.json"
    return (Synthesizer.from_pretrained("tacotron2-grid", vocoder=vocoder),
            json.loads(report.read_text()) if report.is_file() else None)


def shipped_captioners() -> dict:
    """{"shapes" | "flickr8k-1k": (ImageCaptioner, measured eval report or None)} of the shipped captioners
    that are present (the Flickr one also needs the EfficientNet-Lite0 wheels)."""
    from sightsound.pretrained.captioner import ImageCaptioner

    out = {}
    for name in ("shapes", "flickr8k-1k"):
        folder = REGISTRY[name]
        if not (folder / "model.safetensors").is_file():
            continue
        try:
            captioner = ImageCaptioner.from_pretrained(name)
        except UserInputError:  # e.g. the encoder's wheels are not installed
            continue
        report = folder / "eval.json"
        out[name] = (captioner, json.loads(report.read_text()) if report.is_file() else None)
    return out


def shipped_scene():
    """(SceneListener, measured eval report or None) of the shipped audio-visual embedding, or None when it (or
    the EfficientNet-Lite0 wheels it reads sounds with) is missing."""
    folder = REGISTRY["av-esc10"]
    if not (folder / "model.safetensors").is_file():
        return None
    from sightsound.pretrained.scene import SceneListener

    try:
        listener = SceneListener.from_pretrained("av-esc10")
    except UserInputError:
        return None
    report = folder / "eval.json"
    return listener, (json.loads(report.read_text()) if report.is_file() else None)


def shipped_speech2face():
    """(FaceFromVoice, measured eval report or None) of the shipped Speech2Face model, or None when missing."""
    folder = REGISTRY["speech2face-voices"]
    if not (folder / "model.safetensors").is_file():
        return None
    from sightsound.pretrained.speech2face import FaceFromVoice

    report = folder / "eval.json"
    return FaceFromVoice.from_pretrained("speech2face-voices"), (json.loads(report.read_text()) if report.is_file()
                                                                 else None)


def shipped_dalle():
    """(Drawer, measured eval report or None) of the shipped DALL-E, or None when missing."""
    folder = REGISTRY["dalle-shapes"]
    if not (folder / "model.safetensors").is_file():
        return None
    from sightsound.pretrained.dalle import Drawer

    report = folder / "eval.json"
    return Drawer.from_pretrained("dalle-shapes"), (json.loads(report.read_text()) if report.is_file() else None)


def shipped_separation():
    """(audio-visual Separator, audio-only Separator or None, measured eval report or None) of the shipped
    Looking-to-Listen models, or None when the audio-visual one is missing."""
    folder = REGISTRY["looking-to-listen-grid"]
    if not (folder / "model.safetensors").is_file():
        return None
    from sightsound.pretrained.separation import Separator

    baseline = REGISTRY["audio-only-separation-grid"]
    report = folder / "eval.json"
    return (Separator.from_pretrained("looking-to-listen-grid"),
            Separator.from_pretrained("audio-only-separation-grid") if (baseline / "model.safetensors").is_file()
            else None, json.loads(report.read_text()) if report.is_file() else None)


def shipped_lips():
    """(LipAnimator, measured eval report or None) of the shipped lip-motion model, or None when it is missing."""
    folder = REGISTRY["lip-motion-grid"]
    if not (folder / "model.safetensors").is_file():
        return None
    from sightsound.pretrained.lips import LipAnimator

    report = folder / "eval.json"
    return LipAnimator.from_pretrained("lip-motion-grid"), json.loads(report.read_text()) if report.is_file() else None
