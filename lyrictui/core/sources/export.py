"""An artist's kept songs as one text file (re-importable) or JSON lines, written atomically."""

from __future__ import annotations

import json
import os
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
    """Write to a temporary file beside `path`, then rename it into place."""
    folder = path.parent
    if not folder.is_dir():
        raise InvalidInput(f"{folder} is not a folder: create it first or choose another path")
    if path.is_dir():
        raise InvalidInput(f"{path} is a folder: give a file name")
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise LyricError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if tmp is not None and Path(tmp).exists():
            Path(tmp).unlink(missing_ok=True)
