"""Validation of user-given names and the slugs that become folder names."""

from __future__ import annotations

import hashlib
import re
import unicodedata

from lyrictui.core.errors import InvalidInput

MAX_NAME = 200
MAX_SLUG = 60
_CONTROL = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")
# Letters that print as nothing: a name made only of them looks blank.
_BLANK_LOOKING = re.compile(r"[\u115f\u1160\u2800\u3164\uffa0]")
# Whole terminal escape sequences go first, so `ESC [31m` leaves no "[31m" behind: CSI (7- or
# 8-bit), OSC / DCS / SOS / PM / APC strings up to BEL or ST on one line, then 2-byte escapes.
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c\n]{0,4096}(?:\x07|\x1b\\|\x9c)"
    r"|\x1b[ -/]*[0-~]"
)


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def strip_control(text: str) -> str:
    """Remove terminal escape sequences, control and invisible formatting characters (keeps
    newlines and tabs); a lone surrogate (a file name's byte that is not UTF-8) becomes U+FFFD,
    which can be printed and stored."""
    text = _SURROGATE.sub("\ufffd", _ESCAPES.sub("", text))
    return _CONTROL.sub(lambda m: m.group(0) if m.group(0) in "\n\t" else "", text)


def readable_file_name(name: str) -> str:
    """A file name as text a person can read: names that are not UTF-8 (Python keeps their
    bytes as surrogates) are read as Windows-1252 / Latin-1, as old tools wrote them, so
    `caf\\xe9` is "café"."""
    if not _SURROGATE.search(name):
        return name
    raw = name.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:  # bytes cp1252 leaves undefined: Latin-1 maps every byte
        return raw.decode("latin-1")


def one_line(text: str) -> str:
    """Text from outside (a Genius title or name, a file name) as one clean line."""
    return " ".join(strip_control(text).split())


def clean_name(name: str, what: str = "artist name") -> str:
    """Return the name trimmed, or raise InvalidInput with one clear line."""
    if name is None:
        raise InvalidInput(f"the {what} is empty: give a name such as \"Sigur Rós\"")
    if "\x00" in name or _CONTROL.search(name.replace("\t", " ")):
        raise InvalidInput(f"the {what} holds control characters: type it as plain text")
    cleaned = unicodedata.normalize("NFC", " ".join(name.split()))
    if not cleaned or not _BLANK_LOOKING.sub("", cleaned).strip():
        raise InvalidInput(f"the {what} is empty: give a name such as \"Sigur Rós\"")
    if len(cleaned) > MAX_NAME:
        raise InvalidInput(
            f"the {what} is {len(cleaned):,} characters long: use at most {MAX_NAME}"
        )
    return cleaned


def name_key(name: str) -> str:
    """What makes two artist names the same artist: Unicode-normalized (NFC) and case-folded,
    so "Beyoncé" typed composed, decomposed or as "BEYONCÉ" is one artist (SQLite's NOCASE
    folds only A-Z)."""
    folded = unicodedata.normalize("NFC", " ".join(str(name).split())).casefold()
    return unicodedata.normalize("NFC", folded)


def slugify(name: str) -> str:
    """A folder-safe slug: ASCII letters, digits and dashes, never empty, `.` or `..`."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")[:MAX_SLUG].strip("-")
    if not slug:
        slug = "artist-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    return slug


def fold(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form used to compare names."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return re.sub(r"[\W_]+", "", folded)


def plural(count: int, noun: str) -> str:
    """`1 song`, `2 songs`, with thousands separators."""
    return f"{count:,} {noun}" + ("" if count == 1 else "s")
