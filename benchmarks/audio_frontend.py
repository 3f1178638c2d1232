"""Audio front-end speed and quality: sightsound against librosa, in the same run.

    .venv/bin/python benchmarks/audio_frontend.py --out benchmarks/results/audio_frontend.json

Measures, on 60 s of speech (the shipped flite sample tiled, resampled to each rate), at 22.05 kHz
(the `tts` preset) and at 16 kHz (the `speech` preset), float32 for both libraries:
  * median wall time of stft, melspectrogram and 32-iteration fast Griffin-Lim, with 1 and 2 threads
    (torch.set_num_threads for sightsound; threadpoolctl for librosa's numpy/BLAS);
  * batched (8 x 7.5 s in one call) versus serial (8 calls);
  * Griffin-Lim spectral convergence after 8/16/32/64 iterations for both (momentum 0.99, random
    initial phase from the same seed), and for sightsound's phase-gradient initialisation if present.
Speed ratios are librosa time / sightsound time (above 1: sightsound is faster).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

import librosa
import numpy as np
import torch
from _report import median_seconds  # benchmarks/_report.py (on sys.path)
from threadpoolctl import threadpool_limits

from sightsound.audio import functional as F
from sightsound.audio import io
from sightsound.audio.presets import SPEECH, TTS
from sightsound.pretrained import SPEECH_SAMPLE


def speech_signal(sr: int, seconds: float) -> np.ndarray:
    y, _ = io.load(SPEECH_SAMPLE, sr=sr)
    reps = int(np.ceil(seconds * sr / len(y)))
    return np.tile(y.numpy(), reps)[: int(seconds * sr)].astype(np.float32)


def librosa_window(name: str) -> str:
    return "boxcar" if name == "rectangular" else name


def ops(preset, y: np.ndarray, n_iter: int = 32):
    """(name -> (sightsound callable, librosa callable)) for one preset and signal (float32)."""
    kw = dict(n_fft=preset.n_fft, hop_length=preset.hop_length, win_length=preset.win_length)
    lw = librosa_window(preset.window)
    yt = torch.from_numpy(y)
    basis = F.mel_filterbank(preset.sample_rate, preset.n_fft, **preset.mel_kwargs)
    S = np.abs(librosa.stft(y, window=lw, **kw))
    St = torch.from_numpy(S)
    return {
        "stft": (lambda: F.stft(yt, window=preset.window, **kw),
                 lambda: librosa.stft(y, window=lw, **kw)),
        "melspectrogram": (
            lambda: F.melspectrogram(yt, preset.sample_rate, window=preset.window, power=2.0, mel_basis=basis, **kw),
            lambda: librosa.feature.melspectrogram(y=y, sr=preset.sample_rate, window=lw, power=2.0,
                                                   n_mels=preset.n_mels, fmin=preset.fmin, fmax=preset.fmax, **kw)),
        f"griffin_lim_{n_iter}": (
            lambda: F.griffin_lim(St, n_iter, window=preset.window, momentum=0.99,
                                  generator=torch.Generator().manual_seed(0), **kw),
            lambda: librosa.griffinlim(S, n_iter=n_iter, window=lw, momentum=0.99, random_state=0, **kw)),
    }


def spectral_convergence(S: np.ndarray, y_hat: np.ndarray, preset) -> float:
    kw = dict(n_fft=preset.n_fft, hop_length=preset.hop_length, win_length=preset.win_length)
    S_hat = np.abs(librosa.stft(y_hat.astype(np.float64), window=librosa_window(preset.window), **kw))
    T = min(S.shape[-1], S_hat.shape[-1])
    return float(np.linalg.norm(S[..., :T] - S_hat[..., :T]) / np.linalg.norm(S[..., :T]))


def convergence(preset, y: np.ndarray, steps=(8, 16, 32, 64)) -> dict:
    kw = dict(n_fft=preset.n_fft, hop_length=preset.hop_length, win_length=preset.win_length)
    lw = librosa_window(preset.window)
    S = np.abs(librosa.stft(y.astype(np.float64), window=lw, **kw))
    S32 = torch.from_numpy(S.astype(np.float32))
    out = {"librosa": {}, "sightsound": {}}
    inits = ["random"] + (["pghi"] if "pghi" in getattr(F, "GRIFFIN_LIM_INITS", ()) else [])
    for init in inits[1:]:
        out[f"sightsound_{init}"] = {}
    for n in steps:
        y_lib = librosa.griffinlim(S.astype(np.float32), n_iter=n, window=lw, momentum=0.99, random_state=0,
                                   length=len(y), **kw)
        out["librosa"][n] = spectral_convergence(S, y_lib, preset)
        for init in inits:
            y_ss = F.griffin_lim(S32, n, window=preset.window, momentum=0.99, init=init, length=len(y),
                                 generator=torch.Generator().manual_seed(0), **kw).numpy()
            out["sightsound" if init == "random" else f"sightsound_{init}"][n] = spectral_convergence(S, y_ss, preset)
    return out


def markdown_table(results: dict) -> str:
    """The README's table: median ms and librosa/sightsound ratios, then Griffin-Lim quality."""
    lines = ["| preset | operation | threads | sightsound ms | librosa ms | speed-up |", "|---|---|---|---|---|---|"]
    for name, entry in results["presets"].items():
        for key, t in entry["timings_s"].items():
            op, threads = key.split("/threads")
            lines.append(f"| {name} ({entry['sample_rate']} Hz) | {op} | {threads} | {1000 * t['sightsound']:.1f} | "
                         f"{1000 * t['librosa']:.1f} | {t['librosa'] / t['sightsound']:.2f}x |")
    lines += ["", "| preset | batched 8 x 7.5 s vs 8 serial calls (2 threads) | batched ms | serial ms |", "|---|---|---|---|"]
    for name, entry in results["presets"].items():
        for op, t in entry["batched_8x7.5s"].items():
            lines.append(f"| {name} | {op} | {1000 * t['batched']:.1f} | {1000 * t['serial']:.1f} |")
    lines += ["", "| preset | Griffin-Lim (momentum 0.99) | 8 it. | 16 it. | 32 it. | 64 it. |", "|---|---|---|---|---|---|"]
    for name, entry in results["presets"].items():
        for method, values in entry["griffin_lim_spectral_convergence"].items():
            label = {"librosa": "librosa, random phase", "sightsound": "sightsound, random phase",
                     "sightsound_pghi": "sightsound, PGHI phase"}.get(method, method)
            lines.append(f"| {name} | {label} | " + " | ".join(f"{values[n]:.4f}" for n in (8, 16, 32, 64)) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results/audio_frontend.json")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    results = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
                    "cpus": torch.get_num_threads()},
        "versions": {"torch": torch.__version__, "librosa": librosa.__version__, "numpy": np.__version__},
        "dtype": "float32",
        "signal": f"{args.seconds:.0f} s of speech (shipped flite sample, tiled)",
        "presets": {},
    }
    for preset in (TTS, SPEECH):
        y = speech_signal(preset.sample_rate, args.seconds)
        entry = {"sample_rate": preset.sample_rate, "timings_s": {}, "speedup": {}}
        for threads in (1, 2):
            torch.set_num_threads(threads)
            with threadpool_limits(limits=threads):
                for name, (ours, ref) in ops(preset, y).items():
                    repeats = args.repeats if not name.startswith("griffin") else max(3, args.repeats // 2)
                    t_ours, t_ref = median_seconds(ours, repeats), median_seconds(ref, repeats)
                    entry["timings_s"][f"{name}/threads{threads}"] = {"sightsound": t_ours, "librosa": t_ref}
                    entry["speedup"][f"{name}/threads{threads}"] = t_ref / t_ours
                    print(f"{preset.name:6s} {name:16s} threads={threads}: sightsound {1000 * t_ours:8.1f} ms  "
                          f"librosa {1000 * t_ref:8.1f} ms  ratio {t_ref / t_ours:5.2f}x", flush=True)
        # batched versus serial, 2 threads
        torch.set_num_threads(2)
        with threadpool_limits(limits=2):
            n = int(7.5 * preset.sample_rate)
            batch = np.stack([y[i * n : (i + 1) * n] for i in range(8)])
            bt = torch.from_numpy(batch)
            kw = dict(n_fft=preset.n_fft, hop_length=preset.hop_length, win_length=preset.win_length)
            basis = F.mel_filterbank(preset.sample_rate, preset.n_fft, **preset.mel_kwargs)
            S = torch.from_numpy(np.abs(librosa.stft(batch, window=librosa_window(preset.window), **kw)))

            def mel_one(x):
                return F.melspectrogram(x, preset.sample_rate, window=preset.window, mel_basis=basis, **kw)

            def gl_one(s):
                return F.griffin_lim(s, 32, window=preset.window, generator=torch.Generator().manual_seed(0), **kw)

            entry["batched_8x7.5s"] = {
                "melspectrogram": {"batched": median_seconds(lambda: mel_one(bt), args.repeats),
                                   "serial": median_seconds(lambda: [mel_one(x) for x in bt], args.repeats)},
                "griffin_lim_32": {"batched": median_seconds(lambda: gl_one(S), 3),
                                   "serial": median_seconds(lambda: [gl_one(s) for s in S], 3)},
            }
            print(f"{preset.name:6s} batched vs serial: {json.dumps(entry['batched_8x7.5s'])}", flush=True)
            entry["griffin_lim_spectral_convergence"] = convergence(preset, y)
            print(f"{preset.name:6s} spectral convergence: {json.dumps(entry['griffin_lim_spectral_convergence'])}",
                  flush=True)
        results["presets"][preset.name] = entry
    results["markdown"] = markdown_table(results)
    print(results["markdown"])
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
