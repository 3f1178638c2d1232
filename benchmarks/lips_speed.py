"""Speed of lip motion: making 3 s of talking-face video from 3 s of speech on one and two CPU threads (medians):
the mouth shapes (log-mel + the network), the rendering (warping the reference frame 75 times) and the MP4
(H.264 + AAC through PyAV), and all three together; the landmark extraction of a real 3 s clip (dlib, done once
per video and cached) and the sync expert's offset search on one clip.

    .venv/bin/python benchmarks/lips_speed.py --video ../shared/data/grid-s1/video/bbaf2n.mp4 \
        --out benchmarks/results/lips_speed.json
"""

from __future__ import annotations

import argparse
import platform
import tempfile
from pathlib import Path

import torch
from _report import emit, median_seconds  # benchmarks/_report.py (on sys.path)
from threadpoolctl import threadpool_limits

from sightsound.pretrained import load_pretrained
from sightsound.pretrained.lips import LipAnimator

SECONDS = 3.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="lip-motion-grid")
    parser.add_argument("--sync", default="sync-expert-grid")
    parser.add_argument("--video", help="a real face video to time the landmark extraction on")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out")
    args = parser.parse_args()
    animator = LipAnimator.from_pretrained(args.model)
    g = torch.Generator().manual_seed(0)
    t = torch.arange(int(SECONDS * 16000)) / 16000
    speech = 0.2 * torch.sin(2 * torch.pi * 180 * t) * (torch.sin(2 * torch.pi * 3 * t) > 0) \
        + 0.01 * torch.randn(len(t), generator=g)            # a voiced buzz switched on and off: syllables
    renderer = animator.renderer()
    out = Path(tempfile.mkdtemp()) / "bench.mp4"
    rows = {}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        with threadpool_limits(threads):
            mouths = animator.mouths(speech)
            frames = renderer.render(mouths)
            animation = animator.animate(speech)
            rows[f"{threads} thread{'s' if threads > 1 else ''}"] = {
                "mouth_shapes_s": median_seconds(lambda: animator.mouths(speech), args.repeats),
                "render_s": median_seconds(lambda: renderer.render(mouths), args.repeats),
                "encode_mp4_s": median_seconds(lambda: animation.save(out, overwrite=True), args.repeats),
                "total_s": median_seconds(lambda: animator.animate(speech).save(out, overwrite=True),
                                          args.repeats),
                "frames": int(len(frames))}
    report = {"benchmark": "lips_speed", "command": ".venv/bin/python benchmarks/lips_speed.py --video "
              "../shared/data/grid-s1/video/bbaf2n.mp4 --out benchmarks/results/lips_speed.json",
              "model": args.model, "speech_seconds": SECONDS, "repeats": args.repeats,
              "machine": platform.processor() or platform.machine(), "torch": torch.__version__, "results": rows}
    if args.video:
        from sightsound.data.lip_motion import Config, clip_mel
        from sightsound.vision.landmarks import LandmarkDetector
        from sightsound.vision.mouths import read_grey_frames, video_mouths

        torch.set_num_threads(1)
        detector = LandmarkDetector()
        report["landmarks_s_per_3s_video"] = median_seconds(lambda: detector(read_grey_frames(args.video)), 3)
        expert = load_pretrained(args.sync).eval()
        crops = torch.from_numpy(video_mouths(args.video, tuple(expert.config.mouth_size)))[None]
        mel = clip_mel(speech, crops.shape[1], Config())[None]
        report["sync_offset_search_s_per_clip"] = median_seconds(lambda: expert.offsets(mel, crops), args.repeats)
    emit(report, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
