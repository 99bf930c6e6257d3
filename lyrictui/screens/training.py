"""The Training section: every run (running first) and a live monitor of the selected one.

The monitor reads the run's events.jsonl (the only channel from a training process) in a
thread a few times a second, so it attaches to runs started from the CLI or before the app
opened, and keeps following a run after the app is closed and opened again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import WorkerFailed

from lyrictui.core.errors import LyricError
from lyrictui.core.names import strip_control
from lyrictui.core.store.records import Run
from lyrictui.core.store.status import run_progress
from lyrictui.core.train.run_state import RunState
from lyrictui.dialogs.confirm import ConfirmDialog
from lyrictui.services import lyric_app
from lyrictui.widgets.artist_table import table_cell
from lyrictui.widgets.run_monitor import RunMonitor

ACTIVE = ("running", "queued")
POLL_S = 0.25  # events are read at most 4 times a second, however fast they arrive
RUNS_EVERY_S = 2.0

EMPTY_TEXT = (
    "[b]No training runs yet.[/b]\n\n"
    "Fine-tune a model on an artist's lyrics: select the artist in the Library (F2) and press t,\n"
    "or from a shell:\n"
    "  lyrictui train NAME                   (GPT-2, best on a GPU)\n"
    "  lyrictui train NAME --base starter    (small bundled model, works offline)\n\n"
    "Runs started from the command line appear here by themselves."
)


@dataclass
class _Followed:
    run_id: str
    title: str
    offset: int = 0
    state: RunState = field(default_factory=RunState)


class TrainingScreen(Screen[None]):
    """Runs list and the live monitor."""

    BINDINGS = [
        Binding("r", "refresh", "Refresh", id="refresh"),
        Binding("c", "cancel_run", "Cancel run", id="cancel-run",
                tooltip="Ask the selected run to save a checkpoint and stop"),
        Binding("u", "resume_run", "Resume", id="resume-run",
                tooltip="Continue an interrupted or cancelled run from its last checkpoint"),
    ]

    @dataclass
    class RunsLoaded(Message):
        runs: list[Run]
        artists: dict[int, str]

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, TrainingScreen.RunsLoaded)  # only the newest read

    @dataclass
    class EventsRead(Message):
        run_id: str
        events: list[dict]
        offset: int

    def __init__(self) -> None:
        super().__init__()
        self.runs: dict[str, Run] = {}
        self.artist_names: dict[int, str] = {}
        self.followed: _Followed | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(EMPTY_TEXT, id="training-empty", classes="empty-state")
        with Horizontal(id="training-body"):
            yield DataTable(id="runs", cursor_type="row", zebra_stripes=True)
            yield RunMonitor(id="run-monitor")
        yield Footer()

    def on_mount(self) -> None:
        # Status first: the run id is long, and a narrow table scrolls what comes after it.
        table = self.query_one("#runs", DataTable)
        for label in ("Status", "Artist", "Progress", "Best val", "Run"):
            table.add_column(label, key=label.lower())
        self.action_refresh()
        self.set_interval(POLL_S, self.poll_events)
        self.set_interval(RUNS_EVERY_S, self.action_refresh)

    def on_screen_resume(self) -> None:
        self.action_refresh()

    # -- runs ------------------------------------------------------------------------------

    def action_refresh(self) -> None:
        self.load_runs()

    @work(thread=True, exclusive=True, group="runs-load", exit_on_error=False,
          description="Reading training runs")
    def load_runs(self) -> None:
        from lyrictui.core.train.runs import mark_stale_runs

        library = lyric_app(self).library
        mark_stale_runs(library)
        runs = library.list_runs()
        runs.sort(key=lambda r: (r.status not in ("running", "queued"), -r.started_at))
        artists = {a.id: a.name for a in library.list_artists()}
        self.post_message(self.RunsLoaded(runs, artists))

    def on_training_screen_runs_loaded(self, message: RunsLoaded) -> None:
        table = self.query_one("#runs", DataTable)
        keep = self._selected_id()
        known = set(self.runs)
        self.runs = {r.id: r for r in message.runs}
        self.artist_names = message.artists
        self.set_class(not message.runs, "-empty")
        table.clear()
        for run in message.runs:
            best = f"{run.best_val_loss:.3f}" if run.best_val_loss is not None else "-"
            progress = run_progress(run) if run.status in ("running", "queued") else "-"
            table.add_row(run.status, table_cell(message.artists.get(run.artist_id, "?")),
                          progress, best, run.id, key=run.id)
        # A run that started since the last read (from here, the Library or a shell) is
        # what the user wants to watch: the newest active one is selected and followed.
        fresh = [r for r in message.runs if r.id not in known and r.status in ACTIVE]
        if known and fresh:
            keep = max(fresh, key=lambda r: r.started_at).id
        if keep in self.runs:
            table.move_cursor(row=table.get_row_index(keep))
            if self.followed is None or self.followed.run_id != keep:
                self._follow(keep, message.artists.get(self.runs[keep].artist_id, "?"))
        if message.runs and self.followed is None:
            self._follow(message.runs[0].id, message.artists.get(message.runs[0].artist_id, "?"))

    def _selected_id(self) -> str | None:
        table = self.query_one("#runs", DataTable)
        if not table.row_count:
            return None
        try:
            return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        except Exception:  # cursor outside the rows while they are replaced
            return None

    @on(DataTable.RowHighlighted, "#runs")
    def run_highlighted(self, event: DataTable.RowHighlighted) -> None:
        run_id = str(event.row_key.value) if event.row_key is not None else None
        if run_id in self.runs and (self.followed is None or self.followed.run_id != run_id):
            self._follow(run_id, self.artist_names.get(self.runs[run_id].artist_id, "?"))

    def _follow(self, run_id: str, artist: str) -> None:
        self.followed = _Followed(run_id, f"{strip_control(artist)} · {run_id}")
        self.query_one(RunMonitor).clear()
        self.poll_events()

    # -- events ----------------------------------------------------------------------------

    def poll_events(self) -> None:
        followed = self.followed
        if followed is not None and followed.run_id in self.runs:
            self.read_events(self.runs[followed.run_id], followed.offset)

    @work(thread=True, exclusive=True, group="run-events", exit_on_error=False,
          description="Reading run events")
    def read_events(self, run: Run, offset: int) -> None:
        from lyrictui.core.train.runs import read_events, run_dir

        try:
            events, new_offset = read_events(run_dir(run), offset)
        except LyricError:
            return
        self.post_message(self.EventsRead(run.id, events, new_offset))

    def on_training_screen_events_read(self, message: EventsRead) -> None:
        followed = self.followed
        if followed is None or followed.run_id != message.run_id:
            return  # the user moved to another run meanwhile
        if message.offset == followed.offset and followed.state.step:
            return
        before = len(followed.state.log)
        for event in message.events:
            followed.state.apply(event)
        followed.offset = message.offset
        run = self.runs.get(followed.run_id)
        if run is not None and run.status not in ("running", "queued"):
            followed.state.status = run.status if not followed.state.finished else followed.state.status
        new_lines = list(followed.state.log)[before:] if len(followed.state.log) > before else []
        self.query_one(RunMonitor).show(followed.title, followed.state, new_lines)

    # -- cancel / resume -------------------------------------------------------------------

    @work(exclusive=True, group="run-action", exit_on_error=False)
    async def action_cancel_run(self) -> None:
        from lyrictui.core.train import runs as runs_mod

        run_id = self._selected_id()
        if run_id is None or self.runs[run_id].status not in ("running", "queued"):
            self.notify("Select a running run to cancel.", severity="warning")
            return
        body = ("The run saves a checkpoint and stops within a few seconds; "
                "you can resume it later with u.")
        if not await self.app.push_screen_wait(
            ConfirmDialog(f"Cancel {run_id}?", body, "Cancel run", keep_label="Keep training")
        ):
            return
        library = lyric_app(self).library
        # A write and a stop file: off the event loop, as every library write here is.
        worker = self.run_worker(partial(runs_mod.cancel, library, run_id), thread=True,
                                 group="run-cancel", exit_on_error=False,
                                 description=f"Cancelling {run_id}")
        try:
            said = await worker.wait()
        except WorkerFailed as failed:
            self.notify(str(failed.error), severity="error", markup=False)
            return
        self.notify(said, markup=False)
        self.action_refresh()

    def action_resume_run(self) -> None:
        run_id = self._selected_id()
        if run_id is None:
            self.notify("Select a run to resume.", severity="warning")
            return
        self.resume_run(run_id)

    @work(thread=True, group="run-start", exit_on_error=False,
          description="Resuming a training run")
    def resume_run(self, run_id: str) -> None:
        """Start the run's process again (spawning it takes a moment: not on the event loop)."""
        from lyrictui.core.train import runs as runs_mod

        library = lyric_app(self).library
        try:
            run = library.get_run(run_id)
            artist = library.artist_by_id(run.artist_id)
            runs_mod.start_detached(library, artist, runs_mod.run_config(run), run=run)
        except LyricError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error", markup=False)
            return
        self.app.call_from_thread(self.notify, f"Resuming {run_id} from its last checkpoint.",
                                  markup=False)
        self.app.call_from_thread(self.action_refresh)
