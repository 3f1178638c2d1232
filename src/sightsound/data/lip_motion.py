"""Talking mouths for lip-motion generation (``models/lip_motion.py``) and its sync expert
(``models/sync_expert.py``): GRID speaker s1's speech with the mouth of every 25 fps video frame.

Per clip: the log-mel of the audio (the lecture's front-end: ``audio.presets.SPEECH``, 25 ms Hamming window every
10 ms, 80 mels, so 4 mel frames per video frame: frame k covers samples [640k, 640(k+1)) and mel frames 4k..4k+3),
the 20 mouth landmarks of every frame in the face frame (``vision/landmarks.py``: dlib's 68-point model, cached;
unit = the inter-ocular distance) and, for the sync expert, the 32 x 48 grey mouth crops of every frame
(``vision/mouths.py``, cached).

Splits of ``grid-s1`` as for Looking to Listen (``data/av_mixtures.grid_split``): test = every 18th clip from the
0th (the GRID validation clips: 50), selection = every 18th from the 9th (50), training = the other 800.
Training items are random windows of ``window_frames`` video frames, drawn afresh; selection items are whole clips.

``layout="tones"``: an in-memory world for tests and the tiny preset: tone "speech" switched on and off by random
syllables, and a synthetic mouth (``template_mouth``) whose opening follows the tone's loudness.

Items: ``mel`` (M, 4V) log-mel, ``mouth`` (V, 20, 2) normalised mouth landmarks, ``crops`` (V, h, w) uint8
(if ``crops``), ``name``; ``collate`` cuts a batch to its shortest item.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import Dataset

from sightsound.audio import io as audio_io
from sightsound.audio.features import log_mel
from sightsound.audio.presets import get_preset
from sightsound.data import Built
from sightsound.data.av_mixtures import grid_names, mouth_image, split_names, tone_voice
from sightsound.errors import UserInputError


def NEEDS_DATA(config: "Config") -> bool:  # noqa: N802 (the recipe protocol's name)
    """The tones world is generated in memory; GRID needs the data folder."""
    return config.layout != "tones"


@dataclass(frozen=True)
class Config:
    layout: str = "grid"            # "grid" (GRID s1) | "tones" (the in-memory test world)
    subdir: str = "grid-s1"
    preset: str = "speech"          # the log-mel analysis (16 kHz, 10 ms hop: 4 mel frames per video frame)
    fps: float = 25.0
    window_frames: int = 50         # training window (2 s)
    crops: bool = False             # also load the mouth crops (the sync expert)
    mouth_size: tuple = (32, 48)
    epoch_items: int = 4000         # training windows per "epoch" (drawn afresh)
    limit: int | None = None        # at most this many training clips (quick runs)
    cache_dir: str | None = None    # the landmark and crop caches (default ~/.cache/sightsound/features)
    seed: int = 0
    # the tones world
    tone_clips: int = 64
    tone_seconds: float = 2.0


@dataclass
class Clip:
    name: str
    mel: torch.Tensor        # (M, 4V)
    mouth: torch.Tensor      # (V, 20, 2) face-frame mouth landmarks
    crops: torch.Tensor | None  # (V, h, w) uint8


def mel_per_frame(config: Config) -> int:
    preset = get_preset(config.preset)
    per = preset.sample_rate / (config.fps * preset.hop_length)
    if abs(per - round(per)) > 1e-9:
        raise UserInputError(f"the {config.preset} preset's hop does not divide a video frame")
    return int(round(per))


def clip_mel(wave: torch.Tensor, frames: int, config: Config) -> torch.Tensor:
    """Log-mel (M, 4V) of a waveform for ``frames`` video frames (zero-padded at the end if short)."""
    preset = get_preset(config.preset)
    need = frames * mel_per_frame(config)
    mel = log_mel(wave, preset)[:, :need]                 # (M, 1 + S // hop) -> (M, <= 4V)
    if mel.shape[1] < need:
        mel = torch.nn.functional.pad(mel, (0, need - mel.shape[1]), value=math.log(1e-5))
    return mel


def load_grid(root: Path, config: Config, split: str, progress: bool = True, first: int | None = None) -> list[Clip]:
    """The s1 clips of one split (only its ``first`` ones if given): log-mel, normalised mouth landmarks (cached),
    mouth crops (cached, if asked)."""
    from tqdm import tqdm

    from sightsound.vision.landmarks import MOUTH, LandmarkCache, normalise
    from sightsound.vision.mouths import MouthCache

    folder, names = grid_names(root, config.subdir)
    chosen = split_names(names, split)
    if split == "train" and config.limit is not None:
        chosen = chosen[: config.limit]
    if first is not None:
        chosen = chosen[:first]
    landmarks = LandmarkCache(config.cache_dir)
    mouths = MouthCache(tuple(config.mouth_size), config.cache_dir) if config.crops else None
    preset = get_preset(config.preset)
    clips = []
    for name in tqdm(chosen, desc=f"GRID {split} clips", unit="clip", disable=not progress, leave=False):
        wave, _ = audio_io.load(folder / "audio" / f"{name}.flac", sr=preset.sample_rate)
        points = torch.from_numpy(landmarks.get(folder / "video" / f"{name}.mp4"))       # (V, 68, 2)
        crops = torch.from_numpy(mouths.get(folder / "video" / f"{name}.mp4")) if mouths else None
        frames = min(len(points), len(wave) // int(round(preset.sample_rate / config.fps)))
        if crops is not None:
            frames = min(frames, len(crops))
        if frames < 8:
            continue
        mouth = normalise(points[:frames, MOUTH], points[:frames])
        clips.append(Clip(name, clip_mel(wave, frames, config), mouth.float(),
                          crops[:frames] if crops is not None else None))
    if not clips:
        raise UserInputError(f"{folder}: no usable {split} clips")
    return clips


def _item(clip: Clip, start: int, frames: int, per: int) -> dict:
    item = {"mel": clip.mel[:, start * per: (start + frames) * per], "mouth": clip.mouth[start: start + frames],
            "name": clip.name}
    if clip.crops is not None:
        item["crops"] = clip.crops[start: start + frames]
    return item


class Windows(Dataset):
    """Random ``window_frames`` windows of random training clips (drawn afresh with the global torch RNG)."""

    def __init__(self, clips: list[Clip], config: Config):
        self.clips, self.config, self.per = clips, config, mel_per_frame(config)

    def __len__(self) -> int:
        return self.config.epoch_items

    def __getitem__(self, i: int) -> dict:
        clip = self.clips[int(torch.randint(len(self.clips), ()))]
        frames = min(self.config.window_frames, len(clip.mouth))
        start = int(torch.randint(len(clip.mouth) - frames + 1, ()))
        return _item(clip, start, frames, self.per)


class WholeClips(Dataset):
    def __init__(self, clips: list[Clip], config: Config):
        self.clips, self.per = clips, mel_per_frame(config)

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, i: int) -> dict:
        clip = self.clips[i]
        return _item(clip, 0, len(clip.mouth), self.per)


def collate(items: list[dict]) -> dict:
    """Stack items, cut to the shortest: ``mel`` (B, M, 4V), ``mouth`` (B, V, 20, 2), ``crops`` (B, V, h, w)."""
    frames = min(len(it["mouth"]) for it in items)
    per = items[0]["mel"].shape[1] // len(items[0]["mouth"])
    out = {"mel": torch.stack([it["mel"][:, : frames * per] for it in items]),
           "mouth": torch.stack([it["mouth"][:frames] for it in items]), "name": [it["name"] for it in items]}
    if "crops" in items[0]:
        out["crops"] = torch.stack([it["crops"][:frames] for it in items])
    return out


# ------------------------------------------------------------------------------------------------------------
# the tones world


def template_mouth(opening: torch.Tensor) -> torch.Tensor:
    """A synthetic mouth (..., 20, 2) in the face frame (iBUG order: outer lip 48-59 from the left corner
    clockwise, inner lip 60-67) whose inner-lip gap is ``opening`` (...,) inter-ocular distances."""
    opening = torch.as_tensor(opening, dtype=torch.float32)
    outer = torch.linspace(0, 2 * math.pi, 13)[:-1]              # 12 points, starting at the left corner
    inner = torch.linspace(0, 2 * math.pi, 9)[:-1]               # 8 points
    ox, oy = -0.45 * torch.cos(outer), -0.12 * torch.sin(outer)
    ix, iy = -0.32 * torch.cos(inner), -0.01 * torch.sin(inner)
    half = opening[..., None] / 2
    oy = oy + torch.sign(oy) * half                              # lips move apart with the gap
    iy = iy * 0 + torch.sign(iy) * half
    y0 = 1.05                                                    # the mouth sits about one eye distance below
    x = torch.cat([ox.expand_as(oy), ix.expand_as(iy)], dim=-1)
    y = torch.cat([oy, iy], dim=-1) + y0
    return torch.stack([x, y], dim=-1)


class ToneClips(Dataset):
    """``count`` tone clips whose synthetic mouth opens with the tone's loudness (seeded)."""

    def __init__(self, config: Config, count: int, seed: int):
        gen = torch.Generator().manual_seed(seed)
        preset = get_preset(config.preset)
        hop = int(round(preset.sample_rate / config.fps))
        frames = int(round(config.tone_seconds * config.fps))
        self.items = []
        for i in range(count):
            wave, envelope = tone_voice(frames * hop, preset.sample_rate, config.fps, gen)   # (S,), (V,)
            mouth = template_mouth(0.25 * envelope) + 0.005 * torch.randn(frames, 20, 2, generator=gen)
            item = {"mel": clip_mel(wave, frames, config), "mouth": mouth, "name": f"tone{i:04d}"}
            if config.crops:
                item["crops"] = torch.stack([(mouth_image(float(e), tuple(config.mouth_size)) * 255).to(torch.uint8)
                                             for e in envelope])
            self.items.append(item)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict:
        return self.items[i]


# ------------------------------------------------------------------------------------------------------------


def mean_mouth(clips) -> list[float]:
    """The mean training mouth shape (20 * 2 floats, x0 y0 x1 y1 ...): the model's rest shape."""
    mouths = torch.cat([c.mouth if isinstance(c, Clip) else c["mouth"] for c in clips])
    return [round(float(v), 5) for v in mouths.mean(dim=0).flatten()]


def build(root: Path, config: Config) -> Built:
    if config.layout == "tones":
        train = ToneClips(config, config.tone_clips, config.seed)
        val = ToneClips(config, max(8, config.tone_clips // 4), config.seed + 1)
        return Built(train, val, collate, model_values(config, mean_mouth(train.items)))
    if config.layout != "grid":
        raise UserInputError(f"unknown layout {config.layout!r}; choose grid or tones")
    clips = load_grid(root, config, "train")
    val = WholeClips(load_grid(root, config, "select"), config)
    return Built(Windows(clips, config), val, collate, model_values(config, mean_mouth(clips)))


def model_values(config: Config, rest: list[float]) -> dict:
    """What the data fixes in the model: the mel analysis, and the rest mouth (lip motion) or the crop size (the
    sync expert, ``crops=True``)."""
    preset = get_preset(config.preset)
    values = {"n_mels": preset.n_mels, "mel_per_frame": mel_per_frame(config)}
    if config.crops:
        return {**values, "mouth_size": tuple(config.mouth_size)}
    return {**values, "fps": config.fps, "rest_mouth": tuple(rest)}


def reference_frame(root: Path, config: Config, candidates: int = 40) -> dict:
    """A reference face for rendering: among the frames of the first ``candidates`` training clips, the one whose
    mouth is nearest the mean training mouth (a rest pose, lips together). {"name", "frame", "image" (H, W, 3)
    uint8 RGB, "landmarks" (68, 2) pixels}."""
    from sightsound.models.lip_motion import landmark_distance
    from sightsound.vision.landmarks import MOUTH, LandmarkCache, normalise
    from sightsound.vision.video import read_rgb_frames

    folder, names = grid_names(root, config.subdir)
    chosen = split_names(names, "train")[:candidates]
    cache = LandmarkCache(config.cache_dir)
    tracks = [torch.from_numpy(cache.get(folder / "video" / f"{n}.mp4")) for n in chosen]
    mouths = [normalise(t[:, MOUTH], t) for t in tracks]
    rest = torch.cat(mouths).mean(dim=0)
    distances = [landmark_distance(m, rest) for m in mouths]
    best = min(range(len(chosen)), key=lambda i: float(distances[i].min()))
    k = int(distances[best].argmin())
    frames, _ = read_rgb_frames(folder / "video" / f"{chosen[best]}.mp4", limit=k + 1)
    return {"name": chosen[best], "frame": k, "image": frames[k], "landmarks": tracks[best][k].numpy()}


def write_synthetic(root: str | Path) -> Path:
    """The GRID layout of ``data/av_mixtures.write_synthetic`` (tone speech, drawn-face videos). The tiny preset
    needs none of it (it uses the tones world)."""
    from sightsound.data.av_mixtures import write_synthetic as write_grid

    return write_grid(root)

