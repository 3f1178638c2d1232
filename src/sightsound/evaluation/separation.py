"""``sightsound eval separation``: Looking to Listen against the audio-only baseline on fixed GRID mixtures.

The mixtures are ``data/av_mixtures.fixed_set`` (test split by default: the 50 GRID s1 test clips, each mixed
once with a voice of another person from the interferers' test files and once with another s1 test clip, at
a seeded SNR in [-5, 5] dB). For each mixture and each kind (different / same speaker):

* the audio-visual model's output 0 (the face's voice): SI-SDR improvement, SDR (BSS-eval), STOI, PESQ-WB (if
  the ``pesq`` package is installed), and the WER of its words by the GRID-grammar pocketsphinx judge;
* the audio-only model: the same numbers for the better of its two outputs (an oracle choice: the best it can
  do when someone tells it which voice is wanted), and the SI-SDRi and WER of its output 0 (what it returns
  when nobody tells it: on same-speaker mixtures it cannot know which sentence is wanted);
* the mixture itself (SI-SDR, STOI, WER) and the clean target (WER): the floor and the ceiling;
* ``*_stoi_speech``: STOI again over the span from the first word to the last only (the ``.align`` timings).
  A diagnostic beside the target, which stays on the whole clip: GRID's silent lead-in and tail sit within
  STOI's 40 dB silence threshold, so they count as speech frames, scored by how well the output follows the
  recording's own noise floor there (white noise at 20 dB SNR scores about 0.80 over a whole GRID clip and 0.99
  over its words).

``examples`` keeps the first mixtures' signals for the tour (dropped from the JSON).
"""

from __future__ import annotations

import os
from pathlib import Path

KINDS = ("different", "same")


def speech_span(align: Path, sample_rate: int, n: int) -> slice | None:
    """Samples from the first word's start to the last word's end of a GRID ``.align`` file (None: no words)."""
    from sightsound.data.grid import read_align

    words = [(start, end) for start, end, word in read_align(align) if word not in ("sil", "sp")]
    if not words:
        return None
    return slice(int(words[0][0] * sample_rate), min(n, int(round(words[-1][1] * sample_rate))))


def _mean(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def evaluate_separation(model: str | os.PathLike = "looking-to-listen-grid",
                        baseline: str | os.PathLike | None = "audio-only-separation-grid",
                        data: str | os.PathLike | None = None, *, split: str = "test", wer: bool = True,
                        pesq: bool = True, limit: int | None = None, keep_examples: int = 0,
                        progress: bool = True) -> dict:
    from tqdm import tqdm

    from sightsound.data import av_mixtures
    from sightsound.data.grid import GRID_GRAMMAR, transcript
    from sightsound.errors import UserInputError
    from sightsound.metrics import separation as M
    from sightsound.metrics.speech import Recognizer, word_error_rate
    from sightsound.pretrained.separation import Separator
    from sightsound.training.recipes import data_root

    root = data_root(None if data is None else str(data))
    av = Separator.from_pretrained(model)
    if not av.visual:
        raise UserInputError(f"{model}: an audio-only model; give the audio-visual one as --model "
                             "(the audio-only one is --baseline)")
    ao = Separator.from_pretrained(baseline) if baseline else None
    if ao is not None and ao.visual:
        raise UserInputError(f"{baseline}: an audio-visual model; --baseline takes the audio-only one")
    config = av_mixtures.Config(sample_rate=av.sample_rate, mouth_size=tuple(av.model.config.mouth_size))
    mixtures = av_mixtures.fixed_set(root, config, split, progress)
    items = list(mixtures.items)[: limit * 2 if limit else None]
    align = Path(root) / config.subdir / "align"
    recognizer = Recognizer(slots=GRID_GRAMMAR) if wer else None
    sr = av.sample_rate
    pesq = pesq and sr == 16000          # wide-band PESQ is defined at 16 kHz only
    rows, examples = [], []
    for item in tqdm(items, desc=f"separating {split} mixtures", unit="mix", disable=not progress, leave=False):
        target, mixture = item["target"], item["mixture"]
        out = av.separate(mixture, item["mouths"])
        row = {"kind": KINDS[item["same_speaker"]], "name": item["name"], "snr": round(float(item["snr"]), 2),
               "mixture_si_sdr": M.si_sdr(target, mixture), "mixture_stoi": M.stoi(target, mixture, sr),
               "av_si_sdri": M.si_sdr_improvement(target, out.target, mixture), "av_sdr": M.sdr(target, out.target),
               "av_stoi": M.stoi(target, out.target, sr)}
        if pesq:
            row["av_pesq"] = M.pesq_wb(target, out.target, sr)
            row["mixture_pesq"] = M.pesq_wb(target, mixture, sr)
        aligned = align / f"{item['name']}.align"
        span = speech_span(aligned, sr, len(target)) if aligned.is_file() else None
        if span is not None:
            row["mixture_stoi_speech"] = M.stoi(target[span], mixture[span], sr)
            row["av_stoi_speech"] = M.stoi(target[span], out.target[span], sr)
        heard = {"av": out.target, "mixture": mixture, "clean": target}
        if ao is not None:
            both = ao.separate(mixture)
            outputs = (both.target, both.rest)
            gains = [M.si_sdr_improvement(target, y, mixture) for y in outputs]
            best = outputs[int(gains[1] > gains[0])]
            row.update({"ao_si_sdri": max(gains), "ao_first_si_sdri": gains[0], "ao_sdr": M.sdr(target, best),
                        "ao_stoi": M.stoi(target, best, sr)})
            if span is not None:
                row["ao_stoi_speech"] = M.stoi(target[span], best[span], sr)
            if pesq:
                row["ao_pesq"] = M.pesq_wb(target, best, sr)
            heard.update({"ao": best, "ao_first": outputs[0]})
        if recognizer is not None:
            reference = transcript(aligned) if aligned.is_file() else None
            row["reference"] = reference
            for key, y in heard.items():
                row[f"{key}_words"] = recognizer(y, sr)
        rows.append(row)
        if len(examples) < keep_examples:
            examples.append({"item": item, "av": out, "ao": heard.get("ao_first")})
    report = {"split": split, "mixtures": len(rows), "model": str(model), "baseline": str(baseline) if ao else None,
              "sample_rate": sr, "snr_range_db": list(config.snr_db), "kinds": {}}
    for kind in KINDS:
        chosen = [r for r in rows if r["kind"] == kind]
        if not chosen:
            continue
        summary = {"count": len(chosen)}
        for key in ("mixture_si_sdr", "mixture_stoi", "mixture_pesq", "av_si_sdri", "av_sdr", "av_stoi", "av_pesq",
                    "ao_si_sdri", "ao_first_si_sdri", "ao_sdr", "ao_stoi", "ao_pesq", "mixture_stoi_speech",
                    "av_stoi_speech", "ao_stoi_speech"):
            if key in chosen[0]:
                summary[key] = _mean([r[key] for r in chosen])
        scored = [r for r in chosen if r.get("reference")]
        if recognizer is not None and scored:
            references = [r["reference"] for r in scored]
            for key in ("clean", "mixture", "av", "ao", "ao_first"):
                if f"{key}_words" in scored[0]:
                    summary[f"wer_{key}"] = word_error_rate(references, [r[f"{key}_words"] for r in scored])
        report["kinds"][kind] = summary
    report["rows"] = rows
    report["examples"] = examples
    return report


def targets(report: dict) -> dict:
    """The issue's targets, each with its measured value and whether it is met."""
    out = {}
    d, s = report["kinds"].get("different"), report["kinds"].get("same")
    if d:
        out["av_si_sdri_different_at_least_10"] = {"value": d["av_si_sdri"], "met": d["av_si_sdri"] >= 10}
        if d.get("ao_si_sdri") is not None:
            gap = d["av_si_sdri"] - d["ao_si_sdri"]
            out["av_minus_ao_si_sdri_at_least_1"] = {"value": gap, "met": gap >= 1}
        out["av_stoi_different_at_least_0.8"] = {"value": d["av_stoi"], "met": d["av_stoi"] >= 0.8}
    if s and "wer_av" in s:
        limit = 2 * s["wer_clean"]
        out["same_speaker_av_wer_at_most_2x_clean"] = {"value": s["wer_av"], "limit": limit,
                                                       "met": s["wer_av"] <= limit}
    return out


def summary_lines(report: dict) -> list[str]:
    """The report in a few plain lines."""
    lines = [f"{report['mixtures']} {report['split']} mixtures (SNR {report['snr_range_db'][0]:g}..."
             f"{report['snr_range_db'][1]:g} dB)"]
    for kind, k in report["kinds"].items():
        text = (f"  {kind} speaker ({k['count']}): mixture SI-SDR {k['mixture_si_sdr']:+.2f} dB, STOI "
                f"{k['mixture_stoi']:.3f}; audio-visual SI-SDRi {k['av_si_sdri']:+.2f} dB, SDR {k['av_sdr']:+.2f} dB, "
                f"STOI {k['av_stoi']:.3f}" + (f" (over the words only: {k['av_stoi_speech']:.3f})"
                                             if k.get("av_stoi_speech") is not None else ""))
        if k.get("ao_si_sdri") is not None:
            text += (f"; audio-only SI-SDRi {k['ao_si_sdri']:+.2f} dB (better output; its output 0: "
                     f"{k['ao_first_si_sdri']:+.2f} dB), STOI {k['ao_stoi']:.3f}")
        lines.append(text)
        if "wer_av" in k:
            wers = ", ".join(f"{name} {k[f'wer_{key}']:.3f}" for key, name in
                             (("clean", "clean"), ("mixture", "mixture"), ("av", "audio-visual"),
                              ("ao", "audio-only (better)"), ("ao_first", "audio-only (output 0)"))
                             if f"wer_{key}" in k)
            lines.append(f"    WER: {wers}")
    for name, t in targets(report).items():
        lines.append(f"  target {name}: {t['value']:.3f} {'met' if t['met'] else 'MISSED'}")
    return lines
