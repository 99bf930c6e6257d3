"""Prosody from the CMU Pronouncing Dictionary: syllables, rhyme keys, schemes and rhymes.

A rhyme key is the "rhyming part" of a word: its phones from the last stressed vowel to the end,
without stress digits ("night" -> "AY T"). Two words rhyme perfectly when their keys are equal,
and nearly when their keys share the stressed vowel (the key's first phone). Words missing from
the dictionary (slang, names) go through core/prosody/spelling.py, so every line gets a count and a key.

The dictionary loads once, on first use, behind a lock (about 0.3 s); the rhyme indexes over it
are built only when rhymes are listed (about a second); nothing runs at import.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

from lyrictui.core.prosody import spelling

_LOCK = threading.Lock()
_WORD = re.compile(r"[A-Za-z\u00c0-\u024f0-9]+(?:['\u2019][A-Za-z\u00c0-\u024f]+)*['\u2019]?")
_HEADER = re.compile(r"^\s*\[[^\]]*\]\s*$")
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class _Index:
    by_key: dict[str, list[str]]
    by_vowel: dict[str, list[str]]


@dataclass(frozen=True)
class LineInfo:
    """One scanned line: its syllables and rhyme key (None for blank lines and headers)."""

    text: str
    syllables: int | None
    rhyme_key: str | None
    letter: str | None


_NO_DIGITS = str.maketrans("", "", "0123456789")


def strip_stress(phones: str) -> str:
    return phones.translate(_NO_DIGITS)


# Before R, American English (and songwriters) do not tell these vowels apart: "here" (IY R)
# rhymes with "clear" (IH R), "care" (EH R) with "marry" (EH R) and "bear", "sure" (UH R) with
# "more" (AO R); "fire" is said in one syllable (AY R) as often as in two (AY ER).
_BEFORE_R = [(re.compile(r"^(?:IY|IH) R\b"), "IH R"), (re.compile(r"^(?:EY|EH|AE) R\b"), "EH R"),
             (re.compile(r"^(?:UH|AO|OW) R\b"), "AO R"), (re.compile(r"^(AY|AW) ER\b"), r"\1 R")]


def merge_before_r(key: str) -> str:
    """One spelling for the vowels that merge before R, so such words share a rhyme key."""
    if " R" not in key and " ER" not in key:
        return key  # most keys: nothing to merge (this runs for every dictionary word)
    for pattern, merged in _BEFORE_R:
        key, n = pattern.subn(merged, key)
        if n:
            break
    return key


def key_of_phones(phones: str) -> str:
    """The rhyme key (unstressed phones from the last stressed vowel) of a CMU pronunciation."""
    parts = phones.split()
    for i in range(len(parts) - 1, -1, -1):
        if parts[i][-1] in "12":
            return merge_before_r(strip_stress(" ".join(parts[i:])))
    for i in range(len(parts) - 1, -1, -1):  # no stressed vowel: fall back to the last vowel
        if parts[i][-1].isdigit():
            return merge_before_r(strip_stress(" ".join(parts[i:])))
    return merge_before_r(strip_stress(phones))


@lru_cache(maxsize=1)
def _lookup() -> dict[str, list[str]]:
    """The CMU dictionary (word -> pronunciations), loaded once: what counting syllables and
    keying a line need."""
    with _LOCK:
        import pronouncing

        pronouncing.init_cmu()
        return pronouncing.lookup


def _index() -> _Index:
    """The rhyme indexes over the whole dictionary, built once, only when rhymes are listed
    (about a second: every pronunciation keyed)."""
    _lookup()
    with _LOCK:
        return _build_index()


@lru_cache(maxsize=1)
def _build_index() -> _Index:
    import pronouncing

    lookup: dict[str, list[str]] = pronouncing.lookup
    by_key: dict[str, list[str]] = defaultdict(list)
    by_vowel: dict[str, list[str]] = defaultdict(list)
    word_shape = re.compile(r"[a-z]+(?:'[a-z]+)?")
    for word, phones_list in lookup.items():
        if not word_shape.fullmatch(word):
            continue  # dictionary oddities ("a.'s", "'bout") are useless as rhyme suggestions
        keys = [key_of_phones(p) for p in phones_list]
        for key in dict.fromkeys(keys):  # "read" rhymes with "bed" and with "need"
            by_key[key].append(word)
        if keys[0]:  # near rhymes: the usual pronunciation only, or the lists fill with oddities
            by_vowel[keys[0].split()[0]].append(word)
    return _Index(by_key=dict(by_key), by_vowel=dict(by_vowel))


def normalize_word(word: str) -> str:
    """Lower case, no accents, straight apostrophes; a trailing one stays (goin' -> going)."""
    return spelling.fold(word).replace("\u2019", "'").lstrip("'")


def phones(word: str) -> list[str]:
    """CMU pronunciations of `word` (tried with common lyric spellings: goin' -> going)."""
    lookup = _lookup()
    for variant in spelling.variants(normalize_word(word)):
        if variant in lookup:
            return lookup[variant]
    return []


def word_syllables(word: str) -> int:
    """Syllables of one word: the dictionary's first pronunciation, else a spelling estimate."""
    if spoken := spelling.number_words(word):
        return sum(word_syllables(w) for w in spoken.split())
    found = phones(word)
    if found:
        return max(1, sum(1 for p in found[0].split() if p[-1].isdigit()))
    return spelling.syllables(normalize_word(word))


def rhyme_key(word: str) -> str:
    """The rhyme key of `word`; OOV words get one from spelling (never empty for a real word)."""
    if spoken := spelling.number_words(word):
        return rhyme_key(spoken.split()[-1])
    found = phones(word)
    if found:
        return key_of_phones(found[0])
    norm = normalize_word(word)
    return _analogy_key(norm) or merge_before_r(spelling.rhyme_key(norm))


def _analogy_key(norm: str) -> str | None:
    """The rhyme key most common among dictionary words spelt with the same ending (the
    longest ending of 3-5 letters, with a vowel, that some common word shares): "drizzy" ->
    "frizzy", "dizzy" -> "IH Z IY", so it rhymes with "busy"."""
    letters = re.sub(r"[^a-z]", "", norm)
    index = _suffix_index()
    for size in range(min(5, len(letters) - 1), 2, -1):
        tail = letters[-size:]
        if not any(c in "aeiouy" for c in tail):
            continue
        votes = index.get(tail)
        if votes:
            return max(votes.items(), key=lambda kv: (kv[1], kv[0]))[0]
    return None


@lru_cache(maxsize=1)
def _suffix_index() -> dict[str, dict[str, float]]:
    """Ending (3-5 letters) -> {rhyme key: summed frequency} over common dictionary words."""
    from lyrictui.core.prosody.lexicon import zipf

    lookup = _lookup()
    index: dict[str, dict[str, float]] = defaultdict(dict)
    for word, phones_list in lookup.items():
        if not word.isalpha() or len(word) < 4:
            continue
        weight = zipf(word)
        if weight < 2.5:
            continue
        key = key_of_phones(phones_list[0])
        for size in (3, 4, 5):
            if len(word) > size:
                votes = index[word[-size:]]
                votes[key] = votes.get(key, 0.0) + weight
    return dict(index)


def words(line: str) -> list[str]:
    return _WORD.findall(line)


def is_header(line: str) -> bool:
    """A section header such as [Chorus] or [Verse 2: Name]."""
    return bool(_HEADER.match(line))


def line_syllables(line: str) -> int:
    """Syllables in a line of lyrics (0 for a blank line or a section header)."""
    if is_header(line):
        return 0
    return sum(word_syllables(w) for w in words(line))


def line_rhyme_key(line: str) -> str | None:
    """Rhyme key of the line's last word, or None for a blank line or a header."""
    found = [] if is_header(line) else words(line)
    return rhyme_key(found[-1]) if found else None


def rhyme_kind(key_a: str | None, key_b: str | None) -> str | None:
    """'perfect' for equal keys, 'near' when the stressed vowel matches, else None."""
    if not key_a or not key_b:
        return None
    if key_a == key_b:
        return "perfect"
    return "near" if key_a.split()[0] == key_b.split()[0] else None


def scheme(lines: list[str], *, near: bool = False) -> list[str | None]:
    """Rhyme-scheme letters (A, B, ...) for a stanza; blank lines and headers get None.

    A line takes the letter of the first earlier line it rhymes with (perfectly, or also nearly
    when `near`), otherwise the next unused letter.
    """
    letters: list[str | None] = []
    seen: list[tuple[str, str]] = []  # (key, letter) in order of first appearance
    for line in lines:
        key = line_rhyme_key(line)
        if key is None:
            letters.append(None)
            continue
        letter = next((lt for k, lt in seen if k == key), None)
        if letter is None and near:
            letter = next((lt for k, lt in seen if rhyme_kind(k, key)), None)
        if letter is None:
            n = len({lt for _k, lt in seen})
            letter = _LETTERS[n % 26] + ("'" * (n // 26))
        seen.append((key, letter))
        letters.append(letter)
    return letters


def scan(text: str, *, near: bool = False) -> list[LineInfo]:
    """Every line of a song with syllables and rhyme letter; letters restart at each stanza."""
    result: list[LineInfo] = []
    stanza: list[str] = []

    def flush() -> None:
        for line, letter in zip(stanza, scheme(stanza, near=near), strict=True):
            result.append(LineInfo(line, line_syllables(line), line_rhyme_key(line), letter))
        stanza.clear()

    for line in text.replace("\r\n", "\n").split("\n"):
        if not line.strip() or is_header(line):
            flush()
            result.append(LineInfo(line, None, None, None))
        else:
            stanza.append(line)
    flush()
    return result


def rhymes(word: str, *, near: bool = False, limit: int = 60) -> list[str]:
    """Perfect rhymes of `word` (or near rhymes: same stressed vowel, different ending).

    Common words only (wordfreq, no names or abbreviations; see core/prosody/rhymeset.py for
    the artist's own words and groups by syllables), the most frequent first.
    """
    from lyrictui.core.prosody import rhymeset

    if near:
        return rhymeset.near_rhymes(word, limit=limit)
    return rhymeset.perfect_rhymes(word)[:limit]
