"""``Vocoder``: log-mel frames -> waveform, by a trained WaveNet or by Griffin-Lim; what Tacotron 2 and the
command line use.

    vocoder = Vocoder.from_pretrained("wavenet-grid")        # or "griffinlim", or a run folder
    wave = vocoder(mel)                                      # (M, T) -> (T * hop,), or (B, M, T) -> (B, S)
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from sightsound.audio.features import log_mel, log_mel_to_wave
from sightsound.audio.presets import AudioPreset, get_preset
from sightsound.errors import ParameterError, UserInputError

GRIFFIN_LIM = "griffinlim"
DEFAULT_TEMPERATURE = 1.0   # WaveNet sampling temperature


class Vocoder:
    """A callable ``(log-mel (M, T) or (B, M, T), lengths=None) -> waveform``. ``kind`` is "wavenet" or
    "griffinlim"; ``preset`` is the mel analysis it expects (``sample_rate``, ``hop_length``)."""

    def __init__(self, kind: str, preset: AudioPreset, model=None, n_iter: int = 32, name: str = "",
                 temperature: float = DEFAULT_TEMPERATURE):
        if kind not in ("wavenet", GRIFFIN_LIM):
            raise ParameterError(f"unknown vocoder kind {kind!r}")
        if not temperature > 0:
            raise ParameterError(f"temperature must be > 0, got {temperature}")
        self.kind, self.preset, self.model, self.n_iter, self.name = kind, preset, model, n_iter, name or kind
        self.temperature = temperature

    @classmethod
    def from_pretrained(cls, name: str | os.PathLike = "wavenet-grid", *, preset: str = "tts16k",
                        n_iter: int = 32, temperature: float | None = None) -> "Vocoder":
        """A shipped WaveNet by name, a WaveNet run folder, or "griffinlim" (with the ``preset`` analysis).
        ``temperature`` divides the WaveNet's logits before sampling (None: ``DEFAULT_TEMPERATURE``)."""
        if str(name) == GRIFFIN_LIM:
            return cls(GRIFFIN_LIM, get_preset(preset), n_iter=n_iter)
        from sightsound.models.wavenet import WaveNet
        from sightsound.pretrained import load_pretrained

        model = load_pretrained(name)
        if not isinstance(model, WaveNet):
            raise UserInputError(f"{name}: not a WaveNet vocoder (it is a {type(model).__name__})")
        return cls("wavenet", get_preset(model.config.audio_preset), model=model, name=str(name),
                   temperature=DEFAULT_TEMPERATURE if temperature is None else temperature)

    @property
    def sample_rate(self) -> int:
        return self.preset.sample_rate

    def analyse(self, wave: torch.Tensor) -> torch.Tensor:
        """The log-mel this vocoder expects for a waveform at its rate: (..., S) -> (..., M, T)."""
        return log_mel(wave.to(torch.float32), self.preset)

    @torch.no_grad()
    def __call__(self, mel: torch.Tensor, lengths: torch.Tensor | None = None, *, seed: int = 0,
                 progress: bool = False, backend: str = "auto") -> torch.Tensor:
        single = mel.ndim == 2
        batch = mel.unsqueeze(0) if single else mel
        if batch.ndim != 3 or batch.shape[1] != self.preset.n_mels:
            raise ParameterError(f"expected a log-mel of shape ({self.preset.n_mels}, frames) or "
                                 f"(batch, {self.preset.n_mels}, frames), got {tuple(mel.shape)}")
        generator = torch.Generator().manual_seed(seed)
        if self.kind == GRIFFIN_LIM:
            hop = self.preset.hop_length
            wave = log_mel_to_wave(batch.to(torch.float32), self.preset, n_iter=self.n_iter,
                                   length=(batch.shape[-1] - 1) * hop, generator=generator)
            wave = torch.nn.functional.pad(wave, (0, hop))  # T * hop samples, like the WaveNet
            if lengths is not None:
                keep = torch.arange(wave.shape[-1])[None] < torch.as_tensor(lengths)[:, None] * self.preset.hop_length
                wave = wave * keep
        else:
            wave = self.model.generate(batch, lengths, generator=generator, temperature=self.temperature,
                                       progress=progress, backend=backend)
        return wave[0] if single else wave

    def __repr__(self) -> str:
        extra = f", temperature={self.temperature}" if self.kind != GRIFFIN_LIM else ""
        return f"Vocoder({self.kind}, {self.name}, {self.preset.name}{extra})"


# ------------------------------------------------------------------------------------------------
# evaluation on a GRID-layout folder (audio/*.flac + align/*.align)


def grid_slot_errors(references: list[str], hypotheses: list[str]) -> dict[str, float] | None:
    """{GRID slot name: share of sentences whose word there is wrong}, or None unless every reference has
    the GRID pattern's six words."""
    from sightsound.data.grid import GRID_SLOTS
    from sightsound.metrics.speech import slot_error_rates

    if any(len(r.split()) != len(GRID_SLOTS) for r in references):
        return None
    return {k: round(v, 3) for k, v in zip(GRID_SLOTS, slot_error_rates(references, hypotheses))}


def evaluate_vocoder(vocoder: "Vocoder", data_dir: str | os.PathLike, *, clips: str = "all", limit: int | None = None,
                     batch_size: int = 8, gl_iterations: int = 32, seed: int = 0, out_dir: Path | None = None,
                     progress: bool = True) -> dict:
    """Copy-synthesis from each clip's log-mel by ``vocoder`` and by Griffin-Lim, scored against the
    original: MCD, LSD, spectral convergence (dB and ratios, speech frames), pocketsphinx WER with the
    GRID grammar (also for the original audio), and the real-time factor (synthesis seconds / audio
    seconds, this machine). ``clips``: "all" clips of the folder, or "val" (the fixed GRID split)."""
    import time

    from tqdm.auto import tqdm

    from sightsound.audio import functional as AF
    from sightsound.audio import io as audio_io
    from sightsound.data import grid
    from sightsound.metrics.speech import (Recognizer, log_spectral_distance, mel_cepstral_distortion,
                                           word_error_rate)

    root = Path(data_dir)
    if not (root / "audio").is_dir() or not (root / "align").is_dir():
        raise UserInputError(f"{root}: expected a folder laid out like grid-s1 (audio/*.flac and align/*.align)")
    config = grid.Config(subdir=".", preset=vocoder.preset.name)
    train_names, val_names = grid.clip_names(root, config)
    if clips == "val":
        names = val_names
    elif clips == "all":
        names = sorted(train_names + val_names)
    else:
        raise ParameterError(f"clips must be 'all' or 'val', got {clips!r}")
    names = names[:limit] if limit else names
    missing = [n for n in names if not (root / "align" / f"{n}.align").is_file()]
    if missing:
        raise UserInputError(f"{root}/align: no transcript for {missing[0]} (and {len(missing) - 1} more)")
    preset, sr = vocoder.preset, vocoder.preset.sample_rate
    griffin = Vocoder.from_pretrained(GRIFFIN_LIM, preset=preset.name, n_iter=gl_iterations)
    systems = {"original": None, "griffinlim": griffin}
    if vocoder.kind != GRIFFIN_LIM:
        systems[vocoder.kind] = vocoder
    recognizer = Recognizer(slots=grid.GRID_GRAMMAR)
    references = [grid.transcript(root / "align" / f"{n}.align") for n in names]
    results = {k: {"hyps": [], "mcd": [], "lsd": [], "sc": [], "seconds": 0.0} for k in systems}
    audio_seconds = 0.0
    bar = tqdm(total=len(names), desc="vocoder eval", unit="clip", disable=not progress)
    for start in range(0, len(names), batch_size):
        chunk = names[start:start + batch_size]
        waves = [audio_io.load(root / "audio" / f"{n}.flac", sr=sr)[0] for n in chunk]
        audio_seconds += sum(len(w) for w in waves) / sr
        for system, voc in systems.items():
            if voc is None:
                outputs = waves
            else:
                mels = [vocoder.analyse(w) for w in waves]
                frames = max(m.shape[-1] for m in mels)
                batch = torch.stack([torch.nn.functional.pad(m, (0, frames - m.shape[-1]), mode="replicate")
                                     for m in mels])
                t0 = time.perf_counter()
                out = voc(batch, torch.tensor([m.shape[-1] for m in mels]), seed=seed + start)
                results[system]["seconds"] += time.perf_counter() - t0
                outputs = [out[i, : len(w)] for i, w in enumerate(waves)]
            for name, ref, syn in zip(chunk, waves, outputs):
                results[system]["hyps"].append(recognizer(syn, sr))
                if voc is not None:
                    results[system]["mcd"].append(mel_cepstral_distortion(ref, syn, sr))
                    results[system]["lsd"].append(log_spectral_distance(ref, syn, sr))
                    S_ref = AF.spectrogram(ref, **preset.stft_kwargs)
                    S_syn = AF.spectrogram(syn.to(ref.dtype), **preset.stft_kwargs)
                    results[system]["sc"].append(float(AF.spectral_convergence(S_ref, S_syn)))
                    if out_dir is not None:
                        audio_io.save(Path(out_dir) / f"{name}_{system}.wav", syn, sr, overwrite=True)
        bar.update(len(chunk))
    bar.close()
    report = {"data": str(root), "clips": len(names), "split": clips, "audio_seconds": round(audio_seconds, 2),
              "vocoder": vocoder.name, "griffinlim_iterations": gl_iterations, "systems": {}}
    if vocoder.kind != GRIFFIN_LIM:
        report["temperature"] = vocoder.temperature
    for system, r in results.items():
        entry = {"wer": round(word_error_rate(references, r["hyps"]), 4)}
        slots = grid_slot_errors(references, r["hyps"])
        if slots is not None:
            entry["slot_error_rates"] = slots
        if r["mcd"]:
            entry |= {"mcd_db": round(sum(r["mcd"]) / len(r["mcd"]), 3),
                      "lsd_db": round(sum(r["lsd"]) / len(r["lsd"]), 3),
                      "spectral_convergence": round(sum(r["sc"]) / len(r["sc"]), 4),
                      "real_time_factor": round(r["seconds"] / audio_seconds, 4)}
        report["systems"][system] = entry
    report["examples"] = [{"clip": n, "reference": ref, **{s: results[s]["hyps"][i] for s in results}}
                          for i, (n, ref) in enumerate(zip(names[:5], references[:5]))]
    return report
