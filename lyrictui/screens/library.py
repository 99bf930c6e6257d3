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
from lyrictui.core.errors import LyricError
from lyrictui.core.names import clean_name, plural
from lyrictui.core.records import ArtistSummary
from lyrictui.dialogs.confirm import ConfirmDialog
from lyrictui.dialogs.text_prompt import TextPromptDialog
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
        Binding("n", "rename", "Rename", id="rename", tooltip="Rename the selected artist"),
        Binding("d", "delete", "Delete", id="delete",
                tooltip="Delete the selected artist and everything it holds"),
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

    # -- actions on the selected artist ---------------------------------------------------

    def _selected(self) -> int | None:
        artist_id = self.query_one(ArtistTable).selected_artist_id
        if artist_id is None:
            self.notify("Select an artist first.", severity="warning")
        return artist_id

    @work(exclusive=True, group="library-action", exit_on_error=False)
    async def action_rename(self) -> None:
        artist_id = self._selected()
        if artist_id is None:
            return
        library = self.app.library  # type: ignore[attr-defined]
        artist = library.artist_by_id(artist_id)
        name = await self.app.push_screen_wait(
            TextPromptDialog(f"Rename {artist.name}", "The artist's folder keeps its name.",
                             value=artist.name, ok_label="Rename", check=clean_name)
        )
        if not name or name == artist.name:
            return
        try:
            library.rename_artist(artist_id, name)
        except LyricError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.notify(f"Renamed to {name}.", markup=False)
        self.action_refresh()

    @work(exclusive=True, group="library-action", exit_on_error=False)
    async def action_delete(self) -> None:
        artist_id = self._selected()
        if artist_id is None:
            return
        library = self.app.library  # type: ignore[attr-defined]
        artist = library.artist_by_id(artist_id)
        kept, skipped = library.song_counts(artist_id)
        size = paths.dir_size(paths.artist_dir(artist.slug))
        body = (
            f"This deletes {plural(kept + skipped, 'song')}, every dataset, training run and model of "
            f"{artist.name}, and frees {paths.human_size(size)} on disk. It cannot be undone."
        )
        if not await self.app.push_screen_wait(ConfirmDialog(f"Delete {artist.name}?", body)):
            return
        freed = library.delete_artist(artist_id)
        self.notify(f"Deleted {artist.name}: {paths.human_size(freed)} freed.", markup=False)
        self.action_refresh()
