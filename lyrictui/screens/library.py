"""The Library section: every artist, and the songs, runs and models of the selected one."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from lyrictui.core import paths
from lyrictui.core.records import ArtistSummary
from lyrictui.widgets.artist_detail import ArtistDetail
from lyrictui.widgets.artist_table import ArtistTable

EMPTY_TEXT = (
    "[b]No artists yet.[/b]\n\n"
    "Add lyrics to learn from:\n"
    "  • from Genius:   lyrictui scrape \"ARTIST\"\n"
    "  • your own files: lyrictui import NAME FILES...\n"
    "  • the demo:       lyrictui demo\n\n"
    "Then press [b]r[/b] to refresh."
)


class LibraryScreen(Screen[None]):
    """Home: the artists table with a detail pane."""

    BINDINGS = [
        Binding("r", "refresh", "Refresh", id="refresh", tooltip="Read the library again"),
    ]

    @dataclass
    class Loaded(Message):
        """The library was read (in a thread) and is ready to show."""

        summaries: list[ArtistSummary]
        disk: dict[int, int]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(EMPTY_TEXT, id="library-empty", classes="empty-state")
        with Horizontal(id="library-body"):
            yield ArtistTable(id="artists")
            with VerticalScroll(id="artist-detail-scroll"):
                yield ArtistDetail(id="artist-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.action_refresh()

    def on_screen_resume(self) -> None:
        self.action_refresh()

    def action_refresh(self) -> None:
        self.query_one(ArtistTable).loading = not self.query_one(ArtistTable).row_count
        self.load_library()

    @work(thread=True, exclusive=True, group="library-load", exit_on_error=False,
          description="Reading the library")
    def load_library(self) -> None:
        library = self.app.library  # type: ignore[attr-defined]
        summaries = library.summaries()
        disk = {s.artist.id: paths.dir_size(paths.artist_dir(s.artist.slug)) for s in summaries}
        self.post_message(self.Loaded(summaries, disk))

    def on_library_screen_loaded(self, message: Loaded) -> None:
        table = self.query_one(ArtistTable)
        table.loading = False
        self.set_class(not message.summaries, "-empty")
        table.show(message.summaries, message.disk)

    @on(ArtistTable.ArtistHighlighted)
    def show_detail(self, message: ArtistTable.ArtistHighlighted) -> None:
        self.query_one(ArtistDetail).artist_id = message.artist_id
