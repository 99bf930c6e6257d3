"""The Library section: every artist, and the songs, runs and models of the selected one.

The screen lays the widgets out, binds the keys and opens the composer on an artist's model;
its bases do the rest: `LibraryView` (library_view.py) reads the library and runs actions,
`LibraryJobs` scrapes, imports and packs, `ArtistActions` renames, deletes and exports,
`ModelActions` trains, adds, deletes models and prunes runs.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Header, Static

from lyrictui.screens.composer import ComposerScreen
from lyrictui.screens.library_artist import ArtistActions
from lyrictui.screens.library_jobs import LibraryJobs
from lyrictui.screens.library_models import ModelActions
from lyrictui.widgets.artist_detail import ArtistDetail
from lyrictui.widgets.artist_table import ArtistTable
from lyrictui.widgets.job_progress import JobProgress

CHANGES_EVERY_S = 1.0  # how often the library is asked whether anything changed
EMPTY_TEXT = (
    "[b]No artists yet.[/b]\n\n"
    "Add lyrics to learn from:\n"
    "  • [b]a[/b]  fetch an artist from Genius (needs a free Genius API token)\n"
    "  • [b]i[/b]  import your own .txt / .md lyrics\n"
    "  • the public-domain demo artist: lyrictui demo\n"
)


class LibraryScreen(LibraryJobs, ArtistActions, ModelActions):
    """Home: the artists table with a detail pane."""

    BINDINGS = [
        Binding("a", "add_genius", "Add from Genius", id="add-genius",
                tooltip="Fetch an artist's lyrics from Genius"),
        Binding("i", "import_files", "Import", id="import",
                tooltip="Import your own lyrics from .txt / .md files"),
        Binding("p", "pack", "Pack", id="pack", show=False,
                tooltip="Tokenize the selected artist's songs into a training dataset"),
        Binding("t", "train", "Train", id="train",
                tooltip="Fine-tune a model on the selected artist (in the background)"),
        Binding("c", "compose", "Compose", id="compose",
                tooltip="Write with the selected artist's model"),
        Binding("e", "export", "Export", id="export", show=False,
                tooltip="Write the selected artist's songs to a file"),
        Binding("x", "stop_jobs", "Stop jobs", id="stop-jobs", show=False,
                tooltip="Stop running scrapes"),
        Binding("r", "refresh", "Refresh", id="refresh", show=False,
                tooltip="Read the library again (changes from other processes show by themselves)"),
        Binding("n", "rename", "Rename", id="rename", show=False,
                tooltip="Rename the selected artist"),
        Binding("d", "delete", "Delete", id="delete", show=False,
                tooltip="Delete the selected artist and everything it holds"),
        Binding("m", "delete_model", "Delete model", id="delete-model", show=False,
                tooltip="Delete one of the selected artist's models"),
        Binding("o", "add_model", "Add model…", id="add-model", show=False,
                tooltip="Register a model trained elsewhere (a folder or a hub id)"),
        Binding("f", "prune_runs", "Prune runs", id="prune-runs", show=False,
                tooltip="Free the disk space finished training runs still hold"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(EMPTY_TEXT, id="library-empty", classes="empty-state")
        with Horizontal(id="library-body"):
            yield ArtistTable(id="artists")
            with VerticalScroll(id="artist-detail-scroll"):
                yield ArtistDetail(id="artist-detail")
        yield JobProgress(id="jobs")
        yield Footer()

    def on_mount(self) -> None:
        self.check_changes()  # the baseline: what this first read shows
        self.action_refresh()
        self.set_interval(CHANGES_EVERY_S, self.check_changes)

    def on_screen_resume(self) -> None:
        self.action_refresh()

    def action_compose(self) -> None:
        summary = self._selected_summary()
        if summary is None:
            return
        model = summary.best_model  # read with the table's rows: no query on the event loop
        if model is None:
            self.notify("This artist has no model yet: press t to train one, or compose with "
                        "the starter model.", severity="warning")
            return
        self.app.switch_mode("composer")
        composer = self.app.screen
        if isinstance(composer, ComposerScreen):
            composer.select_model(model.id)
