"""The Library section: every artist, and the songs, runs and models of the selected one."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.widgets import Footer, Header, Static
from textual.worker import Worker

from lyrictui.core import config, paths
from lyrictui.core.errors import LyricError
from lyrictui.core.names import clean_name, plural
from lyrictui.core.store.library import Library
from lyrictui.core.store.records import Artist, ArtistSummary
from lyrictui.core.train.start import TrainChoice
from lyrictui.dialogs.add_artist import AddArtistDialog, ScrapeRequest
from lyrictui.dialogs.add_model import AddModelDialog
from lyrictui.dialogs.choice import ChoiceDialog
from lyrictui.dialogs.confirm import ConfirmDialog
from lyrictui.dialogs.export_path import ExportPathDialog
from lyrictui.dialogs.import_files import ImportFilesDialog, ImportRequest
from lyrictui.dialogs.text_prompt import TextPromptDialog
from lyrictui.dialogs.train_options import TrainOptionsDialog
from lyrictui.screens.composer import ComposerScreen
from lyrictui.services import lyric_app
from lyrictui.widgets.artist_detail import ArtistDetail
from lyrictui.widgets.artist_table import ArtistTable
from lyrictui.widgets.job_progress import JobProgress

T = TypeVar("T")
A = TypeVar("A")
JOBS_REFRESH_S = 1.0  # while jobs run, the table is read again this often
CHANGES_EVERY_S = 1.0  # how often the library is asked whether anything changed

EMPTY_TEXT = (
    "[b]No artists yet.[/b]\n\n"
    "Add lyrics to learn from:\n"
    "  • [b]a[/b]  fetch an artist from Genius (needs a free Genius API token)\n"
    "  • [b]i[/b]  import your own .txt / .md lyrics\n"
    "  • the public-domain demo artist: lyrictui demo\n"
)


class LibraryScreen(Screen[None]):
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

    @dataclass
    class Loaded(Message):
        """The library was read (in a thread) and is ready to show."""

        summaries: list[ArtistSummary]
        disk: dict[int, int]

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, LibraryScreen.Loaded)  # only the newest read matters

    def __init__(self) -> None:
        super().__init__()
        self._scrape_cancels: dict[str, asyncio.Event] = {}
        self._demo_checked = False
        self._jobs_refresh: Timer | None = None
        self._data_version: int | None = None

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

    def on_library_screen_loaded(self, message: Loaded) -> None:
        table = self.query_one(ArtistTable)
        table.loading = False
        self.set_class(not message.summaries, "-empty")
        table.show(message.summaries, message.disk)
        self.query_one(ArtistDetail).reload()  # the same artist may hold new songs or models

    @on(ArtistTable.ArtistHighlighted)
    def show_detail(self, message: ArtistTable.ArtistHighlighted) -> None:
        self.query_one(ArtistDetail).artist_id = message.artist_id

    # -- actions on the selected artist ---------------------------------------------------

    @dataclass
    class ActionDone(Message):
        """A library action ended off the event loop: what it did, or why it did not."""

        text: str
        error: bool = False

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

    async def _ask_then_change(self, dialog: ModalScreen[A | None] | ModalScreen[A], change: Callable[[A], str | None],
                               description: str) -> None:
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

    def on_library_screen_action_done(self, message: ActionDone) -> None:
        self.notify(message.text, severity="error" if message.error else "information",
                    markup=False)

    @work(exclusive=True, group="library-action", exit_on_error=False)
    async def action_rename(self) -> None:
        artist = self._selected()
        if artist is None:
            return
        library = self.library

        def rename(name: str) -> str | None:
            if name == artist.name:
                return None
            library.rename_artist(artist.id, name)
            return f"Renamed to {name}."

        await self._ask_then_change(
            TextPromptDialog(f"Rename {artist.name}", "The artist's folder keeps its name.",
                             value=artist.name, ok_label="Rename", check=clean_name),
            rename, f"Renaming {artist.name}")

    @work(exclusive=True, group="library-action", exit_on_error=False)
    async def action_delete(self) -> None:
        artist = self._selected()
        if artist is None:
            return
        library = self.library
        kept, skipped = await self._in_thread(partial(library.song_counts, artist.id),
                                              f"Counting {artist.name}'s songs")
        size = await self._in_thread(partial(paths.dir_size, paths.artist_dir(artist.slug)),
                                     f"Measuring {artist.name}'s folder")
        body = (
            f"This deletes {plural(kept + skipped, 'song')}, every dataset, training run and model of "
            f"{artist.name}, and frees {paths.human_size(size)} on disk. It cannot be undone."
        )

        def delete(_confirmed: bool) -> str:
            freed = library.delete_artist(artist.id)
            return f"Deleted {artist.name}: {paths.human_size(freed)} freed."

        await self._ask_then_change(ConfirmDialog(f"Delete {artist.name}?", body), delete,
                                    f"Deleting {artist.name}")

    @work(exclusive=True, group="library-action", exit_on_error=False)
    async def action_delete_model(self) -> None:
        artist = self._selected()
        if artist is None:
            return
        library = self.library
        models = await self._in_thread(partial(library.list_models, artist.id),
                                       f"Listing {artist.name}'s models")
        if not models:
            self.notify("This artist has no model to delete.", severity="warning")
            return
        model = models[0]
        if len(models) > 1:
            model_id = await self.app.push_screen_wait(ChoiceDialog(
                "Which model?",
                [(f"{m.id}  {m.method} on {m.base}, {paths.human_size(m.size_bytes)}", m.id)
                 for m in models]))
            if model_id is None:
                return
            model = next(m for m in models if m.id == model_id)
        size = await self._in_thread(partial(_model_folder_size, model.path),
                                     f"Measuring model {model.id}")
        where = (f"its folder ({paths.human_size(size)})" if size is not None
                 else "its entry (the bundled starter's files stay)")
        body = f"This deletes model {model.id} ({model.method} on {model.base}) and {where}."
        engines = lyric_app(self).services.engines

        def delete(_confirmed: bool) -> str:
            freed = library.delete_model(model.id)
            engines.drop(model.path)
            return f"Deleted model {model.id}: {paths.human_size(freed)} freed."

        await self._ask_then_change(ConfirmDialog(f"Delete {model.id}?", body), delete,
                                    f"Deleting model {model.id}")

    @work(exclusive=True, group="library-action", exit_on_error=False)
    async def action_add_model(self) -> None:
        summary = self.query_one(ArtistTable).selected_summary
        name = summary.artist.name if summary and summary.artist.source != "demo" else ""
        request = await self.app.push_screen_wait(AddModelDialog(name))
        if request is None:
            return
        from lyrictui.core.engine.external import add_external_model

        library = self.library

        def add() -> str:
            try:
                model = add_external_model(library, request.artist, request.source)
            except (LyricError, OSError):
                raise
            except Exception as exc:  # a hub or Transformers failure: still one sentence
                raise LyricError(f"cannot add {request.source}: {exc}") from None
            return (f"Added model {model.id} to {request.artist}: press c to compose with "
                    "it.")

        self.notify(f"Checking and copying {request.source}…", markup=False)
        self._run_and_say(add, f"Adding model {request.source}", reread=True)

    def action_prune_runs(self) -> None:
        from lyrictui.core.train.disk import prune_runs

        library = self.library

        def prune() -> str:
            result = prune_runs(library)
            if not result.pruned:
                return "Nothing to free: finished runs hold no checkpoints."
            return (f"Freed {paths.human_size(result.freed)} from "
                    f"{plural(len(result.pruned), 'finished run')}.")

        self._run_and_say(prune, "Pruning finished runs", reread=True)

    # -- getting lyrics in ----------------------------------------------------------------

    @dataclass
    class JobUpdated(Message):
        """A job's latest figures; a newer one replaces one of the same job still queued."""

        job_id: str
        done: int | None
        total: int | None
        detail: str

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, LibraryScreen.JobUpdated) and message.job_id == self.job_id

    @dataclass
    class JobEnded(Message):
        job_id: str
        message: str
        error: bool = False

    _job_numbers = itertools.count(1)

    def _start_job(self, title: str) -> str:
        job_id = f"job-{next(self._job_numbers)}"
        self.query_one(JobProgress).start(job_id, title)
        if self._jobs_refresh is None:  # the table shows songs arriving while jobs run
            self._jobs_refresh = self.set_interval(JOBS_REFRESH_S, self.load_library)
        return job_id

    def on_library_screen_job_updated(self, message: JobUpdated) -> None:
        message.stop()
        line = self.query_one(JobProgress).line(message.job_id)
        if line is not None:
            line.update(message.done, message.total, message.detail)

    def on_library_screen_job_ended(self, message: JobEnded) -> None:
        message.stop()
        jobs = self.query_one(JobProgress)
        jobs.finish(message.job_id)
        if not jobs.busy and self._jobs_refresh is not None:
            self._jobs_refresh.stop()
            self._jobs_refresh = None
        self.notify(message.message, severity="error" if message.error else "information",
                    markup=False, timeout=8)
        self.load_library()

    @work(exclusive=True, group="library-action", exit_on_error=False)
    async def action_add_genius(self) -> None:
        try:
            has_token = bool(config.genius_token())
        except LyricError as exc:  # a broken config.toml: say so rather than do nothing
            self.notify(str(exc), severity="error", markup=False)
            return
        if not has_token:
            token = await self.app.push_screen_wait(TextPromptDialog(
                "Genius API token",
                "lyrictui fetches lyrics through the Genius API, which needs a free token: "
                "create an API client at genius.com/api-clients and paste its access token. "
                "It is stored in config.toml (mode 0600) and never shown again.",
                password=True, ok_label="Save token",
            ))
            if not token:
                return
            try:
                config.set_value("genius_token", token)
            except LyricError as exc:
                self.notify(str(exc), severity="error", markup=False)
                return
        request = await self.app.push_screen_wait(AddArtistDialog())
        if request is not None:
            self.run_scrape(request, self._start_job(f"Genius: {request.artist}"))

    @work(group="scrape", exit_on_error=False, description="Fetching lyrics from Genius")
    async def run_scrape(self, request: ScrapeRequest, job_id: str) -> None:
        from lyrictui.core.sources import genius_events as ev
        from lyrictui.core.sources.genius import scrape

        cancel = asyncio.Event()
        self._scrape_cancels[job_id] = cancel

        def on_event(batch: list) -> None:
            for event in batch:
                if isinstance(event, ev.ScrapeProgress):
                    detail = (f"{event.done}/{event.total} songs · {event.kept} kept · "
                              f"{event.skipped} skipped · {event.failed} failed · "
                              f"{event.requests_per_s:.0f} req/s")
                    self.post_message(self.JobUpdated(
                        job_id, event.done, event.total if event.listing_done else None, detail))

        try:
            summary = await scrape(self.library,
                                   request.artist, max_songs=request.max_songs,
                                   include_features=request.include_features,
                                   on_event=on_event, cancel=cancel)
        except LyricError as exc:
            self.post_message(self.JobEnded(job_id, str(exc), error=True))
            return
        finally:
            self._scrape_cancels.pop(job_id, None)
        self.post_message(self.JobEnded(job_id, _scrape_message(summary.artist or request.artist,
                                                                summary)))

    def action_stop_jobs(self) -> None:
        if not self._scrape_cancels:
            self.notify("No scrape is running.", severity="warning")
            return
        for cancel in self._scrape_cancels.values():
            cancel.set()
        self.notify("Stopping: songs fetched so far are kept; fetch again to go on.")

    @work(exclusive=True, group="library-action", exit_on_error=False)
    async def action_import_files(self) -> None:
        # The artist is typed, never taken from the selection: importing into the demo (or
        # whichever row the cursor happens to be on) by accident is too easy.
        request = await self.app.push_screen_wait(ImportFilesDialog(Path.cwd()))
        if request is not None:
            self.run_import(request, self._start_job(f"Import: {request.artist}"))

    @work(thread=True, group="import", exit_on_error=False, description="Importing files")
    def run_import(self, request: ImportRequest, job_id: str) -> None:
        from lyrictui.core.sources.importer import import_files

        seen = 0

        def on_file(report) -> None:
            nonlocal seen
            seen += 1
            self.post_message(self.JobUpdated(job_id, None, None,
                                              f"{seen} files · {report.path.name}"))

        try:
            summary = import_files(self.library,
                                   request.artist, [request.path], on_file=on_file)
        except LyricError as exc:
            self.post_message(self.JobEnded(job_id, str(exc), error=True))
            return
        refused = summary.refused
        text = (f"Imported {plural(summary.added, 'song')} into {summary.artist}" if summary.added
                else f"Nothing imported into {summary.artist}")
        if refused:
            first = refused[0]
            example = "e.g. " if len(refused) > 1 else ""
            text += (f"; {plural(len(refused), 'file')} refused "
                     f"({example}{first.path.name}: {first.refused})")
        self.post_message(self.JobEnded(job_id, text + ".", error=not summary.added))

    @work(exclusive=True, group="library-action", exit_on_error=False)
    async def action_export(self) -> None:
        from lyrictui.core.compose.drafts import safe_file_stem
        from lyrictui.core.sources.export import render, write_atomic

        artist = self._selected()
        if artist is None:
            return
        library = self.library
        target = await self.app.push_screen_wait(ExportPathDialog(
            f"Export {artist.name}'s songs",
            ".txt (readable, and `lyrictui import` reads it back) or .jsonl (one song per line)",
            safe_file_stem(artist.name),
        ))
        if not target:
            return
        path = Path(target).expanduser()

        def export() -> str:
            songs = library.songs(artist.id)
            write_atomic(path, render(songs, "jsonl" if path.suffix == ".jsonl" else "txt"))
            return f"Wrote {plural(len(songs), 'song')} to {path}"

        self._run_and_say(export, f"Exporting {artist.name}'s songs")

    def action_pack(self) -> None:
        artist = self._selected()
        if artist is not None:
            self.run_pack(artist.id, self._start_job(f"Pack: {artist.name}"))

    @work(thread=True, group="pack", exit_on_error=False, description="Packing a dataset")
    def run_pack(self, artist_id: int, job_id: str) -> None:
        from lyrictui.core.train.start import pack_for_training

        library = self.library
        artist = library.artist_by_id(artist_id)

        def on_progress(stage: str, fraction: float) -> None:
            self.post_message(self.JobUpdated(job_id, int(fraction * 100), 100, stage))

        try:
            result = pack_for_training(library, artist, on_progress=on_progress)
        except LyricError as exc:
            self.post_message(self.JobEnded(job_id, str(exc), error=True))
            return
        stats = result.stats
        text = ("already packed, nothing changed" if result.cached else
                f"{stats.tokens:,} tokens in {stats.train_blocks + stats.val_blocks} blocks, "
                f"{stats.train_songs} songs for training and {stats.val_songs} for validation")
        self.post_message(self.JobEnded(job_id, f"{artist.name}: {text}."))

    @work(exclusive=True, group="library-action", exit_on_error=False)
    async def action_train(self) -> None:
        artist = self._selected()
        if artist is None:
            return
        summary = self.query_one(ArtistTable).selected_summary
        if summary is not None and summary.songs == 0:
            self.notify(f"{artist.name} has no songs to learn from: add some first.",
                        severity="warning", markup=False)
            return
        config = await self.app.push_screen_wait(TrainOptionsDialog(artist.name))
        if config is not None:
            self.start_training(artist.id, config)

    @work(thread=True, group="train-start", exit_on_error=False,
          description="Starting a training run")
    def start_training(self, artist_id: int, choice: TrainChoice) -> None:
        from lyrictui.core.train.start import plan_choice, start_run

        library = self.library
        artist = library.artist_by_id(artist_id)
        try:
            # The CLI's set-up: defaults, device setting, base and window checked before a run
            # exists (a default block size shrinks to a smaller window).
            config = plan_choice(library, artist, choice)
            run_id = start_run(library, artist, config, detach=True)
        except LyricError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error", markup=False)
            return
        self.app.call_from_thread(
            self.notify, f"Training {artist.name} in the background (run {run_id}): "
            "F3 shows it live; it goes on if you close the app.", markup=False, timeout=8)
        self.app.call_from_thread(self.load_library)  # workers start on the event loop

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


def _scrape_message(artist: str, summary) -> str:
    """One line for the end of a scrape."""
    verb = "Stopped" if summary.cancelled else "Fetched"
    skipped = sum(summary.skipped.values())
    text = f"{verb} {artist}: {plural(summary.kept, 'song')} kept, {skipped} skipped"
    if summary.already_stored:
        text += f", {summary.already_stored} already in the library"
    if summary.failed:
        text += f", {len(summary.failed)} failed (fetch again to retry them)"
    return text + "."


def _model_folder_size(path: str) -> int | None:
    """Bytes in a model's folder, or None for one outside the data home (the bundled starter,
    whose files a delete keeps)."""
    try:
        return paths.dir_size(paths.inside_home(Path(path)))
    except LyricError:
        return None
