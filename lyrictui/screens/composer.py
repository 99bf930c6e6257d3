"""The Composer section: write a song while an artist's model offers next lines.

Suggestions follow Textual's dictionary example: one exclusive worker per request, cancelled
as soon as the writer types on, and a result is dropped when the text it continues is no
longer the text on screen. With the cursor at the end of a half-written line, line mode
finishes that line instead of offering the next one. The top candidate shows in grey at the
cursor (the ghost): Tab takes it, shift+Tab shows the next one; the list takes any by number.
Drafts autosave to the library a moment after each change; a failed save (a full disk) is
said once and retried, and the text stays on screen.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Header, Label, Static
from textual.worker import Worker, get_current_worker

from lyrictui.core import prosody
from lyrictui.core.compose import drafts as drafts_mod
from lyrictui.core.compose.anchor import follow_line, last_word, line_with_words
from lyrictui.core.compose.draft_slot import DraftSlot
from lyrictui.core.engine.sampling import SamplingConfig
from lyrictui.core.errors import Cancelled, LyricError
from lyrictui.core.store.records import Draft
from lyrictui.dialogs.export_path import ExportPathDialog
from lyrictui.dialogs.open_draft import OpenDraftDialog
from lyrictui.services import lyric_app
from lyrictui.widgets.line_gutter import LineGutter
from lyrictui.widgets.model_picker import ModelChoice, ModelPicker
from lyrictui.widgets.rhyme_panel import RhymePanel
from lyrictui.widgets.song_editor import SongEditor
from lyrictui.widgets.suggestion_list import ShownCandidate, SuggestionList

if TYPE_CHECKING:
    from lyrictui.core.engine.suggest import Suggester
    from lyrictui.core.prosody.rhymeset import RhymeGroups

AUTOSAVE_DELAY_S = 1.0
AUTOSAVE_MAX_S = 5.0
SUGGEST_DELAY_S = 0.35
SAVE_RETRY_S = 10.0  # after a failed save (a full disk), how soon it is tried again
RHYME_DELAY_S = 0.25
STACKED_BELOW = 72  # columns: below this the suggestions go under the song, not beside it
SAVE_ERRORS = (LyricError, OSError, sqlite3.Error)
SECTIONS = {"verse": "[Verse]", "chorus": "[Chorus]", "bridge": "[Bridge]"}
# alt+letter arrives as ESC and the letter; ESC b and ESC f mean word left/right (readline,
# macOS), so the bridge is alt+r.
SECTION_KEYS = {"verse": "alt+v", "chorus": "alt+c", "bridge": "alt+r"}
TEMPERATURES = (0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.4)
STARTER_TEXT = (
    "The starter: a small demo model (public-domain verse, no artist's style). To train one "
    "on an artist: Library (F2), t."
)
NO_MODEL_TEXT = (
    "No trained model yet. Pick the bundled starter above (a small demo model trained on "
    "public-domain verse: it works offline but writes generic verse). For lines in an artist's "
    "style, add the artist in the Library and train: lyrictui train NAME (best on a GPU)."
)


class ComposerScreen(Screen[None]):
    """Song editor, rhyme/syllable gutter, and the suggestion panel."""

    BINDINGS = [
        Binding("ctrl+g", "suggest", "Suggest", id="suggest", tooltip="New candidate lines"),
        Binding("ctrl+l", "lock_rhyme", "Rhyme lock", id="lock-rhyme",
                tooltip="Make candidates rhyme with the cursor's line (or the nearest line "
                        "above with words); again on that line: unlock"),
        Binding("ctrl+b", "lock_syllables", "Syllable lock", id="lock-syllables",
                tooltip="Aim candidates at the syllable count of the cursor's line"),
        Binding("alt+up", "temperature(1)", "Hotter", id="hotter", show=False, priority=True),
        Binding("alt+down", "temperature(-1)", "Cooler", id="cooler", show=False,
                priority=True),
        Binding("f8", "word_mode", "Words", id="word-mode",
                tooltip="Show the likeliest next words instead of whole lines"),
        Binding("ctrl+r", "rhymes", "Rhymes", id="rhymes",
                tooltip="Show rhymes for the word under the cursor (again: hide)"),
        *[
            Binding(SECTION_KEYS[key], f"section('{key}')", f"Insert {header}", id=key,
                    show=False, priority=True,
                    tooltip=f"{header} on the cursor's empty line, else above the cursor's line")
            for key, header in SECTIONS.items()
        ],
        Binding("ctrl+s", "save(True)", "Save", id="save"),
        Binding("ctrl+o", "open_draft", "Open", id="open"),
        Binding("ctrl+n", "new_draft", "New", id="new"),
        Binding("f9", "export", "Export", id="export", show=False,
                tooltip="Write the draft to a .txt or .md file"),
    ]

    @dataclass
    class Scanned(Message):
        text: str
        infos: list[prosody.LineInfo]

    @dataclass
    class SuggestionsReady(Message):
        context: str
        candidates: list[ShownCandidate]
        words: bool

    @dataclass
    class SuggestFailed(Message):
        reason: str

    @dataclass
    class EngineReady(Message):
        key: str
        engine: Suggester

    @dataclass
    class RhymesFound(Message):
        word: str
        groups: RhymeGroups | None
        reason: str = ""

    def __init__(self) -> None:
        super().__init__()
        self.slot = DraftSlot()
        self.choice: ModelChoice | None = None
        self._wanted_model: str | None = None
        self.rhyme_row: int | None = None
        """The line the rhyme lock rhymes with (0-based); it follows the line as text moves."""
        self.syllable_target: int | None = None
        self.temperature_index = TEMPERATURES.index(SamplingConfig.temperature)
        self.word_mode = False
        self._autosave: Timer | None = None
        self._suggest_timer: Timer | None = None
        self._cancel = threading.Event()
        self._unsaved_since: float | None = None  # monotonic time of the first unsaved change
        self._text = ""  # the editor's text, kept here so saving works while unmounting
        self._requested_for: str | None = None  # the context of the request in flight
        self._suggest_worker: Worker[None] | None = None
        self._shown_for: str | None = None  # the context the shown candidates continue
        self._ghost_index = 0
        self._save_failing = False
        self._retry: Timer | None = None
        self._rhyme_timer: Timer | None = None

    # -- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="composer-top"):
            yield ModelPicker(id="model-picker", wanted=self._wanted_model)
            yield Label("", id="composer-locks")
        with Horizontal(id="composer-body"):
            with Horizontal(id="editor-row"):
                yield LineGutter(id="gutter")
                yield SongEditor(id="song")
            with Vertical(id="suggest-pane"):
                yield Label("Suggestions", id="suggest-title")
                yield Static(STARTER_TEXT, id="model-note", markup=False)
                yield SuggestionList(id="suggestions")
                yield Static(NO_MODEL_TEXT, id="suggest-status", markup=False)
                yield RhymePanel(id="rhyme-panel")
        yield Footer()

    def on_mount(self) -> None:
        editor = self.query_one(SongEditor)
        self.query_one(LineGutter).follow(editor)
        self._show_locks()
        editor.focus()

    def on_screen_resume(self) -> None:
        self.query_one(ModelPicker).reload()

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < STACKED_BELOW, "-stacked")

    # -- models ----------------------------------------------------------------------------

    def select_model(self, key: str) -> None:
        """Pick a model by id (the Library's compose action, maybe before this screen is
        composed: then the picker starts from it)."""
        pickers = self.query(ModelPicker)
        if pickers:
            pickers.first().select_model(key)
        else:
            self._wanted_model = key

    @on(ModelPicker.Picked)
    def model_picked(self, message: ModelPicker.Picked) -> None:
        choice = self.choice = message.choice
        self.set_class(choice.key == "starter", "-starter")
        # The picker is done: the next keys are lyrics. After the refresh, as the Select
        # takes the focus back when its overlay closes.
        self.call_after_refresh(self.query_one(SongEditor).focus)
        if self.engine is None:
            self._status(f"Loading the model {choice.label}… Write meanwhile: suggestions "
                         "start when it is ready.")
            self.query_one(SuggestionList).loading = True
        self.load_engine(choice)

    @work(thread=True, exclusive=True, group="model-load", exit_on_error=False,
          description="Loading a model")
    def load_engine(self, choice: ModelChoice) -> None:
        from lyrictui.core.engine.suggest import Suggester

        engines = lyric_app(self).services.engines
        library = lyric_app(self).library
        try:
            engine = engines.get(choice.path)
            if engine is None:
                engine = Suggester.load(choice.path)
                if choice.artist_id is not None:
                    # So a candidate copied from the training lyrics can be flagged.
                    engine.set_reference_lyrics(s.lyrics for s in library.songs(choice.artist_id))
                engines.put(choice.path, engine)
                self._warm(engine)
        except LyricError as exc:
            self.post_message(self.SuggestFailed(str(exc)))
            return
        self.post_message(self.EngineReady(choice.key, engine))

    @staticmethod
    def _warm(engine: Suggester) -> None:
        """One tiny request (in the loading worker): the first request pays torch's first-call
        costs (5-7 s on a CPU), better paid while the model loads than on the first line."""
        try:
            engine.suggest("", n=1, seed=0, max_tokens=4)
        except LyricError:
            pass  # only speed is lost; a real request will say what is wrong

    def on_composer_screen_engine_ready(self, message: EngineReady) -> None:
        self.query_one(SuggestionList).loading = False
        if self.choice is None or message.key != self.choice.key:
            return
        self._status(f"{self.choice.label}: ready. Finish a line, or press ctrl+g for "
                     "opening lines.")
        if self._text.strip():
            self.schedule_suggest(0)
        if self.has_class("-rhymes"):
            self._rhymes_soon(0)

    @property
    def engine(self) -> Suggester | None:
        if self.choice is None:
            return None
        return lyric_app(self).services.engines.get(self.choice.path)

    # -- typing ----------------------------------------------------------------------------

    @on(SongEditor.Changed)
    def song_changed(self, event: SongEditor.Changed) -> None:
        old, text = self._text, event.text_area.text
        self._text = text
        editor = self.query_one(SongEditor)
        context = editor.text_before_cursor()
        if context != self._requested_for:
            self._cancel.set()  # whatever is being generated is for older text
        self._follow_rhyme_line(old, text)
        self.scan(text)
        if self._autosave is not None:
            self._autosave.stop()
        # A moment after typing pauses, and at least every AUTOSAVE_MAX_S while it goes on:
        # a crash or a kill never costs more typing than that.
        now = time.monotonic()
        if self._unsaved_since is None:
            self._unsaved_since = now
        wait = min(AUTOSAVE_DELAY_S, max(0.0, self._unsaved_since + AUTOSAVE_MAX_S - now))
        self._autosave = self.set_timer(wait, self.action_save)
        row, column = editor.cursor_location
        if (column == 0 and row > 0 and editor.document.get_line(row - 1).strip()
                and not editor.document.get_line(row).strip()
                and context != self._requested_for):
            self.schedule_suggest(SUGGEST_DELAY_S)  # a line was just finished

    @work(thread=True, exclusive=True, group="scan", exit_on_error=False,
          description="Counting syllables")
    def scan(self, text: str) -> None:
        self.post_message(self.Scanned(text, prosody.scan(text)))

    def on_composer_screen_scanned(self, message: Scanned) -> None:
        if message.text == self.query_one(SongEditor).text:
            self.query_one(LineGutter).infos = tuple(message.infos)

    # -- suggestions -----------------------------------------------------------------------

    def schedule_suggest(self, delay: float) -> None:
        if self._suggest_timer is not None:
            self._suggest_timer.stop()
        self._suggest_timer = self.set_timer(delay, self.action_suggest) if delay else None
        if not delay:
            self.action_suggest()

    def action_suggest(self) -> None:
        engine = self.engine
        if engine is None:
            if self.choice is None:
                self._status(NO_MODEL_TEXT)
            return
        editor = self.query_one(SongEditor)
        context = self._requested_for = editor.text_before_cursor()
        self._cancel.set()
        self._cancel = threading.Event()
        complete = self._finishing_line()
        self._status("Looking for next words…" if self.word_mode
                     else "Finishing the line…" if complete else "Thinking…")
        self._suggest_worker = self.generate(engine, context, self._request_options(complete),
                                             self._cancel)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is self._suggest_worker and event.worker.is_finished:
            self._requested_for = None  # nothing in flight: the same text may ask again

    def _finishing_line(self) -> bool:
        """Whether a line request finishes the cursor's line: the cursor is at the end of a
        half-written line (not a header)."""
        editor = self.query_one(SongEditor)
        row, column = editor.cursor_location
        line = editor.document.get_line(row)
        return (not self.word_mode and bool(line.strip()) and not prosody.is_header(line)
                and column >= len(line.rstrip()))

    def _request_options(self, complete: bool) -> dict[str, Any]:
        options: dict[str, Any] = {"temperature": TEMPERATURES[self.temperature_index],
                                   "complete": complete}
        word = self._rhyme_word()
        row = self.query_one(SongEditor).cursor_location[0]
        if word is not None and not (complete and row == self.rhyme_row):
            options["rhyme_with"] = word
        if self.syllable_target is not None:
            options["syllables"] = self.syllable_target
        return options

    @work(thread=True, exclusive=True, group="suggest", exit_on_error=False,
          description="Suggesting lines")
    def generate(self, engine: Suggester, context: str, options: dict[str, Any],
                 cancel: threading.Event) -> None:
        worker = get_current_worker()
        try:
            if self.word_mode:
                shown = [ShownCandidate(w.word, prosody.line_syllables(w.word),
                                        f"{100 * w.probability:.0f} %")
                         for w in engine.next_words(context, k=8, cancel=cancel)]
            else:
                shown = [ShownCandidate(c.text, c.syllables, c.rhyme_key, bool(c.verbatim),
                                        fits=c.fits, rhyme_kind=c.rhyme,
                                        continuation=c.continuation)
                         for c in engine.suggest(context, n=5, cancel=cancel, **options)
                         if c.continuation != ""]  # "the line is done as it is" adds nothing
        except Cancelled:
            return
        except LyricError as exc:
            self.post_message(self.SuggestFailed(str(exc)))
            return
        if not worker.is_cancelled and not cancel.is_set():
            self.post_message(self.SuggestionsReady(context, shown, self.word_mode))

    def on_composer_screen_suggestions_ready(self, message: SuggestionsReady) -> None:
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
        if self.word_mode:
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

    def on_composer_screen_suggest_failed(self, message: SuggestFailed) -> None:
        self.query_one(SuggestionList).loading = False
        self._status(message.reason)
        self.notify(message.reason, severity="error", markup=False)

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
        if self.word_mode:
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

    # -- knobs -----------------------------------------------------------------------------

    def action_lock_rhyme(self) -> None:
        editor = self.query_one(SongEditor)
        lines = editor.text.split("\n")
        row = line_with_words(lines, editor.cursor_location[0])
        if row is None:
            self.notify("Nothing to rhyme with yet: write a line, then ctrl+l on it.",
                        severity="warning")
            return
        self.rhyme_row = None if self.rhyme_row == row else row
        self._show_locks()
        if self.rhyme_row is not None:
            self.notify(f"Rhyme lock: lines will rhyme with “{last_word(lines[row])}” "
                        f"(line {row + 1}).", markup=False)
        if self.query_one(SuggestionList).candidates:
            self.action_suggest()

    def _rhyme_word(self) -> str | None:
        if self.rhyme_row is None:
            return None
        lines = self._text.split("\n")
        return last_word(lines[self.rhyme_row]) if self.rhyme_row < len(lines) else None

    def _follow_rhyme_line(self, old: str, new: str) -> None:
        """Keep the rhyme lock on its line as lines are added or removed around it."""
        if self.rhyme_row is None:
            return
        self.rhyme_row = follow_line(old.split("\n"), new.split("\n"), self.rhyme_row)
        if self.rhyme_row is None:
            self.notify("The rhyme lock's line was deleted: the lock is off.",
                        severity="warning")
        self._show_locks()

    def action_lock_syllables(self) -> None:
        editor = self.query_one(SongEditor)
        count = prosody.line_syllables(editor.document.get_line(editor.cursor_location[0]))
        if self.syllable_target is None and not count:
            self.notify("Put the cursor on a line with words: its syllables become the target.",
                        severity="warning")
            return
        self.syllable_target = None if self.syllable_target is not None else count
        self._show_locks()

    def action_temperature(self, step: int) -> None:
        self.temperature_index = max(0, min(len(TEMPERATURES) - 1, self.temperature_index + step))
        self._show_locks()

    def action_word_mode(self) -> None:
        self.word_mode = not self.word_mode
        self._show_locks()
        self.action_suggest()

    def action_section(self, key: str) -> None:
        """A section header on the cursor's empty line, else above the cursor's line (so
        `[Verse]` can open the song)."""
        self.query_one(SongEditor).insert_header(SECTIONS[key])

    def action_rhymes(self) -> None:
        self.toggle_class("-rhymes")
        if self.has_class("-rhymes"):
            self._rhymes_soon(0)

    @on(SongEditor.SelectionChanged)
    def cursor_moved(self) -> None:
        if self.has_class("-rhymes"):
            self._rhymes_soon(RHYME_DELAY_S)

    def _rhymes_soon(self, delay: float) -> None:
        if self._rhyme_timer is not None:
            self._rhyme_timer.stop()
        self._rhyme_timer = self.set_timer(delay, self._look_up_rhymes) if delay else None
        if not delay:
            self._look_up_rhymes()

    def _look_up_rhymes(self) -> None:
        panel = self.query_one(RhymePanel)
        editor = self.query_one(SongEditor)
        word = editor.word_at_cursor()
        if word is None:  # an empty line: the line it answers, as for the rhyme lock
            lines = editor.text.split("\n")
            row = line_with_words(lines, editor.cursor_location[0])
            word = last_word(lines[row]) if row is not None else None
        if word is None:
            panel.show_note("Rhymes: put the cursor on a word.")
        elif self.engine is None:
            panel.show_note("Rhymes come once the model has loaded.")
        elif word.lower() != (panel.word or "").lower():
            self.find_rhymes(self.engine, word)

    @work(thread=True, exclusive=True, group="rhymes", exit_on_error=False,
          description="Finding rhymes")
    def find_rhymes(self, engine: Suggester, word: str) -> None:
        try:
            self.post_message(self.RhymesFound(word, engine.rhymes(word)))
        except LyricError as exc:
            self.post_message(self.RhymesFound(word, None, str(exc)))

    def on_composer_screen_rhymes_found(self, message: RhymesFound) -> None:
        panel = self.query_one(RhymePanel)
        if message.groups is None:
            panel.show_note(f"No rhymes for “{message.word}”: {message.reason}")
        else:
            panel.show_groups(message.groups)

    def _show_locks(self) -> None:
        parts = [f"temperature {TEMPERATURES[self.temperature_index]:.1f} (alt+↑/↓)"]
        word = self._rhyme_word()
        if self.rhyme_row is not None:
            parts.append(f"rhyme with “{word}” (line {self.rhyme_row + 1})" if word
                         else f"rhyme with line {self.rhyme_row + 1} (no words yet)")
        if self.syllable_target is not None:
            parts.append(f"{self.syllable_target} syllables")
        if self.word_mode:
            parts.append("word mode")
        self.query_one("#composer-locks", Label).update("  ·  ".join(parts))

    def _status(self, text: str) -> None:
        self.query_one("#suggest-status", Static).update(text)

    # -- drafts ----------------------------------------------------------------------------

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

    @property
    def draft_id(self) -> int | None:
        """The id of the draft being written, None until its first save."""
        return self.slot.id

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

    def on_composer_screen_draft_saved(self, message: DraftSaved) -> None:
        if message.draft is not None and message.slot is self.slot:
            self.sub_title = f"draft: {message.draft.title}"
        if self._save_failing:
            self._save_failing = False
            self.notify("Saved: the draft is safe again.")
        elif message.announce:
            self.notify("Saved." if message.slot.id is not None
                        else "Nothing to save yet: write a line first.")

    def on_composer_screen_save_failed(self, message: SaveFailed) -> None:
        if not self._save_failing:  # said once, not on every autosave
            self._save_failing = True
            self.notify(f"The draft could not be saved ({message.reason}). Your text stays "
                        f"here; lyrictui tries again every {SAVE_RETRY_S:.0f} s and on ctrl+s, "
                        "and F9 exports it to a file.", severity="error", timeout=20,
                        markup=False)
        if self._retry is None:
            self._retry = self.set_timer(SAVE_RETRY_S, self.action_save)

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
        self.rhyme_row = None  # a lock belongs to a line of the old text
        self._show_locks()
        editor = self.query_one(SongEditor)
        editor.load_text(text)
        editor.move_cursor(editor.document.end)
        self.sub_title = f"draft: {draft.title}"

    def action_new_draft(self) -> None:
        self.action_save()  # to the old slot, whenever it runs
        self.slot = DraftSlot()
        self.rhyme_row = None  # a lock belongs to a line of the old text
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

    def on_unmount(self) -> None:
        self._cancel.set()
        # The app is closing: this last save runs here, to be done before the library closes.
        try:
            self.slot.save(lyric_app(self).library, self._text,
                           artist_id=self.choice.artist_id if self.choice else None,
                           model_id=self.choice.key if self.choice else None)
        except SAVE_ERRORS:
            pass  # already said on screen while the app ran; closing must not fail on it
