"""What the Library section shows and how its actions run: the library read in a thread (and
again whenever another process or thread commits), the selected artist, and the plumbing every
action on it goes through (ask, change in a thread, say what happened, read again)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

from textual import on, work
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.worker import Worker

from lyrictui.core import paths
from lyrictui.core.errors import LyricError
from lyrictui.core.store.library import Library
from lyrictui.core.store.records import Artist, ArtistSummary
from lyrictui.services import lyric_app
from lyrictui.widgets.artist_detail import ArtistDetail
from lyrictui.widgets.artist_table import ArtistTable

T = TypeVar("T")
A = TypeVar("A")


class LibraryView(Screen[None]):
    """The Library's reading side (a base of `LibraryScreen`, which lays the widgets out and
    binds the keys)."""

    @dataclass
    class Loaded(Message):
        """The library was read (in a thread) and is ready to show."""

        summaries: list[ArtistSummary]
        disk: dict[int, int]

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, LibraryView.Loaded)  # only the newest read matters

    @dataclass
    class ActionDone(Message):
        """A library action ended off the event loop: what it did, or why it did not."""

        text: str
        error: bool = False

    def __init__(self) -> None:
        super().__init__()
        self._demo_checked = False
        self._data_version: int | None = None

    def check_changes(self) -> None:
        """Read the library again when another process (`lyrictui import` in a shell, a
        training run) or one of this app's threads has committed since the last look: SQLite's
        data_version, one cheap query, changes with every such commit."""
        try:
            version = self.library.data_version()
        except (LyricError, sqlite3.Error):
            return
        if self._data_version is not None and version != self._data_version and self.is_current:
            self.load_library()
        self._data_version = version

    def action_refresh(self) -> None:
        self.query_one(ArtistTable).loading = not self.query_one(ArtistTable).row_count
        self.load_library()

    @work(thread=True, exclusive=True, group="library-load", exit_on_error=False,
          description="Reading the library")
    def load_library(self) -> None:
        library = self.library
        if not self._demo_checked:
            from lyrictui.core.sources.demo import ensure_demo

            # First start: the demo artist with the starter model, unless the user removed it.
            self._demo_checked = True
            try:
                ensure_demo(library)
            except LyricError as exc:
                self.app.call_from_thread(self.notify, str(exc), severity="warning",
                                          markup=False)
            except Exception:  # a damaged library: the read below says so
                pass
        try:
            self.post_message(self._read_library())
        except Exception as exc:  # a damaged or vanished library: say so, never spin
            self.app.call_from_thread(self._load_failed, exc)

    def _load_failed(self, exc: Exception) -> None:
        from lyrictui.core.store.db import damage, damaged_message

        detail = damage(exc)
        text = (damaged_message(paths.library_path(), detail) if detail is not None
                else str(exc) if isinstance(exc, LyricError)
                else f"The library cannot be read ({type(exc).__name__}: {exc}).")
        self.query_one(ArtistTable).loading = False
        self.notify(text, severity="error", markup=False, timeout=30)

    def _read_library(self) -> Loaded:
        """The table's rows and each artist's disk use (in a thread: it walks folders)."""
        summaries = self.library.summaries()
        disk = {s.artist.id: paths.dir_size(paths.artist_dir(s.artist.slug)) for s in summaries}
        return self.Loaded(summaries, disk)

    def on_library_view_loaded(self, message: Loaded) -> None:
        table = self.query_one(ArtistTable)
        table.loading = False
        self.set_class(not message.summaries, "-empty")
        table.show(message.summaries, message.disk)
        self.query_one(ArtistDetail).reload()  # the same artist may hold new songs or models

    @on(ArtistTable.ArtistHighlighted)
    def show_detail(self, message: ArtistTable.ArtistHighlighted) -> None:
        self.query_one(ArtistDetail).artist_id = message.artist_id

    # -- the selected artist, and how an action on it runs --------------------------------

    @property
    def library(self) -> Library:
        return lyric_app(self).library

    def _selected(self) -> Artist | None:
        """The highlighted artist, or None with a notification saying to pick one (read from
        the table's rows: no query on the event loop)."""
        summary = self._selected_summary()
        return summary.artist if summary is not None else None

    def _selected_summary(self) -> ArtistSummary | None:
        summary = self.query_one(ArtistTable).selected_summary
        if summary is None:
            self.notify("Select an artist first.", severity="warning")
        return summary

    async def _in_thread(self, read: Callable[[], T], description: str) -> T:
        """`read()` in a thread worker, awaited: a walk over a large folder never holds up
        the event loop."""
        worker: Worker[T] = self.run_worker(read, thread=True, group="library-read",
                                            exit_on_error=False, description=description)
        return await worker.wait()

    async def _ask_then_change(self, dialog: ModalScreen[A | None] | ModalScreen[A],
                               change: Callable[[A], str | None], description: str) -> None:
        """The one way rename, delete and delete model go: ask with `dialog`; unless it was
        cancelled (None, False, empty), run `change(answer)` in a thread worker (deleting
        gigabytes of checkpoints takes a while), then read the library again."""
        answer = await self.app.push_screen_wait(dialog)
        if answer:
            self._run_and_say(partial(change, answer), description, reread=True)

    def _run_and_say(self, job: Callable[[], str | None], description: str, *,
                     reread: bool = False) -> None:
        """Run `job` in a thread worker; its sentence (or its LyricError) comes back as an
        `ActionDone` message, followed by the library read again when `reread`."""

        def run() -> None:
            try:
                said = job()
            except (LyricError, OSError) as exc:
                self.post_message(self.ActionDone(str(exc), error=True))
                return
            if said:
                self.post_message(self.ActionDone(said))
            if reread:
                self.post_message(self._read_library())

        self.run_worker(run, thread=True, group="library-change", exit_on_error=False,
                        description=description)

    def on_library_view_action_done(self, message: ActionDone) -> None:
        self.notify(message.text, severity="error" if message.error else "information",
                    markup=False)
