"""The composer's model and the requests to it: loading and warming the engine, one exclusive
worker per request (cancelled as soon as the writer types on, as in Textual's dictionary
example), and the rhymes of the word under the cursor.

With the cursor at the end of a half-written line, line mode finishes that line instead of
offering the next one. What comes back is shown and taken in `composer_candidates.py`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual import work
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Label, Static
from textual.worker import Worker, get_current_worker

from lyrictui.core import prosody
from lyrictui.core.compose.anchor import last_word, line_with_words
from lyrictui.core.errors import Cancelled, LyricError
from lyrictui.core.prosody.lexicon import Lexicon
from lyrictui.screens.composer_locks import Locks
from lyrictui.services import lyric_app
from lyrictui.widgets.model_picker import ModelChoice
from lyrictui.widgets.rhyme_panel import RhymePanel
from lyrictui.widgets.song_editor import SongEditor
from lyrictui.widgets.suggestion_list import ShownCandidate, SuggestionList

if TYPE_CHECKING:
    from lyrictui.core.engine.suggest import Suggester
    from lyrictui.core.prosody.rhymeset import RhymeGroups

SUGGEST_DELAY_S = 0.35
RHYME_DELAY_S = 0.25
NO_MODEL_TEXT = (
    "No trained model yet. Pick the bundled starter above (a small demo model trained on "
    "public-domain verse: it works offline but writes generic verse). For lines in an artist's "
    "style, add the artist in the Library and train: lyrictui train NAME (best on a GPU)."
)


class ComposerEngine(Screen[None]):
    """The composer's model and its requests (a base of `ComposerScreen`, which lays the
    widgets out and binds the keys)."""

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
        self.choice: ModelChoice | None = None
        self.locks = Locks()
        self._text = ""  # the editor's text, kept here so saving works while unmounting
        self._suggest_timer: Timer | None = None
        self._cancel = threading.Event()
        self._requested_for: str | None = None  # the context of the request in flight
        self._suggest_worker: Worker[None] | None = None
        self._shown_for: str | None = None  # the context the shown candidates continue
        self._rhyme_timer: Timer | None = None

    # -- the model -------------------------------------------------------------------------

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
            Lexicon.warm()  # the word lists and the rhyme index of words the dictionary lacks
            engine.suggest("", n=1, seed=0, max_tokens=4)
        except LyricError:
            pass  # only speed is lost; a real request will say what is wrong

    def on_composer_engine_engine_ready(self, message: EngineReady) -> None:
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

    # -- requests --------------------------------------------------------------------------

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
        self._status("Looking for next words…" if self.locks.word_mode
                     else "Finishing the line…" if complete else "Thinking…")
        options = self.locks.request_options(self._text, editor.cursor_location[0], complete)
        self._suggest_worker = self.generate(engine, context, options, self._cancel)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is self._suggest_worker and event.worker.is_finished:
            self._requested_for = None  # nothing in flight: the same text may ask again

    def _finishing_line(self) -> bool:
        """Whether a line request finishes the cursor's line: the cursor is at the end of a
        half-written line (not a header)."""
        editor = self.query_one(SongEditor)
        row, column = editor.cursor_location
        line = editor.document.get_line(row)
        return (not self.locks.word_mode and bool(line.strip()) and not prosody.is_header(line)
                and column >= len(line.rstrip()))

    @work(thread=True, exclusive=True, group="suggest", exit_on_error=False,
          description="Suggesting lines")
    def generate(self, engine: Suggester, context: str, options: dict[str, Any],
                 cancel: threading.Event) -> None:
        worker = get_current_worker()
        try:
            if self.locks.word_mode:
                shown = [ShownCandidate(w.word, prosody.line_syllables(w.word),
                                        f"{100 * w.probability:.0f} %")
                         for w in engine.next_words(context, k=8, cancel=cancel)]
            else:
                # No ARPAbet rhyme key ("AY T"): it means nothing to a songwriter; the marks
                # say whether a line rhymes, the gutter letters the song's scheme.
                shown = [ShownCandidate(c.text, c.syllables, None, bool(c.verbatim),
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
            self.post_message(self.SuggestionsReady(context, shown, self.locks.word_mode))

    def on_composer_engine_suggest_failed(self, message: SuggestFailed) -> None:
        self.query_one(SuggestionList).loading = False
        self._status(message.reason)
        self.notify(message.reason, severity="error", markup=False)

    # -- rhymes of the word under the cursor -----------------------------------------------

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

    def on_composer_engine_rhymes_found(self, message: RhymesFound) -> None:
        panel = self.query_one(RhymePanel)
        if message.groups is None:
            panel.show_note(f"No rhymes for “{message.word}”: {message.reason}")
        else:
            panel.show_groups(message.groups)

    # -- the status lines ------------------------------------------------------------------

    def _show_locks(self) -> None:
        self.query_one("#composer-locks", Label).update(self.locks.describe(self._text))

    def _status(self, text: str) -> None:
        self.query_one("#suggest-status", Static).update(text)
