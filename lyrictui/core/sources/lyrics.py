"""Lyrics as plain text: the cleaning contract shared by the Genius scraper and the importer.

HTML never reaches this module (core/lyrics_html.py turns a page into raw text with a real
parser); here regular expressions only ever see plain text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from lyrictui.core.names import strip_control

# Skip reasons shown in the library and the CLI (duplicates come from Library.add_song).
UNRELEASED = "lyrics not complete or unreleased"
INSTRUMENTAL = "instrumental"
EMPTY = "empty lyrics"
NOT_PRIMARY = "not the primary artist"

_CHARS = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
        "\u00a0": " ", "\u202f": " ", "\u2007": " ", "\u2009": " ", "\u3000": " ", "\t": " ",
        "\u00ad": None, "\u200b": None, "\u200c": None, "\u200d": None, "\u2060": None,
        "\ufeff": None,
    }
)
_CONTRIBUTORS = re.compile(r"\A\s*\d[\d,.]*[KkMm]?\s*Contributors?(?![a-z])[ \t]*")
_SECTION_WORDS = (
    "intro|verse|pre-chorus|chorus|post-chorus|hook|pre-hook|post-hook|bridge|refrain|outro|"
    "interlude|break|breakdown|instrumental|part|skit|spoken|sample|drop|build|segue|coda|solo"
)
# A known section header glued to the text before or after it ("line[Chorus]", "[Chorus]line").
_GLUED_BEFORE = re.compile(rf"(?<=[^\s\[])(\[(?:{_SECTION_WORDS})\b[^\]\n]{{0,80}}\])", re.I)
_GLUED_AFTER = re.compile(rf"^(\[(?:{_SECTION_WORDS})\b[^\]\n]{{0,80}}\])[ ]*(?=\S)", re.I | re.M)
_HEADER_LINE = re.compile(r"^\[([^\[\]\n]{1,100})\]$")
_ALSO_LIKE_LINE = re.compile(r"^You might also like[ ]*(?:\n|\Z)", re.M)
_ALSO_LIKE = re.compile(r"^You might also like(?=\S)|(?<=\S)You might also like$", re.M)
_TICKETS = re.compile(r"Get tickets as low as \$\d[\d,.]*")
_EMBED = re.compile(r"\d*\s*Embed(?:Share URLCopyEmbedCopy)?\s*\Z")
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_QUALIFIER = re.compile(r"\(([^()]*)\)|\[([^\[\]]*)\]|\s[-\u2013\u2014]\s(.*)$")


def normalize_chars(text: str) -> str:
    """NFC, straight quotes and apostrophes, plain spaces, no invisible or control characters."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    return strip_control(text.translate(_CHARS))


def clean_lyrics(raw: str, *, title: str | None = None, artist: str | None = None) -> str:
    """Apply the cleaning contract to raw lyrics text and return the clean song.

    Section headers on their own line (`[Verse 1: X]` -> `[Verse 1]`), one blank line between
    stanzas, apostrophes kept, and Genius's junk removed wherever it sits: contributor counts,
    translation lists, "<Title> Lyrics", about-text ending in "Read More", "You might also like",
    ticket ads and the trailing "Embed".
    """
    text = "\n".join(" ".join(line.split()) for line in normalize_chars(raw).split("\n"))
    text = _strip_page_header(text, title)
    text = _EMBED.sub("", text)
    text = _ALSO_LIKE.sub("", _ALSO_LIKE_LINE.sub("", text))
    text = _GLUED_BEFORE.sub(r"\n\1", text)
    text = _GLUED_AFTER.sub(r"\1\n", text)
    lines = []
    for line in text.split("\n"):
        line = " ".join(line.split())
        if _is_ticket_ad(line, artist):
            continue
        header = _HEADER_LINE.match(line)
        if header:
            line = "[" + " ".join(header.group(1).split(":", 1)[0].split()) + "]"
        lines.append(line)
    return _layout(lines)


def _strip_page_header(text: str, title: str | None) -> str:
    """Drop the lyrics header Genius prints before the first line, when it is there."""
    match = _CONTRIBUTORS.match(text)
    seen = match is not None
    text = text[match.end():] if match else text
    translations = text.lstrip().startswith("Translations")
    if translations:
        # A list of languages follows, glued or one per line, up to "<Title> Lyrics".
        seen, text = True, text.lstrip()[len("Translations"):]
    marker = _title_marker(text.lstrip(), title, anywhere=seen) if title else None
    if marker is not None:
        text, seen = text.lstrip()[marker:], True
    elif seen:
        # No title to look for: the header ends with the first line ending in " Lyrics",
        # else the language names fill the first line.
        lines = text.lstrip().split("\n")
        ends = [i for i, ln in enumerate(lines[:20]) if ln.rstrip().endswith(" Lyrics")]
        drop = ends[0] + 1 if ends else int(translations)
        text = "\n".join(lines[drop:])
    # The about-text ends in "Read More" and comes before the first section header.
    if seen and "Read More" in text.split("\n[", 1)[0][:3000]:
        text = text[text.index("Read More") + len("Read More"):]
    return text


def _title_marker(text: str, title: str, *, anywhere: bool) -> int | None:
    """End of "<title> Lyrics" at the start of `text` (or in its first part), or None."""
    wanted = " ".join(normalize_chars(title).split()).casefold() + " lyrics"
    folded = text[:1500].casefold()
    at = folded.find(wanted) if anywhere else (0 if folded.startswith(wanted) else -1)
    return None if at < 0 else at + len(wanted)


def _is_ticket_ad(line: str, artist: str | None) -> bool:
    if _TICKETS.search(line):
        return _TICKETS.sub("", line).strip() == "" or line.startswith("See ")
    return bool(artist) and line.casefold() == f"see {artist} live".casefold()


def _layout(lines: list[str]) -> str:
    """Blank line before each header and between stanzas, never two, none after a header."""
    out: list[str] = []
    for line in lines:
        is_header = bool(_HEADER_LINE.match(line))
        if not line:
            if out and out[-1] and not _HEADER_LINE.match(out[-1]):
                out.append("")
            continue
        if is_header and out and out[-1]:
            out.append("")
        out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)


def lyric_lines(text: str) -> list[str]:
    """The sung lines of a clean song: no headers, no blank lines."""
    return [ln for ln in text.split("\n") if ln and not _HEADER_LINE.match(ln)]


def empty_reason(text: str) -> str | None:
    """INSTRUMENTAL or EMPTY when a clean song has no line to sing, else None."""
    if lyric_lines(text):
        return None
    headers = " ".join(ln for ln in text.split("\n") if ln).casefold()
    return INSTRUMENTAL if "instrumental" in headers else EMPTY


def title_variant(title: str, words: Iterable[str]) -> str | None:
    """The configured variant word (remix, live, ...) that marks `title`, or None.

    Matched as whole words, never as a regex, and only where Genius puts versions: inside
    brackets or after a dash ("Song (Live at X)", "Song - Radio Edit"), or as the whole title
    ("Skit"). So "Live Forever" and "Demons" stay.
    """
    title = normalize_chars(title)
    parts = [" ".join(g for g in m.groups() if g) for m in _QUALIFIER.finditer(title)]
    parts.append(title)
    for word in words:
        wanted = [w.casefold() for w in _WORD.findall(word)]
        if not wanted:
            continue
        for index, part in enumerate(parts):
            found = [w.casefold() for w in _WORD.findall(part)]
            whole_title = index == len(parts) - 1
            if whole_title and found != wanted:
                continue
            if any(found[i:i + len(wanted)] == wanted for i in range(len(found))):
                return word
    return None
