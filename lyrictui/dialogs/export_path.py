"""The export prompt the Library (songs) and the Composer (drafts) share: one default folder,
and a path checked before the dialog closes, so a missing folder keeps what was typed."""

from __future__ import annotations

from pathlib import Path

from lyrictui.core.errors import InvalidInput
from lyrictui.dialogs.text_prompt import TextPromptDialog


def default_export_dir() -> Path:
    """Where exports go unless the user types another folder: their home folder."""
    return Path.home()


def check_export_path(text: str) -> str:
    """The typed file name, expanded; raises InvalidInput (shown in the dialog) when it names
    a folder or its folder does not exist."""
    text = text.strip()
    if not text:
        raise InvalidInput("give a file name")
    path = Path(text).expanduser()
    if path.is_dir():
        raise InvalidInput(f"{path} is a folder: add a file name")
    if not path.parent.is_dir():
        raise InvalidInput(f"the folder {path.parent} does not exist: create it first or "
                           "choose another")
    return str(path)


class ExportPathDialog(TextPromptDialog):
    """Asks for the file to write, proposing `<default folder>/<stem><suffix>`; returns the
    checked path as text, or None."""

    def __init__(self, title: str, help_text: str, stem: str, suffix: str = ".txt") -> None:
        super().__init__(title, help_text, value=str(default_export_dir() / f"{stem}{suffix}"),
                         ok_label="Export", check=check_export_path)
