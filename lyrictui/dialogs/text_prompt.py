"""TextPromptDialog: one line of text (a new name, a token), validated before it returns."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from lyrictui.core.errors import LyricError
from lyrictui.dialogs.form import FormDialog


class TextPromptDialog(FormDialog[str]):
    """Returns the cleaned text, or None when cancelled. `check` may raise LyricError."""

    DEFAULT_CSS = """
    TextPromptDialog .dialog-title { margin-bottom: 0; }
    """

    def __init__(self, title: str, help_text: str = "", *, value: str = "",
                 password: bool = False, ok_label: str = "OK",
                 check: Callable[[str], str] | None = None) -> None:
        super().__init__()
        self._title, self._help, self._value = title, help_text, value
        self._password, self._ok_label = password, ok_label
        self._check = check or (lambda text: text.strip())

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self._title, classes="dialog-title", markup=False)
            if self._help:
                yield Static(self._help, markup=False)
            yield Input(self._value, password=self._password, id="prompt-input")
            yield Static("", id="prompt-error", classes="dialog-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button(self._ok_label, id="ok", variant="primary")

    def submit(self) -> None:
        try:
            value = self._check(self.query_one(Input).value)
        except LyricError as exc:
            self.query_one("#prompt-error", Static).update(str(exc))
            return
        self.dismiss(value)
