"""``eval vocoder``: copy-synthesis of a GRID-layout folder (audio/*.flac + align/*.align) by a vocoder and by
Griffin-Lim, scored against the original recordings (MCD, LSD, spectral convergence, STOI, wide-band PESQ, WER,
real-time factor). STOI and PESQ judge how the result sounds (intelligibility, listening quality), which MCD,
a distance between band energies that Griffin-Lim matches by construction, does not.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from sightsound.errors import ParameterError, UserInputError
from sightsound.fileio import read_text
from sightsound.pretrained.vocoder import GRIFFIN_LIM, Vocoder


def grid_slot_errors(references: list[str], hypotheses: list[str]) -> dict[str, float] | None:
    """{GRID slot name: share of sentences whose word there is wrong}, or None unless every reference has
    the GRID pattern's six words."""
    from sightsound.data.grid import GRID_SLOTS
    from sightsound.metrics.speech import slot_error_rates

    if any(len(r.split()) != len(GRID_SLOTS) for r in references):
        return None
    return {k: round(v, 3) for k, v in zip(GRID_SLOTS, slot_error_rates(references, hypotheses))}


def evaluate_vocoder(vocoder: "Vocoder", data_dir: str | os.PathLike, *, clips: str = "all", limit: int | None = None,
                     batch_size: int = 8, gl_iterations: int = 32, seed: int = 0, draws: int = 1,
                     out_dir: Path | None = None, progress: bool = True) -> dict:
    """Copy-synthesis from each clip's log-mel by ``vocoder`` and by Griffin-Lim, scored against the
    original: MCD (also by the reference frame's level, ``mcd_by_level_db``), LSD, spectral convergence
    (speech frames), pocketsphinx WER with the GRID grammar (also for the original audio), and the
    real-time factor (synthesis seconds / audio seconds, this machine). ``clips``: "all" clips of the
    folder, "val" or "train" (the fixed GRID split), or a text file of clip names, one a line.

    A WaveNet samples, so one run's WER moves with the seed. ``draws`` > 1 synthesises every clip that
    many times (seeds ``seed``, ``seed + 1``, ...; draw d is what ``seed + d`` alone gives) and reports
    the mean of each metric, every draw's numbers, the WER range, and ``between_draws``: the MCD and LSD
    of one draw against the next on the reference's speech frames, the distortion that sampling alone
    causes (a model whose draws were as varied as real speech given its mel would score about this
    against the original too). Griffin-Lim and the original are deterministic: one pass each."""
    import time

    from tqdm.auto import tqdm

    from sightsound.audio import functional as AF
    from sightsound.audio import io as audio_io
    from sightsound.data import grid
    from sightsound.metrics import separation as listening
    from sightsound.metrics.speech import (
        SPEECH_DB,
        Recognizer,
        frame_levels,
        log_spectral_distance_frames,
        mcd_by_level,
        mel_cepstral_distortion_frames,
    )

    root = Path(data_dir)
    if not (root / "audio").is_dir() or not (root / "align").is_dir():
        raise UserInputError(f"{root}: expected a folder laid out like grid-s1 (audio/*.flac and align/*.align)")
    if draws < 1:
        raise ParameterError(f"draws must be >= 1, got {draws}")
    config = grid.Config(subdir=".", preset=vocoder.preset.name)
    train_names, val_names = grid.clip_names(root, config)
    if clips == "val":
        names = val_names
    elif clips == "train":
        names = train_names
    elif clips == "all":
        names = sorted(train_names + val_names)
    elif Path(clips).is_file():
        names = [line.strip() for line in read_text(clips, "clip list").splitlines() if line.strip()]
        unknown = sorted(set(names) - set(train_names + val_names))
        if not names or unknown:
            raise UserInputError(f"{clips}: " + (f"no clip {unknown[0]} in {root}/audio ({len(unknown)} unknown)"
                                                 if unknown else "no clip names"))
    else:
        raise ParameterError(f"clips must be 'all', 'train', 'val' or a file of clip names, got {clips!r}")
    names = names[:limit] if limit else names
    missing = [n for n in names if not (root / "align" / f"{n}.align").is_file()]
    if missing:
        raise UserInputError(f"{root}/align: no transcript for {missing[0]} (and {len(missing) - 1} more)")
    preset, sr = vocoder.preset, vocoder.preset.sample_rate
    griffin = Vocoder.from_pretrained(GRIFFIN_LIM, preset=preset.name, n_iter=gl_iterations)
    passes = [("original", None, seed), (GRIFFIN_LIM, griffin, seed)]  # (system, vocoder, seed)
    if vocoder.kind != GRIFFIN_LIM:
        passes += [(vocoder.kind, vocoder, seed + d) for d in range(draws)]
    recognizer = Recognizer(slots=grid.GRID_GRAMMAR)
    references = [grid.transcript(root / "align" / f"{n}.align") for n in names]
    results = [{"hyps": [], "mcd": [], "frames": [], "lsd": [], "sc": [], "stoi": [], "pesq": [], "seconds": 0.0}
               for _ in passes]
    between = {"mcd": [], "lsd": []}
    audio_seconds = 0.0
    bar = tqdm(total=len(names) * len(passes), desc="vocoder eval", unit="clip", disable=not progress)
    for start in range(0, len(names), batch_size):
        chunk = names[start:start + batch_size]
        waves = [audio_io.load(root / "audio" / f"{n}.flac", sr=sr)[0] for n in chunk]
        audio_seconds += sum(len(w) for w in waves) / sr
        mels = [vocoder.analyse(w) for w in waves]
        frames = max(m.shape[-1] for m in mels)
        batch = torch.stack([torch.nn.functional.pad(m, (0, frames - m.shape[-1]), mode="replicate") for m in mels])
        lengths = torch.tensor([m.shape[-1] for m in mels])
        levels = [frame_levels(w, sr) for w in waves]
        speech = [level < SPEECH_DB for level in levels]  # the frames every distortion is averaged over
        previous_draw = None
        for (system, voc, pass_seed), r in zip(passes, results):
            if voc is None:
                outputs = waves
            else:
                t0 = time.perf_counter()
                out = voc(batch, lengths, seed=pass_seed + start)
                r["seconds"] += time.perf_counter() - t0
                outputs = [out[i, : len(w)] for i, w in enumerate(waves)]
            for name, ref, syn, level, keep in zip(chunk, waves, outputs, levels, speech):
                r["hyps"].append(recognizer(syn, sr))
                if voc is not None:
                    per_frame = mel_cepstral_distortion_frames(ref, syn, sr)
                    r["mcd"].append(float(per_frame[keep].mean()))
                    r["frames"].append((per_frame, level))
                    r["lsd"].append(float(log_spectral_distance_frames(ref, syn, sr)[keep].mean()))
                    S_ref = AF.spectrogram(ref, **preset.stft_kwargs)
                    S_syn = AF.spectrogram(syn.to(ref.dtype), **preset.stft_kwargs)
                    r["sc"].append(float(AF.spectral_convergence(S_ref, S_syn)))
                    r["stoi"].append(listening.stoi(ref, syn, sr))
                    quality = listening.pesq_wb(ref, syn, sr) if sr == 16000 else None
                    if quality is not None:
                        r["pesq"].append(quality)
                    if out_dir is not None:
                        tag = system if pass_seed == seed else f"{system}_seed{pass_seed}"
                        audio_io.save(Path(out_dir) / f"{name}_{tag}.wav", syn, sr, overwrite=True)
            if system == vocoder.kind and voc is not None:
                if previous_draw is not None:
                    for keep, a, b in zip(speech, previous_draw, outputs):
                        between["mcd"].append(float(mel_cepstral_distortion_frames(a, b, sr)[keep].mean()))
                        between["lsd"].append(float(log_spectral_distance_frames(a, b, sr)[keep].mean()))
                previous_draw = outputs
            bar.update(len(chunk))
    bar.close()
    report = {"data": str(root), "clips": len(names), "split": clips, "audio_seconds": round(audio_seconds, 2),
              "vocoder": vocoder.name, "griffinlim_iterations": gl_iterations, "systems": {}}
    if vocoder.kind != GRIFFIN_LIM:
        report["temperature"] = vocoder.temperature
        report["draws"] = draws
    for system in dict.fromkeys(p[0] for p in passes):
        runs = [(p[2], r) for p, r in zip(passes, results) if p[0] == system]
        entries = [_pass_entry(references, r, audio_seconds) for _, r in runs]
        entry = {k: _mean_of([e[k] for e in entries], 3 if k in ("mcd_db", "lsd_db", "pesq_wb") else 4)
                 for k in entries[0] if k != "slot_error_rates"}
        if "slot_error_rates" in entries[0]:
            entry["slot_error_rates"] = {k: round(sum(e["slot_error_rates"][k] for e in entries) / len(entries), 3)
                                         for k in entries[0]["slot_error_rates"]}
        if runs[0][1]["frames"]:
            entry["mcd_by_level_db"] = mcd_by_level([f for _, r in runs for f in r["frames"]])
        if len(runs) > 1:
            entry["wer_range"] = [min(e["wer"] for e in entries), max(e["wer"] for e in entries)]
            entry["between_draws"] = {"mcd_db": round(sum(between["mcd"]) / len(between["mcd"]), 3),
                                      "lsd_db": round(sum(between["lsd"]) / len(between["lsd"]), 3)}
            entry["draws"] = [{"seed": s, **{k: v for k, v in e.items() if k != "slot_error_rates"}}
                              for (s, _), e in zip(runs, entries)]
        report["systems"][system] = entry
    first = {p[0]: r for p, r in reversed(list(zip(passes, results)))}  # each system's first pass
    report["examples"] = [{"clip": n, "reference": ref, **{s: first[s]["hyps"][i] for s in first}}
                          for i, (n, ref) in enumerate(zip(names[:5], references[:5]))]
    return report


def _mean_of(values: list, digits: int) -> float | None:
    """The rounded mean of the values that are not None (PESQ is None without the ``pesq`` package)."""
    present = [v for v in values if v is not None]
    return round(sum(present) / len(present), digits) if present else None


def _pass_entry(references: list[str], r: dict, audio_seconds: float) -> dict:
    """One synthesis pass over the clips -> its WER, slot error rates and (for a vocoder) mean distortions."""
    from sightsound.metrics.speech import word_error_rate

    entry = {"wer": round(word_error_rate(references, r["hyps"]), 4)}
    slots = grid_slot_errors(references, r["hyps"])
    if slots is not None:
        entry["slot_error_rates"] = slots
    if r["mcd"]:
        entry |= {"mcd_db": round(sum(r["mcd"]) / len(r["mcd"]), 3),
                  "lsd_db": round(sum(r["lsd"]) / len(r["lsd"]), 3),
                  "spectral_convergence": round(sum(r["sc"]) / len(r["sc"]), 4),
                  "stoi": round(sum(r["stoi"]) / len(r["stoi"]), 4),
                  "pesq_wb": round(sum(r["pesq"]) / len(r["pesq"]), 3) if r["pesq"] else None,
                  "real_time_factor": round(r["seconds"] / audio_seconds, 4)}
    return entry
