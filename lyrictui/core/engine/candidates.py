"""Suggestion results, the constraints (rhyme, syllables) they are judged by, and the ranking.

The locks hold by construction (core/engine/planner.py); `rank` annotates each line and
`pick` orders them: lines that meet every lock first (a perfect rhyme, the exact syllables),
near ones after, then by the model's mean log-probability per token, keeping the list diverse
(no two lines end on the same word, at most two start with the same one).
"""

from __future__ import annotations

from dataclasses import dataclass

from lyrictui.core import prosody
from lyrictui.core.errors import InvalidInput

MAX_SAME_OPENING = 2


@dataclass(frozen=True)
class Candidate:
    """One suggested next line, annotated for the composer."""

    text: str
    syllables: int
    rhyme_key: str | None
    verbatim: bool | None
    """True if the line appears in the artist's training lyrics (None: no lyrics to check)."""
    score: float
    """Ranking score: the mean token log-probability (the order within a fit class)."""
    logprob: float
    """Mean log-probability per token under the model (higher is more natural)."""
    rhyme: str | None = None
    """With rhyme_with: "perfect", "near", "identical" (same word) or None."""
    fits: bool | None = None
    """With constraints: whether the line meets all of them (None when none were asked)."""
    continuation: str | None = None
    """Completion (`complete=True`): the text to insert at the cursor; `text` is the whole line."""


@dataclass(frozen=True)
class WordChoice:
    """A possible next word and its probability under the model."""

    word: str
    probability: float


@dataclass(frozen=True)
class Constraints:
    rhyme_key: str | None = None
    rhyme_word: str | None = None
    syllables: int | None = None
    tolerance: int = 0

    @property
    def active(self) -> bool:
        return self.rhyme_key is not None or self.syllables is not None

    @classmethod
    def build(cls, song: str, rhyme_with: int | str | None, syllables: int | None,
              tolerance: int) -> Constraints:
        """Resolve `rhyme_with` (a 1-based line number of `song`, or a word) into a rhyme key."""
        if syllables is not None and not 1 <= syllables <= 64:
            raise InvalidInput(f"a line of {syllables} syllables is out of range (1-64)")
        if not 0 <= tolerance <= 16:
            raise InvalidInput(f"syllable tolerance must be 0-16, not {tolerance}")
        key = word = None
        if isinstance(rhyme_with, str) and rhyme_with.strip().isdigit():
            rhyme_with = int(rhyme_with.strip())
        if isinstance(rhyme_with, int):
            lines = song.split("\n")
            if song.endswith("\n"):
                lines = lines[:-1]
            if not 1 <= rhyme_with <= len(lines):
                raise InvalidInput(f"no line {rhyme_with} to rhyme with: the song has "
                                   f"{len(lines)} line{'s' if len(lines) != 1 else ''}")
            found = [] if prosody.is_header(lines[rhyme_with - 1]) else prosody.words(lines[rhyme_with - 1])
            if not found:
                raise InvalidInput(f"line {rhyme_with} is blank or a header: nothing to rhyme with")
            word = found[-1]
        elif isinstance(rhyme_with, str):
            found = prosody.words(rhyme_with)
            if not found:
                raise InvalidInput(f"{rhyme_with!r} has no word to rhyme with")
            word = found[-1]
        if word is not None:
            key = prosody.rhyme_key(word)
        return cls(key, prosody.normalize_word(word) if word else None, syllables, tolerance)


def rank(line: str, logprob: float, constraints: Constraints, verbatim: bool | None,
         continuation: str | None = None) -> Candidate:
    """Annotate a line with prosody and whether it meets the constraints."""
    syllables = prosody.line_syllables(line)
    key = prosody.line_rhyme_key(line)
    fits, kind = None, None
    if constraints.rhyme_key is not None:
        kind = prosody.rhyme_kind(constraints.rhyme_key, key)
        last = prosody.words(line)
        if last and prosody.normalize_word(last[-1]) == constraints.rhyme_word:
            kind = "identical"  # rhyming a word with itself is the weakest rhyme
        fits = kind == "perfect"
    if constraints.syllables is not None:
        off = abs(syllables - constraints.syllables)
        fits = (fits is not False) and off <= constraints.tolerance
    return Candidate(line, syllables, key, verbatim, logprob, logprob, kind, fits, continuation)


def end_word(line: str) -> str:
    found = prosody.words(line)
    return prosody.normalize_word(found[-1]) if found else ""


def pick(found: list[Candidate], n: int, syllables: int | None = None) -> list[Candidate]:
    """The best `n`: lines that meet every lock first (exact syllables before near counts,
    perfect rhymes before near ones), then by score; no two ending on the same word, at most
    MAX_SAME_OPENING starting with the same one."""

    def order(c: Candidate) -> tuple:
        off = abs(c.syllables - syllables) if syllables is not None else 0
        return (c.fits is False, c.rhyme == "near", off, -c.score)

    chosen: list[Candidate] = []
    endings: set[str] = set()
    openings: dict[str, int] = {}
    for c in sorted(found, key=order):
        words = prosody.words(c.text)
        ending, opening = end_word(c.text), prosody.normalize_word(words[0]) if words else ""
        if ending in endings or openings.get(opening, 0) >= MAX_SAME_OPENING:
            continue
        chosen.append(c)
        endings.add(ending)
        openings[opening] = openings.get(opening, 0) + 1
        if len(chosen) == n:
            break
    return chosen
