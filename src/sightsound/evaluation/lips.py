"""``sightsound eval lips``: the lip-motion model against two baselines, and the sync expert on real and
generated video, on the GRID s1 test clips (``data/lip_motion``: every 18th clip from the 0th; ``--split select``
for the selection clips).

Per clip:
* the model's mouth track from the clip's audio: landmark distance to the dlib track of the real video (unit:
  inter-ocular distance) and the correlation of the mouth opening over time;
* the mean-mouth baseline (the training mean in every frame; its opening correlation is undefined: reported as 0)
  and the nearest-clip baseline (the training clip nearest by DTW over log-mel, its real mouth track warped onto
  the test audio: ``metrics/lips.nearest_clip_track``; all 800 training clips unless ``train_limit``);
* the sync expert's offset (frames) on the real video (true offset 0), on the real video with the audio advanced
  by ``SHIFT`` frames (true offset -SHIFT: a check that the expert follows a real shift), and on the generated
  video (the model's track rendered on the reference face, its mouth crops tracked as for real video).

``examples`` keeps the first clips' frames and tracks for the tour (dropped from the JSON).
"""

from __future__ import annotations

import os

SHIFT = 5


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def evaluate_lips(model: str | os.PathLike = "lip-motion-grid", sync: str | os.PathLike = "sync-expert-grid",
                  data: str | os.PathLike | None = None, *, split: str = "test", limit: int | None = None,
                  train_limit: int | None = None, keep_examples: int = 0, progress: bool = True) -> dict:
    import numpy as np
    import torch
    from tqdm import tqdm

    from sightsound.data import lip_motion as D
    from sightsound.metrics import lips as M
    from sightsound.models.sync_expert import SyncExpert
    from sightsound.pretrained import load_pretrained
    from sightsound.pretrained.lips import LipAnimator
    from sightsound.training.recipes import data_root
    from sightsound.vision.mouths import crop_mouths, track_face

    root = data_root(None if data is None else str(data))
    animator = LipAnimator.from_pretrained(model)
    expert = load_pretrained(sync, expect=(SyncExpert, "a sync expert")).eval()
    config = D.Config(crops=True, mouth_size=tuple(expert.config.mouth_size))
    reference = "shipped with the model"
    if animator.reference is None:                 # a run folder: the reference face comes from the data
        ref = D.reference_frame(root, config)
        reference = f"grid-s1 clip {ref['name']}, frame {ref['frame']}"
        animator.reference, animator.landmarks = ref["image"], ref["landmarks"]
    renderer = animator.renderer()
    clips = D.load_grid(root, config, split, progress, first=limit)
    train = D.load_grid(root, D.Config(limit=train_limit), "train", progress)   # the nearest-clip baseline's pool
    per = D.mel_per_frame(config)
    rows, examples = [], []
    for i, clip in enumerate(tqdm(clips, desc=f"lips ({split})", unit="clip", disable=not progress, leave=False)):
        with torch.no_grad():
            predicted = animator.model(clip.mel[None])[0][: len(clip.mouth)]             # (V, 20, 2)
        true = clip.mouth[: len(predicted)]
        mean = animator.model.rest.expand_as(true)
        nearest, index = M.nearest_clip_track(clip.mel, [c.mel for c in train], [c.mouth for c in train], per)
        row = {"name": clip.name, "frames": len(true),
               "model_distance": float(M.landmark_distance(predicted, true).mean()),
               "model_opening_corr": M.opening_correlation(predicted, true),
               "mean_distance": float(M.landmark_distance(mean, true).mean()),
               "nearest_distance": float(M.landmark_distance(nearest, true).mean()),
               "nearest_opening_corr": M.opening_correlation(nearest, true), "nearest_clip": train[index].name}
        frames = renderer.render(predicted)                                                # (V, H, W, 3)
        grey = (frames @ np.array([0.299, 0.587, 0.114])).round().astype(np.uint8)
        generated = torch.from_numpy(crop_mouths(grey, track_face(grey, name=f"generated {clip.name}"),
                                                 tuple(expert.config.mouth_size)))
        mel = clip.mel[None]
        real_offset, real_conf = expert.offsets(mel, clip.crops[None])[0]
        shifted_offset, _ = expert.offsets(mel[:, :, SHIFT * per:], clip.crops[None, : len(clip.crops) - SHIFT])[0]
        generated_offset, generated_conf = expert.offsets(mel, generated[None])[0]
        row.update(real_offset=real_offset, real_confidence=real_conf, shifted_offset=shifted_offset,
                   generated_offset=generated_offset, generated_confidence=generated_conf)
        rows.append(row)
        if i < keep_examples:
            examples.append({"name": clip.name, "frames": frames, "predicted": predicted, "true": true,
                             "nearest": nearest})
    report = {"split": split, "clips": len(rows), "train_clips": len(train), "model": str(model),
              "sync_model": str(sync),
              "reference": reference,
              "landmark_distance": {k: _mean([r[f"{k}_distance"] for r in rows]) for k in ("model", "nearest", "mean")},
              "opening_corr": {"model": _mean([r["model_opening_corr"] for r in rows]),
                               "nearest": _mean([r["nearest_opening_corr"] for r in rows]), "mean": 0.0},
              "sync": {"real_found": _mean([abs(r["real_offset"]) <= 1 for r in rows]),
                       "shifted_found": _mean([abs(r["shifted_offset"] + SHIFT) <= 1 for r in rows]),
                       "generated_found": _mean([abs(r["generated_offset"]) <= 1 for r in rows]),
                       "real_confidence": _mean([r["real_confidence"] for r in rows]),
                       "generated_confidence": _mean([r["generated_confidence"] for r in rows]),
                       "shift_frames": SHIFT,
                       "real_offsets": [r["real_offset"] for r in rows],
                       "generated_offsets": [r["generated_offset"] for r in rows]},
              "rows": rows, "examples": examples}
    return report


def targets(report: dict) -> dict:
    """The issue's targets, each with its measured value and whether it is met."""
    d, c, s = report["landmark_distance"], report["opening_corr"], report["sync"]
    ratio = d["model"] / d["nearest"]
    return {"distance_at_most_0.7x_nearest_clip": {"value": ratio, "met": ratio <= 0.7},
            "opening_corr_at_least_0.8": {"value": c["model"], "met": c["model"] >= 0.8},
            "sync_real_found_at_least_0.9": {"value": s["real_found"], "met": s["real_found"] >= 0.9},
            "sync_generated_found_at_least_0.8": {"value": s["generated_found"], "met": s["generated_found"] >= 0.8}}


def summary_lines(report: dict) -> list[str]:
    d, c, s = report["landmark_distance"], report["opening_corr"], report["sync"]
    lines = [f"{report['clips']} {report['split']} clips of GRID s1",
             f"  landmark distance (inter-ocular units): model {d['model']:.4f}, nearest clip by DTW "
             f"{d['nearest']:.4f}, mean mouth {d['mean']:.4f} (model / nearest = {d['model'] / d['nearest']:.2f})",
             f"  mouth-opening correlation: model {c['model']:.3f}, nearest clip {c['nearest']:.3f}",
             f"  sync expert finds the offset within +-1 frame: real {100 * s['real_found']:.0f}%, real shifted by "
             f"{s['shift_frames']} frames {100 * s['shifted_found']:.0f}%, generated {100 * s['generated_found']:.0f}%"]
    for name, t in report.get("targets", {}).items():
        lines.append(f"  target {name}: {t['value']:.3f} {'met' if t['met'] else 'MISSED'}")
    return lines



