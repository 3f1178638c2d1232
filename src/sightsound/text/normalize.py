"""Text normalisation for speech synthesis: what a reader says, in lower-case words.

``normalize("Dr. Smith paid $3.50 on the 21st, 2019!")`` -> ``"doctor smith paid three dollars fifty cents on the
twenty first, twenty nineteen!"``. Steps: Unicode to ASCII (accents dropped, curly quotes and dashes
straightened), abbreviations, currency, percentages, ordinals, decimals, years, cardinals, then only
letters, spaces and the punctuation a reader pauses at (``, . ! ? ; : ' -``) are kept.
"""

from __future__ import annotations

import re
import unicodedata

ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
        "seventeen eighteen nineteen").split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"), (100, "hundred"))
ORDINAL_WORDS = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
                 "nine": "ninth", "twelve": "twelfth"}
ABBREVIATIONS = {
    "mr": "mister", "mrs": "misses", "ms": "miss", "dr": "doctor", "st": "saint", "jr": "junior", "sr": "senior",
    "prof": "professor", "capt": "captain", "gen": "general", "lt": "lieutenant", "col": "colonel", "sgt": "sergeant",
    "mt": "mount", "ft": "fort", "vs": "versus", "etc": "et cetera", "no": "number", "co": "company",
}
PUNCTUATION = ",.!?;:'-"
UNICODE_REPLACEMENTS = {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": " - ",
                        "\u2026": "...", "&": " and ", "\u00a0": " "}


def number_to_words(n: int) -> str:
    """Cardinal: 1234 -> "one thousand two hundred thirty four"; negatives get "minus"."""
    if n < 0:
        return "minus " + number_to_words(-n)
    if n < 20:
        return ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return TENS[tens] + ("" if ones == 0 else " " + ONES[ones])
    for value, name in SCALES:
        if n >= value:
            head, rest = divmod(n, value)
            return number_to_words(head) + " " + name + ("" if rest == 0 else " " + number_to_words(rest))
    raise AssertionError("unreachable")


def ordinal_words(n: int) -> str:
    """21 -> "twenty first", 100 -> "one hundredth"."""
    words = number_to_words(n).split()
    last = words[-1]
    if last in ORDINAL_WORDS:
        words[-1] = ORDINAL_WORDS[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return " ".join(words)


def year_words(n: int) -> str:
    """Four-digit years as read: 1984 -> "nineteen eighty four", 2000 -> "two thousand", 2019 -> "twenty nineteen"."""
    if n % 1000 == 0 or 2000 <= n < 2010:
        return number_to_words(n)
    head, tail = divmod(n, 100)
    if tail == 0:
        return number_to_words(head) + " hundred"
    return number_to_words(head) + " " + ("oh " + ONES[tail] if tail < 10 else number_to_words(tail))


def _money(match: re.Match) -> str:
    dollars = int(match.group(1).replace(",", ""))
    cents = int((match.group(2) or "0").ljust(2, "0")[:2])
    parts = []
    if dollars or not cents:
        parts.append(f"{number_to_words(dollars)} dollar{'s' if dollars != 1 else ''}")
    if cents:
        parts.append(f"{number_to_words(cents)} cent{'s' if cents != 1 else ''}")
    return " ".join(parts)


def _decimal(match: re.Match) -> str:
    whole, frac = match.group(1).replace(",", ""), match.group(2)
    return number_to_words(int(whole)) + " point " + " ".join(ONES[int(d)] for d in frac)


def _cardinal(match: re.Match) -> str:
    text = match.group(0)
    plain = text.replace(",", "")
    value = int(plain)
    if "," not in text and len(plain) == 4 and 1100 <= value <= 2099:
        return year_words(value)
    return number_to_words(value)


def to_ascii(text: str) -> str:
    """Unicode -> ASCII: typographic quotes and dashes straightened, accents dropped, the rest removed."""
    for old, new in UNICODE_REPLACEMENTS.items():
        text = text.replace(old, new)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if ord(c) < 128)


def normalize(text: str) -> str:
    """Raw text -> lower-case words and pause punctuation (see the module docstring)."""
    text = to_ascii(text)
    text = re.sub(r"\b([A-Za-z]+)\.", lambda m: ABBREVIATIONS.get(m.group(1).lower(), m.group(0)), text)
    text = re.sub(r"\$\s?(\d[\d,]*)(?:\.(\d+))?", _money, text)
    text = re.sub(r"(\d+(?:\.\d+)?)\s?%", lambda m: m.group(1) + " percent", text)
    text = re.sub(r"\b(\d+)(st|nd|rd|th)\b", lambda m: ordinal_words(int(m.group(1))), text, flags=re.I)
    text = re.sub(r"(\d[\d,]*)\.(\d+)", _decimal, text)
    text = re.sub(r"\d{1,3}(?:,\d{3})+|\d+", _cardinal, text)
    text = text.lower()
    text = re.sub(rf"[^a-z{re.escape(PUNCTUATION)}\s]", " ", text)
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\s+([,.!?;:])", r"\1", text)
    return text
