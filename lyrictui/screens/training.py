"""The Training section: runs of every artist, running ones first."""

from __future__ import annotations

from dataclasses import dataclass

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from lyrictui.core.records import Run
from lyrictui.core.status import run_is_stale, run_progress

EMPTY_TEXT = (
    "[b]No training runs yet.[/b]\n\n"
    "Fine-tune a model on an artist's lyrics:\n"
    "  lyrictui train NAME            (GPT-2, best on a GPU)\n"
    "  lyrictui train NAME --base starter   (small bundled model, works offline)\n\n"
    "Runs started from the command line appear here; press [b]r[/b] to refresh."
)


class TrainingScreen(Screen[None]):
    """Training runs; the live monitor of one run builds on this list."""

    BINDINGS = [Binding("r", "refresh", "Refresh", id="refresh")]

    @dataclass
    class Loaded(Message):
        runs: list[Run]
        artists: dict[int, str]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(EMPTY_TEXT, id="training-empty", classes="empty-state")
        yield DataTable(id="runs", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#runs", DataTable).add_columns(
            "Run", "Artist", "Status", "Progress", "Base", "Method", "Best val loss"
        )
        self.action_refresh()

    def on_screen_resume(self) -> None:
        self.action_refresh()

    def action_refresh(self) -> None:
        self.load_runs()

    @work(thread=True, exclusive=True, group="runs-load", exit_on_error=False,
          description="Reading training runs")
    def load_runs(self) -> None:
        library = self.app.library  # type: ignore[attr-defined]
        runs = library.list_runs()
        artists = {a.id: a.name for a in library.list_artists()}
        # Running first, then the most recent.
        runs.sort(key=lambda r: (r.status != "running", -r.started_at))
        self.post_message(self.Loaded(runs, artists))

    def on_training_screen_loaded(self, message: Loaded) -> None:
        table = self.query_one("#runs", DataTable)
        table.clear()
        self.set_class(not message.runs, "-empty")
        for run in message.runs:
            status = "interrupted" if run_is_stale(run) else run.status
            best = f"{run.best_val_loss:.3f}" if run.best_val_loss is not None else "-"
            table.add_row(
                run.id, message.artists.get(run.artist_id, "?"), status, run_progress(run),
                run.base, run.method, best, key=run.id,
            )
