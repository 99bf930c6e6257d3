"""The composer's drafts: autosave a moment after each change (and at least every few seconds
while typing goes on), ctrl+s, a failed save said once and retried, open, new, export.

A save that fails (a full disk, a read-only or damaged library) keeps the text on screen, is
retried every `SAVE_RETRY_S` and on the next save, and F9 exports the text on screen.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from textual import work
from textual.message import Message
from textual.timer import Timer
from textual.worker import Worker

from lyrictui.core.compose import drafts as drafts_mod
from lyrictui.core.compose.draft_slot import DraftSlot
from lyrictui.core.errors import LyricError
from lyrictui.core.store.records import Draft
from lyrictui.dialogs.export_path import ExportPathDialog
from lyrictui.dialogs.open_draft import OpenDraftDialog
from lyrictui.screens.composer_engine import ComposerEngine
from lyrictui.services import lyric_app
from lyrictui.widgets.song_editor import SongEditor
from lyrictui.widgets.suggestion_list import SuggestionList

AUTOSAVE_DELAY_S = 1.0
AUTOSAVE_MAX_S = 5.0
SAVE_RETRY_S = 10.0  # after a failed save (a full disk), how soon it is tried again
SAVE_ERRORS = (LyricError, OSError, sqlite3.Error)


class ComposerDrafts(ComposerEngine):
    """Keeping the song in the library (a base of `ComposerScreen`)."""

    @dataclass
    class DraftSaved(Message):
        """A save (in a thread) for `slot` is done: it wrote `draft`, or None when there was
        nothing new to write. `announce`: the writer asked (ctrl+s)."""

        slot: DraftSlot
        draft: Draft | None
        announce: bool = False

    @dataclass
    class SaveFailed(Message):
        """A save could not write (a full disk, a read-only or damaged library)."""

        reason: str

    def __init__(self) -> None:
        super().__init__()
        self.slot = DraftSlot()
        self._autosave: Timer | None = None
        self._unsaved_since: float | None = None  # monotonic time of the first unsaved change
        self._save_failing = False
        self._retry: Timer | None = None

    @property
    def draft_id(self) -> int | None:
        """The id of the draft being written, None until its first save."""
        return self.slot.id

    def _autosave_soon(self) -> None:
        """After a change: a moment after typing pauses, and at least every AUTOSAVE_MAX_S
        while it goes on, so a crash or a kill never costs more typing than that."""
        if self._autosave is not None:
            self._autosave.stop()
        now = time.monotonic()
        if self._unsaved_since is None:
            self._unsaved_since = now
        # Never 0: a Textual timer of interval 0 that fires late divides by it and dies,
        # and with it every autosave after AUTOSAVE_MAX_S of typing without a pause.
        wait = min(AUTOSAVE_DELAY_S, max(0.05, self._unsaved_since + AUTOSAVE_MAX_S - now))
        self._autosave = self.set_timer(wait, self.action_save)

    def action_save(self, announce: bool = False) -> Worker[Draft | None]:
        """Save the text in a thread worker (SQLite may wait on another writer's lock);
        `announce` (ctrl+s) says so when done."""
        self._unsaved_since = None
        if self._retry is not None:
            self._retry.stop()
            self._retry = None
        artist_id, model_id = (self.choice.artist_id, self.choice.key) if self.choice else (
            None, None)
        return self.save_draft(self.slot, self._text, artist_id, model_id, announce)

    @work(thread=True, group="draft-save", exit_on_error=False, description="Saving the draft")
    def save_draft(self, slot: DraftSlot, text: str, artist_id: int | None,
                   model_id: str | None, announce: bool = False) -> Draft | None:
        try:
            draft = slot.save(lyric_app(self).library, text, artist_id=artist_id,
                              model_id=model_id)
        except SAVE_ERRORS as exc:
            # The slot keeps its last saved text, so the next save writes this text again.
            self.post_message(self.SaveFailed(str(exc) or type(exc).__name__))
            return None
        self.post_message(self.DraftSaved(slot, draft, announce))
        return draft

    def on_composer_drafts_draft_saved(self, message: DraftSaved) -> None:
        if message.draft is not None and message.slot is self.slot:
            self.sub_title = f"draft: {message.draft.title}"
        if self._save_failing:
            self._save_failing = False
            self.notify("Saved: the draft is safe again.")
        elif message.announce:
            self.notify("Saved." if message.slot.id is not None
                        else "Nothing to save yet: write a line first.")

    def on_composer_drafts_save_failed(self, message: SaveFailed) -> None:
        if not self._save_failing:  # said once, not on every autosave
            self._save_failing = True
            self.notify(f"The draft could not be saved ({message.reason}). Your text stays "
                        f"here; lyrictui tries again every {SAVE_RETRY_S:.0f} s and on ctrl+s, "
                        "and F9 exports it to a file.", severity="error", timeout=20,
                        markup=False)
        if self._retry is None:
            self._retry = self.set_timer(SAVE_RETRY_S, self.action_save)

    def _save_on_close(self) -> None:
        """The app is closing: this last save runs here, to be done before the library
        closes."""
        try:
            self.slot.save(lyric_app(self).library, self._text,
                           artist_id=self.choice.artist_id if self.choice else None,
                           model_id=self.choice.key if self.choice else None)
        except SAVE_ERRORS:
            pass  # already said on screen while the app ran; closing must not fail on it

    @work(exclusive=True, group="drafts", exit_on_error=False)
    async def action_open_draft(self) -> None:
        await self.action_save().wait()
        library = lyric_app(self).library
        draft_id = await self.app.push_screen_wait(OpenDraftDialog(library.list_drafts()))
        if draft_id is None:
            return
        draft = library.get_draft(draft_id)
        text, capped = drafts_mod.for_editor(draft)  # a huge draft: its beginning, as a new one
        self.slot = DraftSlot(draft.id, draft.text) if capped is None else DraftSlot()
        if capped is not None:
            self.notify(capped, severity="warning", timeout=20, markup=False)
        self.locks.rhyme_row = None  # a lock belongs to a line of the old text
        self._show_locks()
        editor = self.query_one(SongEditor)
        editor.load_text(text)
        editor.move_cursor(editor.document.end)
        self.sub_title = f"draft: {draft.title}"

    def action_new_draft(self) -> None:
        self.action_save()  # to the old slot, whenever it runs
        self.slot = DraftSlot()
        self.locks.rhyme_row = None  # a lock belongs to a line of the old text
        self._show_locks()
        self.query_one(SongEditor).load_text("")
        self.query_one(SuggestionList).show([])
        self._shown_for = None
        self._status("A new draft: write a line, or press ctrl+g for opening lines.")
        self.sub_title = "new draft"

    @work(exclusive=True, group="drafts", exit_on_error=False)
    async def action_export(self) -> None:
        await self.action_save().wait()
        if not self._text.strip():
            self.notify("Nothing to export yet: write a line first.", severity="warning")
            return
        # The text on screen, not the library's copy: export is the way out when saves fail.
        now = time.time()
        draft = Draft(self.slot.id or 0, self.choice.artist_id if self.choice else None,
                      self.choice.key if self.choice else None,
                      drafts_mod.title_of(self._text), self._text, now, now)
        target = await self.app.push_screen_wait(ExportPathDialog(
            "Export the draft", "A .txt or .md file name.", drafts_mod.safe_file_stem(draft.title)))
        if target:
            self.export_draft(draft, Path(target))

    @work(thread=True, group="draft-export", exit_on_error=False,
          description="Exporting the draft")
    def export_draft(self, draft: Draft, target: Path) -> None:
        try:
            written = drafts_mod.export(draft, target)
        except LyricError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error", markup=False)
            return
        self.app.call_from_thread(self.notify, f"Saved to {written}", markup=False)
