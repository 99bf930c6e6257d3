"""Rhymes for people and for the suggestion engine: common words first, grouped.

    groups = rhyme_groups("love", Lexicon(artist_lyrics))
    groups.perfect          # [(1, ["of", "glove", ...]), (2, ["above", ...])]: by syllables
    groups.near             # same stressed vowel, different ending, most alike first

Perfect rhymes share the rhyme key (core/prosody/__init__.py); near rhymes share the stressed
vowel and are ordered by how much of the ending they share. Only common words (`Lexicon.common`)
are kept, plus the artist's own words that rhyme (so an artist's slang and names survive).
Words the CMU dictionary lacks ("drizzy") get their key from dictionary words spelt alike.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from lyrictui.core import prosody
from lyrictui.core.prosody.lexicon import Lexicon, fold, zipf


@dataclass(frozen=True)
class RhymeGroups:
    """Rhymes of one word, each group common words first."""

    word: str
    rhyme_key: str
    perfect: list[tuple[int, list[str]]]
    """(syllables, words) for each syllable count, fewest syllables first."""
    near: list[tuple[int, list[str]]]

    def flat(self, *, near: bool = False) -> list[str]:
        """One list, common words first across the syllable groups."""
        groups = self.near if near else self.perfect
        return sorted((w for _s, ws in groups for w in ws), key=lambda w: (-zipf(w), w))


def _order(words: set[str], target_syllables: int) -> list[str]:
    return sorted(words, key=lambda w: (-round(zipf(w), 1), abs(prosody.word_syllables(w)
                                                                 - target_syllables), w))


def _key_stress(pronunciations: list[str]) -> set[str]:
    """The stress (1 primary, 2 secondary) of the vowel each rhyme key starts from: "night"
    (AY1 T) and "parasite" (AY2 T) share a key but are not a full rhyme."""
    found = set()
    for phones in pronunciations:
        digits = [p[-1] for p in phones.split() if p[-1] in "12"]
        if digits:
            found.add(digits[-1])
    return found


def perfect_rhymes(word: str, lexicon: Lexicon | None = None) -> list[str]:
    """Common words (and the artist's) with the same rhyme key as `word`, never `word` itself."""
    lexicon = lexicon or Lexicon()
    target = fold(word)
    key = prosody.rhyme_key(word)
    index = prosody._index()
    stress = _key_stress(prosody.phones(word))
    pool = {w for w in index.by_key.get(key, []) if lexicon.common(w)
            and (not stress or stress & _key_stress(prosody.phones(w)))}
    pool |= {w for w in lexicon.extra_by_rhyme_key().get(key, ()) if lexicon.common(w)
             and (not stress or not prosody.phones(w) or stress & _key_stress(prosody.phones(w)))}
    pool.discard(target)
    return _order(pool, prosody.word_syllables(word))


def near_rhymes(word: str, lexicon: Lexicon | None = None, limit: int = 200) -> list[str]:
    """Common words with the same stressed vowel but another ending, most alike first."""
    lexicon = lexicon or Lexicon()
    key = prosody.rhyme_key(word)
    parts = key.split()
    index = prosody._index()
    perfect = set(index.by_key.get(key, []))
    pool = {w for w in index.by_vowel.get(parts[0], []) if w not in perfect and lexicon.common(w)}
    pool.discard(fold(word))

    def likeness(w: str) -> tuple:
        other = prosody.rhyme_key(w).split()
        same_tail = other[-1:] == parts[-1:]
        return (-(same_tail + (len(other) == len(parts))), -round(zipf(w), 1), w)

    return sorted(pool, key=likeness)[:limit]


def _grouped(words: list[str]) -> list[tuple[int, list[str]]]:
    by: dict[int, list[str]] = defaultdict(list)
    for w in words:
        by[prosody.word_syllables(w)].append(w)
    return sorted(by.items())


def rhyme_groups(word: str, lexicon: Lexicon | None = None, *, limit: int = 60) -> RhymeGroups:
    """Perfect and near rhymes of `word`, grouped by syllables, common words first; at most
    `limit` words in each of the two kinds."""
    perfect = perfect_rhymes(word, lexicon)[:limit]
    near = near_rhymes(word, lexicon, limit)
    return RhymeGroups(word, prosody.rhyme_key(word), _grouped(perfect), _grouped(near))
