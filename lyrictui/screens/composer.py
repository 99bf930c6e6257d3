"""The Composer section: write a song while an artist's model offers next lines.

The screen lays the widgets out, binds the keys, picks the model and follows the typing; its
bases do the rest: `ComposerEngine` (composer_engine.py) loads the model and asks it for
lines, `ComposerCandidates` shows them (the ghost at the cursor and the list) and takes one,
`ComposerDrafts` saves the song to the library; the locks a request carries are a `Locks`
(composer_locks.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Footer, Header, Label, Static

from lyrictui.core import prosody
from lyrictui.core.compose.anchor import last_word, line_with_words
from lyrictui.screens.composer_candidates import ComposerCandidates
from lyrictui.screens.composer_drafts import AUTOSAVE_MAX_S, ComposerDrafts
from lyrictui.screens.composer_engine import NO_MODEL_TEXT, RHYME_DELAY_S, SUGGEST_DELAY_S
from lyrictui.widgets.line_gutter import LineGutter
from lyrictui.widgets.model_picker import ModelPicker
from lyrictui.widgets.rhyme_panel import RhymePanel
from lyrictui.widgets.song_editor import SongEditor
from lyrictui.widgets.suggestion_list import SuggestionList

__all__ = ["AUTOSAVE_MAX_S", "ComposerScreen"]

STACKED_BELOW = 72  # columns: below this the suggestions go under the song, not beside it
SECTIONS = {"verse": "[Verse]", "chorus": "[Chorus]", "bridge": "[Bridge]"}
# alt+letter arrives as ESC and the letter; ESC b and ESC f mean word left/right (readline,
# macOS), so the bridge is alt+r.
SECTION_KEYS = {"verse": "alt+v", "chorus": "alt+c", "bridge": "alt+r"}
STARTER_TEXT = (
    "The starter: a small demo model (public-domain verse, no artist's style). To train one "
    "on an artist: Library (F2), t."
)


class ComposerScreen(ComposerDrafts, ComposerCandidates):
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

    def __init__(self) -> None:
        super().__init__()
        self._wanted_model: str | None = None

    @property
    def rhyme_row(self) -> int | None:
        """The line the rhyme lock rhymes with (0-based); it follows the line as text moves."""
        return self.locks.rhyme_row

    @property
    def syllable_target(self) -> int | None:
        return self.locks.syllable_target

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

    def on_unmount(self) -> None:
        self._cancel.set()
        self._save_on_close()

    # -- models ----------------------------------------------------------------------------

    def select_model(self, key: str) -> None:
        """Pick a model by id (the Library's compose action, maybe before this screen is
        composed: then the picker starts from it)."""
        pickers = self.query(ModelPicker)
        if pickers:
            pickers.first().select_model(key)
        else:
            self._wanted_model = key

    @on(ModelPicker.Settled)
    def model_settled(self) -> None:
        # The list closed on a choice, perhaps the model already in use: back to the lyrics.
        self.call_after_refresh(self.query_one(SongEditor).focus)

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
        self._autosave_soon()
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

    # -- knobs -----------------------------------------------------------------------------

    def _lock_line(self, nothing: str) -> tuple[list[str], int] | None:
        """The song's lines and the line a lock aims at: the cursor's, or on an empty line
        the nearest above with words; None (and `nothing` said) when there is none."""
        editor = self.query_one(SongEditor)
        lines = editor.text.split("\n")
        row = line_with_words(lines, editor.cursor_location[0])
        if row is None:
            self.notify(nothing, severity="warning")
            return None
        return lines, row

    def _locks_changed(self, said: str | None) -> None:
        self._show_locks()
        if said:
            self.notify(said, markup=False)
        if self.query_one(SuggestionList).candidates:
            self.action_suggest()  # the shown lines were asked without this lock

    def action_lock_rhyme(self) -> None:
        found = self._lock_line("Nothing to rhyme with yet: write a line, then ctrl+l on it.")
        if found is None:
            return
        lines, row = found
        locks = self.locks
        locks.rhyme_row = None if locks.rhyme_row == row else row
        self._locks_changed(None if locks.rhyme_row is None else
                            f"Rhyme lock: lines will rhyme with “{last_word(lines[row])}” "
                            f"(line {row + 1}).")

    def _follow_rhyme_line(self, old: str, new: str) -> None:
        """Keep the rhyme lock on its line as lines are added or removed around it."""
        if self.locks.rhyme_row is None:
            return
        if not self.locks.follow(old, new):
            self.notify("The rhyme lock's line was deleted: the lock is off.",
                        severity="warning")
        self._show_locks()

    def action_lock_syllables(self) -> None:
        """Lock to the cursor's line's syllables; on an empty line, the nearest line above
        with words (as the rhyme lock does); again: unlock."""
        if self.locks.syllable_target is not None:
            self.locks.syllable_target = None
            self._show_locks()
            return
        found = self._lock_line("Put the cursor on a line with words: its syllables become "
                                "the target.")
        if found is None:
            return
        lines, row = found
        count = self.locks.syllable_target = prosody.line_syllables(lines[row])
        self._locks_changed(f"Syllable lock: lines of {count} syllables, as line {row + 1}.")

    def action_temperature(self, step: int) -> None:
        self.locks.step_temperature(step)
        self._show_locks()

    def action_word_mode(self) -> None:
        self.locks.word_mode = not self.locks.word_mode
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
