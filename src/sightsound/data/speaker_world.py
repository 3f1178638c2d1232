"""A synthetic speaker world where voice and face are tied by known rules (the Speech2Face test bed).

Every speaker has four hidden attributes, each a number ``u`` in [0, 1] drawn uniformly and independently,
and each one sets **both** the voice and the face through a documented rule:

=============  ==========================================  ===============================================
attribute      voice (source-filter synthesiser below)     face (procedural 64x64 grey portrait)
=============  ==========================================  ===============================================
``tract``      vocal-tract length 13.5 + 5 u cm: every     face height: half-height 17 + 7 u px, and the
               formant scales by 17 cm / length             jaw half-width 13 + 4 u px
``pitch``      mean F0 = 90 * (250 / 90) ** u Hz            brow thickness 1 + 4 (1 - u) px and jaw
               (log-uniform 90-250 Hz)                       squareness (superellipse power 2 + 4 (1 - u))
``rate``       3 + 3 u syllables per second                  mouth half-width 3 + 8 u px
``breath``     aspiration noise 0.02 + 0.5 u of the voice   skin brightness 0.85 - 0.4 u
=============  ==========================================  ===============================================

Nuisance the other side cannot know: the voice reads a different random text in every clip, with its own
intonation and loudness; the face has a hair line, eye spacing and background level of its own (per
speaker, independent of the four attributes), and each photo of it a small shift, a mouth opening, a
lighting gradient and pixel noise. The canonical face (what Speech2Face's decoder is asked to draw) is the
same speaker rendered centred, mouth closed, evenly lit and without noise.

The voice is a source-filter model written here: a glottal source (harmonics of the F0 contour with a
-6 dB/octave tilt, jitter, declination and a pitch accent per syllable) through a cascade of five formant
resonators per vowel, plus aspiration noise shaped by the same filter; consonants are fricative noise,
plosive bursts or nasal murmurs. Text is a string of consonant-vowel syllables ("ba-shi-mo ...").

Speaker ``i`` of world ``seed`` is identical whatever the number of speakers, and its split is fixed by its
index: ``i % 10 == 8`` selection, ``i % 10 == 9`` test (held out), else training.
``write_world(folder, speakers, seed)`` writes ``speakers.csv``, ``voices/ID-k.wav``, ``faces/ID-k.png``,
``faces/ID-canonical.png`` and ``texts.csv``; ``read_world(folder)`` reads it back.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

ATTRIBUTES = ("tract", "pitch", "rate", "breath")
NUISANCE = ("hair", "eyes", "background")
SAMPLE_RATE = 16000
FACE_SIZE = 64

# vowel formants (Hz) of a 17 cm vocal tract: F1..F5, and their bandwidths
VOWELS = {
    "a": (730, 1090, 2440, 3400, 4300), "e": (530, 1840, 2480, 3500, 4400), "i": (270, 2290, 3010, 3600, 4500),
    "o": (570, 840, 2410, 3300, 4200), "u": (300, 870, 2240, 3300, 4200), "y": (440, 1020, 2240, 3400, 4300),
}
BANDWIDTHS = (80, 100, 140, 200, 260)
CONSONANTS = {  # kind, centre frequency of the noise (Hz) for a 17 cm tract
    "s": ("fricative", 5500), "sh": ("fricative", 3200), "f": ("fricative", 7000), "h": ("fricative", 1500),
    "p": ("plosive", 1200), "t": ("plosive", 4000), "k": ("plosive", 2200), "b": ("plosive", 900),
    "m": ("nasal", 250), "n": ("nasal", 300), "l": ("liquid", 0), "": ("none", 0),
}
SPLITS = ("train", "select", "test")


@dataclass(frozen=True)
class Speaker:
    """One speaker: its id, split, hidden attributes ``u`` (4,) and face nuisance (3,), all in [0, 1]."""

    index: int
    seed: int
    attributes: tuple[float, float, float, float]
    nuisance: tuple[float, float, float]

    @property
    def id(self) -> str:
        return f"spk{self.index:04d}"

    @property
    def split(self) -> str:
        return "select" if self.index % 10 == 8 else "test" if self.index % 10 == 9 else "train"

    def physical(self) -> dict[str, float]:
        """The attributes in their physical units (what the voice is made from)."""
        tract, pitch, rate, breath = self.attributes
        return {"tract_cm": 13.5 + 5.0 * tract, "f0_hz": 90.0 * (250.0 / 90.0) ** pitch,
                "rate_sps": 3.0 + 3.0 * rate, "aspiration": 0.02 + 0.5 * breath}


def speaker(index: int, seed: int = 0) -> Speaker:
    """Speaker ``index`` of the world ``seed`` (independent of how many speakers the world has)."""
    rng = np.random.default_rng([seed, index, 7919])
    return Speaker(index, seed, tuple(float(v) for v in rng.random(4)), tuple(float(v) for v in rng.random(3)))


def speakers(n: int, seed: int = 0) -> list[Speaker]:
    return [speaker(i, seed) for i in range(n)]


# ---------------------------------------------------------------------------------------------- the voice


def random_text(rng: np.random.Generator, syllables: int) -> list[tuple[str, str]]:
    """(consonant, vowel) pairs; words of 1-3 syllables are joined with '-' when written out."""
    consonants, vowels = list(CONSONANTS), list(VOWELS)
    return [(consonants[rng.integers(len(consonants))], vowels[rng.integers(len(vowels))]) for _ in range(syllables)]


def text_of(syllables: list[tuple[str, str]]) -> str:
    return "-".join(c + v for c, v in syllables)


def _resonance(freqs: np.ndarray, formants: np.ndarray, bandwidths: np.ndarray) -> np.ndarray:
    """Magnitude of a cascade of second-order resonators (unit gain at 0 Hz) at ``freqs``.

    freqs (..., K), formants (..., 5) -> (..., K)."""
    f = freqs[..., None]                                       # (..., K, 1)
    fi, bi = formants[..., None, :], bandwidths[..., None, :]  # (..., 1, 5)
    return np.prod(fi ** 2 / np.sqrt((fi ** 2 - f ** 2) ** 2 + (bi * f) ** 2), axis=-1)


def speak(spk: Speaker, clip: int, seconds: float = 2.5, sample_rate: int = SAMPLE_RATE) -> tuple[np.ndarray, str]:
    """Clip ``clip`` of speaker ``spk``: (waveform (S,) float32 peak <= 0.9, the text it reads)."""
    phys = spk.physical()
    rng = np.random.default_rng([spk.seed, spk.index, clip, 104729])
    n = int(round(seconds * sample_rate))
    hop = 80                                  # envelope frames every 5 ms
    frames = n // hop + 2
    scale = 17.0 / phys["tract_cm"]           # every formant moves with the tract length
    rate = phys["rate_sps"] * rng.uniform(0.93, 1.07)
    count = max(1, int(seconds * rate))
    syllables = random_text(rng, count)
    # per frame: formants (5), voicing (0..1), noise gain, noise centre (0 = shaped by the formants), pitch factor
    formants = np.tile(np.array(VOWELS["a"], float), (frames, 1))
    voicing, noise_gain, noise_centre = np.zeros(frames), np.zeros(frames), np.zeros(frames)
    accent = np.ones(frames)
    lead = rng.uniform(0.05, 0.25)            # silence before speech (s)
    t = lead
    previous = np.array(VOWELS["a"], float)
    for consonant, vowel in syllables:
        length = rng.uniform(0.8, 1.2) / rate
        kind, centre = CONSONANTS[consonant]
        a, b = int(t * sample_rate / hop), int((t + length) * sample_rate / hop)
        if a >= frames:
            break
        b = min(b, frames)
        c = min(b, a + int(0.3 * (b - a)) if kind != "none" else a)
        target = np.array(VOWELS[vowel], float)
        steps = max(1, min(b, frames) - a)
        glide = np.clip(np.arange(steps) / max(1, (c - a) + 3), 0, 1)[:, None]
        formants[a:b] = previous + (target - previous) * glide[: b - a]
        voicing[c:b] = np.hanning(max(3, b - c) + 2)[1:-1][: b - c] ** 0.3
        if kind == "fricative":
            noise_gain[a:c], noise_centre[a:c] = 0.6, centre * scale
        elif kind == "plosive":
            burst = min(c, a + 3)
            noise_gain[a:burst], noise_centre[a:burst] = 1.0, centre * scale
        elif kind in ("nasal", "liquid"):
            voicing[a:c] = 0.5
            formants[a:c] = (270, 1000, 2300, 3300, 4200) if kind == "nasal" else (360, 1100, 2600, 3400, 4300)
        accent[a:b] = 1.0 + rng.uniform(-0.06, 0.10)
        previous = target
        t += length
    formants = formants * scale
    bandwidths = np.array(BANDWIDTHS, float)
    # F0 contour: mean pitch x declination x accents x jitter, smoothed
    decline = np.linspace(1.06, 0.92, frames)
    jitter = 1 + 0.01 * rng.standard_normal(frames)
    f0_frames = phys["f0_hz"] * decline * accent * jitter
    f0_frames = np.convolve(f0_frames, np.ones(9) / 9, mode="same")
    f0_frames[:4], f0_frames[-4:] = f0_frames[4], f0_frames[-5]
    t_frames = np.arange(frames) * hop
    t_samples = np.arange(n)
    f0 = np.interp(t_samples, t_frames, f0_frames)                     # (S,)
    phase = 2 * np.pi * np.cumsum(f0) / sample_rate                    # (S,)
    harmonics = int(sample_rate / 2 / (phys["f0_hz"] * 0.85))
    k = np.arange(1, harmonics + 1)                                    # (K,)
    hf = k[None, :] * f0_frames[:, None]                               # (frames, K) harmonic frequencies
    amp = _resonance(hf, formants, bandwidths) / k[None, :]            # -6 dB/octave source tilt
    amp = amp * (hf < 0.47 * sample_rate) * voicing[:, None]           # (frames, K)
    amp_s = torch.nn.functional.interpolate(torch.from_numpy(amp.T[None]).float(), size=n, mode="linear",
                                            align_corners=False)[0].numpy()  # (K, S)
    voiced = (amp_s * np.sin(k[:, None] * phase[None, :])).sum(axis=0)     # (S,)
    # noise: aspiration (shaped by the formants, scaled by breathiness) and consonant noise (a band at centre)
    n_fft, nhop = 512, 128
    noise = torch.from_numpy(rng.standard_normal(n)).float()
    window = torch.hann_window(n_fft)
    spec = torch.stft(noise, n_fft, nhop, window=window, return_complex=True)  # (F, T)
    freqs = np.linspace(0, sample_rate / 2, n_fft // 2 + 1)
    tf = np.clip(np.arange(spec.shape[1]) * nhop // hop, 0, frames - 1)
    shaped = _resonance(np.broadcast_to(freqs, (len(tf), len(freqs))), formants[tf], bandwidths)  # (T, F)
    aspiration = phys["aspiration"] * voicing[tf, None] * shaped * 0.05
    band = np.exp(-0.5 * ((freqs[None, :] - noise_centre[tf, None]) / (0.25 * noise_centre[tf, None] + 1)) ** 2)
    consonant = noise_gain[tf, None] * band * (noise_centre[tf, None] > 0) * 0.08
    gain = torch.from_numpy((aspiration + consonant).T).float()        # (F, T)
    shaped_noise = torch.istft(spec * gain, n_fft, nhop, window=window, length=n).numpy()
    voice_rms = np.sqrt(np.mean(voiced ** 2)) + 1e-9
    y = voiced / voice_rms * 0.1 + shaped_noise / voice_rms * 0.1 * np.sqrt(phys["aspiration"] / 0.02) * 0.2
    y = y * rng.uniform(0.5, 0.9) / (np.abs(y).max() + 1e-9)           # loudness nuisance
    return y.astype(np.float32), text_of(syllables)


# ---------------------------------------------------------------------------------------------- the face


def draw_face(spk: Speaker, photo: int | None = None, size: int = FACE_SIZE) -> np.ndarray:
    """Photo ``photo`` of the speaker's face, or its canonical face when ``photo`` is None: (size, size)
    float32 in [0, 1]. Drawn at 2x and averaged down (anti-aliasing)."""
    tract, pitch, rate, breath = spk.attributes
    hair, eyes, background = spk.nuisance
    canonical = photo is None
    rng = np.random.default_rng([spk.seed, spk.index, 0 if canonical else photo + 1, 15485863])
    s = 2 * size
    unit = s / 64.0
    y, x = (np.mgrid[0:s, 0:s] + 0.5) / unit                         # in 64-px units
    dx, dy = (0.0, 0.0) if canonical else tuple(rng.uniform(-2.0, 2.0, 2))
    cx, cy = 32.0 + dx, 34.0 + dy
    half_h = 17.0 + 7.0 * tract
    half_w = 13.0 + 4.0 * tract
    power = 2.0 + 4.0 * (1.0 - pitch)                                # square jaw for a low voice
    u, v = (x - cx) / half_w, (y - cy) / half_h
    lower = v > 0
    face = np.where(lower, np.abs(u) ** power + np.abs(v) ** power, u ** 2 + v ** 2) <= 1.0
    img = np.full((s, s), 0.08 + 0.25 * background)
    hair_top = cy - half_h - 1.5 - 3.0 * hair
    hair_mask = ((x - cx) / (half_w + 2.0)) ** 2 + ((y - cy + 2.0) / (cy - hair_top + 2.0)) ** 2 <= 1.0
    img[hair_mask & (y < cy - 0.35 * half_h)] = 0.12 + 0.1 * hair
    skin = 0.85 - 0.4 * breath
    if not canonical:
        light = 1.0 + rng.uniform(-0.12, 0.12) * (x - cx) / half_w
        shade = skin * light
    else:
        shade = np.full((s, s), skin)
    img[face] = shade[face]
    # eyes, brows, nose, mouth
    eye_y = cy - 0.22 * half_h
    eye_dx = (0.33 + 0.12 * eyes) * half_w * 1.2
    brow_thick = 1.0 + 4.0 * (1.0 - pitch)
    for side in (-1, 1):
        ex = cx + side * eye_dx
        img[((x - ex) / 2.6) ** 2 + ((y - eye_y) / 1.5) ** 2 <= 1.0] = 0.1
        brow = (np.abs(x - ex) <= 3.4) & (y >= eye_y - 4.0 - brow_thick) & (y <= eye_y - 4.0)
        img[brow & face] = 0.18
    nose = (np.abs(x - cx) <= 0.8) & (y >= eye_y + 2) & (y <= cy + 0.25 * half_h)
    img[nose] = np.minimum(img[nose], skin * 0.75)
    mouth_y = cy + 0.5 * half_h
    mouth_w = 3.0 + 8.0 * rate
    opening = 3.0 if canonical else rng.uniform(2.0, 4.0)
    img[((x - cx) / mouth_w) ** 2 + ((y - mouth_y) / opening) ** 2 <= 1.0] = 0.22
    img = img.reshape(size, 2, size, 2).mean(axis=(1, 3))              # (2s, 2s) -> (s, s)
    if not canonical:
        img = img + rng.normal(0.0, 0.03, img.shape)
    return np.clip(img, 0.0, 1.0).astype(np.float32)


# ---------------------------------------------------------------------------------------------- on disk


def write_world(folder: str | Path, n_speakers: int, seed: int = 0, clips: int = 3, photos: int = 3,
                seconds: float = 2.5, progress: bool = True) -> Path:
    """Write the world (layout in the module docstring); ``folder`` must not hold a world already."""
    from PIL import Image
    from tqdm import tqdm

    from sightsound.audio import io as audio_io

    folder = Path(folder)
    (folder / "voices").mkdir(parents=True, exist_ok=True)
    (folder / "faces").mkdir(parents=True, exist_ok=True)
    rows, texts = [], []
    for spk in tqdm(speakers(n_speakers, seed), desc="speakers", unit="spk", disable=not progress):
        for c in range(clips):
            wave, text = speak(spk, c, seconds)
            audio_io.save(folder / "voices" / f"{spk.id}-{c}.wav", torch.from_numpy(wave), SAMPLE_RATE)
            texts.append((f"{spk.id}-{c}", text))
        for p in [None, *range(photos)]:
            name = f"{spk.id}-{'canonical' if p is None else p}.png"
            Image.fromarray((draw_face(spk, p) * 255).round().astype(np.uint8)).save(folder / "faces" / name)
        rows.append([spk.id, spk.split, spk.index, seed, *(f"{a:.6f}" for a in spk.attributes),
                     *(f"{a:.6f}" for a in spk.nuisance), *(f"{v:.4f}" for v in spk.physical().values())])
    with open(folder / "texts.csv", "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("clip", "text"), *texts])
    header = ["id", "split", "index", "seed", *ATTRIBUTES, *NUISANCE, *speaker(0).physical()]
    with open(folder / "speakers.csv", "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *rows])
    return folder


@dataclass(frozen=True)
class WorldSpeaker:
    """A speaker read from a world folder: its files and attributes."""

    speaker: Speaker
    voices: tuple[Path, ...]
    photos: tuple[Path, ...]
    canonical: Path


def read_world(folder: str | Path) -> list[WorldSpeaker]:
    """The speakers of a folder written by ``write_world``; one-line errors for a folder that is not one."""
    from sightsound.errors import UserInputError

    folder = Path(folder)
    table = folder / "speakers.csv"
    if not table.is_file():
        raise UserInputError(f"{folder}: not a speaker world (no speakers.csv; make one with "
                             f"`sightsound voices --out {folder}`)")
    try:
        with open(table, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        out = []
        for row in rows:
            spk = Speaker(int(row["index"]), int(row["seed"]), tuple(float(row[a]) for a in ATTRIBUTES),
                          tuple(float(row[a]) for a in NUISANCE))
            voices = tuple(sorted((folder / "voices").glob(f"{spk.id}-*.wav")))
            photos = tuple(sorted(p for p in (folder / "faces").glob(f"{spk.id}-*.png") if "canonical" not in p.name))
            out.append(WorldSpeaker(spk, voices, photos, folder / "faces" / f"{spk.id}-canonical.png"))
    except (KeyError, ValueError, TypeError, OSError, csv.Error) as error:
        raise UserInputError(f"{table}: not a speaker table ({type(error).__name__}: {error})") from None
    broken = [w.speaker.id for w in out if not w.voices or not w.photos or not w.canonical.is_file()]
    if not out or broken:
        raise UserInputError(f"{folder}: {'no speakers' if not out else f'{len(broken)} speaker(s) lack voices or faces, e.g. {broken[0]}'}")
    return out


def attribute_rules() -> str:
    """The rules in one paragraph (for reports and the tour)."""
    return ("tract length -> formants and face height/jaw width; pitch -> F0 and brow thickness/jaw squareness; "
            "speaking rate -> mouth width; breathiness -> aspiration noise and skin brightness")


__all__ = ["ATTRIBUTES", "NUISANCE", "Speaker", "speaker", "speakers", "speak", "draw_face", "write_world",
           "read_world", "WorldSpeaker", "attribute_rules"]
