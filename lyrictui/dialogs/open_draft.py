"""OpenDraftDialog: pick one of the saved drafts, newest first."""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from lyrictui.core.store.records import Draft


class OpenDraftDialog(ModalScreen[int | None]):
    """Returns the chosen draft's id, or None."""

    DEFAULT_CSS = """
    OpenDraftDialog { align: center middle; }
    OpenDraftDialog > Vertical {
        width: 80; max-width: 100%; height: 70%; border: round $primary; background: $surface; padding: 1 2;
    }
    OpenDraftDialog .dialog-title { text-style: bold; margin-bottom: 1; }
    OpenDraftDialog OptionList { height: 1fr; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, drafts: list[Draft]) -> None:
        super().__init__()
        self._drafts = drafts

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Open a draft", classes="dialog-title")
            if not self._drafts:
                yield Label("No drafts yet: whatever you write in the composer is saved here.")
            options = [
                Option(f"{d.title[:50]}  —  {time.strftime('%Y-%m-%d %H:%M', time.localtime(d.updated_at))}"
                       f"  ({d.text.count(chr(10)) + 1} lines)", id=str(d.id))
                for d in self._drafts
            ]
            yield OptionList(*options, id="drafts")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id) if event.option.id else None)

    def action_cancel(self) -> None:
        self.dismiss(None)
