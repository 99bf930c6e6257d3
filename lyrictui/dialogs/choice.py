"""ChoiceDialog: pick one item from a short list (e.g. which model to delete)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from lyrictui.dialogs.dialog import Dialog


class ChoiceDialog(Dialog[str | None]):
    """Returns the chosen option's id, or None."""

    DEFAULT_CSS = """
    ChoiceDialog > Vertical { width: 80; max-height: 70%; }
    ChoiceDialog OptionList { height: auto; max-height: 20; }
    """

    def __init__(self, title: str, options: list[tuple[str, str]]) -> None:
        super().__init__()
        self._title, self._options = title, options

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self._title, classes="dialog-title", markup=False)
            yield OptionList(*[Option(label, id=key) for label, key in self._options])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
