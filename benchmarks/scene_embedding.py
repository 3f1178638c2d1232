"""Speed of scene recognition by sound: the embedding of one 5 s clip on one and two CPU threads (medians), split
into the log-mel picture and the CNN + projection, for the shipped model (or a run folder); the log-mel part is
compared with librosa's melspectrogram of the same clip in the same run (ratio above 1: sightsound is faster).

    .venv/bin/python benchmarks/scene_embedding.py --out benchmarks/results/scene_embedding.json
"""

from __future__ import annotations

import argparse
import platform
import sys

import librosa
import torch
from _report import emit, median_seconds  # benchmarks/_report.py (on sys.path)
from threadpoolctl import threadpool_limits

from sightsound.pretrained import SPEECH_SAMPLE
from sightsound.pretrained.scene import SceneListener


def median_ms(fn, repeats: int) -> float:
    return 1000 * median_seconds(fn, repeats)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="av-esc10")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--out")
    args = parser.parse_args()
    listener = SceneListener.from_pretrained(args.model)
    c = listener.model.config
    speech, _ = __import__("sightsound.audio.io", fromlist=["load"]).load(SPEECH_SAMPLE, sr=listener.sample_rate)
    clip = speech.repeat(1 + c.clip_samples // len(speech))[: c.clip_samples]  # 5 s of sound
    preset = c.preset
    rows = {}
    with torch.no_grad():
        for threads in (1, 2):
            torch.set_num_threads(threads)
            with threadpool_limits(threads):
                rows[f"{threads} thread{'s' if threads > 1 else ''}"] = {
                    "embedding_ms": median_ms(lambda: listener.embed_waves([clip]), args.repeats),
                    "log_mel_picture_ms": median_ms(lambda: listener.model.sound.picture(clip[None]), args.repeats),
                    "librosa_melspectrogram_ms": median_ms(lambda: librosa.feature.melspectrogram(
                        y=clip.numpy(), sr=preset.sample_rate, n_fft=preset.n_fft, hop_length=preset.hop_length,
                        win_length=preset.win_length, window=preset.window, n_mels=preset.n_mels,
                        fmax=preset.fmax), args.repeats),
                }
    for row in rows.values():
        row["log_mel_speed_ratio_vs_librosa"] = row["librosa_melspectrogram_ms"] / row["log_mel_picture_ms"]
    emit({"command": " ".join(["python", *sys.argv]), "model": args.model, "clip_seconds": c.clip_seconds,
          "backbone": f"{c.backbone}, {c.backbone_blocks} blocks", "mel_bands": c.mel_bands,
          "repeats": args.repeats, "machine": platform.processor() or platform.machine(),
          "torch": torch.__version__, "results": rows}, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
