"""Suggestion results and the constraints (rhyme, syllables) that rank them."""

from __future__ import annotations

from dataclasses import dataclass

from lyrictui.core import prosody
from lyrictui.core.errors import InvalidInput

RHYME_FIT = {"perfect": 1.0, "near": 0.5, "identical": 0.25, None: 0.0}


@dataclass(frozen=True)
class Candidate:
    """One suggested next line, annotated for the composer."""

    text: str
    syllables: int
    rhyme_key: str | None
    verbatim: bool | None
    """True if the line appears in the artist's training lyrics (None: no lyrics to check)."""
    score: float
    """Ranking score: the mean token log-probability, plus bonuses for fitting constraints."""
    logprob: float
    """Mean log-probability per token under the model (higher is more natural)."""
    rhyme: str | None = None
    """With rhyme_with: "perfect", "near", "identical" (same word) or None."""
    fits: bool | None = None
    """With constraints: whether the line meets all of them (None when none were asked)."""


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
    tolerance: int = 1

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


def rank(line: str, logprob: float, constraints: Constraints, verbatim: bool | None) -> Candidate:
    """Annotate a sampled line with prosody and score it against the constraints."""
    syllables = prosody.line_syllables(line)
    key = prosody.line_rhyme_key(line)
    score, fits, kind = logprob, None, None
    if constraints.rhyme_key is not None:
        kind = prosody.rhyme_kind(constraints.rhyme_key, key)
        last = prosody.words(line)
        if last and prosody.normalize_word(last[-1]) == constraints.rhyme_word:
            kind = "identical"  # rhyming a word with itself is the weakest rhyme
        score += 3.0 * RHYME_FIT[kind]
        fits = kind == "perfect"
    if constraints.syllables is not None:
        off = max(0, abs(syllables - constraints.syllables) - constraints.tolerance)
        score += 2.0 * max(0.0, 1.0 - off / 4)
        fits = (fits is not False) and off == 0
    return Candidate(line, syllables, key, verbatim, score, logprob, kind, fits)


def pick(found: list[Candidate], n: int) -> list[Candidate]:
    """The best `n`: lines that fit every constraint first, then by score."""
    return sorted(found, key=lambda c: (c.fits is not True, -c.score))[:n]
