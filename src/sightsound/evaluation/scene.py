"""``eval scene`` and ``eval av-retrieval``: scene recognition by sound and the sound/speech <-> photo retrieval of
the audio-visual embedding (``models/av_embedding.py``), plus the baselines and the ESC cross-validation.

* ``evaluate_scene``: accuracy, per-class recall and the confusion matrix of an ESC-layout folder (some folds);
  clips from folds the model trained on are counted and flagged (``seen_in_training``).
* ``sound_to_photo``: each test clip ranks the caption folder's validation photos; a photo matches a class when
  one of its human captions names it (``MATCH_WORDS``); precision@10 for the classes with >= 10 matching photos.
* ``spoken_caption_retrieval``: spoken caption <-> photo on the validation photos, through the recogniser: the
  spoken caption is transcribed by pocketsphinx (open vocabulary), the transcript embedded by MiniLM (the text
  anchor), and compared with the photos' embeddings. Recall@1/5/10 both ways, with chance.
* ``mfcc_baseline``: the ESC paper's kind of baseline (Piczak 2015: MFCC summaries + a linear/forest
  classifier): mean and standard deviation of 20 MFCCs and their frame-to-frame differences, standardised,
  multinomial logistic regression (L-BFGS, L2 weight fixed in advance at 1e-3; nothing tuned on test folds).
* ``cross_validation``: for each fold k, train the recipe with ``test_folds=[k]`` (checkpoints chosen on the
  selection recordings of the other folds), score fold k; the supervised log-mel CNN and the MFCC baseline on
  exactly the same folds.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

from sightsound.audio import functional as AF
from sightsound.data.av_scenes import MATCH_WORDS, caption_words, validation_photos
from sightsound.data.esc import Clip, load_waves, read_esc_folder
from sightsound.errors import UserInputError
from sightsound.metrics.retrieval import (
    chance_recall,
    confusion_matrix,
    paired_ranks,
    per_class_recall,
    precision_at_k,
    recall_at_k,
)
from sightsound.pretrained.scene import SceneListener


def _clips_of(folder: Path, folds: tuple[int, ...] | None, listener: SceneListener) -> list[Clip]:
    clips, names = read_esc_folder(folder)
    if names != listener.class_names:
        raise UserInputError(f"{folder}: its classes ({', '.join(names)}) are not the model's "
                             f"({', '.join(listener.class_names)})")
    if folds:
        clips = [c for c in clips if c.fold in folds]
        if not clips:
            raise UserInputError(f"{folder}: no clips in folds {', '.join(map(str, folds))}")
    return clips


def _embed_clips(listener: SceneListener, clips: list[Clip], progress: bool) -> torch.Tensor:
    waves = [listener.load_clip(c.path) for c in _progress(clips, "hearing", progress)]
    return listener.embed_waves(waves)


def _progress(items, desc: str, progress: bool):
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit="clip", disable=not progress, leave=False)


def evaluate_scene(listener: SceneListener, folder: str | Path, folds: tuple[int, ...] | None = None,
                   progress: bool = True) -> dict:
    folder = Path(folder)
    clips = _clips_of(folder, folds, listener)
    start = time.perf_counter()
    embeddings = _embed_clips(listener, clips, progress)
    seconds = time.perf_counter() - start
    probs = listener.probabilities(embeddings)  # (N, K)
    truth = torch.tensor([c.target for c in clips])
    predicted = probs.argmax(-1)
    names = listener.class_names
    confusion = confusion_matrix(truth, predicted, len(names))
    recall = per_class_recall(confusion)
    trained = set(listener.model.config.train_folds)
    return {
        "model": listener.name, "data": str(folder), "folds": sorted({c.fold for c in clips}), "clips": len(clips),
        "seen_in_training": sum(c.fold in trained for c in clips), "trained_on_folds": sorted(trained),
        "accuracy": float((predicted == truth).float().mean()), "classes": list(names),
        "per_class_recall": {n: (None if r != r else round(float(r), 4)) for n, r in zip(names, recall)},
        "confusion": confusion.tolist(), "seconds_per_clip": seconds / len(clips),
        "predictions": [{"clip": c.path.name, "fold": c.fold, "true": names[c.target], "predicted": names[int(p)],
                         "probability": round(float(probs[i, p]), 4)} for i, (c, p) in enumerate(zip(clips, predicted))],
    }


def sound_to_photo(listener: SceneListener, folder: str | Path, photo_folder: str | Path,
                   folds: tuple[int, ...] | None = None, k: int = 10, min_photos: int = 10,
                   progress: bool = True) -> dict:
    folder, photo_folder = Path(folder), Path(photo_folder)
    images, names, captions = validation_photos(photo_folder)
    matches = {cls: torch.tensor([any(caption_words(c) & set(words) for c in captions[n]) for n in names])
               for cls, words in MATCH_WORDS.items() if cls in listener.class_names}
    counts = {cls: int(m.sum()) for cls, m in matches.items()}
    qualifying = [cls for cls in listener.class_names if counts.get(cls, 0) >= min_photos]
    report = {"photos": len(names), "photo_folder": str(photo_folder), "k": k, "min_photos": min_photos,
              "matching_photos": counts, "qualifying_classes": qualifying,
              "match_words": {c: list(MATCH_WORDS[c]) for c in qualifying}}
    if not qualifying:
        return report | {"precision_at_k": None, "per_class": {}}
    clips = [c for c in _clips_of(folder, folds, listener) if listener.class_names[c.target] in qualifying]
    sounds = _embed_clips(listener, clips, progress)  # (Q, D)
    photos = listener.embed_photos([images / n for n in names], progress=progress)  # (N, D)
    relevant = torch.stack([matches[listener.class_names[c.target]] for c in clips])  # (Q, N)
    precision = precision_at_k(sounds @ photos.T, relevant, k)  # (Q,)
    per_class = {}
    for cls in qualifying:
        rows = torch.tensor([listener.class_names[c.target] == cls for c in clips])
        per_class[cls] = {"clips": int(rows.sum()), "precision_at_k": round(float(precision[rows].mean()), 4),
                          "chance": round(counts[cls] / len(names), 4)}
    return report | {"clips": len(clips), "folds": sorted({c.fold for c in clips}),
                     "precision_at_k": float(precision.mean()), "per_class": per_class}


def spoken_caption_retrieval(listener: SceneListener, photo_folder: str | Path, limit: int | None = None,
                             progress: bool = True, method: str = "transcript") -> dict:
    """Spoken caption (``spoken/<photo stem>.mp3``, the photo's first caption read aloud) <-> photo among the
    validation photos. ``method="transcript"``: through pocketsphinx + MiniLM (the shipped way);
    ``"end-to-end"``: the model's own sound encoder hears the waveform (a model trained by
    ``recipes/av_spoken_captions.py``). Also the typed first caption -> photo, for reference."""
    if method not in ("transcript", "end-to-end"):
        raise UserInputError(f"unknown method {method!r}: transcript or end-to-end")
    from sightsound.audio import io as audio_io
    from sightsound.metrics.speech import Recognizer, transcript_words, word_error_rate
    from sightsound.models.text_encoder import embed_sentences, load_minilm

    photo_folder = Path(photo_folder)
    images, names, captions = validation_photos(photo_folder)
    names = names[:limit]
    spoken = [photo_folder / "spoken" / (Path(n).stem + ".mp3") for n in names]
    missing = [p.name for p in spoken if not p.is_file()]
    if missing:
        raise UserInputError(f"{photo_folder / 'spoken'}: {len(missing)} spoken caption(s) missing, e.g. {missing[0]}")
    minilm = load_minilm()
    transcripts = []
    if method == "transcript":
        recognizer = Recognizer()
        for path in _progress(spoken, "transcribing", progress):
            wave, rate = audio_io.load(path, sr=Recognizer.SAMPLE_RATE)
            transcripts.append(recognizer(wave, rate))
        heard = embed_sentences([t or "." for t in transcripts], minilm)  # (N, D)
    else:
        heard = listener.embed_waves([listener.load_clip(p) for p in _progress(spoken, "hearing", progress)])
    typed = embed_sentences([captions[n][0] for n in names], minilm)
    photos = listener.embed_photos([images / n for n in names], progress=progress)
    speech_sim = heard @ photos.T  # (N, N): spoken caption i belongs to photo i
    typed_sim = typed @ photos.T
    return {
        "photos": len(names), "photo_folder": str(photo_folder),
        "method": "pocketsphinx transcript -> MiniLM" if transcripts else "end-to-end (the model hears the waveform)",
        "speech_to_photo": recall_at_k(paired_ranks(speech_sim)),
        "photo_to_speech": recall_at_k(paired_ranks(speech_sim.T)),
        "chance": chance_recall(len(names)),
        "median_rank_speech_to_photo": int(paired_ranks(speech_sim).median()) + 1,
        "transcript_wer": word_error_rate([transcript_words(captions[n][0]) for n in names], transcripts)
        if transcripts else None,
        "typed_caption_to_photo": recall_at_k(paired_ranks(typed_sim)),
        "photo_to_typed_caption": recall_at_k(paired_ranks(typed_sim.T)),
        "examples": [{"photo": n, "caption": captions[n][0], "heard": t} for n, t in zip(names[:5], transcripts)],
    }


# ------------------------------------------------------------------------------------------------ baselines


def mfcc_features(waves: torch.Tensor, sample_rate: int = 16000) -> torch.Tensor:
    """(N, S) -> (N, 80): mean and std over time of 20 MFCCs (25 ms Hamming window, 10 ms hop, 40 mel bands)
    and of their frame-to-frame differences."""
    n_fft = 1 << (int(0.025 * sample_rate) - 1).bit_length()
    mel = AF.melspectrogram(waves, sample_rate, n_fft, int(0.010 * sample_rate), int(0.025 * sample_rate),
                            "hamming", n_mels=40)
    cepstra = AF.mfcc(AF.power_to_db(mel), 20)  # (N, 20, T)
    delta = cepstra.diff(dim=-1)
    return torch.cat([cepstra.mean(-1), cepstra.std(-1), delta.mean(-1), delta.std(-1)], dim=1)


def fit_logistic_regression(x: torch.Tensor, y: torch.Tensor, n_classes: int, l2: float = 1e-3):
    """Multinomial logistic regression on standardised features (full-batch L-BFGS). -> predict(x) -> labels."""
    mean, std = x.mean(0), x.std(0).clamp_min(1e-6)
    z = ((x - mean) / std).double()
    weight = torch.zeros(x.shape[1], n_classes, dtype=torch.float64, requires_grad=True)
    bias = torch.zeros(n_classes, dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.LBFGS([weight, bias], max_iter=500, line_search_fn="strong_wolfe")

    def closure():
        optimiser.zero_grad()
        loss = torch.nn.functional.cross_entropy(z @ weight + bias, y) + l2 * weight.pow(2).sum()
        loss.backward()
        return loss

    optimiser.step(closure)
    w, b = weight.detach(), bias.detach()
    return lambda new: ((((new - mean) / std).double() @ w) + b).argmax(-1)


def mfcc_baseline(train: list[Clip], test: list[Clip], n_classes: int, sample_rate: int = 16000,
                  seconds: float = 5.0) -> float:
    """Accuracy on ``test`` of the MFCC + logistic-regression baseline trained on ``train``."""
    samples = int(seconds * sample_rate)
    x_train = mfcc_features(load_waves(train, sample_rate, samples, progress=False), sample_rate)
    x_test = mfcc_features(load_waves(test, sample_rate, samples, progress=False), sample_rate)
    predict = fit_logistic_regression(x_train, torch.tensor([c.target for c in train]), n_classes)
    return float((predict(x_test) == torch.tensor([c.target for c in test])).float().mean())


def cross_validation(data_root: str | Path, out: str | Path, folds: tuple[int, ...] = (1, 2, 3, 4),
                     recipe: str = "recipes/av_embedding_esc10.py", baseline: str = "recipes/esc10_supervised.py",
                     preset: str = "cpu", subdir: str = "esc10", sets: tuple[str, ...] = (),
                     photo_subdir: str = "flickr8k-1k", progress: bool = True) -> dict:
    """Train and score each round (module docstring); run folders go to ``out/<model>-fold<k>``."""
    from sightsound.training import recipes

    data_root, out = Path(data_root), Path(out)
    clips, names = read_esc_folder(data_root / subdir)
    rounds = []
    for k in folds:
        test = [c for c in clips if c.fold == k]
        row = {"test_fold": k, "clips": len(test)}
        timings = {}
        for label, path in (("embedding", recipe), ("supervised_cnn", baseline)):
            run_dir = out / f"{label}-fold{k}"
            extra = (f"data.test_folds=[{k}]", f"data.subdir={subdir!r}") + tuple(sets if label == "embedding" else ())
            resolved = recipes.resolve(path, preset, extra)
            start = time.perf_counter()
            if not (run_dir / "model.safetensors").is_file():
                recipes.run(resolved, str(data_root), run_dir, progress=progress)
            timings[label] = time.perf_counter() - start
            row[label], row[f"{label}_confusion"] = _score_run(run_dir, test, names)
        row["mfcc_logistic"] = mfcc_baseline([c for c in clips if c.fold != k], test, len(names))
        row["train_seconds"] = timings
        rounds.append(row)
    mean = {m: sum(r[m] for r in rounds) / len(rounds) for m in ("embedding", "supervised_cnn", "mfcc_logistic")}
    pooled = torch.stack([torch.tensor(r["embedding_confusion"]) for r in rounds]).sum(0)
    photos = data_root / photo_subdir
    use_photos = photo_subdir and (photos / "images").is_dir()
    retrieval = held_out_sound_to_photo(out, data_root / subdir, photos, folds) if use_photos else None
    return {"data": str(data_root / subdir), "folds": list(folds), "classes": list(names), "rounds": rounds,
            "mean_accuracy": mean, "embedding_confusion": pooled.tolist(), "sound_to_photo": retrieval,
            "embedding_per_class_recall": dict(zip(names, [round(float(r), 4) for r in per_class_recall(pooled)])),
            "recipe": recipe, "baseline": baseline, "preset": preset}


def held_out_sound_to_photo(out: str | Path, folder: str | Path, photo_folder: str | Path,
                            folds: tuple[int, ...] = (1, 2, 3, 4), k: int = 10) -> dict:
    """Sound -> photo precision@k where every clip is ranked by the cross-validation model that never heard its
    fold (``out/embedding-fold<k>``), pooled over the folds; the photos are the caption folder's validation
    photos, which no model saw."""
    from sightsound.pretrained.scene import SceneListener

    per_fold = {f: sound_to_photo(SceneListener.from_pretrained(Path(out) / f"embedding-fold{f}"), folder,
                                  photo_folder, (f,), k=k, progress=False) for f in folds}
    first = per_fold[folds[0]]
    per_class = {}
    for cls in first["qualifying_classes"]:
        clips = sum(r["per_class"][cls]["clips"] for r in per_fold.values())
        hits = sum(r["per_class"][cls]["clips"] * r["per_class"][cls]["precision_at_k"] for r in per_fold.values())
        per_class[cls] = {"clips": clips, "precision_at_k": round(hits / clips, 4),
                          "chance": first["per_class"][cls]["chance"]}
    total = sum(v["clips"] for v in per_class.values())
    mean = sum(v["clips"] * v["precision_at_k"] for v in per_class.values()) / total if total else None
    return {key: first[key] for key in ("photos", "photo_folder", "k", "min_photos", "matching_photos",
                                        "qualifying_classes", "match_words")} | {
        "clips": total, "folds": list(folds), "precision_at_k": mean, "per_class": per_class,
        "per_fold": {f: r["precision_at_k"] for f, r in per_fold.items()}}


def _score_run(run_dir: Path, test: list[Clip], names: tuple[str, ...]) -> tuple[float, list]:
    """(accuracy, confusion matrix) of a run folder's model on the test clips."""
    from sightsound.models.av_embedding import AVEmbedding
    from sightsound.pretrained import load_pretrained

    model = load_pretrained(run_dir).eval()
    truth = torch.tensor([c.target for c in test])
    if isinstance(model, AVEmbedding):
        listener = SceneListener(model, str(run_dir))
        predicted = listener.probabilities(listener.embed_waves([listener.load_clip(c.path) for c in test])).argmax(-1)
    else:  # a supervised classifier on fixed-length clips
        rate = model.config.sample_rate
        waves = load_waves(test, rate, int(round(5.0 * rate)), progress=False)
        with torch.no_grad():
            predicted = torch.cat([model(waves[i:i + 32]).argmax(-1) for i in range(0, len(waves), 32)])
    return float((predicted == truth).float().mean()), confusion_matrix(truth, predicted, len(names)).tolist()
