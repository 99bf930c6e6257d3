"""OpenDraftDialog: pick one of the saved drafts, newest first."""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from lyrictui.core.store.records import Draft
from lyrictui.dialogs.dialog import Dialog


class OpenDraftDialog(Dialog[int | None]):
    """Returns the chosen draft's id, or None."""

    DEFAULT_CSS = """
    OpenDraftDialog > Vertical { width: 80; height: 70%; }
    OpenDraftDialog OptionList { height: 1fr; }
    """

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
