"""Dialog: the frame every lyrictui dialog shares (centred box, title, error line, buttons)."""

from __future__ import annotations

from typing import TypeVar

from textual.binding import Binding
from textual.screen import ModalScreen

T = TypeVar("T")


class Dialog(ModalScreen[T]):
    """A modal dialog; escape cancels. Subclasses compose one `Vertical` (the frame) holding a
    `.dialog-title` label, their fields, an optional `.dialog-error` line and a
    `.dialog-buttons` row, and set only what differs (a width, a height) in their DEFAULT_CSS."""

    DEFAULT_CSS = """
    Dialog { align: center middle; }
    Dialog > Vertical {
        width: 70; max-width: 100%; height: auto; max-height: 90%;
        border: round $primary; background: $surface; padding: 1 2;
    }
    Dialog .dialog-title { text-style: bold; margin-bottom: 1; }
    Dialog .dialog-error { color: $error; height: auto; }
    Dialog .dialog-buttons { height: auto; align-horizontal: right; margin-top: 1; }
    Dialog .dialog-buttons Button { margin-left: 1; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def action_cancel(self) -> None:
        """Close with no result (None; a yes/no dialog answers False instead)."""
        self.dismiss()
