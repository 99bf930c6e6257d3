"""Import the user's own lyrics from .txt / .md files, LyricsGenius .json exports, or folders.

Each file is checked before it is read (size, regular file), read with a hard cap, refused
when binary or not UTF-8, split into songs, cleaned like Genius lyrics, and stored in ONE
transaction: a file's songs are all in the library or none is. Keys come from the file, the
title and the text, so importing the same files again adds nothing. A .json file must be a
LyricsGenius export (core/sources/lyricsgenius.py): its songs keep their Genius ids, album and
release date, and the scrape's skip reasons.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from lyrictui.core.errors import InvalidInput
from lyrictui.core.names import clean_name, one_line, readable_file_name
from lyrictui.core.paths import human_size
from lyrictui.core.sources import lyrics, lyricsgenius
from lyrictui.core.store.library import Library, content_hash
from lyrictui.core.store.records import Artist, NewSong

MAX_FILE_BYTES = 5 * 1024 * 1024
SUFFIXES = (".txt", ".md", ".json")
NO_SPLIT = "none"
_DEFAULT_SPLIT = re.compile(r"\n[ \t]*-{3,}[ \t]*\n|\n(?:[ \t]*\n){2,}")
_HEADING = re.compile(r"\A#{1,6}[ \t]+(.+)\n?|\A[Tt]itle:[ \t]*(.+)\n?")


class Refused(Exception):
    """A file that cannot be imported; the message says why."""


@dataclass
class FileReport:
    path: Path
    added: int = 0
    already: int = 0  # stored by an earlier import
    duplicates: int = 0  # stored as skipped: same text as another song
    skipped: int = 0  # stored as skipped for another reason (instrumental, unreleased, ...)
    empty: int = 0  # parts with no lyrics, not stored
    refused: str | None = None


@dataclass
class ImportSummary:
    artist: str
    files: list[FileReport] = field(default_factory=list)

    @property
    def added(self) -> int:
        return sum(f.added for f in self.files)

    @property
    def refused(self) -> list[FileReport]:
        return [f for f in self.files if f.refused]


def collect_files(paths: Iterable[Path]) -> list[Path]:
    """Files named directly, and the .txt / .md / .json files under named folders (sorted).

    Folders are walked without recursion (any depth), and a link under a named folder is
    followed only when it stays inside that folder: a link to /etc/passwd is not imported."""
    found: list[Path] = []
    for path in paths:
        if not path.exists() and not path.is_symlink():
            raise InvalidInput(f"{path} does not exist: give .txt / .md / LyricsGenius .json "
                               "files or folders")
        if path.is_dir():
            found += _walk(path)
        else:
            found.append(path)
    return list(dict.fromkeys(found))


def _walk(top: Path) -> list[Path]:
    root = top.resolve()
    found: list[Path] = []
    stack = [top]
    seen: set[Path] = {root}
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue  # unreadable: its files are not listed, the rest are
        subfolders = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            child = Path(entry.path)
            linked = entry.is_symlink()
            if linked:
                target = child.resolve()
                if target != root and root not in target.parents:
                    continue  # out of the chosen folder
            if entry.is_dir():
                # Only a link can lead back to a folder already walked: walk each once.
                if linked:
                    if target in seen:
                        continue
                    seen.add(target)
                subfolders.append(child)
            elif entry.name.lower().endswith(SUFFIXES):
                found.append(child)
        stack.extend(reversed(subfolders))
    return found


def read_text(path: Path, max_bytes: int = MAX_FILE_BYTES) -> str:
    """The file's text, or Refused: never reads more than `max_bytes` + 1 bytes."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise Refused("not a regular file")
        if info.st_size > max_bytes:
            raise Refused(f"{human_size(info.st_size)}, over the {human_size(max_bytes)} limit "
                          "for one file: split it")
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise Refused(f"cannot read it ({exc.strerror})") from None
    if len(data) > max_bytes:  # it grew since stat
        raise Refused(f"over the {human_size(max_bytes)} limit for one file: split it")
    if not data.strip():
        raise Refused("empty file")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise Refused("UTF-16 text: save it as UTF-8")
    if b"\x00" in data[:8192]:
        raise Refused("binary file, not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Refused(f"not UTF-8 text (bad byte at offset {exc.start}): save it as UTF-8") \
            from None
    controls = sum(1 for ch in text[:8192] if ord(ch) < 32 and ch not in "\n\r\t\f")
    if controls > 0.05 * min(len(text), 8192):
        raise Refused("binary file, not text")
    return text


def split_songs(text: str, separator: str | None = None) -> list[str]:
    """Parts of a file: split at a `---` line or two blank lines, or at lines equal to
    `separator`; `separator="none"` keeps the whole file one song."""
    text = "\n" + text.replace("\r\n", "\n").replace("\r", "\n") + "\n"
    parts: list[str]
    if separator == NO_SPLIT:
        parts = [text]
    elif separator:
        wanted = separator.strip()
        parts = []
        current: list[str] = []
        for line in text.split("\n"):
            if line.strip() == wanted:
                parts.append("\n".join(current))
                current = []
            else:
                current.append(line)
        parts.append("\n".join(current))
    else:
        parts = _DEFAULT_SPLIT.split(text)
    return [p.strip("\n") for p in parts if p.strip()]


# A track number before the title: zero-padded ("01 ", "01 - ", "007.") or followed by
# punctuation ("1 - ", "12. ", "3) "). A bare number and a space stays ("99 Problems"), as do
# "1999" and "3.14 pie".
_TRACK_NUMBER = re.compile(r"^(?:0\d{1,2}[\s._)-]+|\d{1,3}(?:\s*[_)-]\s*|\.\s*(?=\D)))"
                           r"(?=[^\s._)-])")


def title_from_file_name(stem: str) -> str:
    """A song title from a file name: underscores read as spaces, a leading track number
    ("01 ", "01 - ", "01.") dropped unless the number is the whole name."""
    title = one_line(readable_file_name(stem).replace("_", " "))
    without = _TRACK_NUMBER.sub("", title, count=1)
    return (without if without.strip() else title) or "untitled"


def songs_in(path: Path, text: str, separator: str | None) -> tuple[list[tuple[str, str]], int]:
    """([(title, clean lyrics)], parts with no lyrics) for one file's text."""
    # Titles never carry controls, nor the undecodable bytes of a file name.
    stem = title_from_file_name(path.stem)
    parts = split_songs(text, separator)
    songs, empty = [], 0
    for number, part in enumerate(parts, 1):
        heading = _HEADING.match(part.lstrip())
        title = stem if len(parts) == 1 else f"{stem} #{number}"
        if heading:
            title = one_line((heading.group(1) or heading.group(2)).strip(" #")) or title
            part = part.lstrip()[heading.end():]
        clean = lyrics.clean_lyrics(part)
        if lyrics.empty_reason(clean):
            empty += 1
            continue
        songs.append((title[:200], clean))
    return songs, empty


def import_key(path: Path, title: str, text: str) -> str:
    """Same file, title and text: the same song (a re-import adds nothing). The same text from
    another file is a new key, so the duplicate rule records it; an edited song is new."""
    where = str(path.resolve())
    return "file:" + hashlib.sha256(f"{where}\n{title}\n{content_hash(text)}".encode(
        "utf-8", "surrogateescape")).hexdigest()[:40]


def genius_export_songs(text: str, variant_words: list[str]) -> list[NewSong]:
    """The songs of a LyricsGenius .json export, or Refused saying why it is not one."""
    try:
        return lyricsgenius.read_export(text, variant_words)
    except lyricsgenius.NotAnExport as exc:
        raise Refused(str(exc)) from None


def import_files(library: Library, name: str, paths: Iterable[Path], *,
                 separator: str | None = None, max_bytes: int = MAX_FILE_BYTES,
                 on_file: Callable[[FileReport], None] | None = None) -> ImportSummary:
    """Import files into the artist `name` (created with source "imported" if new)."""
    name = clean_name(name)
    files = collect_files([Path(p) for p in paths])
    if not files:
        raise InvalidInput("no .txt or .md files (nor LyricsGenius .json exports) found there: "
                           "give files or folders of lyrics")
    artist: Artist | None = library.find_artist(name)
    summary = ImportSummary(artist=artist.name if artist else name)
    variant_words: list[str] | None = None
    for path in files:
        report = FileReport(path)
        try:
            text = read_text(path, max_bytes)
            if path.suffix.lower() == ".json":
                if variant_words is None:
                    from lyrictui.core import config

                    variant_words = list(config.load()["title_variant_words"])
                batch = genius_export_songs(text, variant_words)
            else:
                songs, report.empty = songs_in(path, text, separator)
                if not songs:
                    raise Refused("no lyrics in it")
                batch = [NewSong(title, text, source_key=import_key(path, title, text))
                         for title, text in songs]
        except Refused as exc:
            report.refused = str(exc)
        except (OSError, UnicodeError, ValueError, RecursionError, MemoryError) as exc:
            # One file that breaks the reader is skipped with its reason, never the rest.
            report.refused = f"cannot import it ({type(exc).__name__}: {one_line(str(exc))[:200]})"
        else:
            if artist is None:  # created with the first good file, so a failed import leaves none
                artist = library.get_or_create_artist(name, "imported")  # or theirs, made a moment ago
                summary.artist = artist.name
            for row in library.add_songs(artist.id, batch):
                if row is None:
                    report.already += 1
                elif row.skipped_reason is None:
                    report.added += 1
                elif row.skipped_reason.startswith("duplicate of"):
                    report.duplicates += 1
                else:
                    report.skipped += 1
        summary.files.append(report)
        if on_file is not None:
            on_file(report)
    return summary
