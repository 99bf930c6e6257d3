"""Getting lyrics in from the Library: fetching an artist from Genius, importing files and
packing a dataset, each a job with a live line in the `JobProgress` area (`x` stops scrapes)."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from pathlib import Path

from textual import work
from textual.message import Message
from textual.timer import Timer

from lyrictui.core import config
from lyrictui.core.errors import LyricError
from lyrictui.core.names import plural
from lyrictui.dialogs.add_artist import AddArtistDialog, ScrapeRequest
from lyrictui.dialogs.import_files import ImportFilesDialog, ImportRequest
from lyrictui.dialogs.text_prompt import TextPromptDialog
from lyrictui.screens.library_view import LibraryView
from lyrictui.widgets.job_progress import JobProgress

JOBS_REFRESH_S = 1.0  # while jobs run, the table is read again this often


class LibraryJobs(LibraryView):
    """Scrape, import and pack jobs (a base of `LibraryScreen`)."""

    @dataclass
    class JobUpdated(Message):
        """A job's latest figures; a newer one replaces one of the same job still queued."""

        job_id: str
        done: int | None
        total: int | None
        detail: str

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, LibraryJobs.JobUpdated) and message.job_id == self.job_id

    @dataclass
    class JobEnded(Message):
        job_id: str
        message: str
        error: bool = False

    _job_numbers = itertools.count(1)

    def __init__(self) -> None:
        super().__init__()
        self._scrape_cancels: dict[str, asyncio.Event] = {}
        self._jobs_refresh: Timer | None = None

    def _start_job(self, title: str) -> str:
        job_id = f"job-{next(self._job_numbers)}"
        self.query_one(JobProgress).start(job_id, title)
        if self._jobs_refresh is None:  # the table shows songs arriving while jobs run
            self._jobs_refresh = self.set_interval(JOBS_REFRESH_S, self.load_library)
        return job_id

    def on_library_jobs_job_updated(self, message: JobUpdated) -> None:
        message.stop()
        line = self.query_one(JobProgress).line(message.job_id)
        if line is not None:
            line.update(message.done, message.total, message.detail)

    def on_library_jobs_job_ended(self, message: JobEnded) -> None:
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
