"""``eval tts``: decode every transcript of a folder free-running and measure the focus rate, step-limit hits, the
word error rate of the synthetic speech next to that of Griffin-Lim resynthesis of the real recordings, and the
real-time factor of text -> mel.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from sightsound.errors import UserInputError
from sightsound.evaluation.vocoder import grid_slot_errors
from sightsound.pretrained.tts import Synthesizer
from sightsound.pretrained.vocoder import GRIFFIN_LIM, Vocoder


def grammar_sentences(n: int, seed: int = 0) -> list[str]:
    """``n`` random sentences of the GRID grammar (seeded): new text in the speaker's domain."""
    from sightsound.data.grid import GRID_GRAMMAR

    g = torch.Generator().manual_seed(seed)
    return [" ".join(slot[int(torch.randint(len(slot), (), generator=g))] for slot in GRID_GRAMMAR) for _ in range(n)]


def _listening(listening, real, estimate, sample_rate: int) -> tuple[float, float | None]:
    """(STOI, wide-band PESQ or None) of a time-aligned estimate against the real recording."""
    quality = listening.pesq_wb(real, estimate, sample_rate) if sample_rate == 16000 else None
    return listening.stoi(real, estimate, sample_rate), quality


def _listening_means(pairs: list[tuple[float, float | None]]) -> dict:
    stoi = [a for a, _ in pairs]
    pesq = [b for _, b in pairs if b is not None]
    return {"stoi": round(sum(stoi) / len(stoi), 4), "pesq_wb": round(sum(pesq) / len(pesq), 3) if pesq else None}


def _text_only(synth: Synthesizer, references: list[str], griffin, pattern, recognizer, *, seeds: int, seed: int,
               batch_size: int, texts: list[str] | None = None) -> dict:
    """Decode sentences that have no recording (``texts``, default ``references``) ``seeds`` times: focus rate,
    step-limit hits and the WER of the synthetic speech (Griffin-Lim) against ``references`` (as the recogniser
    writes words); with a ``recognizer`` also the word-loop WER of the first reading."""
    from sightsound.metrics.speech import word_error_rate

    texts = texts or references
    focus, limits, wers, loop_heard, examples = [], 0, [], [], []
    for k in range(seeds):
        heard = []
        for start in range(0, len(texts), batch_size):
            mels, alignments, hit, _ = synth.mels(texts[start:start + batch_size], seed=seed + 100_000 * k + start)
            for mel, alignment, stopped in zip(mels, alignments, hit):
                focus.append(float(alignment.max(-1).values.mean()))
                limits += int(stopped)
                wave = griffin(mel, seed=seed)
                if recognizer is not None and k == 0:
                    loop_heard.append(recognizer(wave, synth.preset.sample_rate))
                heard.append(pattern(wave, synth.preset.sample_rate))
        wers.append(word_error_rate(references, heard))
        if k == 0:
            examples = [{"text": t, "heard": h} for t, h in zip(references[:5], heard[:5])]
    report = {"sentences": len(texts), "decodes": len(focus), "focus_rate": round(sum(focus) / len(focus), 4),
              "min_focus_rate": round(min(focus), 4), "hit_step_limit": limits,
              "wer_synthesised_griffinlim": round(sum(wers) / seeds, 4)}
    if seeds > 1:
        report["wer_synthesised_griffinlim_per_seed"] = [round(w, 4) for w in wers]
    if recognizer is not None:
        report["wer_synthesised_griffinlim_word_loop"] = round(word_error_rate(references, loop_heard), 4)
    return report | {"examples": examples}


def evaluate_tts(synth: Synthesizer, data_dir: str | os.PathLike, *, clips: str = "all", limit: int | None = None,
                 batch_size: int = 16, seed: int = 0, out_dir: Path | None = None, progress: bool = True,
                 extra_sentences: int = 0, word_loop: bool = False, teacher_forced: bool = False,
                 seeds: int = 1, val_every: int | None = None, peak_db: float | None = None,
                 sentences: list[str] | None = None) -> dict:
    """Synthesise every transcript of a folder laid out like grid-s1 (audio/ + align/), like LJSpeech
    (metadata.csv + wavs/) or like the spoken Flickr captions (captions.txt + spoken/); ``clips``: "all" or
    the fixed "val" split (every 18th utterance, as the recipes hold out). WER uses pocketsphinx: for GRID with
    the GRID sentence grammar, otherwise open vocabulary with its English language model (references
    normalised by ``transcript_words``). ``extra_sentences`` > 0 (GRID) also decodes that many random
    GRID-grammar sentences (text only: focus rate, step-limit hits and WER, no recording to compare with);
    ``word_loop`` adds a second WER with any sequence of the corpus words (a far looser grammar than GRID's:
    about 10 s per sentence here, and a 46% WER on Griffin-Lim resyntheses of the real GRID recordings).
    ``sentences``: any further text without recordings (e.g. sentences outside the corpus), decoded the same way
    and scored with the folder's recogniser.
    ``teacher_forced`` adds the WER of the mels predicted with the real previous frame fed at every step
    (``Synthesizer.teacher_forced_mel``): if it is as high as the free-running WER, the errors come from the
    frame predictions themselves, not from the decoder feeding back its own frames or losing its alignment.
    ``listening``: STOI and wide-band PESQ against the real recording of what is time-aligned with it: the
    Griffin-Lim resynthesis of the recording and (with ``teacher_forced``) the teacher-forced synthesis. The
    free-running synthesis has its own timing, so it is judged by WER and focus only. ``clips="test"``: the
    held-out lines of an LJSpeech-layout folder (``data.tts.ljspeech_split``; ``val_every`` as in training).
    ``seeds`` > 1 decodes every sentence that many times (the prenet's dropout stays on at inference, so each
    seed is another reading): the focus rate, step-limit hits and the synthetic WER (and its slot errors) are
    then over every decode, with the WER of each seed listed, for the grammar sentences too; the rest (the
    word loop, the teacher-forced WER, the real-time factors) comes from the first seed."""
    from tqdm.auto import tqdm

    from sightsound.audio import io as audio_io
    from sightsound.audio.features import log_mel
    from sightsound.data import grid
    from sightsound.data.tts import (
        Config,
        detect_source,
        ljspeech_split,
        load_utterance,
        utterance_lists,
    )
    from sightsound.metrics import separation as listening
    from sightsound.metrics.speech import Recognizer, transcript_words, word_error_rate

    root = Path(data_dir)
    source = detect_source(root)
    if source is None:
        raise UserInputError(f"{root}: expected a folder laid out like grid-s1 (audio/*.flac and align/*.align), "
                             "LJSpeech (metadata.csv and wavs/) or the spoken Flickr captions (captions.txt and spoken/)")
    if extra_sentences and source != "grid":
        raise UserInputError("--grammar-sentences needs a GRID folder (the sentences follow the GRID grammar)")
    config = Config(source=source, subdir=".", preset=synth.preset.name, val_every=val_every or Config.val_every,
                    peak_db=peak_db)
    if clips == "test":
        if source != "ljspeech":
            raise UserInputError("--clips test needs an LJSpeech-layout folder (its held-out lines)")
        items = ljspeech_split(root, config)["test"]
    else:
        train_items, val_items = utterance_lists(root, config)
        items = val_items if clips == "val" else sorted(train_items + val_items, key=lambda item: item[0].name)
    items = items[:limit] if limit else items
    extra_texts = grammar_sentences(extra_sentences, seed) if extra_sentences else []
    # references as the recogniser writes words; GRID transcripts already are
    references = [t if source == "grid" else transcript_words(t) for _, t, _ in items]
    # two vocabularies: the GRID sentence pattern (as `eval vocoder`) or open English, and any sequence of
    # the corpus words
    pattern = Recognizer(slots=grid.GRID_GRAMMAR) if source == "grid" else Recognizer()
    recognizer = (Recognizer(words=sorted({w for text in references + extra_texts for w in text.split()}))
                  if word_loop else None)
    griffin = Vocoder.from_pretrained(GRIFFIN_LIM, preset=synth.preset.name)
    refs, hyp_tts, hyp_real, pat_tts, pat_real, pat_forced = [], [], [], [], [], []
    listen = {"real_griffinlim": [], "teacher_forced_griffinlim": []}   # (STOI, PESQ-WB) against the recording
    focus, limits, mel_seconds, speech_seconds = [], 0, 0.0, 0.0
    synth.mels(texts=[items[0][1]], max_steps=2)  # compiles the decoder loop (numba) now: not counted as decoding
    if seeds < 1:
        raise UserInputError(f"seeds must be >= 1, got {seeds}")
    bar = tqdm(total=len(items) * seeds, desc="tts eval", unit="sentence", disable=not progress)
    for start in range(0, len(items), batch_size):
        chunk = items[start:start + batch_size]
        texts = [t for _, t, _ in chunk]
        mels, alignments, hit, seconds = synth.mels(texts, seed=seed + start)
        mel_seconds += seconds
        for (path, text, span), reference, mel, alignment, stopped in zip(
                chunk, references[start:start + batch_size], mels, alignments, hit):
            hop = synth.preset.hop_length
            speech_seconds += mel.shape[-1] * hop / synth.preset.sample_rate
            wave = griffin(mel, seed=seed)
            real = load_utterance(path, span, config)
            real_mel = log_mel(real, synth.preset)
            real_gl = griffin(real_mel, seed=seed)[: len(real)]
            sr = synth.preset.sample_rate
            listen["real_griffinlim"].append(_listening(listening, real, real_gl, sr))
            if teacher_forced:
                forced = griffin(synth.teacher_forced_mel(text, real_mel, seed=seed + start), seed=seed)
                pat_forced.append(pattern(forced, synth.preset.sample_rate))
                listen["teacher_forced_griffinlim"].append(_listening(listening, real, forced[: len(real)], sr))
            refs.append(reference)
            if recognizer is not None:
                hyp_tts.append(recognizer(wave, synth.preset.sample_rate))
                hyp_real.append(recognizer(real_gl, synth.preset.sample_rate))
            pat_tts.append(pattern(wave, synth.preset.sample_rate))
            pat_real.append(pattern(real_gl, synth.preset.sample_rate))
            focus.append(float(alignment.max(-1).values.mean()))
            limits += int(stopped)
            if out_dir is not None:
                audio_io.save(Path(out_dir) / f"{path.stem}_tts.wav", wave, synth.preset.sample_rate, overwrite=True)
        bar.update(len(chunk))
    wer_per_seed = [word_error_rate(refs, pat_tts)]
    slot_refs, slot_hyps = list(refs), list(pat_tts)
    for k in range(1, seeds):  # further readings of every sentence: synthetic speech only
        heard = []
        for start in range(0, len(items), batch_size):
            texts = [t for _, t, _ in items[start:start + batch_size]]
            mels, alignments, hit, _ = synth.mels(texts, seed=seed + 100_000 * k + start)
            for mel, alignment, stopped in zip(mels, alignments, hit):
                heard.append(pattern(griffin(mel, seed=seed), synth.preset.sample_rate))
                focus.append(float(alignment.max(-1).values.mean()))
                limits += int(stopped)
            bar.update(len(texts))
        wer_per_seed.append(word_error_rate(refs, heard))
        slot_refs += refs
        slot_hyps += heard
    bar.close()
    # real-time factor at batch 1 (the target's setting), on the first sentences
    single_seconds, single_speech = 0.0, 0.0
    for _, text, _ in items[: min(10, len(items))]:
        mels, _, _, seconds = synth.mels([text], seed=seed)
        single_seconds += seconds
        single_speech += mels[0].shape[-1] * synth.preset.hop_length / synth.preset.sample_rate
    wer_tts, wer_real = sum(wer_per_seed) / seeds, word_error_rate(refs, pat_real)
    slots = {"synthesised": grid_slot_errors(slot_refs, slot_hyps), "real_griffinlim": grid_slot_errors(refs, pat_real)}
    extra = {}
    if seeds > 1:
        extra["wer_synthesised_griffinlim_per_seed"] = [round(w, 4) for w in wer_per_seed]
    if teacher_forced:
        extra["wer_teacher_forced_griffinlim"] = round(word_error_rate(refs, pat_forced), 4)
        slots["teacher_forced"] = grid_slot_errors(refs, pat_forced)
    if extra_texts:
        extra["grammar_sentences"] = _text_only(synth, extra_texts, griffin, pattern, recognizer, seeds=seeds,
                                                seed=seed, batch_size=batch_size)
    if sentences:
        other_refs = [transcript_words(t) for t in sentences]
        extra["other_sentences"] = _text_only(synth, other_refs, griffin, pattern, None, seeds=seeds, seed=seed,
                                              batch_size=batch_size, texts=sentences)
    if recognizer is not None:
        extra["wer_synthesised_griffinlim_word_loop"] = round(word_error_rate(refs, hyp_tts), 4)
        extra["wer_real_griffinlim_resynthesis_word_loop"] = round(word_error_rate(refs, hyp_real), 4)
    return extra | {
        "data": str(root), "layout": source, "split": clips, "sentences": len(items), "model": synth.name,
        "seeds": seeds, "decodes": len(focus),
        "focus_rate": round(sum(focus) / len(focus), 4), "min_focus_rate": round(min(focus), 4),
        "hit_step_limit": limits, "hit_step_limit_share": round(limits / len(focus), 4),
        "wer_synthesised_griffinlim": round(wer_tts, 4), "wer_real_griffinlim_resynthesis": round(wer_real, 4),
        "wer_ratio": round(wer_tts / wer_real, 3) if wer_real > 0 else None,
        "listening": {name: _listening_means(pairs) for name, pairs in listen.items() if pairs},
        **({"slot_error_rates": slots} if slots["synthesised"] is not None else {}),
        "recognizer": ("pocketsphinx en-us, " + ("GRID sentence grammar" if source == "grid" else "English language model")
                       + (" (+ word loop: *_word_loop)" if word_loop else "")),
        "text_to_mel_real_time_factor_batch1": round(single_seconds / max(single_speech, 1e-9), 4),
        f"text_to_mel_real_time_factor_batch{batch_size}": round(mel_seconds / max(speech_seconds, 1e-9), 4),
        "threads": torch.get_num_threads(),
        "examples": [{"text": r, "heard": h} for r, h in zip(refs[:5], pat_tts[:5])],
    }
