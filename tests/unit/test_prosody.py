"""Prosody: syllables, rhyme keys, schemes and rhymes from the CMU dictionary, with fallbacks."""

from __future__ import annotations

import pytest

from lyrictui.core import prosody
from lyrictui.core.prosody import spelling


@pytest.mark.parametrize(
    ("word", "count"),
    [("love", 1), ("fire", 2), ("beautiful", 3), ("everybody", 4), ("Beyoncé", 3),
     ("goin'", 2), ("sooo", 1), ("24", 3), ("hmm", 1)],
)
def test_word_syllables(word, count):
    assert prosody.word_syllables(word) == count


@pytest.mark.parametrize(
    ("word", "count"),
    [("tryna", 2), ("finna", 2), ("drizzy", 2), ("skrrt", 1), ("brrr", 1), ("shawty", 2),
     ("lemme", 2), ("gimme", 2), ("Kendrick", 2), ("gotta", 2), ("flexin", 2)],
)
def test_out_of_dictionary_words_get_a_count_and_a_key(word, count):
    assert prosody.word_syllables(word) == count
    assert prosody.rhyme_key(word)


def test_rhyme_keys_from_the_dictionary():
    assert prosody.rhyme_key("night") == "AY T"
    assert prosody.rhyme_key("Light!") == prosody.rhyme_key("tonight")
    assert prosody.rhyme_key("purple") == "ER P AH L"
    assert prosody.rhyme_key("day") != prosody.rhyme_key("night")


def test_spelling_keys_use_dictionary_symbols_so_oov_words_can_rhyme():
    assert spelling.rhyme_key("drizzy") == prosody.rhyme_key("busy").split()[-1]  # "IY"
    assert spelling.rhyme_key("brr") == "ER"
    assert spelling.rhyme_key("flake") == prosody.rhyme_key("flake")  # silent e: "EY K"
    assert spelling.rhyme_key("blight") == prosody.rhyme_key("blight")  # "igh": "AY T"


def test_line_syllables_and_key():
    line = "I'm tryna find a way, yeah!"
    assert prosody.line_syllables(line) == 7
    assert prosody.line_rhyme_key(line) == prosody.rhyme_key("yeah")
    assert prosody.line_rhyme_key("   ") is None
    assert prosody.line_syllables("[Chorus]") == 0 and prosody.line_rhyme_key("[Chorus]") is None


@pytest.mark.parametrize(
    ("stanza", "letters"),
    [
        (["I walk along the road all day", "I never wanna stay away",
          "The stars are shining in the night", "I hold you close and hold you tight"], "AABB"),
        (["Roses are red", "Violets are blue", "I'm in my bed", "Thinking of you"], "ABAB"),
        (["Take my hand", "We will run", "Towards the sun", "Where we stand"], "ABBA"),
        (["Go", "Slow", "Flow", "Know"], "AAAA"),
        (["One line", "Another one", "Nothing rhymes here", "At all today"], "ABCD"),
    ],
)
def test_rhyme_scheme(stanza, letters):
    assert "".join(prosody.scheme(stanza)) == letters


def test_scheme_with_near_rhymes():
    stanza = ["I feel the pain", "It's all the same", "Out in the rain", "Call my name"]
    assert "".join(prosody.scheme(stanza)) == "ABAB"
    assert "".join(prosody.scheme(stanza, near=True)) == "AAAA"


def test_scan_restarts_letters_at_each_stanza_and_skips_headers():
    text = "[Verse]\nI walk all day\nI find my way\n\n[Chorus]\nWe run tonight\nThe stars are bright\n"
    rows = prosody.scan(text)
    sung = [r for r in rows if r.syllables is not None]
    assert [r.letter for r in sung] == ["A", "A", "A", "A"]
    assert [r.text for r in rows if r.syllables is None] == ["[Verse]", "", "[Chorus]", ""]
    assert sung[0].syllables == 4 and sung[2].rhyme_key == "AY T"


def test_perfect_rhymes_are_sorted_with_common_words_first():
    found = prosody.rhymes("night", limit=30)
    assert found and "night" not in found
    assert all(prosody.rhyme_key(w) == "AY T" for w in found)
    assert {"light", "right", "fight"} <= set(found[:10])
    assert found.index("light") < found.index("wight") if "wight" in found else True


def test_near_rhymes_share_the_vowel_and_exclude_perfect_ones():
    near = prosody.rhymes("day", near=True, limit=50)
    perfect = set(prosody.rhymes("day", limit=500))
    assert near and not set(near) & perfect
    assert all(prosody.rhyme_kind("EY", prosody.rhyme_key(w)) for w in near[:20])
    assert {"make", "name"} & set(near[:20])


@pytest.mark.parametrize("a, b", [("here", "clear"), ("near", "year"), ("sure", "more"),
                                  ("your", "door"), ("fire", "higher"), ("hour", "power"),
                                  ("care", "bear")])
def test_vowels_that_merge_before_r_rhyme(a: str, b: str) -> None:
    assert prosody.rhyme_kind(prosody.rhyme_key(a), prosody.rhyme_key(b)) == "perfect"
    assert b in prosody.rhymes(a, limit=2000)


def test_the_merge_keeps_distinct_r_vowels_apart() -> None:
    assert prosody.rhyme_kind(prosody.rhyme_key("here"), prosody.rhyme_key("hair")) is None
    assert prosody.rhyme_kind(prosody.rhyme_key("star"), prosody.rhyme_key("more")) is None
    assert prosody.scheme(["I see you here", "the sky is clear", "no one is there",
                           "with words to spare"]) == list("AABB")
