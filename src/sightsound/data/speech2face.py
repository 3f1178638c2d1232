"""Voices with faces (and faces without voices) for Speech2Face (``models/speech2face.py``).

* the synthetic speaker world (``data/speaker_world.py``): generated in memory from ``speakers`` and ``seed``
  (``world=""``), or read from a folder ``sightsound voices`` wrote (``world=PATH``, relative to ``--data``
  unless absolute). Its training speakers train all three parts; its selection speakers (``i % 10 == 8``) are
  the selection split; its test speakers (``i % 10 == 9``) are never loaded here;
* ORL faces (``orl-faces/s*/N.pgm`` under ``--data``; ``orl=""`` for none): 40 more identities without a
  voice, for the face encoder and decoder (the person's first image is its canonical face);
* ``layout="paired"``: an AVSpeech/VoxCeleb-style folder (the paper preset) — ``faces/CLIP.(png|jpg)`` (a face
  frame, already cropped or found by the detector) and ``audio/CLIP.(wav|flac)``, one identity per clip unless
  ``identities.csv`` (``clip,identity``) groups them; every 10th identity is the selection split.

Items are dicts (``photo`` (1, H, W), ``canonical`` (1, H, W), ``identity``, ``wave`` (S,), ``has_voice``);
``collate`` stacks them.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from sightsound.audio import io as audio_io
from sightsound.data import Built
from sightsound.data import speaker_world as world
from sightsound.errors import UserInputError


@dataclass(frozen=True)
class Config:
    layout: str = "world"        # "world" (synthetic speakers, + ORL faces) | "paired" (faces/ + audio/)
    world: str = ""              # a world folder; "" generates it in memory from speakers and seed
    speakers: int = 600
    seed: int = 0
    clips: int = 3               # voice clips per speaker (in-memory world)
    photos: int = 3              # photos per speaker (in-memory world)
    seconds: float = 2.5         # voice clip length (in-memory world; paired clips are cut or padded to it)
    orl: str = "orl-faces"       # faces without voices, under --data; "" for none
    face_size: int = 64
    preset: str = "speech"       # the audio preset (its sample rate must be 16 kHz for the world)


@dataclass
class Person:
    """Everything one identity contributes: photos (P, 1, H, W), canonical face (1, H, W), clips (C, S)."""

    photos: torch.Tensor
    canonical: torch.Tensor
    clips: torch.Tensor | None


def resize_face(face: np.ndarray | torch.Tensor, size: int) -> torch.Tensor:
    t = torch.as_tensor(face, dtype=torch.float32)
    t = t[None, None] if t.ndim == 2 else t[None]
    if t.shape[-1] != size:
        t = torch.nn.functional.interpolate(t, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return t[0].clamp(0, 1)  # (1, size, size)


def world_people(config: Config, root: Path, split: str, progress: bool = True) -> list[Person]:
    """The people of one split of the world (in memory or from its folder)."""
    from tqdm import tqdm

    size, n = config.face_size, int(round(config.seconds * world.SAMPLE_RATE))
    people = []
    if config.world:
        from sightsound.vision.io import load_image

        folder = Path(root) / config.world
        chosen = [w for w in world.read_world(folder) if w.speaker.split == split]
        for w in tqdm(chosen, desc=f"{split} speakers", unit="spk", disable=not progress, leave=False):
            clips = torch.zeros(len(w.voices), n)
            for i, path in enumerate(w.voices):
                y, _ = audio_io.load(path, sr=world.SAMPLE_RATE)
                clips[i, : min(n, len(y))] = y[:n]
            photos = torch.stack([resize_face(load_image(p)[0], size) for p in w.photos])
            people.append(Person(photos, resize_face(load_image(w.canonical)[0], size), clips))
        return people
    chosen = [s for s in world.speakers(config.speakers, config.seed) if s.split == split]
    for spk in tqdm(chosen, desc=f"{split} speakers", unit="spk", disable=not progress, leave=False):
        clips = torch.stack([torch.from_numpy(world.speak(spk, c, config.seconds)[0]) for c in range(config.clips)])
        photos = torch.stack([resize_face(world.draw_face(spk, p), size) for p in range(config.photos)])
        people.append(Person(photos, resize_face(world.draw_face(spk), size), clips))
    return people


def orl_people(folder: Path, size: int) -> list[Person]:
    """ORL-layout faces (``s*/N.pgm``) as voiceless people, canonical = image 1."""
    from sightsound.vision.faces import orl_portrait
    from sightsound.vision.io import load_image

    if not folder.is_dir():
        raise UserInputError(f"{folder}: no ORL face folder (set data.orl='' to train without one)")
    people = []
    for person in sorted((p for p in folder.iterdir() if p.is_dir()), key=lambda p: p.name):
        files = sorted(person.glob("*.pgm"), key=lambda p: (len(p.stem), p.stem))
        if not files:
            continue
        faces = torch.stack([orl_portrait(load_image(f), size) for f in files])
        people.append(Person(faces, faces[0], None))
    if not people:
        raise UserInputError(f"{folder}: no s*/N.pgm faces")
    return people


AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")


def paired_people(folder: Path, size: int, seconds: float, sample_rate: int) -> tuple[list[Person], list[str]]:
    """(people, their names) of a paired folder: faces/CLIP.* + audio/CLIP.* (+ identities.csv)."""
    from sightsound.vision.faces import portrait
    from sightsound.vision.io import list_images, load_image

    faces = {p.stem: p for p in list_images(folder / "faces")} if (folder / "faces").is_dir() else {}
    audio = {p.stem: p for p in sorted((folder / "audio").glob("*")) if p.suffix.lower() in AUDIO_SUFFIXES} \
        if (folder / "audio").is_dir() else {}
    clips = sorted(set(faces) & set(audio))
    if not clips:
        raise UserInputError(f"{folder}: a paired folder needs faces/CLIP.png|jpg and audio/CLIP.wav|flac "
                             f"with matching names; none found")
    groups: dict[str, list[str]] = {}
    table = folder / "identities.csv"
    named = {}
    if table.is_file():
        with open(table, newline="", encoding="utf-8") as handle:
            named = {row["clip"]: row["identity"] for row in csv.DictReader(handle)}
    for clip in clips:
        groups.setdefault(named.get(clip, clip), []).append(clip)
    n = int(round(seconds * sample_rate))
    people = []
    for identity in sorted(groups):
        photos, waves = [], []
        for clip in groups[identity]:
            photos.append(portrait(load_image(faces[clip]), size, require_face=False)[0])
            y, _ = audio_io.load(audio[clip], sr=sample_rate)
            wave = torch.zeros(n)
            wave[: min(n, len(y))] = y[:n]
            waves.append(wave / wave.abs().max().clamp_min(1e-6))
        people.append(Person(torch.stack(photos), photos[0], torch.stack(waves)))
    return people, sorted(groups)


def real_pairs(root: str | Path, size: int, sample_rate: int) -> list[tuple[str, torch.Tensor, torch.Tensor, bool]]:
    """(identity, portrait (1, H, W), voice (S,), face detected) for ``av-speakers/`` + ``grid-s1/`` under root."""
    from sightsound.vision.faces import portrait, video_frame

    root = Path(root)
    pairs = []
    speakers = root / "av-speakers"
    if speakers.is_dir():
        for video in sorted((speakers / "video").glob("*.mp4")):
            audio = next((speakers / "audio" / f"{video.stem}{s}" for s in AUDIO_SUFFIXES
                          if (speakers / "audio" / f"{video.stem}{s}").is_file()), None)
            if audio is None:
                continue
            face, found = portrait(video_frame(video), size, require_face=False)
            pairs.append((video.stem, face, audio_io.load(audio, sr=sample_rate)[0], found))
    grid = root / "grid-s1"
    if (grid / "video").is_dir():
        videos = sorted((grid / "video").glob("*.mp4"))
        audios = sorted(p for p in (grid / "audio").glob("*") if p.suffix.lower() in AUDIO_SUFFIXES)
        if videos and len(audios) > 1:
            face, found = portrait(video_frame(videos[0]), size, require_face=False)
            other = next(a for a in audios if a.stem != videos[0].stem)
            pairs.append(("grid-s1", face, audio_io.load(other, sr=sample_rate)[0], found))
    return pairs


class Faces(Dataset):
    """Items: one per (person, clip) for voiced people and one per photo for voiceless ones; a random photo of
    the person each time in training, the first one for selection."""

    def __init__(self, people: list[Person], first_identity: int = 0, train: bool = True, samples: int = 1):
        self.people, self.train = people, train
        self.index = []
        for i, p in enumerate(people):
            count = p.clips.shape[0] if p.clips is not None else p.photos.shape[0]
            self.index += [(i, first_identity + i, k) for k in range(count)]
        self.samples = next((p.clips.shape[1] for p in people if p.clips is not None), samples)

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, item: int) -> dict:
        i, identity, k = self.index[item]
        p = self.people[i]
        if self.train:
            photo = p.photos[int(torch.randint(p.photos.shape[0], ()))] if p.clips is not None else p.photos[k]
        else:
            photo = p.photos[0]
        wave = p.clips[k] if p.clips is not None else torch.zeros(self.samples)
        return {"photo": photo, "canonical": p.canonical, "identity": torch.tensor(identity),
                "wave": wave, "has_voice": torch.tensor(p.clips is not None)}


def collate(items: list[dict]) -> dict:
    return {k: torch.stack([it[k] for it in items]) for k in items[0]}


def build(root: Path, config: Config) -> Built:
    from sightsound.audio.presets import get_preset

    sample_rate = get_preset(config.preset).sample_rate
    if config.layout == "paired":
        people, _ = paired_people(Path(root), config.face_size, config.seconds, sample_rate)
        select = [p for i, p in enumerate(people) if i % 10 == 9]
        train = [p for i, p in enumerate(people) if i % 10 != 9]
        if len(select) < 2:
            raise UserInputError(f"{root}: a paired folder needs at least 20 identities (every 10th selects)")
    elif config.layout == "world":
        if sample_rate != world.SAMPLE_RATE:
            raise UserInputError(f"the speaker world is at {world.SAMPLE_RATE} Hz; data.preset={config.preset!r} "
                                 f"reads {sample_rate} Hz")
        train = world_people(config, Path(root), "train")
        select = world_people(config, Path(root), "select")
        if len(train) < 2 or len(select) < 2:
            raise UserInputError(f"the world has too few speakers ({config.speakers}): at least 20 are needed "
                                 f"(every 10th is a selection speaker)")
    else:
        raise UserInputError(f"data.layout must be 'world' or 'paired', not {config.layout!r}")
    voiceless = orl_people(Path(root) / config.orl, config.face_size) if config.orl else []
    train_set = torch.utils.data.ConcatDataset([Faces(train), Faces(voiceless, len(train), samples=train[0].clips.shape[1])]) if voiceless \
        else Faces(train)
    return Built(train=train_set, val=Faces(select, 0, train=False), collate=collate,
                 model_values={"identities": len(train) + len(voiceless), "face_size": config.face_size})


def write_synthetic(root: str | Path, people: int = 3, images: int = 4) -> Path:
    """``root/orl-faces``: a tiny ORL-layout folder (92x112 grey pgm) of world faces, for the tests."""
    from PIL import Image

    folder = Path(root) / "orl-faces"
    for i in range(people):
        spk = world.speaker(1000 + i, seed=99)
        (folder / f"s{i + 1}").mkdir(parents=True, exist_ok=True)
        for j in range(images):
            face = (world.draw_face(spk, j, size=92) * 255).astype(np.uint8)
            canvas = np.zeros((112, 92), np.uint8)
            canvas[10:102] = face
            Image.fromarray(canvas).save(folder / f"s{i + 1}" / f"{j + 1}.pgm")
    return folder
