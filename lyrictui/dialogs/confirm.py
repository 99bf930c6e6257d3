"""ConfirmDialog: a yes/no question that states exactly what will happen."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label, Static

from lyrictui.dialogs.dialog import Dialog


class ConfirmDialog(Dialog[bool]):
    """Returns True for the confirming button, False for cancel or escape."""

    DEFAULT_CSS = """
    ConfirmDialog > Vertical { width: 64; border: round $warning; }
    """

    def __init__(self, title: str, body: str, confirm_label: str = "Delete",
                 *, keep_label: str = "Cancel", destructive: bool = True) -> None:
        super().__init__()
        self._title, self._body = title, body
        self._confirm_label, self._destructive = confirm_label, destructive
        self._keep_label = keep_label  # says what cancelling keeps ("Keep training")

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self._title, classes="dialog-title", markup=False)
            yield Static(self._body, id="confirm-body", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(self._keep_label, id="cancel")
                yield Button(self._confirm_label, id="confirm",
                             variant="error" if self._destructive else "primary")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm")

    def action_cancel(self) -> None:
        self.dismiss(False)
