"""Which strings are words: the CMU dictionary, wordfreq's English list, the artist's own lyrics.

Suggestions use it twice. While a line is sampled, every piece must keep the word being spelt a
prefix of some word (`Lexicon.is_prefix`) and a word may only end where it is a whole word
(`Lexicon.is_word`), so glued word pieces (`'we'Twill`, `an'I`, `a-fo`, `-w`) never form. After
sampling, `Lexicon.clean_line` is the final check. Rhyme and end-word sets keep only common
words (`Lexicon.common`): frequent in wordfreq, not a name, or used by the artist.

The word lists load once, lazily (about half a second); nothing runs at import.
"""

from __future__ import annotations

import bisect
import math
import re
import threading
from collections.abc import Iterable
from functools import lru_cache

from lyrictui.core.prosody import spelling

LONE_LETTERS = frozenset({"a", "i", "o"})
WORD_ZIPF = 2.0
"""wordfreq words at least this frequent (Zipf scale, 2 = once per 10 million words) are words."""
COMMON_ZIPF = 3.0
"""Rhyme and end-word suggestions: at least this frequent, or used by the artist."""
OOV_ZIPF = 3.0
"""A word wordfreq knows but the CMU dictionary does not must be this frequent to be a word
(below it wordfreq's list holds fragments such as "ced", "gle", "agh")."""
OWN_RHYME_USES = 2
"""An artist's word that is not common (rare, a name, one the dictionaries lack) is offered as
a rhyme or an ending only when the artist uses it this often (a word used once in a large
corpus is more often a typo or an archaism than the artist's slang)."""
_SHAPE = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*'?|'[a-z]+(?:'[a-z]+)*")
_SPLIT = re.compile(r"\s+|\u2014|--")
_TRAIL = ",.;:!?\"\u201d\u2019)]}\u2026"
_LEAD = "\"\u201c\u2018([{"
_LOCK = threading.Lock()


def fold(word: str) -> str:
    """Lower case, no accents, straight apostrophes."""
    return spelling.fold(word).replace("\u2019", "'").replace("\u2018", "'")


@lru_cache(maxsize=1)
def _frequencies() -> dict[str, float]:
    import wordfreq

    return wordfreq.get_frequency_dict("en")


def zipf(word: str) -> float:
    """wordfreq's Zipf frequency of the exact (folded) word; 0 when unknown."""
    freq = _frequencies().get(fold(word), 0.0)
    return math.log10(freq) + 9 if freq > 0 else 0.0


@lru_cache(maxsize=1)
def _capitalized_only() -> frozenset[str]:
    """Words GPT-2's vocabulary knows only with a capital (" Johnson" but no " johnson"):
    names, months, places. Read from the list derived from it (assets/lexicon/NOTE.md), which
    does not depend on the tokenizer the bundled starter ships."""
    from importlib import resources

    try:
        text = (resources.files("lyrictui") / "assets" / "lexicon" / "capitalized.txt").read_text(
            encoding="utf-8")
    except OSError:
        return frozenset()
    return frozenset(w for w in text.split() if w)


@lru_cache(maxsize=1)
def _base() -> tuple[frozenset[str], list[str]]:
    """(words, the same sorted) from the CMU dictionary and wordfreq."""
    from lyrictui.core import prosody

    lookup = prosody._lookup()
    with _LOCK:
        floor = 10 ** (WORD_ZIPF - 9)
        found = set()
        for word in lookup:
            if _SHAPE.fullmatch(word) and (len(word) > 1 or word in LONE_LETTERS):
                found.add(word)
        oov_floor = 10 ** (OOV_ZIPF - 9)
        for word, freq in _frequencies().items():
            if freq >= (floor if word in lookup else oov_floor) and _SHAPE.fullmatch(word) and (
                    len(word) > 2 or word in LONE_LETTERS or (len(word) == 2 and freq >= 1e-5)):
                found.add(word)
        return frozenset(found), sorted(found)


def _has_prefix(sorted_words: list[str], prefix: str) -> bool:
    i = bisect.bisect_left(sorted_words, prefix)
    return i < len(sorted_words) and sorted_words[i].startswith(prefix)


class Lexicon:
    """The words a suggestion may use: the dictionaries' plus `extra` (the artist's own)."""

    def __init__(self, extra: Iterable[str] = ()) -> None:
        own: dict[str, int] = {}
        for text in extra:
            for token in _SPLIT.split(text):
                core = fold(token).strip(_TRAIL + _LEAD + "'-")
                if core and _SHAPE.fullmatch(core):
                    own[core] = own.get(core, 0) + 1
        self.extra = frozenset(own)
        self.uses = own
        """How often the artist uses each of their words."""
        self._extra_sorted = sorted(own)
        self._extra_keys: dict[str, list[str]] | None = None

    def extra_by_rhyme_key(self) -> dict[str, list[str]]:
        """The artist's own words (letters only) by rhyme key, computed once per lexicon (a
        rhyme request would otherwise key every word of the artist's songs each time)."""
        if self._extra_keys is None:
            from lyrictui.core import prosody

            index: dict[str, list[str]] = {}
            for w in self._extra_sorted:
                if w.isalpha():
                    index.setdefault(prosody.rhyme_key(w), []).append(w)
            self._extra_keys = index
        return self._extra_keys

    @staticmethod
    def warm() -> None:
        """Load the word lists now (a worker can call this before the first request), and the
        ending index that rhymes words the dictionary lacks (about 1 s once)."""
        from lyrictui.core import prosody

        _base()
        _capitalized_only()
        prosody._suffix_index()

    # -- single words ----------------------------------------------------------------------

    def is_word(self, word: str) -> bool:
        """Whether `word` (as written in a line, without surrounding punctuation) is a word."""
        w = fold(word)
        if not w:
            return False
        if w in self.extra and (len(w) > 1 or w in LONE_LETTERS):
            return True  # the artist's own word (a lone "c" in their lyrics is not one)
        if "-" in w:
            parts = w.split("-")
            if any(not p for p in parts):
                return False
            if any("'" in p for p in parts[:-1]):
                return False  # "go'-w's": glued pieces, not a compound
            if len(parts) > 2 or parts[0] in _NOT_FIRST or not all(
                    p in self.extra or zipf(p.split("'")[0]) >= COMMON_ZIPF for p in parts):
                return False  # "great-mink-day", "wintry-tide", "and-groom": not compounds
            return all(self._simple(p) and (len(p) > 1 or (p == "a" and i + 1 < len(parts)
                                                           and parts[i + 1].endswith("ing")))
                       for i, p in enumerate(parts))
        return self._simple(w)

    def _simple(self, w: str) -> bool:
        if w in self.extra and (len(w) > 1 or w in LONE_LETTERS):
            return True
        if w.isdigit():
            return len(w) <= 4 and (w == "0" or w[0] != "0")  # "99", "1999"; not "0004"
        if len(w.replace("'", "")) <= 1:
            return w in LONE_LETTERS  # "w", "'t" alone are pieces
        if len(w.split("'")[0]) == 1 and w[0] != "i" and zipf(w) < COMMON_ZIPF:
            return False  # "w's", "a's": a lone letter glued to a clitic ("I'm" is a word)  # "w's", "s'pose" aside: a lone letter glued to a clitic
        if not _SHAPE.fullmatch(w):
            return False
        words = _base()[0]
        if w in words:
            return True
        if "'" in w:
            if any(v in words for v in spelling.variants(w)):
                return True  # goin' -> going, 'bout -> bout
            # A clitic form is a word when the lists hold it ("heart's", "she'll"), not on
            # any stem ("fell'd", "groan's", "tis'd"); the artist's own names and slang take
            # a possessive ("Drizzy's").
            stem = w[:-2]
            if w.endswith("'s") and stem in self.extra and stem not in words:
                return True
        return False

    def is_prefix(self, partial: str) -> bool:
        """Whether some word starts with `partial` (the last hyphen-separated part is checked)."""
        p = fold(partial).rsplit("-", 1)[-1]
        if not p or p.isdigit():
            return True
        if "''" in p:
            return False
        if _has_prefix(_base()[1], p) or _has_prefix(self._extra_sorted, p):
            return True
        if p.endswith("'"):  # a dropped letter ("goin'") or a clitic still to come ("don'")
            stem = p[:-1]
            return bool(stem) and (self._simple(stem) or self._simple(stem + "g")
                                   or _has_prefix(_base()[1], p))
        if "'" in p:  # a possessive of the artist's own word being spelt: "drizzy's"
            stem, _, tail = p.rpartition("'")
            return stem in self.extra and stem not in _base()[0] and "s".startswith(tail)
        return False

    def completions(self, partial: str, limit: int = 400) -> list[str]:
        """Up to `limit` words (folded) that start with `partial` and are longer than it: the
        ways a word half spelt can still end (the artist's own words first)."""
        p = fold(partial)
        if not p or not all(c.isalnum() or c == "'" for c in p):
            return []
        found: dict[str, None] = {}  # ordered, and a membership test that does not scan
        for words in (self._extra_sorted, _base()[1]):
            i = bisect.bisect_left(words, p)
            while i < len(words) and len(found) < limit and words[i].startswith(p):
                if len(words[i]) > len(p):
                    found[words[i]] = None
                i += 1
        return list(found)

    def common(self, word: str) -> bool:
        """A word to offer as a rhyme or an ending: the artist's own, or a frequent word that
        is not a name (GPT-2 knows it only capitalized) or an abbreviation."""
        w = fold(word)
        if w in self.extra and self.uses.get(w, 0) >= OWN_RHYME_USES:
            return True  # a word the artist uses (more than once: once may be a typo)
        if not w.isalpha() and not _SHAPE.fullmatch(w):
            return False
        if len(w) < 3 and w not in _SHORT_COMMON:
            return False
        return zipf(w) >= COMMON_ZIPF and w not in _capitalized_only()

    # -- lines -----------------------------------------------------------------------------

    def clean_line(self, line: str) -> bool:
        """False for junk: leading punctuation, a quotation mark left open or never opened,
        punctuation piled up (`eye. --" you`), or any part that is not a word."""
        text = line.strip()
        if not text:
            return False
        if text.count('"') % 2 or text.count("\u201c") != text.count("\u201d"):
            return False  # half a quotation: a piece of some other line's speech
        if _PILED.search(text):
            return False
        if not text[0].isalnum():  # leading punctuation, except a word such as 'Tis
            first = text.split()[0].rstrip(_TRAIL)
            if not (text[0] in "'\u2019" and len(first) > 3 and first[1:].isascii()
                    and first[1:].isalpha() and self.is_word(first)):
                return False
        for token in _SPLIT.split(text):
            core = token.lstrip(_LEAD).rstrip(_TRAIL)
            if core.endswith("'") and not self.is_word(core):
                core = core.rstrip("'")  # a closing quote
            if not core:
                continue
            if not self.is_word(core) or not cased(core):
                return False
        return True


_PILED = re.compile(r"[.,;:!?]\s+(?:-{2,}|[\u2014\u2013])\s*[\"\u201c\u201d]|"
                    r"(?:-{2,}|[\u2014\u2013])\s*[\"\u201c\u201d]\s+[a-z]|"
                    r"[.,;:!?]\s+[.,;:!?]")
"""Marks piled between words, as verse prose leaves them mid-line: `. --"`, `--" you`,
`wind. . . ..`."""


def cased(word: str) -> bool:
    """Lower, UPPER or Title case: "anD" or "tHe" are pieces glued mid-word."""
    letters = word.replace("'", "").replace("-", "").replace("\u2019", "")
    return not letters or letters.islower() or letters.isupper() or letters.istitle() or (
        letters.isdigit())


_NOT_FIRST = frozenset("and or but nor the of as if than".split())
"""Words no compound starts with ("and-groom")."""
_SHORT_COMMON = frozenset(
    "me my we he so no go do to be by up us oh ya yo hi in on at it is as an or of if am ma pa"
    " ah ay".split())
