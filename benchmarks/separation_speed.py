"""Speed of Looking to Listen: separating a 3 s mixture (STFT, both streams, the masks, the inverse STFT) on one
and two CPU threads, audio-visual and audio-only (medians); and tracking the mouth in a 3 s, 25 fps video with
OpenCV's Haar detector (done once per video: the crops are cached). Random inputs of the real sizes unless
--video is given (a real GRID clip for the tracking time).

    .venv/bin/python benchmarks/separation_speed.py --video ../shared/data/grid-s1/video/bbaf2n.mp4 \
        --out benchmarks/results/separation_speed.json
"""

from __future__ import annotations

import argparse
import platform

import torch
from _report import emit, median_seconds  # benchmarks/_report.py (on sys.path)
from threadpoolctl import threadpool_limits

from sightsound.pretrained.separation import Separator

SECONDS = 3.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="looking-to-listen-grid")
    parser.add_argument("--baseline", default="audio-only-separation-grid")
    parser.add_argument("--video", help="a face video to time the mouth tracking on")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out")
    args = parser.parse_args()
    av, ao = Separator.from_pretrained(args.model), Separator.from_pretrained(args.baseline)
    c = av.model.config
    frames = int(SECONDS * c.fps)
    g = torch.Generator().manual_seed(0)
    mixture = 0.1 * torch.randn(frames * c.samples_per_video_frame, generator=g)
    mouths = torch.rand(frames, *c.mouth_size, generator=g)
    rows = {}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        with threadpool_limits(threads):
            rows[f"{threads} thread{'s' if threads > 1 else ''}"] = {
                "audio_visual_s": median_seconds(lambda: av.separate(mixture, mouths), args.repeats),
                "audio_only_s": median_seconds(lambda: ao.separate(mixture), args.repeats)}
    report = {"benchmark": "separation_speed", "command": ".venv/bin/python benchmarks/separation_speed.py --video "
              "../shared/data/grid-s1/video/bbaf2n.mp4 --out benchmarks/results/separation_speed.json",
              "model": args.model, "baseline": args.baseline, "mixture_seconds": SECONDS, "repeats": args.repeats,
              "machine": platform.processor() or platform.machine(), "torch": torch.__version__, "results": rows}
    if args.video:
        from sightsound.vision.mouths import video_mouths

        torch.set_num_threads(1)
        report["mouth_tracking_s_per_3s_video"] = median_seconds(lambda: video_mouths(args.video, tuple(c.mouth_size)),
                                                                 3)
    emit(report, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
