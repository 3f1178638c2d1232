"""Speech2Face, measured (``sightsound eval speech2face``): where the answer is known, and on real people.

* **synthetic world** (a folder ``sightsound voices`` wrote): only its test speakers (``i % 10 == 9``, never
  used in training or selection) are queried. Voice -> face retrieval: each voice clip against its speaker's
  first photo and 9 other test speakers' first photos drawn at random (``rounds`` draws), recall@1 and @5;
  also the rank among all test speakers. Attributes: a judge (a small CNN regressor, trained here on the
  world's *training* speakers' true photos and canonical faces, never on drawn ones) reads the four hidden
  attributes and the three face-only nuisances off a face; the Pearson correlation between what it reads off
  the faces drawn from the test voices and the true values is the measure (the judge's own correlation on the
  true test faces is reported beside it).
* **real people** (a data root with ``av-speakers/`` and ``grid-s1/``, or a paired folder ``faces/`` +
  ``audio/``): one identity per talking-face clip (GRID s1: the face of its first clip, the voice of its
  second); the portrait is the detector's crop of the middle video frame. Each voice ranks all identities'
  faces by cosine similarity of the predicted feature; the rank of the true face (1 = first) against chance
  (mean (N + 1) / 2). Gender: ``GENDER`` holds the developers' by-eye labels of the clips' faces; the judge's
  pitch reading of the face drawn from each voice (the world ties a higher voice to thinner brows and a
  rounder jaw) is scored by its ROC AUC for "woman".
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from sightsound.data import speaker_world as world
from sightsound.data.speech2face import paired_people, real_pairs, resize_face
from sightsound.errors import UserInputError
from sightsound.metrics.retrieval import paired_ranks
from sightsound.models.speech2face import FaceEncoder, recall_in_groups
from sightsound.pretrained.speech2face import FaceFromVoice

# by-eye labels of the faces in av-speakers/ (middle frame) and GRID s1, by the developers
GENDER = {
    "grid-brbk7n": "f", "grid-id2_vcd_swwp2s": "m", "grid-lbax4n": "m", "grid-lbbc2a": "f", "grid-lrwp9a": "f",
    "grid-lwbsza": "f", "grid-pwij3p": "m", "grid-sbia1a": "m", "grid-sbwe5n": "m", "grid-swiz3n": "m",
    "pcavs-00002": "f", "pcavs-00010": "m", "pcavs-00015": "m", "pcavs-00086": "m", "pcavs-00373": "f",
    "pcavs-00473": "m", "pcavs-517600055": "f", "pcavs-620900105": "m", "pcavs-741400104": "m",
    "pcavs-741400163": "m", "pcavs-796100172": "m", "grid-s1": "m",
}
JUDGED = world.ATTRIBUTES + world.NUISANCE


def pearson(a: torch.Tensor, b: torch.Tensor) -> float:
    """Pearson correlation of two (N,) tensors (0 when either is constant)."""
    a, b = a.double() - a.double().mean(), b.double() - b.double().mean()
    denominator = (a.norm() * b.norm()).item()
    return float((a @ b).item() / denominator) if denominator > 0 else 0.0


def roc_auc(scores: torch.Tensor, positive: torch.Tensor) -> float:
    """Area under the ROC curve of ``scores`` (N,) for the boolean labels ``positive`` (N,) (ties count 1/2)."""
    pos, neg = scores[positive], scores[~positive]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).double().mean() + 0.5 * (pos[:, None] == neg[None, :]).double().mean()
    return float(greater)


def fit_attribute_judge(faces: torch.Tensor, targets: torch.Tensor, steps: int = 800, seed: int = 0,
                        channels: tuple[int, ...] = (16, 32, 64, 64), progress: bool = False) -> nn.Module:
    """A CNN regressor faces (N, 1, H, W) -> targets (N, A), trained with an L2 loss (Adam, batch 64, small
    random shifts); returns it in eval mode."""
    from tqdm import tqdm

    torch.manual_seed(seed)
    judge = nn.Sequential(FaceEncoder(channels, 64), nn.ReLU(), nn.Linear(64, targets.shape[1]))
    optimiser = torch.optim.Adam(judge.parameters(), lr=2e-3)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, steps)
    g = torch.Generator().manual_seed(seed)
    for _ in tqdm(range(steps), desc="attribute judge", unit="step", disable=not progress, leave=False):
        idx = torch.randint(len(faces), (64,), generator=g)
        shift = [int(v) for v in torch.randint(-2, 3, (2,), generator=g)]
        x = torch.roll(faces[idx], shifts=shift, dims=(-2, -1))
        loss = F.mse_loss(judge(x), targets[idx])
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
    return judge.eval()


def world_judge(train: list[world.WorldSpeaker], size: int, steps: int, progress: bool = False) -> nn.Module:
    """The attribute judge fitted on the true photos and canonical faces of a world's training speakers."""
    from sightsound.vision.io import load_image

    faces = torch.stack([resize_face(load_image(p)[0], size) for w in train for p in [*w.photos, w.canonical]])
    targets = torch.stack([torch.tensor([*w.speaker.attributes, *w.speaker.nuisance])
                           for w in train for _ in [*w.photos, w.canonical]])
    with torch.enable_grad():
        return fit_attribute_judge(faces, targets, steps, progress=progress)


def _load_world_faces(speakers: list[world.WorldSpeaker], size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(first photos (N, 1, H, W), canonical faces (N, 1, H, W))."""
    from sightsound.vision.io import load_image

    photos = torch.stack([resize_face(load_image(w.photos[0])[0], size) for w in speakers])
    canonical = torch.stack([resize_face(load_image(w.canonical)[0], size) for w in speakers])
    return photos, canonical


@torch.no_grad()
def evaluate_world(pipeline: FaceFromVoice, folder: str | Path, *, rounds: int = 20, judge_steps: int = 800,
                   split: str = "test", progress: bool = True) -> dict:
    """The synthetic-world report (module docstring) on the speakers of ``split`` ("test", the held-out
    speakers; "select" for development choices); ``examples`` holds tensors for the figures."""
    from sightsound.audio import io as audio_io

    speakers = world.read_world(folder)
    if split not in ("test", "select"):
        raise UserInputError(f"split must be 'test' or 'select', not {split!r}")
    test = [w for w in speakers if w.speaker.split == split]
    train = [w for w in speakers if w.speaker.split == "train"]
    if len(test) < 2 or len(train) < 2:
        raise UserInputError(f"{folder}: the world needs at least 2 test and 2 training speakers "
                             f"(has {len(test)} and {len(train)}); write one with --speakers 100 or more")
    size = pipeline.face_size
    photos, canonical = _load_world_faces(test, size)
    face_features = pipeline.face_features(photos)                                    # (N, D)
    waves, owner = [], []
    for i, w in enumerate(test):
        for path in w.voices:
            waves.append(audio_io.load(path, sr=pipeline.sample_rate)[0])
            owner.append(i)
    owner_t = torch.tensor(owner)
    voice_features = pipeline.voice_features(waves)                                   # (Q, D)
    candidates = face_features[owner_t]                                               # (Q, D)
    group = min(10, len(test))                                                        # 10 unless fewer
    r1 = recall_in_groups(voice_features, candidates, group, 1, rounds=rounds)
    r5 = recall_in_groups(voice_features, candidates, group, 5, rounds=rounds)
    # rank among all test speakers: similarities of each query to every speaker's face
    sim = F.normalize(voice_features, dim=-1) @ F.normalize(face_features, dim=-1).T  # (Q, N)
    positive = sim.gather(1, owner_t[:, None])
    ranks = (sim > positive).sum(1) + 1                                               # 1-based
    judge = world_judge(train, size, judge_steps, progress)
    truth = torch.tensor([[*w.speaker.attributes, *w.speaker.nuisance] for w in test])  # (N, 7)
    drawn = pipeline.draw(voice_features)                                             # (Q, 1, H, W)
    read_drawn, read_true = judge(drawn), judge(canonical)
    read_recon = judge(pipeline.draw(face_features))
    correlation = {name: {"drawn_from_voice": round(pearson(read_drawn[:, a], truth[owner_t, a]), 4),
                          "decoded_from_photo": round(pearson(read_recon[:, a], truth[:, a]), 4),
                          "judge_on_true_faces": round(pearson(read_true[:, a], truth[:, a]), 4)}
                   for a, name in enumerate(JUDGED)}
    n = len(test)
    report = {
        "world": str(folder), "split": split, "test_speakers": n, "queries": len(waves),
        "retrieval": {"candidates": group, "r1": round(r1, 4), "r5": round(r5, 4), "chance_r1": round(1 / group, 4),
                      "chance_r5": round(min(5, group) / group, 4), "rounds": rounds},
        "rank_among_all": {"candidates": n, "mean": round(float(ranks.float().mean()), 2),
                           "median": float(ranks.float().median()), "chance_mean": (n + 1) / 2,
                           "r1": round(float((ranks == 1).float().mean()), 4)},
        "attribute_correlation": correlation,
        "voice_attributes": list(world.ATTRIBUTES), "face_only": list(world.NUISANCE),
        "rules": world.attribute_rules(),
    }
    first = [owner.index(i) for i in range(min(n, 8))]
    report["examples"] = {"ids": [test[i].speaker.id for i in range(min(n, 8))], "voices": [waves[q] for q in first],
                          "voice_paths": [str(test[i].voices[0]) for i in range(min(n, 8))],
                          "drawn": drawn[first], "canonical": canonical[: min(n, 8)], "photos": photos[: min(n, 8)]}
    return report


@torch.no_grad()
def evaluate_real(pipeline: FaceFromVoice, pairs: list[tuple[str, torch.Tensor, torch.Tensor, bool]],
                  judge: nn.Module | None = None) -> dict:
    """Rank of each voice's true face among all identities' faces (1 = first), against chance."""
    if len(pairs) < 2:
        raise UserInputError("real-people retrieval needs at least 2 identities with a face and a voice")
    names = [p[0] for p in pairs]
    faces = torch.stack([p[1] for p in pairs])
    waves = [p[2] / p[2].abs().max().clamp_min(1e-6) for p in pairs]
    v_s, v_f = pipeline.voice_features(waves), pipeline.face_features(faces)
    sim = F.normalize(v_s, dim=-1) @ F.normalize(v_f, dim=-1).T                        # (N, N)
    ranks = paired_ranks(sim) + 1
    n = len(pairs)
    report = {
        "identities": n, "names": names, "ranks": ranks.tolist(),
        "mean_rank": round(float(ranks.float().mean()), 2), "median_rank": float(ranks.float().median()),
        "chance_mean_rank": (n + 1) / 2,
        "chance_mean_rank_sd": round(math.sqrt((n * n - 1) / 12 / n), 2),
        "r1": round(float((ranks == 1).float().mean()), 4), "chance_r1": round(1 / n, 4),
        "faces_detected": sum(p[3] for p in pairs),
    }
    labelled = [i for i, name in enumerate(names) if name in GENDER]
    if judge is not None and labelled:
        pitch = judge(pipeline.draw(v_s))[:, JUDGED.index("pitch")]
        woman = torch.tensor([GENDER[names[i]] == "f" for i in labelled])
        report["gender"] = {"labelled": len(labelled), "women": int(woman.sum()),
                            "auc_woman_from_drawn_pitch": round(roc_auc(pitch[labelled], woman), 4),
                            "labels": "by eye, by the developers (evaluation/speech2face.py GENDER)"}
    report["examples"] = {"names": names, "faces": faces, "drawn": pipeline.draw(v_s), "waves": waves}
    return report


def paired_folder_pairs(folder: str | Path, size: int, sample_rate: int, seconds: float):
    people, names = paired_people(Path(folder), size, seconds, sample_rate)
    return [(name, p.photos[0], p.clips[-1], True) for name, p in zip(names, people)]


def evaluate_speech2face(model: str, data: str | Path, *, rounds: int = 20, judge_steps: int = 800,
                         world_for_judge: str | Path | None = None, split: str = "test",
                         progress: bool = True) -> dict:
    """``eval speech2face``: a world folder -> the synthetic report; a data root with av-speakers/ or grid-s1/,
    or a paired folder -> the real-people report (with the gender AUC when ``world_for_judge`` is given)."""
    data = Path(data)
    if not data.is_dir():
        raise UserInputError(f"{data}: no such folder")
    is_world = (data / "speakers.csv").is_file()
    is_root = (data / "av-speakers").is_dir() or (data / "grid-s1").is_dir()
    is_paired = (data / "faces").is_dir() and (data / "audio").is_dir()
    if not (is_world or is_root or is_paired):
        raise UserInputError(f"{data}: expected a speaker world (speakers.csv), a data folder with av-speakers/ "
                             "or grid-s1/, or a paired folder (faces/ + audio/)")
    pipeline = FaceFromVoice.from_pretrained(model)
    if is_world:
        report = evaluate_world(pipeline, data, rounds=rounds, judge_steps=judge_steps, split=split,
                                progress=progress)
        return {"model": str(model), "kind": "synthetic world", **report}
    if is_root:
        pairs = real_pairs(data, pipeline.face_size, pipeline.sample_rate)
    else:
        pairs = paired_folder_pairs(data, pipeline.face_size, pipeline.sample_rate, 6.0)
    judge = None
    if world_for_judge:
        train = [w for w in world.read_world(world_for_judge) if w.speaker.split == "train"]
        judge = world_judge(train, pipeline.face_size, judge_steps, progress)
    return {"model": str(model), "kind": "real people", **evaluate_real(pipeline, pairs, judge)}
