"""The composer's candidates: the list and the grey ghost at the cursor (Tab takes it,
shift+Tab shows the next one; the list takes any by number), and taking one.

A result is dropped when the text it continues is no longer the text on screen.
"""

from __future__ import annotations

from textual import on

from lyrictui.screens.composer_engine import ComposerEngine
from lyrictui.widgets.song_editor import SongEditor
from lyrictui.widgets.suggestion_list import ShownCandidate, SuggestionList


class ComposerCandidates(ComposerEngine):
    """Showing and taking what a request brought back (a base of `ComposerScreen`)."""

    def __init__(self) -> None:
        super().__init__()
        self._ghost_index = 0

    def on_composer_engine_suggestions_ready(
            self, message: ComposerEngine.SuggestionsReady) -> None:
        editor = self.query_one(SongEditor)
        if message.context != editor.text_before_cursor():
            return  # made for text that is no longer on screen
        self._shown_for = message.context
        self._ghost_index = 0
        self.query_one(SuggestionList).show(message.candidates)
        self._show_ghost()
        if not message.candidates:
            self._status("The model offered nothing usable here: ctrl+g tries again.")
            return
        kind = ("words" if message.words
                else "endings" if message.candidates[0].continuation is not None else "lines")
        marks = " ✓ meets the locks." if any(c.fits is not None for c in message.candidates) else ""
        self._status(f"{len(message.candidates)} {kind}: Tab takes the grey one, shift+Tab "
                     f"shows the next; in the list 1-{len(message.candidates)}.{marks}")

    def _ghost_text(self, candidate: ShownCandidate) -> str | None:
        """What taking `candidate` would insert at the cursor, if it can show there as the
        ghost: only where the candidates were made for (a next line only on an empty line)."""
        editor = self.query_one(SongEditor)
        before = editor.text_before_cursor()
        if before != self._shown_for:
            return None
        if self.locks.word_mode:
            return candidate.text if not before or before[-1] in " \n" else " " + candidate.text
        if candidate.continuation is not None:
            return candidate.continuation
        row = editor.cursor_location[0]
        return None if editor.document.get_line(row).strip() else candidate.text

    def _show_ghost(self) -> None:
        editor = self.query_one(SongEditor)
        candidates = self.query_one(SuggestionList).candidates
        ghost = (self._ghost_text(candidates[self._ghost_index])
                 if self._ghost_index < len(candidates) else None)
        if ghost:
            editor.show_ghost(ghost)
        else:
            editor.suggestion = ""

    @on(SuggestionList.Accepted)
    def take_from_list(self, message: SuggestionList.Accepted) -> None:
        self._take(message.candidate)

    @on(SongEditor.GhostTaken)
    def take_ghost(self) -> None:
        candidates = self.query_one(SuggestionList).candidates
        if self._ghost_index < len(candidates):
            self._take(candidates[self._ghost_index])

    @on(SongEditor.GhostCycled)
    def next_ghost(self) -> None:
        candidates = self.query_one(SuggestionList).candidates
        if not candidates or self.query_one(SongEditor).text_before_cursor() != self._shown_for:
            self.app.action_focus_previous()  # nothing to cycle: shift+Tab's usual meaning
            return
        self._ghost_index = (self._ghost_index + 1) % len(candidates)
        self.query_one(SuggestionList).highlighted = self._ghost_index
        self._show_ghost()

    @on(SuggestionList.RegenerateRequested)
    def regenerate(self) -> None:
        self.action_suggest()

    def _take(self, candidate: ShownCandidate) -> None:
        """Insert `candidate` (one edit, so ctrl+z takes it back) and ask for what follows: a
        line goes on its own line with the cursor on a new one below, a line's ending goes at
        the cursor and ends the line, a word goes at the cursor."""
        editor = self.query_one(SongEditor)
        editor.suggestion = ""
        before = editor.text_before_cursor()
        if self.locks.word_mode:
            editor.insert(candidate.text if not before or before[-1] in " \n"
                          else " " + candidate.text)
        elif candidate.continuation is not None:
            if before != self._shown_for:
                self.notify("That ending was for where the cursor was: ctrl+g finishes the "
                            "line the cursor is on now.", severity="warning")
                return
            editor.insert(candidate.continuation + "\n")
        else:
            editor.insert_line(candidate.text)
        editor.focus()
        self.schedule_suggest(0)
