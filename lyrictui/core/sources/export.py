"""An artist's kept songs as one text file (re-importable) or JSON lines, written atomically."""

from __future__ import annotations

import errno
import json
import os
import stat
import tempfile
from pathlib import Path

from lyrictui.core.errors import InvalidInput, LyricError
from lyrictui.core.names import one_line, strip_control
from lyrictui.core.store.records import Song

FORMATS = ("txt", "jsonl")


def render(songs: list[Song], fmt: str) -> str:
    """txt: `# Title`, the lyrics, and a `---` line between songs, so `lyrictui import` reads it
    back; jsonl: one {"title", "lyrics", "genius_id", "url", "album", "release_date"} object
    per line. Control and escape
    characters are left out (text stored before they were stripped at ingestion)."""
    if fmt == "txt":
        return "\n---\n\n".join(f"# {one_line(s.title)}\n\n{strip_control(s.lyrics)}\n"
                                 for s in songs)
    if fmt == "jsonl":
        rows = ({"title": one_line(s.title), "lyrics": strip_control(s.lyrics),
                 "genius_id": s.genius_id, "url": s.url, "album": s.album,
                 "release_date": s.released} for s in songs)
        return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    raise InvalidInput(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` whole or not at all: a temporary file beside it, renamed into
    place, keeping the mode of the file it replaces.

    A link is written through (its target is replaced; the link stays a link). A FIFO or a
    character device (/dev/stdout, a terminal) is written through as a stream, never replaced
    by a file; a socket or a disk device is refused."""
    try:
        info: os.stat_result | None = os.stat(path)  # follows links, as writing would
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise LyricError(f"cannot write {path}: {exc.strerror or exc}") from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise InvalidInput(f"{path} is a folder: give a file name")
    if info is not None and not stat.S_ISREG(info.st_mode):
        _write_through(path, text, info)
        return
    if path.is_symlink():
        path = path.resolve()  # the target is replaced, the link kept
    folder = path.parent
    if not folder.is_dir():
        raise InvalidInput(f"{folder} is not a folder: create it first or choose another path")
    if info is not None:
        mode = stat.S_IMODE(info.st_mode)
    else:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        raise LyricError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if tmp is not None and Path(tmp).exists():
            Path(tmp).unlink(missing_ok=True)


def _write_through(path: Path, text: str, info: os.stat_result) -> None:
    """Stream `text` into a FIFO or character device that already exists."""
    if stat.S_ISSOCK(info.st_mode) or stat.S_ISBLK(info.st_mode):
        kind = "a socket" if stat.S_ISSOCK(info.st_mode) else "a disk device"
        raise InvalidInput(f"{path} is {kind}, not a file: give a file name, or - for stdout")
    fifo = stat.S_ISFIFO(info.st_mode)
    try:
        # A FIFO nobody reads would block forever: opened non-blocking, it says so at once.
        fd = os.open(path, os.O_WRONLY | (os.O_NONBLOCK if fifo else 0))
    except OSError as exc:
        if fifo and exc.errno == errno.ENXIO:
            raise InvalidInput(f"nobody is reading the FIFO {path}: start its reader first") \
                from None
        raise LyricError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        if fifo:
            os.set_blocking(fd, True)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    except OSError as exc:
        raise LyricError(f"cannot write {path}: {exc.strerror or exc}") from None
