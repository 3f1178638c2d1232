"""Cocktail-party mixtures for Looking to Listen (``models/av_separation.py``): GRID speaker s1 is the target,
with the mouth crops of its face video (``vision/mouths.py``, cached), mixed with another voice.

Splits of ``grid-s1`` (clips sorted by name): test = every 18th from the 0th (the GRID validation clips of the
vocoder and Tacotron 2: 50), selection = every 18th from the 9th (50), training = the other 800. Interferers
come from every corpus present under the data folder (``interferers``): ``kathleen/wavs`` (one woman),
``fsdd/recordings`` (6 men, one group each), ``av-speakers/audio`` (about 20 people, each clip its own
group) and ``flickr8k-1k/spoken`` (one synthetic voice); the files of each corpus are split by their sorted
index (``i % 10 == 8`` selection, ``== 9`` test, the rest training), so no interfering recording crosses splits.

Training items are drawn afresh each time (the global torch RNG, seeded and checkpointed by the training loop):
a random ``seconds`` window of a training clip (aligned to video frames: frame k covers samples [640k,
640(k+1)) at 16 kHz) with its mouths; with probability ``same_speaker`` the interferer is another s1 training
clip (the hardest case: the same voice), else a random group of a random corpus (recordings of the group are
joined when one is too short); the interferer is scaled to a signal-to-interference ratio drawn uniformly from
``snr_db`` (active speech power: frames within 40 dB of the loudest).

The selection and test sets are fixed (seeded by ``seed + 1`` and ``seed + 2``): every clip of the split, whole
(3 s), once with a different speaker and once with another clip of s1 of the same split.

``layout="tones"``: an in-memory world for tests and the tiny preset. Two "voices" of random harmonic tones
switched on and off by random syllable envelopes, drawn from the same distribution (so only the face can tell
which one is wanted), and a synthetic mouth (h, w) whose opening follows the target's envelope.

Items are dicts: ``mixture``, ``target``, ``rest`` (S,), ``mouths`` (V, h, w) in [0, 1], ``same_speaker``
(0/1), ``snr`` (dB), ``name``; ``collate`` stacks them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from sightsound.audio import io as audio_io
from sightsound.data import Built
from sightsound.errors import UserInputError


def NEEDS_DATA(config: "Config") -> bool:  # noqa: N802 (the recipe protocol's name)
    """The tones world is generated in memory; GRID needs the data folder."""
    return config.layout != "tones"

CORPORA = {  # name -> (folder under the data root, glob, grouping of files into voices)
    "kathleen": ("kathleen/wavs", "*.flac", "one"),
    "fsdd": ("fsdd/recordings", "*.wav", "fsdd"),
    "av-speakers": ("av-speakers/audio", "*.flac", "each"),
    "flickr-spoken": ("flickr8k-1k/spoken", "*.mp3", "one"),
}


@dataclass(frozen=True)
class Config:
    layout: str = "grid"            # "grid" (GRID s1 + real interferers) | "tones" (the in-memory test world)
    subdir: str = "grid-s1"
    interferers: tuple = ("kathleen", "fsdd", "av-speakers", "flickr-spoken")
    sample_rate: int = 16000
    fps: float = 25.0
    seconds: float = 1.2            # training window (a whole number of video frames)
    same_speaker: float = 0.3       # probability that a training interferer is another s1 clip
    snr_db: tuple = (-5.0, 5.0)
    mouth_size: tuple = (32, 48)
    epoch_items: int = 4000         # training items per "epoch" (they are random windows, drawn afresh)
    seed: int = 0
    limit: int | None = None        # at most this many training clips (quick runs)
    cache_dir: str | None = None    # the mouth-crop cache (default ~/.cache/sightsound/features)
    # the tones world
    tone_clips: int = 64
    tone_seconds: float = 1.0


def split_of(index: int) -> str:
    return "select" if index % 10 == 8 else "test" if index % 10 == 9 else "train"


def grid_split(names: list[str]) -> dict[str, list[str]]:
    """s1 clip names (sorted) -> {"train", "select", "test"}: test every 18th from 0, selection every 18th from 9."""
    test, select = set(names[::18]), set(names[9::18])
    return {"train": [n for n in names if n not in test and n not in select],
            "select": [n for n in names if n in select], "test": [n for n in names if n in test]}


def active_power(y: torch.Tensor, sample_rate: int, floor_db: float = 40.0) -> float:
    """Mean power of the 20 ms frames within ``floor_db`` of the loudest (silence does not dilute it)."""
    n = max(1, int(0.02 * sample_rate))
    frames = y[: len(y) // n * n].reshape(-1, n).pow(2).mean(dim=1) if len(y) >= n else y.pow(2).mean()[None]
    loud = frames[frames >= frames.max() * 10 ** (-floor_db / 10)]
    return float(loud.mean()) if loud.numel() else 0.0


def mix_at(target: torch.Tensor, interferer: torch.Tensor, snr_db: float, sample_rate: int
           ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(mixture, target, scaled interferer) with 10 log10(P_target / P_interferer) = snr_db (active powers);
    all three scaled down together if the mixture would clip."""
    p_t, p_i = active_power(target, sample_rate), active_power(interferer, sample_rate)
    if p_t <= 0:
        raise UserInputError("the target is silent: nothing to mix")
    if p_i <= 0:
        raise UserInputError("the interferer is silent: nothing to mix")
    rest = interferer * (p_t / (p_i * 10 ** (snr_db / 10))) ** 0.5
    mixture = target + rest
    peak = float(mixture.abs().max())
    gain = 0.95 / peak if peak > 0.95 else 1.0
    return mixture * gain, target * gain, rest * gain


# ------------------------------------------------------------------------------------------------------------
# sources


@dataclass
class Clip:
    name: str
    wave: torch.Tensor       # (V * samples_per_frame,)
    mouths: torch.Tensor     # (V, h, w) uint8


def _samples_per_frame(config: Config) -> int:
    return int(round(config.sample_rate / config.fps))


def load_grid(root: Path, config: Config, split: str, progress: bool = True) -> list[Clip]:
    """The s1 clips of one split with their mouth crops (cached), cut to whole video frames."""
    from tqdm import tqdm

    from sightsound.vision.mouths import MouthCache

    folder, names = grid_names(root, config.subdir)
    audio, video = folder / "audio", folder / "video"
    chosen = split_names(names, split)
    if split == "train" and config.limit is not None:
        chosen = chosen[: config.limit]
    cache = MouthCache(tuple(config.mouth_size), config.cache_dir)
    hop = _samples_per_frame(config)
    clips = []
    for name in tqdm(chosen, desc=f"GRID {split} clips", unit="clip", disable=not progress, leave=False):
        wave, _ = audio_io.load(audio / f"{name}.flac", sr=config.sample_rate)
        mouths = torch.from_numpy(cache.get(video / f"{name}.mp4"))
        frames = min(len(mouths), len(wave) // hop)
        if frames < 2:
            continue
        clips.append(Clip(name, wave[: frames * hop], mouths[:frames]))
    if not clips:
        raise UserInputError(f"{folder}: no usable {split} clips")
    return clips


def grid_names(root: Path, subdir: str = "grid-s1") -> tuple[Path, list[str]]:
    """(the GRID folder, the sorted names of its clips with both audio/NAME.flac and video/NAME.mp4)."""
    folder = Path(root) / subdir
    audio, video = folder / "audio", folder / "video"
    if not audio.is_dir() or not video.is_dir():
        raise UserInputError(f"{folder}: needs audio/ and video/ folders (GRID layout; pass --data)")
    names = sorted(p.stem for p in audio.glob("*.flac") if (video / f"{p.stem}.mp4").is_file())
    if len(names) < 3:
        raise UserInputError(f"{folder}: fewer than 3 clips with both audio and video")
    return folder, names


def split_names(names: list[str], split: str) -> list[str]:
    """The clips of one split: ``grid_split`` for the real folder; tiny folders (the tests): the last clip
    tests, the one before selects, the rest train."""
    if len(names) >= 36:
        return grid_split(names)[split]
    return {"train": names[:-2], "select": names[-2:-1], "test": names[-1:]}[split]


def _corpus_files(root: Path, corpus: str) -> list[Path]:
    folder, pattern, _ = CORPORA[corpus]
    return sorted((Path(root) / folder).glob(pattern))


def _group_of(path: Path, grouping: str) -> str:
    if grouping == "fsdd":
        return path.stem.split("_")[1]       # {digit}_{speaker}_{index}
    return "all" if grouping == "one" else path.stem


def load_interferers(root: Path, config: Config, split: str, progress: bool = True) -> dict[str, list[list]]:
    """{corpus: [group: [wave (S,) ...]]} of the corpora present, files of ``split`` only."""
    from tqdm import tqdm

    unknown = [c for c in config.interferers if c not in CORPORA]
    if unknown:
        raise UserInputError(f"unknown interferer corpus {unknown[0]!r}; known: {', '.join(CORPORA)}")
    pool = {}
    for corpus in config.interferers:
        files = [p for i, p in enumerate(_corpus_files(root, corpus)) if split_of(i) == split]
        if not files:
            continue
        groups: dict[str, list] = {}
        for path in tqdm(files, desc=f"{corpus} ({split})", unit="file", disable=not progress, leave=False):
            wave, _ = audio_io.load(path, sr=config.sample_rate)
            if active_power(wave, config.sample_rate) > 0:
                groups.setdefault(_group_of(path, CORPORA[corpus][2]), []).append(wave)
        if groups:
            pool[corpus] = list(groups.values())
    if not pool:
        raise UserInputError(f"{root}: no interfering voices for the {split} split (looked for "
                             + ", ".join(CORPORA[c][0] for c in config.interferers) + ")")
    return pool


def _randint(high: int, gen: torch.Generator | None) -> int:
    return int(torch.randint(high, (), generator=gen))


def interferer_segment(pool: dict[str, list[list]], n: int, gen: torch.Generator | None) -> torch.Tensor:
    """``n`` samples of one voice: a random group of a random corpus, recordings joined until long enough,
    from a random start."""
    groups = pool[list(pool)[_randint(len(pool), gen)]]
    group = groups[_randint(len(groups), gen)]
    parts, total = [], 0
    first = group[_randint(len(group), gen)]
    start = _randint(max(1, len(first) - n + 1), gen)
    parts.append(first[start:])
    total = len(parts[0])
    while total < n:
        nxt = group[_randint(len(group), gen)]
        parts.append(nxt)
        total += len(nxt)
    return torch.cat(parts)[:n]


def _uniform(low: float, high: float, gen: torch.Generator | None) -> float:
    return float(low + (high - low) * torch.rand((), generator=gen))


def _item(config: Config, target: torch.Tensor, mouths: torch.Tensor, interferer: torch.Tensor, snr: float,
          same: bool, name: str) -> dict:
    mixture, target, rest = mix_at(target, interferer, snr, config.sample_rate)
    mouths = mouths.float() / 255.0 if mouths.dtype == torch.uint8 else mouths
    return {"mixture": mixture, "target": target, "rest": rest, "mouths": mouths, "same_speaker": int(same),
            "snr": snr, "name": name}


class TrainingMixtures(Dataset):
    """Random windows of the target clips mixed on the fly (see the module docstring)."""

    def __init__(self, clips: list[Clip], pool: dict, config: Config):
        self.frames = int(round(config.seconds * config.fps))
        self.hop = _samples_per_frame(config)
        self.clips, self.pool, self.config = [c for c in clips if len(c.mouths) >= self.frames], pool, config
        if not self.clips:
            raise UserInputError(f"every clip is shorter than the {config.seconds} s training window")

    def __len__(self) -> int:
        return self.config.epoch_items

    def _window(self, clip: Clip) -> tuple[torch.Tensor, torch.Tensor]:
        k = _randint(len(clip.mouths) - self.frames + 1, None)
        return clip.wave[k * self.hop: (k + self.frames) * self.hop], clip.mouths[k: k + self.frames]

    def __getitem__(self, i: int) -> dict:
        c = self.config
        index = _randint(len(self.clips), None)
        clip = self.clips[index]
        target, mouths = self._window(clip)
        same = float(torch.rand(())) < c.same_speaker and len(self.clips) > 1
        if same:
            other = self.clips[(index + 1 + _randint(len(self.clips) - 1, None)) % len(self.clips)]
            interferer, _ = self._window(other)
        else:
            interferer = interferer_segment(self.pool, len(target), None)
        return _item(c, target, mouths, interferer, _uniform(*c.snr_db, None), same, clip.name)


class FixedMixtures(Dataset):
    """Every clip of a split, whole, mixed once with a different voice and once with another clip of the
    same speaker (seeded): the selection and test sets."""

    def __init__(self, clips: list[Clip], pool: dict, config: Config, seed: int):
        gen = torch.Generator().manual_seed(seed)
        self.items = []
        for index, clip in enumerate(clips):
            n = len(clip.wave)
            interferer = interferer_segment(pool, n, gen)
            self.items.append(_item(config, clip.wave, clip.mouths, interferer, _uniform(*config.snr_db, gen),
                                    False, clip.name))
            if len(clips) > 1:
                other = clips[(index + 1 + _randint(len(clips) - 1, gen)) % len(clips)]
                voice = other.wave[:n] if len(other.wave) >= n else torch.cat([other.wave, other.wave])[:n]
                self.items.append(_item(config, clip.wave, clip.mouths, voice, _uniform(*config.snr_db, gen),
                                        True, clip.name))

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict:
        return self.items[i]


def collate(items: list[dict]) -> dict:
    """Stack items of equal length: tensors (B, ...), ``same_speaker`` (B,) long, ``snr`` (B,), ``name`` list."""
    out = {k: torch.stack([it[k] for it in items]) for k in ("mixture", "target", "rest", "mouths")}
    out["same_speaker"] = torch.tensor([it["same_speaker"] for it in items])
    out["snr"] = torch.tensor([it["snr"] for it in items])
    out["name"] = [it["name"] for it in items]
    return out


# ------------------------------------------------------------------------------------------------------------
# the tones world


def tone_voice(n: int, sample_rate: int, fps: float, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """(wave (n,), per-video-frame envelope (V,)): a harmonic tone (random pitch 150-400 Hz, gliding) switched by
    random syllables of 2-6 video frames."""
    hop = int(round(sample_rate / fps))
    V = n // hop
    envelope = torch.zeros(V)
    k = _randint(3, gen)
    while k < V:
        length = 2 + _randint(5, gen)
        envelope[k: k + length] = 0.5 + 0.5 * torch.rand((), generator=gen)
        k += length + 1 + _randint(4, gen)
    f0 = _uniform(150.0, 400.0, gen) * (1 + 0.1 * torch.linspace(-1, 1, n) * _uniform(-1, 1, gen))
    phase = 2 * torch.pi * torch.cumsum(f0, 0) / sample_rate
    tone = torch.sin(phase) + 0.5 * torch.sin(2 * phase) + 0.25 * torch.sin(3 * phase)
    smooth = torch.nn.functional.interpolate(envelope[None, None], size=n, mode="linear", align_corners=False)[0, 0]
    return 0.1 * tone * smooth, envelope


def mouth_image(opening: float, size: tuple[int, int]) -> torch.Tensor:
    """A synthetic mouth (h, w) in [0, 1]: skin with a dark ellipse whose height follows ``opening`` in [0, 1]."""
    h, w = size
    y, x = torch.meshgrid(torch.linspace(-1, 1, h), torch.linspace(-1, 1, w), indexing="ij")
    inside = (x / 0.7) ** 2 + (y / (0.08 + 0.6 * opening)) ** 2 <= 1
    return torch.where(inside, torch.tensor(0.15), torch.tensor(0.75))


class ToneMixtures(Dataset):
    """The tones world: ``count`` mixtures (training: ``seed``; fixed sets: their own seed)."""

    def __init__(self, config: Config, count: int, seed: int, same_voice: bool = False):
        gen = torch.Generator().manual_seed(seed)
        n = int(round(config.tone_seconds * config.fps)) * _samples_per_frame(config)
        self.items = []
        for i in range(count):
            target, envelope = tone_voice(n, config.sample_rate, config.fps, gen)
            other, _ = tone_voice(n, config.sample_rate, config.fps, gen)
            mouths = torch.stack([mouth_image(float(e), tuple(config.mouth_size)) for e in envelope])
            if float(target.abs().max()) == 0 or float(other.abs().max()) == 0:
                continue
            self.items.append(_item(config, target, mouths, other, _uniform(*config.snr_db, gen), i % 2 == 1,
                                    f"tone{i:04d}"))

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict:
        return self.items[i]


# ------------------------------------------------------------------------------------------------------------


def build(root: Path, config: Config) -> Built:
    if config.layout == "tones":
        train = ToneMixtures(config, config.tone_clips, config.seed)
        val = ToneMixtures(config, max(8, config.tone_clips // 4), config.seed + 1)
        return Built(train, val, collate, model_values(config))
    if config.layout != "grid":
        raise UserInputError(f"unknown layout {config.layout!r}; choose grid or tones")
    train = TrainingMixtures(load_grid(root, config, "train"), load_interferers(root, config, "train"), config)
    val = FixedMixtures(load_grid(root, config, "select"), load_interferers(root, config, "select"), config,
                        config.seed + 1)
    return Built(train, val, collate, model_values(config))


def model_values(config: Config) -> dict:
    """What the data fixes in the model: the sample rate, the video rate and the mouth-crop size."""
    return {"sample_rate": config.sample_rate, "fps": config.fps, "mouth_size": tuple(config.mouth_size)}


def fixed_set(root: Path, config: Config, split: str, progress: bool = True) -> FixedMixtures:
    """The seeded selection (``select``) or test (``test``) mixtures."""
    seed = config.seed + (1 if split == "select" else 2)
    return FixedMixtures(load_grid(root, config, split, progress), load_interferers(root, config, split, progress),
                         config, seed)


def write_synthetic(root: str | Path, n_clips: int = 6, seconds: float = 2.0) -> Path:
    """A tiny data folder in the real layouts: ``grid-s1`` (tone "speech", ``.align`` files and 25 fps face
    videos of a drawn face whose mouth opens with the voice's envelope, which the Haar detector finds) and
    ``kathleen`` (four tone clips as interferers). Returns ``root``."""
    import cv2

    from sightsound.data import speaker_world as world
    from sightsound.data.grid import GRID_GRAMMAR

    root = Path(root)
    folder = root / "grid-s1"
    for sub in ("audio", "video", "align"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    gen = torch.Generator().manual_seed(7)
    sr, fps, n = 16000, 25.0, int(seconds * 16000)
    face = (world.draw_face(world.speaker(3), size=160) * 255).astype(np.uint8)
    for i in range(n_clips):
        wave, envelope = tone_voice(n, sr, fps, gen)
        name = f"s{i:03d}v"
        audio_io.save(folder / "audio" / f"{name}.flac", wave, sr, overwrite=True)
        words = [slot[_randint(len(slot), gen)] for slot in GRID_GRAMMAR]   # a grammar sentence, evenly timed
        edges = np.linspace(0.1, seconds - 0.1, len(words) + 1) * 25000
        lines = [f"0 {int(edges[0])} sil"] + [f"{int(a)} {int(b)} {w}" for a, b, w in zip(edges, edges[1:], words)]
        lines.append(f"{int(edges[-1])} {int(seconds * 25000)} sil")
        (folder / "align" / f"{name}.align").write_text("\n".join(lines) + "\n", encoding="utf-8")
        writer = cv2.VideoWriter(str(folder / "video" / f"{name}.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), fps,
                                 (360, 288), False)
        for e in envelope.tolist():
            canvas = np.full((288, 360), 120, dtype=np.uint8)
            canvas[60:220, 100:260] = face
            # the drawn face's mouth sits about 0.78 of the way down its 160-px square
            cv2.ellipse(canvas, (180, 60 + 126), (20, int(2 + 10 * e)), 0, 0, 360, 30, -1)
            writer.write(canvas)
        writer.release()
    kathleen = root / "kathleen" / "wavs"
    kathleen.mkdir(parents=True, exist_ok=True)
    lines = []
    for i in range(10):
        wave, _ = tone_voice(n, sr, fps, gen)
        audio_io.save(kathleen / f"tone_{i:04d}.flac", wave, sr, overwrite=True)
        lines.append(f"tone_{i:04d}|a tone|a tone")
    (root / "kathleen" / "metadata.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root
