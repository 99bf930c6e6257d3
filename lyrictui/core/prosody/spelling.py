"""Spelling-based prosody for words the CMU dictionary lacks ("tryna", "finna", names, "skrrt").

Rough by nature: syllables from vowel groups with the usual silent-e rules, and a rhyme key
written in the dictionary's own phone symbols (so an OOV word can still rhyme with a known
one: "drizzy" -> "IY" like "busy"'s ending). Used by core/prosody/__init__.py only as a fallback.
"""

from __future__ import annotations

import re
import unicodedata

VOWELS = set("aeiou")
_DIGRAPHS = {
    "igh": "AY", "eau": "OW", "ai": "EY", "ay": "EY", "ey": "EY", "ei": "EY", "ee": "IY",
    "ea": "IY", "ie": "IY", "oo": "UW", "ew": "UW", "ue": "UW", "ui": "UW", "oa": "OW",
    "ow": "OW", "oe": "OW", "oi": "OY", "oy": "OY", "au": "AO", "aw": "AO", "ou": "AW",
}
_SHORT = {"a": "AE", "e": "EH", "i": "IH", "o": "AA", "u": "AH", "y": "IH"}
_LONG = {"a": "EY", "e": "IY", "i": "AY", "o": "OW", "u": "UW", "y": "AY"}
_FINAL = {"a": "AH", "e": "IY", "i": "IY", "o": "OW", "u": "UW", "y": "IY"}
_CLUSTERS = [("tch", "CH"), ("ck", "K"), ("ng", "NG"), ("nk", "NG K"), ("sh", "SH"), ("ch", "CH"),
             ("th", "TH"), ("ph", "F"), ("gh", ""), ("qu", "K W"), ("x", "K S"), ("c", "K"),
             ("q", "K"), ("j", "JH"), ("h", "HH"), ("y", "Y")]
_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
         "eighteen", "nineteen"]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def fold(word: str) -> str:
    """Lower case without accents: "Beyoncé" -> "beyonce"."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def number_words(digits: str) -> str | None:
    """Spoken form of a whole number below 1000 ("24" -> "twenty four"), else None."""
    if not digits.isdigit() or len(digits) > 3:
        return None
    n = int(digits)
    parts = []
    if n >= 100:
        parts += [_ONES[n // 100], "hundred"]
        n %= 100
        if n == 0:
            return " ".join(parts)
    if n < 20:
        parts.append(_ONES[n])
    else:
        parts.append(_TENS[n // 10])
        if n % 10:
            parts.append(_ONES[n % 10])
    return " ".join(parts)


def variants(word: str) -> list[str]:
    """Spellings to try in the dictionary, the word itself first."""
    found = [word]
    if word.endswith("in'"):  # the apostrophe says a g was dropped: "goin'" is "going"
        found.insert(0, word[:-1] + "g")
    elif word.endswith("in"):
        found.append(word + "g")
    if word.endswith("'"):
        found.append(word.rstrip("'"))
    if word.startswith("'"):
        found.append(word.lstrip("'"))
    squeezed = re.sub(r"(.)\1{2,}", r"\1", word)  # "sooo" -> "so"
    found += [squeezed, re.sub(r"(.)\1{2,}", r"\1\1", word)]
    if word.endswith("z") and len(word) > 3:
        found.append(word[:-1] + "s")  # "boyz" -> "boys"
    return list(dict.fromkeys(found))


def _vowel_groups(word: str) -> list[tuple[int, int]]:
    """(start, end) of each vowel group; y is a vowel unless it starts a word or a syllable."""
    groups: list[tuple[int, int]] = []
    i = 0
    while i < len(word):
        c = word[i]
        is_vowel = c in VOWELS or (c == "y" and i > 0 and not (i + 1 < len(word) and word[i + 1] in VOWELS))
        if is_vowel:
            j = i + 1
            while j < len(word) and word[j] in VOWELS:
                j += 1
            groups.append((i, j))
            i = j
        else:
            i += 1
    return groups


def _silent_final_e(word: str, groups: list[tuple[int, int]]) -> bool:
    if len(groups) < 2 or groups[-1] != (len(word) - 1, len(word)) or word[-1] != "e":
        return False
    return not (len(word) > 2 and word[-2] == "l" and word[-3] not in VOWELS)  # "little"


def syllables(word: str) -> int:
    """Estimated syllables of a word from its spelling (at least 1 for any word)."""
    word = fold(word)
    if word.isdigit() and (spoken := number_words(word)):
        return sum(syllables(w) for w in spoken.split())
    word = re.sub(r"[^a-z]", "", word)
    groups = _vowel_groups(word)
    count = len(groups)
    if _silent_final_e(word, groups):
        count -= 1
    elif len(groups) >= 2 and re.search(r"[^aeioutd]ed$|[^aeiouscxzgh]es$", word):
        count -= 1  # "played", "makes": the e is not voiced
    return max(1, count)


def _consonants(coda: str) -> list[str]:
    phones: list[str] = []
    i = 0
    while i < len(coda):
        for graph, phone in _CLUSTERS:
            if coda.startswith(graph, i):
                phones += phone.split()
                i += len(graph)
                break
        else:
            phones.append(coda[i].upper())
            i += 1
    return [p for k, p in enumerate(phones) if k == 0 or p != phones[k - 1]]  # "ll" -> L


def rhyme_key(word: str) -> str:
    """A rhyme key in CMU phone symbols guessed from spelling (never empty for a word)."""
    word = re.sub(r"[^a-z]", "", fold(word))
    if not word:
        return "?"
    groups = _vowel_groups(word)
    if _silent_final_e(word, groups):
        start, end = groups[-2]
        vowel_text, coda, magic = word[start:end], word[end:-1], True
    elif groups:
        start, end = groups[-1]
        vowel_text, coda, magic = word[start:end], word[end:], False
    else:  # "skrrt", "brr", "hmm", "CS": an r carries the vowel, else a schwa is implied
        phones = _consonants(word)
        if "R" in phones:
            last_r = len(phones) - 1 - phones[::-1].index("R")
            return " ".join(["ER", *phones[last_r + 1 :]])
        return " ".join(["AH", *phones[-1:]])
    if coda.startswith("gh"):
        vowel_text += "gh"
        coda = coda[2:]
    if vowel_text in _DIGRAPHS:
        vowel = _DIGRAPHS[vowel_text]
    elif vowel_text[-2:] in _DIGRAPHS:
        vowel = _DIGRAPHS[vowel_text[-2:]]
    elif coda == "":
        vowel = _FINAL.get(vowel_text[-1], "AH")
    elif magic:
        vowel = _LONG.get(vowel_text[-1], "AH")
    else:
        vowel = _SHORT.get(vowel_text[-1], "AH")
    if coda.startswith("r") and vowel in {"EH", "IH", "AH"}:
        vowel, coda = "ER", coda[1:]
    elif coda.startswith("r"):
        vowel, coda = {"AE": "AA", "AA": "AO"}.get(vowel, vowel), coda
    consonants = _consonants(coda)
    if consonants and consonants[-1] == "S" and (len(consonants) > 1 or not coda.endswith("ss")):
        consonants[-1] = "Z" if len(consonants) == 1 or consonants[-2] not in "PTKF" else "S"
    return " ".join([vowel, *consonants])
