"""Drafts: titles, and export to .txt or .md (written atomically)."""

from __future__ import annotations

from pathlib import Path

from lyrictui.core.errors import InvalidInput
from lyrictui.core.prosody import is_header
from lyrictui.core.sources.export import write_atomic
from lyrictui.core.store.records import Draft

UNTITLED = "Untitled"
FORMATS = ("txt", "md")


def title_of(text: str) -> str:
    """A draft's title: its first line that is not a section header, cut to 60 characters."""
    for line in text.split("\n"):
        if line.strip() and not is_header(line):
            return " ".join(line.split())[:60]
    return UNTITLED


MAX_DRAFT_CHARS = 1_000_000  # a song is a few thousand; a draft this size is a mistake


def check_text(text: str) -> str:
    """Text given for a draft (from a file or stdin): normalised newlines, within the cap."""
    if len(text) > MAX_DRAFT_CHARS:
        raise InvalidInput(f"that text has {len(text):,} characters; a draft holds at most "
                           f"{MAX_DRAFT_CHARS:,}: split it into several drafts")
    return text.replace("\r\n", "\n").replace("\r", "\n")


MAX_EDITOR_LINES = 20_000
"""The composer opens at most this many lines of a draft (a 400,000-line one took 16 s before
a key was handled, and 1.9 GB): a song is a few hundred."""


def for_editor(draft: Draft) -> tuple[str, str | None]:
    """The text the composer opens for `draft`, and None; or, for a draft past
    MAX_EDITOR_LINES lines or MAX_DRAFT_CHARS characters, its beginning and the one line that
    says so. That beginning is opened as a new draft, so the whole one is never overwritten."""
    text = draft.text
    lines = text.count("\n") + 1
    if lines <= MAX_EDITOR_LINES and len(text) <= MAX_DRAFT_CHARS:
        return text, None
    head = "\n".join(text[:MAX_DRAFT_CHARS].split("\n")[:MAX_EDITOR_LINES])
    shown = head.count("\n") + 1
    return head, (f"Draft {draft.id} has {lines:,} lines ({len(text):,} characters): its first "
                  f"{shown:,} lines open as a new draft; the whole one stays as it was "
                  f"(`lyrictui drafts export {draft.id} FILE` writes it out).")


def appended(old: str, new: str) -> str:
    """`new` added after `old` as lines of their own (one newline between, none doubled)."""
    if not old.strip():
        return new
    return old.rstrip("\n") + "\n" + new


def render(draft: Draft, fmt: str) -> str:
    """The draft as plain text, or Markdown with hard line breaks and headers in bold."""
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown format {fmt!r}: use txt or md")
    text = draft.text.rstrip("\n") + "\n"
    if fmt == "txt":
        return text
    out = [f"# {draft.title}", ""]
    for line in text.rstrip("\n").split("\n"):
        if is_header(line):
            out.append(f"**{line.strip()}**  ")
        else:
            out.append(f"{line}  " if line.strip() else "")
    return "\n".join(out) + "\n"


def export(draft: Draft, path: Path, fmt: str | None = None) -> Path:
    """Write the draft to `path` (format from the suffix unless given); never half-written."""
    path = path.expanduser()
    fmt = fmt or ("md" if path.suffix.lower() == ".md" else "txt")
    write_atomic(path, render(draft, fmt))
    return path


def safe_file_stem(title: str) -> str:
    """A file name stem from a title: letters, digits, spaces and dashes only."""
    stem = "".join(ch if ch.isalnum() or ch in " -_" else " " for ch in title)
    return "-".join(stem.split())[:50] or "song"
