"""Why whole-clip STOI is low on GRID (docs/experiments/2026-12-07-looking-to-listen.md): white noise at 20 dB SNR
scored over a whole clip and over its words only, then the shipped audio-visual output on the 50 different-speaker
selection mixtures gated per video frame (40 ms, smoothed over 5) by the face's predicted loudness (the auxiliary
head) or by the true target's level (an oracle), at thresholds of 30-60 % of each clip's level range.

    OMP_NUM_THREADS=1 .venv/bin/python scripts/l2l_stoi_silences.py --data ../shared/data
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
import torch.nn.functional as F

from sightsound.audio import io
from sightsound.data import av_mixtures
from sightsound.evaluation.separation import speech_span
from sightsound.metrics import separation as M
from sightsound.pretrained.separation import Separator

THRESHOLDS = (0.3, 0.4, 0.5, 0.6)


def gate(levels: torch.Tensor, fraction: float, hop: int, n: int) -> torch.Tensor:
    """Per-video-frame levels (V,) -> a soft per-sample gate (n,) opening above ``fraction`` of their range."""
    lo, hi = float(levels.min()), float(levels.max())
    g = torch.sigmoid((levels - (lo + fraction * (hi - lo))) / (0.05 * (hi - lo) + 1e-8))
    g = F.avg_pool1d(g[None, None], 5, 1, 2, count_include_pad=False)[0, 0].repeat_interleave(hop)
    return F.pad(g, (0, max(0, n - len(g))), value=float(g[-1]))[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    args = parser.parse_args()
    grid = Path(args.data) / "grid-s1"
    clean, sr = io.load(grid / "audio" / "bbaf2n.flac")
    clean = torch.as_tensor(clean).float()
    span = speech_span(grid / "align" / "bbaf2n.align", sr, len(clean))
    noise = torch.randn(len(clean), generator=torch.Generator().manual_seed(0))
    noisy = clean + noise * (clean.pow(2).sum() / noise.pow(2).sum() / 100).sqrt()   # 20 dB SNR
    print(f"white noise at 20 dB SNR, bbaf2n: STOI {M.stoi(clean, noisy, sr):.3f} over the whole clip, "
          f"{M.stoi(clean[span], noisy[span], sr):.3f} over its words")

    av = Separator.from_pretrained("looking-to-listen-grid")
    model, hop = av.model, av.model.config.samples_per_video_frame
    config = av_mixtures.Config(sample_rate=av.sample_rate, mouth_size=tuple(model.config.mouth_size))
    items = [i for i in av_mixtures.fixed_set(Path(args.data), config, "select", False).items if not i["same_speaker"]]
    scores = {}
    for item in items:
        target, mixture = item["target"], item["mixture"]
        wave, mouths = av.align(mixture, item["mouths"])
        with torch.no_grad():
            out = model(wave[None], mouths[None])
            face = model.aux(out["visual"])[0].mean(-1)                              # (V,) predicted loudness
        frames = target[: len(target) // hop * hop].reshape(-1, hop)
        true = 10 * torch.log10(frames.pow(2).mean(-1) + 1e-10)                        # (V,) target level, dB
        estimate = out["estimates"][0, 0]
        n = min(len(target), len(estimate))
        outputs = {("none", 0.0): estimate}
        for name, levels in (("face", face), ("oracle", true)):
            outputs.update({(name, t): estimate * gate(levels, t, hop, len(estimate)) for t in THRESHOLDS})
        for key, y in outputs.items():
            s = scores.setdefault(key, ([], []))
            s[0].append(M.stoi(target[:n], y[:n], av.sample_rate))
            s[1].append(M.si_sdr_improvement(target[:n], y[:n], mixture[:n]))
    print(f"{len(items)} different-speaker selection mixtures, threads {torch.get_num_threads()}:")
    for (name, t), (stoi, gain) in scores.items():
        print(f"  gate {name:6s} {t:.1f}: whole-clip STOI {sum(stoi) / len(stoi):.3f}, SI-SDRi {sum(gain) / len(gain):.2f} dB")


if __name__ == "__main__":
    main()
