"""DraftSlot: the one draft an editor writes to, saved from any thread, one save at a time."""

from __future__ import annotations

import threading

from lyrictui.core.compose.drafts import title_of
from lyrictui.core.store.library import Library
from lyrictui.core.store.records import Draft


class DraftSlot:
    """Where an editor's text goes: no draft yet (`id` None) or an existing one.

    The composer saves from thread workers, so two saves can overlap (an autosave and ctrl+s);
    the lock makes them take turns, so the first creates the draft and the next updates it
    rather than creating a second. A new or reopened draft is a new slot: a save still running
    for the old one writes to the old draft.
    """

    def __init__(self, draft_id: int | None = None, saved_text: str = "") -> None:
        self.id = draft_id
        self.saved_text = saved_text
        self._lock = threading.Lock()

    def save(self, library: Library, text: str, *, artist_id: int | None = None,
             model_id: str | None = None) -> Draft | None:
        """Write `text` to the draft (creating it on the first save) and return it; None when
        there is nothing to write (unchanged, or empty with no draft yet)."""
        with self._lock:
            if text == self.saved_text or (not text.strip() and self.id is None):
                return None
            draft = library.save_draft(self.id, title=title_of(text), text=text,
                                       artist_id=artist_id, model_id=model_id)
            self.id, self.saved_text = draft.id, text
            return draft
