"""Scrape an artist from Genius into the library: resumable, cancellable, polite and fast.

`scrape()` is the one entry point for the CLI (a rich progress bar) and the app (an async
worker). Each song is committed as soon as it is parsed, keyed `genius:<id>`, so a rerun after a
crash, Ctrl-C or kill -9 fetches only what is missing and never stores a song twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from lyrictui.core import config
from lyrictui.core.errors import InvalidInput, NotFound
from lyrictui.core.sources import lyrics
from lyrictui.core.sources.genius_api import (
    TOKEN_HELP,
    AuthError,
    BlockedError,
    GeniusApi,
    SongInfo,
    base_urls,
)
from lyrictui.core.sources.genius_events import (
    ArtistFound,
    EventBatcher,
    RequestNote,
    ScrapeEvent,
    ScrapeSummary,
    SongFailed,
    SongFetched,
    SongsFound,
    SongSkipped,
    reason_kind,
)
from lyrictui.core.sources.genius_page import extract, looks_like_challenge
from lyrictui.core.sources.http import HttpClient, HttpError, HttpOptions
from lyrictui.core.store.library import Library
from lyrictui.core.store.records import Artist

__all__ = ["AuthError", "BlockedError", "ScrapeSummary", "scrape"]


async def scrape(
    library: Library,
    artist_name: str,
    *,
    max_songs: int | None = None,
    concurrency: int | None = None,
    include_features: bool = False,
    genius_id: int | None = None,
    on_event: Callable[[list[ScrapeEvent]], None] | None = None,
    cancel: asyncio.Event | None = None,
    http: HttpOptions | None = None,
    event_interval: float = 0.25,
) -> ScrapeSummary:
    """Fetch an artist's songs (most popular first) into the library and return a summary.

    `on_event` receives lists of events, at most every `event_interval` seconds, each list
    ending with a ScrapeProgress. Setting `cancel` stops the scrape within a second or so and
    returns a summary with `cancelled=True`. Raises AuthError, BlockedError, NotFound, ...
    """
    token = config.genius_token()
    if not token:
        raise AuthError(f"no Genius token: {TOKEN_HELP}")
    if max_songs is not None and max_songs < 1:
        raise InvalidInput("--max-songs must be at least 1")
    settings = config.load()
    concurrency = concurrency or int(settings["genius_concurrency"])
    if concurrency < 1:
        raise InvalidInput("--concurrency must be at least 1")
    proxy = (http.proxy if http else None) or str(settings["genius_proxy"]).strip() or None
    if proxy and (urlsplit(proxy).scheme not in ("http", "https") or not urlsplit(proxy).netloc):
        raise InvalidInput("the genius_proxy setting must be a URL such as http://host:3128: "
                           "fix it with `lyrictui config set genius_proxy URL`")
    if http is None:  # the setting: how long a silent request waits before a retry
        wait = float(settings["genius_timeout"])
        http = HttpOptions(read_timeout=wait, connect_timeout=min(10.0, wait),
                           total_timeout=max(120.0, 4 * wait))
    options = replace(http, concurrency=concurrency, proxy=proxy)
    job = _Scrape(library, token, options, max_songs, include_features,
                  list(settings["title_variant_words"]), on_event, event_interval)
    return await _cancellable(job.run(artist_name, genius_id), cancel, job)


async def _cancellable(coro: Coroutine[Any, Any, ScrapeSummary], cancel: asyncio.Event | None,
                       job: _Scrape) -> ScrapeSummary:
    main = asyncio.ensure_future(coro)
    waiter = asyncio.ensure_future(cancel.wait()) if cancel is not None else None
    try:
        await asyncio.wait([t for t in (main, waiter) if t], return_when=asyncio.FIRST_COMPLETED)
    finally:  # also when our own caller cancels us (a Textual worker being cancelled)
        if waiter is not None:
            waiter.cancel()
        if not main.done():
            main.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await main
            job.summary.cancelled = True
    if main.cancelled():
        return job.summary
    return main.result()


class _Scrape:
    def __init__(self, library: Library, token: str, options: HttpOptions,
                 max_songs: int | None, include_features: bool, variant_words: list[str],
                 on_event: Callable[[list[ScrapeEvent]], None] | None,
                 interval: float) -> None:
        self.library, self.token, self.options = library, token, options
        self.max_songs, self.include_features = max_songs, include_features
        self.variant_words = variant_words
        self.summary = ScrapeSummary(artist="", genius_id=0)
        self.events = EventBatcher(on_event, interval, self._progress_fields)
        self.client = HttpClient(options)
        self.client.on_note = lambda text: self.events.add(RequestNote(text))
        self.started = time.monotonic()
        self.artist: Artist | None = None
        self.listing_done = False
        self.queued = 0
        self.done = 0  # listed songs stored, skipped or failed in this run

    def _progress_fields(self) -> dict[str, Any]:
        s = self.summary
        elapsed = time.monotonic() - self.started
        return dict(done=self.done, total=s.listed - s.already_stored, kept=s.kept,
                    skipped=self.done - s.kept - len(s.failed), failed=len(s.failed),
                    requests=self.client.requests, elapsed=elapsed,
                    requests_per_s=self.client.requests / elapsed if elapsed > 0 else 0.0,
                    listing_done=self.listing_done)

    def finish(self) -> None:
        self.summary.requests = self.client.requests
        self.summary.elapsed = time.monotonic() - self.started
        self.events.close()

    async def run(self, name: str, genius_id: int | None) -> ScrapeSummary:
        ticker = asyncio.ensure_future(self.events.tick())
        try:
            async with self.client:
                api = GeniusApi(self.client, self.token, *base_urls())
                gid, gname = await (api.artist(genius_id) if genius_id else
                                    api.resolve_artist(name))
                self.summary.artist, self.summary.genius_id = gname, gid
                created = self.library.find_artist(gname) is None
                self.artist = self._library_artist(gname, gid)
                self.events.add(ArtistFound(gname, gid))
                try:
                    await self._pipeline(api, gid)
                except BaseException:
                    if created and self.library.song_counts(self.artist.id) == (0, 0):
                        self.library.delete_artist(self.artist.id)  # nothing came: leave none
                    raise
                if created and not self.summary.listed and \
                        self.library.song_counts(self.artist.id) == (0, 0):
                    self.library.delete_artist(self.artist.id)  # leave no empty artist behind
                    raise NotFound(f'Genius lists no songs for "{gname}": nothing to fetch; '
                                   "check the name, or pick another artist with --genius-id")
        finally:
            ticker.cancel()
            self.finish()
        return self.summary

    def _library_artist(self, name: str, gid: int) -> Artist:
        # Created here if new (or by another process at the same moment), then checked.
        found = self.library.get_or_create_artist(name, "genius", gid)
        if found.source != "genius" or (found.genius_id and found.genius_id != gid):
            raise InvalidInput(f'the library already has an artist named "{found.name}" '
                               f"({found.source}): rename or remove it first")
        return found

    async def _pipeline(self, api: GeniusApi, gid: int) -> None:
        queue: asyncio.Queue[SongInfo | None] = asyncio.Queue(maxsize=4 * self.options.concurrency)
        workers = self.options.concurrency
        tasks = [asyncio.ensure_future(self._list(api, gid, queue, workers))]
        tasks += [asyncio.ensure_future(self._work(api, queue)) for _ in range(workers)]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                if task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _list(self, api: GeniusApi, gid: int, queue: asyncio.Queue[SongInfo | None],
                    workers: int) -> None:
        assert self.artist is not None
        stored = self.library.source_keys(self.artist.id)
        if self.include_features:  # songs skipped only for being features come back in play
            dropped = self.library.forget_songs(self.artist.id, skipped_reason=lyrics.NOT_PRIMARY)
            stored -= set(dropped)
        seen: set[int] = set()
        considered = 0
        async for page in api.artist_songs(gid):
            for song in page:
                if song.id in seen:
                    continue
                seen.add(song.id)
                primary = song.primary_artist_id == gid
                if not primary and not self.include_features:
                    if f"genius:{song.id}" not in stored:
                        self._store(song, "", lyrics.NOT_PRIMARY, listed=False)
                    continue
                if self.max_songs is not None and considered >= self.max_songs:
                    break
                considered += 1
                self.summary.listed += 1
                if f"genius:{song.id}" in stored:
                    self.summary.already_stored += 1
                    continue
                reason = self._precheck(song)
                if reason is not None:
                    self._store(song, "", reason)
                    continue
                self.queued += 1
                await queue.put(song)
            self.events.add(SongsFound(self.summary.listed, self.queued))
            if self.max_songs is not None and considered >= self.max_songs:
                break
        self.listing_done = True
        for _ in range(workers):
            await queue.put(None)

    def _precheck(self, song: SongInfo) -> str | None:
        """A reason to skip the song without fetching its page, or None."""
        if song.lyrics_state != "complete":
            return lyrics.UNRELEASED
        if song.instrumental:
            return lyrics.INSTRUMENTAL
        word = lyrics.title_variant(song.title, self.variant_words)
        return f"title variant ({word})" if word else None

    async def _work(self, api: GeniusApi, queue: asyncio.Queue[SongInfo | None]) -> None:
        while (song := await queue.get()) is not None:
            self.queued -= 1
            if not song.url.startswith(("http://", "https://")):
                self._fail(song, "Genius listed it without a page URL")
                continue
            try:
                html = await api.song_page(song.url)
            except HttpError as exc:
                self._fail(song, str(exc))
                continue
            self._parse_and_store(song, html)

    def _parse_and_store(self, song: SongInfo, html: str) -> None:
        try:
            page = extract(html)
        except (RecursionError, MemoryError, ValueError, UnicodeError) as exc:
            # One page the parser cannot take is that song's failure, never the scrape's.
            self._fail(song, f"the page could not be parsed ({type(exc).__name__})")
            return
        if page.placeholder is not None:
            reason = lyrics.INSTRUMENTAL if page.placeholder == "instrumental" else \
                lyrics.UNRELEASED
            self._store(song, "", reason)
        elif not page.found:
            if looks_like_challenge(html):
                raise BlockedError("Genius answered with a challenge page instead of lyrics: "
                                   "lower the concurrency (--concurrency 2), set a proxy, or "
                                   "import your own files; stored songs are kept")
            self._fail(song, "no lyrics on the page (Genius may have changed its pages)")
        else:
            text = lyrics.clean_lyrics(page.text, title=song.title, artist=song.primary_artist)
            self._store(song, text, lyrics.empty_reason(text))

    def _store(self, song: SongInfo, text: str, reason: str | None, *,
               listed: bool = True) -> None:
        assert self.artist is not None
        self.done += listed
        row = self.library.add_song(
            self.artist.id, song.title, text, source_key=f"genius:{song.id}",
            genius_id=song.id, url=song.url, skipped_reason=reason,
        )
        if row is None:  # another process stored it meanwhile: nothing to count twice
            return
        if row.skipped_reason is None:
            self.summary.kept += 1
            self.events.add(SongFetched(song.title, song.id))
        else:
            kind = reason_kind(row.skipped_reason)
            self.summary.skipped[kind] = self.summary.skipped.get(kind, 0) + 1
            self.events.add(SongSkipped(song.title, song.id, row.skipped_reason))

    def _fail(self, song: SongInfo, reason: str) -> None:
        self.done += 1
        self.summary.failed.append((song.title, reason))
        self.events.add(SongFailed(song.title, song.id, reason))
