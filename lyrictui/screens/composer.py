"""The Composer section: write a song while an artist's model offers next lines.

Suggestions follow Textual's dictionary example: one exclusive worker per request, cancelled
as soon as the writer types on, and a result is dropped when the text it continues is no
longer the text on screen. Drafts autosave to the library a moment after each change.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
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
from lyrictui.core.compose.draft_slot import DraftSlot
from lyrictui.core.engine.sampling import SamplingConfig
from lyrictui.core.errors import Cancelled, LyricError
from lyrictui.core.store.records import Draft
from lyrictui.dialogs.open_draft import OpenDraftDialog
from lyrictui.dialogs.text_prompt import TextPromptDialog
from lyrictui.services import lyric_app
from lyrictui.widgets.line_gutter import LineGutter
from lyrictui.widgets.model_picker import ModelChoice, ModelPicker
from lyrictui.widgets.song_editor import SongEditor
from lyrictui.widgets.suggestion_list import ShownCandidate, SuggestionList

if TYPE_CHECKING:
    from lyrictui.core.engine.suggest import Suggester

AUTOSAVE_DELAY_S = 1.0
AUTOSAVE_MAX_S = 5.0
SUGGEST_DELAY_S = 0.35
SECTIONS = {"verse": "[Verse]", "chorus": "[Chorus]", "bridge": "[Bridge]"}
TEMPERATURES = (0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.4)
STARTER_TEXT = (
    "Writing with the bundled starter: a small demo model trained on public-domain verse. It "
    "works offline but knows no artist. For lines in an artist's style, select the artist in "
    "the Library (F2) and press t to train (best on a GPU)."
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
                tooltip="Make candidates rhyme with the line under the cursor (again: unlock)"),
        Binding("ctrl+b", "lock_syllables", "Syllable lock", id="lock-syllables",
                tooltip="Aim candidates at the syllable count of the cursor's line"),
        Binding("alt+up", "temperature(1)", "Hotter", id="hotter", show=False, priority=True),
        Binding("alt+down", "temperature(-1)", "Cooler", id="cooler", show=False,
                priority=True),
        Binding("f8", "word_mode", "Words", id="word-mode",
                tooltip="Show the likeliest next words instead of whole lines"),
        Binding("alt+v", "section('verse')", "[Verse]", id="verse", show=False,
                priority=True),
        Binding("alt+c", "section('chorus')", "[Chorus]", id="chorus", show=False,
                priority=True),
        Binding("alt+b", "section('bridge')", "[Bridge]", id="bridge", show=False,
                priority=True),
        Binding("ctrl+s", "save", "Save", id="save"),
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

    def __init__(self) -> None:
        super().__init__()
        self.slot = DraftSlot()
        self.choice: ModelChoice | None = None
        self._wanted_model: str | None = None
        self.rhyme_line: int | None = None
        self.syllable_target: int | None = None
        self.temperature_index = TEMPERATURES.index(SamplingConfig.temperature)
        self.word_mode = False
        self._autosave: Timer | None = None
        self._suggest_timer: Timer | None = None
        self._cancel = threading.Event()
        self._unsaved_since: float | None = None  # monotonic time of the first unsaved change
        self._text = ""  # the editor's text, kept here so saving works while unmounting

    # -- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="composer-top"):
            yield ModelPicker(id="model-picker", wanted=self._wanted_model)
            yield Label("", id="composer-locks")
        with Horizontal(id="composer-body"):
            yield LineGutter(id="gutter")
            yield SongEditor(id="song")
            with Vertical(id="suggest-pane"):
                yield Label("Suggestions", id="suggest-title")
                yield Static(STARTER_TEXT, id="model-note", markup=False)
                yield SuggestionList(id="suggestions")
                yield Static(NO_MODEL_TEXT, id="suggest-status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        editor = self.query_one(SongEditor)
        self.watch(editor, "scroll_y", self._sync_gutter, init=False)
        self._show_locks()
        editor.focus()

    def on_screen_resume(self) -> None:
        self.query_one(ModelPicker).reload()

    def _sync_gutter(self, scroll_y: float) -> None:
        self.query_one(LineGutter).top_line = int(scroll_y)

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
        self._status(f"Loading {choice.label}…")
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
        except LyricError as exc:
            self.post_message(self.SuggestFailed(str(exc)))
            return
        engines.put(choice.path, engine)
        self.post_message(self.EngineReady(choice.key, engine))

    def on_composer_screen_engine_ready(self, message: EngineReady) -> None:
        self.query_one(SuggestionList).loading = False
        if self.choice is None or message.key != self.choice.key:
            return
        self._status(f"{self.choice.label}: ready. Finish a line, or press ctrl+g for "
                     "opening lines.")
        if self._text.strip():
            self.schedule_suggest(0)

    @property
    def engine(self) -> Suggester | None:
        if self.choice is None:
            return None
        return lyric_app(self).services.engines.get(self.choice.path)

    # -- typing ----------------------------------------------------------------------------

    @on(SongEditor.Changed)
    def song_changed(self, event: SongEditor.Changed) -> None:
        text = self._text = event.text_area.text
        self._cancel.set()  # whatever is being generated is for older text
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
        editor = self.query_one(SongEditor)
        row, column = editor.cursor_location
        if column == 0 and row > 0 and editor.document.get_line(row - 1).strip():
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
        context = editor.text_before_cursor()
        self._cancel.set()
        self._cancel = threading.Event()
        self._status("Thinking…" if not self.word_mode else "Looking for next words…")
        self.generate(engine, context, self._request_options(editor.text), self._cancel)

    def _request_options(self, text: str) -> dict[str, Any]:
        lines = text.split("\n")
        options: dict[str, Any] = {"temperature": TEMPERATURES[self.temperature_index]}
        if self.rhyme_line is not None and self.rhyme_line < len(lines):
            last_words = prosody.words(lines[self.rhyme_line])
            if last_words:
                options["rhyme_with"] = last_words[-1]
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
                         for w in engine.next_words(context, k=8)]
            else:
                shown = [ShownCandidate(c.text, c.syllables, c.rhyme_key, bool(c.verbatim))
                         for c in engine.suggest(context, n=5, cancel=cancel, **options)]
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
        self.query_one(SuggestionList).show(message.candidates)
        if message.candidates and not message.words:
            editor.show_ghost(message.candidates[0].text)
        if not message.candidates:
            self._status("The model offered nothing usable here: ctrl+g tries again.")
            return
        self._status(f"{len(message.candidates)} {'words' if message.words else 'lines'}: "
                     "1-5 in the list, alt+1-5 or Tab in the editor, ctrl+g for new ones.")

    def on_composer_screen_suggest_failed(self, message: SuggestFailed) -> None:
        self.query_one(SuggestionList).loading = False
        self._status(message.reason)
        self.notify(message.reason, severity="error", markup=False)

    @on(SuggestionList.Accepted)
    def take_from_list(self, message: SuggestionList.Accepted) -> None:
        self._take(message.text)

    @on(SongEditor.AcceptRequested)
    def take_from_editor(self, message: SongEditor.AcceptRequested) -> None:
        candidates = self.query_one(SuggestionList).candidates
        if 0 <= message.index < len(candidates):
            self._take(candidates[message.index].text)

    @on(SuggestionList.RegenerateRequested)
    def regenerate(self) -> None:
        self.action_suggest()

    def _take(self, text: str) -> None:
        editor = self.query_one(SongEditor)
        editor.suggestion = ""
        if self.word_mode:
            before = editor.text_before_cursor()
            editor.insert(text if not before or before[-1] in " \n" else " " + text)
        else:
            editor.insert_line(text)
        editor.focus()
        if not self.word_mode:
            self.schedule_suggest(0)

    # -- knobs -----------------------------------------------------------------------------

    def action_lock_rhyme(self) -> None:
        row = self.query_one(SongEditor).cursor_location[0]
        self.rhyme_line = None if self.rhyme_line == row else row
        self._show_locks()

    def action_lock_syllables(self) -> None:
        editor = self.query_one(SongEditor)
        count = prosody.line_syllables(editor.document.get_line(editor.cursor_location[0]))
        self.syllable_target = None if self.syllable_target is not None or not count else count
        self._show_locks()

    def action_temperature(self, step: int) -> None:
        self.temperature_index = max(0, min(len(TEMPERATURES) - 1, self.temperature_index + step))
        self._show_locks()

    def action_word_mode(self) -> None:
        self.word_mode = not self.word_mode
        self._show_locks()
        self.action_suggest()

    def action_section(self, key: str) -> None:
        editor = self.query_one(SongEditor)
        editor.insert_line(SECTIONS[key])

    def _show_locks(self) -> None:
        parts = [f"temperature {TEMPERATURES[self.temperature_index]:.1f} (alt+↑/↓)"]
        if self.rhyme_line is not None:
            parts.append(f"rhyme with line {self.rhyme_line + 1}")
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
        """A save (in a thread) wrote `draft` for `slot`."""

        slot: DraftSlot
        draft: Draft

    @property
    def draft_id(self) -> int | None:
        """The id of the draft being written, None until its first save."""
        return self.slot.id

    def action_save(self) -> Worker[Draft | None]:
        """Save the text in a thread worker (SQLite may wait on another writer's lock)."""
        self._unsaved_since = None
        artist_id, model_id = (self.choice.artist_id, self.choice.key) if self.choice else (
            None, None)
        return self.save_draft(self.slot, self._text, artist_id, model_id)

    @work(thread=True, group="draft-save", exit_on_error=False, description="Saving the draft")
    def save_draft(self, slot: DraftSlot, text: str, artist_id: int | None,
                   model_id: str | None) -> Draft | None:
        try:
            draft = slot.save(lyric_app(self).library, text, artist_id=artist_id,
                              model_id=model_id)
        except LyricError as exc:
            self.app.call_from_thread(self.notify, f"The draft was not saved: {exc}",
                                      severity="error", markup=False)
            return None
        if draft is not None:
            self.post_message(self.DraftSaved(slot, draft))
        return draft

    def on_composer_screen_draft_saved(self, message: DraftSaved) -> None:
        if message.slot is self.slot:
            self.sub_title = f"draft: {message.draft.title}"

    @work(exclusive=True, group="drafts", exit_on_error=False)
    async def action_open_draft(self) -> None:
        await self.action_save().wait()
        library = lyric_app(self).library
        draft_id = await self.app.push_screen_wait(OpenDraftDialog(library.list_drafts()))
        if draft_id is None:
            return
        draft = library.get_draft(draft_id)
        self.slot = DraftSlot(draft.id, draft.text)
        editor = self.query_one(SongEditor)
        editor.load_text(draft.text)
        editor.move_cursor(editor.document.end)
        self.sub_title = f"draft: {draft.title}"

    def action_new_draft(self) -> None:
        self.action_save()  # to the old slot, whenever it runs
        self.slot = DraftSlot()
        self.query_one(SongEditor).load_text("")
        self.query_one(SuggestionList).show([])
        self.sub_title = "new draft"

    @work(exclusive=True, group="drafts", exit_on_error=False)
    async def action_export(self) -> None:
        await self.action_save().wait()
        if self.slot.id is None:
            self.notify("Nothing to export yet: write a line first.", severity="warning")
            return
        draft = lyric_app(self).library.get_draft(self.slot.id)
        suggested = Path.home() / f"{drafts_mod.safe_file_stem(draft.title)}.txt"
        target = await self.app.push_screen_wait(
            TextPromptDialog("Export the draft", "A .txt or .md file name.",
                             value=str(suggested), ok_label="Export")
        )
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
        self.slot.save(lyric_app(self).library, self._text,
                       artist_id=self.choice.artist_id if self.choice else None,
                       model_id=self.choice.key if self.choice else None)
