"""How close synthesised speech is to the real thing: word error rate of a recogniser, mel-cepstral
distortion, log-spectral distance.

- ``word_error_rate``: word-level Levenshtein distance (substitutions + deletions + insertions) summed
  over utterances, divided by the number of reference words.
- ``mel_cepstral_distortion`` (Kubichek 1993): ``(10 / ln 10) sqrt(2 sum_{d=1..D} (c_d - c'_d)^2)`` dB per
  frame, averaged over the frames where the reference is speech (within ``speech_db`` of its loudest
  frame). Mel cepstrum with the usual scale: ``c_n = (1/N) sum_m ln A_m cos(pi n (m + 1/2) / N)`` of the
  natural-log mel *amplitude* spectrum ``A`` (N = 80 bands, 25 ms Hann, 5 ms hop), so that
  ``ln A(w) ~ c_0 + 2 sum_n c_n cos(n w)``; c0 (energy) left out, D = 24. Frames are compared one to one:
  copy-synthesis keeps timing. ``mcd_by_level`` pools the per-frame values of many clips by the reference
  frame's level (dB below its clip's loudest frame).
- ``log_spectral_distance``: ``sqrt(mean_f (10 log10 P_f - 10 log10 P'_f)^2)`` dB per frame, averaged
  over the same speech frames.
- ``Recognizer``: pocketsphinx (its English acoustic model ships in the PyPI wheel) with the vocabulary
  restricted by a JSGF grammar: a sentence pattern of word slots (GRID) or any sequence of given words; or
  open vocabulary with the English trigram model it ships (``transcript_words`` writes references alike).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from sightsound.audio import functional as AF
from sightsound.errors import ParameterError, UserInputError

SPEECH_DB = 40.0  # a frame is speech when it lies less than this many dB below the loudest one


def edit_distance(reference: list[str], hypothesis: list[str]) -> int:
    """Levenshtein distance between two word lists."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref_word in enumerate(reference, 1):
        current = [i] + [0] * len(hypothesis)
        for j, hyp_word in enumerate(hypothesis, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_word != hyp_word))
        previous = current
    return previous[-1]


def word_error_rate(references: list[str], hypotheses: list[str]) -> float:
    """Total word edits / total reference words over all utterance pairs."""
    if len(references) != len(hypotheses):
        raise ParameterError(f"{len(references)} references but {len(hypotheses)} hypotheses")
    words = sum(len(r.split()) for r in references)
    if words == 0:
        raise ParameterError("the references contain no words")
    return sum(edit_distance(r.split(), h.split()) for r, h in zip(references, hypotheses)) / words


def slot_error_rates(references: list[str], hypotheses: list[str]) -> list[float]:
    """Per word position, the share of utterances whose word there is wrong, for sentences of a fixed
    pattern (GRID: command, colour, preposition, letter, digit, adverb): position i of a hypothesis is right
    only if it has as many words as its reference and word i matches. -> one rate per position."""
    if len(references) != len(hypotheses) or not references:
        raise ParameterError(f"{len(references)} references but {len(hypotheses)} hypotheses")
    n = len(references[0].split())
    if any(len(r.split()) != n for r in references):
        raise ParameterError("slot error rates need references of one length")
    errors = [0] * n
    for r, h in zip(references, hypotheses):
        r, h = r.split(), h.split()
        for i in range(n):
            errors[i] += len(h) != n or h[i] != r[i]
    return [e / len(references) for e in errors]


@dataclass(frozen=True)
class _Analysis:
    sample_rate: int
    n_fft: int
    hop: int
    win: int


def _analysis(sample_rate: int) -> _Analysis:
    win = int(round(0.025 * sample_rate))
    return _Analysis(sample_rate, 1 << (win - 1).bit_length(), int(round(0.005 * sample_rate)), win)


def _power_and_mel(y: torch.Tensor, sample_rate: int) -> tuple[torch.Tensor, torch.Tensor]:
    a = _analysis(sample_rate)
    y = y.to(torch.float64)
    P = AF.spectrogram(y, n_fft=a.n_fft, hop_length=a.hop, win_length=a.win, window="hann", power=2.0)  # (F, T)
    basis = AF.mel_filterbank(sample_rate, a.n_fft, 80, fmax=sample_rate / 2, dtype=torch.float64)
    return P, basis @ P  # (F, T), (80, T)


def frame_levels(reference: torch.Tensor, sample_rate: int) -> torch.Tensor:
    """Each analysis frame's level in dB below the loudest frame of the waveform: (S,) -> (T,). The
    distortion measures average over the frames less than ``speech_db`` (``SPEECH_DB``, 40) below it."""
    P, _ = _power_and_mel(reference, sample_rate)
    energy = 10 * torch.log10(P.sum(0) + 1e-12)  # (T,)
    return energy.max() - energy


def _cepstrum_matrix(n: int, dtype=torch.float64) -> torch.Tensor:
    """(n, n): row k maps a log spectrum sampled at n band centres to the cepstral coefficient c_k."""
    k = torch.arange(n, dtype=dtype)[:, None]
    m = torch.arange(n, dtype=dtype)[None, :]
    return torch.cos(math.pi / n * (m + 0.5) * k) / n


def _paired(reference: torch.Tensor, synthesis: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if reference.ndim != 1 or synthesis.ndim != 1:
        raise ParameterError("compare one waveform at a time: shapes (S,) and (S',)")
    n = min(reference.shape[0], synthesis.shape[0])
    return reference[:n], synthesis[:n]


def mel_cepstral_distortion_frames(reference: torch.Tensor, synthesis: torch.Tensor, sample_rate: int,
                                   n_coefficients: int = 24) -> torch.Tensor:
    """MCD in dB of every frame of two time-aligned waveforms (S,), (S',) -> (T,) (the shorter length)."""
    reference, synthesis = _paired(reference, synthesis)
    _, M_ref = _power_and_mel(reference, sample_rate)
    _, M_syn = _power_and_mel(synthesis, sample_rate)
    C = _cepstrum_matrix(M_ref.shape[0])[1: n_coefficients + 1]  # c1..cD
    diff = C @ (0.5 * torch.log(M_ref + 1e-10) - 0.5 * torch.log(M_syn + 1e-10))  # ln amplitude: (D, T)
    return (10.0 / math.log(10.0)) * torch.sqrt(2.0 * diff.square().sum(0))


def mel_cepstral_distortion(reference: torch.Tensor, synthesis: torch.Tensor, sample_rate: int,
                            n_coefficients: int = 24, speech_db: float = SPEECH_DB) -> float:
    """MCD in dB between two time-aligned waveforms (S,) (the shorter length is used)."""
    reference, synthesis = _paired(reference, synthesis)
    per_frame = mel_cepstral_distortion_frames(reference, synthesis, sample_rate, n_coefficients)
    return float(per_frame[frame_levels(reference, sample_rate) < speech_db].mean())


def mcd_by_level(frames: list[tuple[torch.Tensor, torch.Tensor]], edges: tuple[float, ...] = (0, 10, 20, 30, 40)
                 ) -> dict[str, float]:
    """MCD pooled over the frames of many clips, by the reference frame's level below its clip's loudest
    frame: ``frames`` holds (per-frame MCD, :func:`frame_levels`) of each clip -> {"0-10": dB, ...} (a band
    without frames is left out). It shows where a vocoder's distortion lives: in loud or in quiet speech."""
    mcd = torch.cat([f for f, _ in frames])
    level = torch.cat([b for _, b in frames])
    out = {}
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (level >= lo) & (level < hi)
        if inside.any():
            out[f"{lo:g}-{hi:g}"] = round(float(mcd[inside].mean()), 3)
    return out


def log_spectral_distance_frames(reference: torch.Tensor, synthesis: torch.Tensor, sample_rate: int
                                 ) -> torch.Tensor:
    """LSD in dB of every frame of two time-aligned waveforms -> (T,)."""
    reference, synthesis = _paired(reference, synthesis)
    P_ref, _ = _power_and_mel(reference, sample_rate)
    P_syn, _ = _power_and_mel(synthesis, sample_rate)
    floor = 1e-10
    diff = 10 * torch.log10(P_ref + floor) - 10 * torch.log10(P_syn + floor)  # (F, T)
    return torch.sqrt(diff.square().mean(0))


def log_spectral_distance(reference: torch.Tensor, synthesis: torch.Tensor, sample_rate: int,
                          speech_db: float = SPEECH_DB) -> float:
    """LSD in dB between two time-aligned waveforms (S,)."""
    reference, synthesis = _paired(reference, synthesis)
    per_frame = log_spectral_distance_frames(reference, synthesis, sample_rate)
    return float(per_frame[frame_levels(reference, sample_rate) < speech_db].mean())


# ------------------------------------------------------------------------------------------------
# speech recognition


def slots_grammar(slots: tuple[tuple[str, ...], ...]) -> str:
    """JSGF for sentences of one word from each slot in order (e.g. the GRID pattern)."""
    rules = [f"<slot{i}> = {' | '.join(words)};" for i, words in enumerate(slots)]
    public = " ".join(f"<slot{i}>" for i in range(len(slots)))
    return "#JSGF V1.0;\ngrammar sentences;\npublic <sentence> = " + public + ";\n" + "\n".join(rules) + "\n"


def words_grammar(words: list[str]) -> str:
    """JSGF for any non-empty sequence of the given words."""
    return "#JSGF V1.0;\ngrammar words;\npublic <sentence> = (" + " | ".join(sorted(set(words))) + ")+;\n"


def transcript_words(text: str) -> str:
    """A transcript as the recogniser writes it: normalised (numbers, abbreviations to words), lower case,
    words of letters and apostrophes only ("A dog's 2 toys." -> "a dog's two toys")."""
    from sightsound.text.normalize import normalize

    return " ".join(re.findall(r"[a-z]+(?:'[a-z]+)*", normalize(text)))


class Recognizer:
    """pocketsphinx, with a restricted vocabulary or its English language model. ``Recognizer(slots=GRID_GRAMMAR)``
    (a sentence pattern), ``Recognizer(words=[...])`` (any sequence of those words) or ``Recognizer()`` (open
    vocabulary: the trigram model shipped with pocketsphinx); ``recognizer(wave, sample_rate) -> "bin blue at f
    two now"``. Words missing from its pronouncing dictionary are dropped from a grammar (``missing`` lists
    them). Each call is independent of the calls before it."""

    SAMPLE_RATE = 16000

    def __init__(self, *, slots: tuple[tuple[str, ...], ...] | None = None, words: list[str] | None = None):
        try:
            from pocketsphinx import Decoder, get_model_path
        except ImportError:
            raise UserInputError("word error rates need pocketsphinx (pip install pocketsphinx)") from None
        if slots is not None and words is not None:
            raise ParameterError("give slots (a sentence pattern) or words (a vocabulary), not both")
        model = Path(get_model_path()) / "en-us"
        dictionary = model / "cmudict-en-us.dict"
        self.missing: list[str] = []
        if slots is None and words is None:
            self.decoder = Decoder(hmm=str(model / "en-us"), dict=str(dictionary), lm=str(model / "en-us.lm.bin"),
                                   loglevel="FATAL")
            return
        known = {line.split(maxsplit=1)[0] for line in dictionary.read_text(encoding="utf-8").splitlines() if line}
        vocabulary = [w for s in slots for w in s] if slots is not None else list(words)
        self.missing = sorted({w for w in vocabulary if w not in known})
        if slots is not None:
            slots = tuple(tuple(w for w in s if w in known) for s in slots)
            grammar = slots_grammar(slots)
        else:
            grammar = words_grammar([w for w in words if w in known])
        import tempfile

        with tempfile.NamedTemporaryFile("w", suffix=".gram", delete=False) as handle:
            handle.write(grammar)
        try:
            self.decoder = Decoder(hmm=str(model / "en-us"), dict=str(dictionary), jsgf=handle.name,
                                   loglevel="FATAL")
        finally:
            Path(handle.name).unlink(missing_ok=True)

    def __call__(self, wave: torch.Tensor, sample_rate: int) -> str:
        if sample_rate != self.SAMPLE_RATE:
            wave = AF.resample(wave, sample_rate, self.SAMPLE_RATE)
        pcm = np.clip(wave.detach().cpu().to(torch.float64).numpy() * 32767.0, -32768, 32767).astype(np.int16)
        # every utterance starts from fresh front-end statistics: pocketsphinx's noise removal otherwise
        # carries its noise estimate over from the previous call, so a hypothesis (and every WER) would
        # depend on what was recognised before it
        self.decoder.reinit_feat()
        self.decoder.start_utt()
        self.decoder.process_raw(pcm.tobytes(), full_utt=True)
        self.decoder.end_utt()
        hyp = self.decoder.hyp()
        return hyp.hypstr.strip() if hyp is not None else ""
