"""A fake Genius on 127.0.0.1 (aiohttp.web): the API and the song pages on two random ports.

Faults come scripted per path (`fake.script("/artists/101/songs", Fault.http(429,
retry_after=1))`), at random (`FakeGenius(..., fault_rate=0.2, seed=7)`), or from a weighted,
order-independent mix (`FakeGenius(..., mix=FaultMix({"429": 0.1, ...}))`, see genius_faults),
with a per-request latency, so reliability tests can lean on the scraper from every side.
`fake.blocked = True` turns every song page into a Cloudflare-style 403 challenge.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from fakes.genius_catalog import (
    CHALLENGE_PAGE,
    FakeArtist,
    FakeSong,
    artist_json,
    page_html,
    song_json,
)
from lyrictui.core.names import fold

if TYPE_CHECKING:
    from fakes.genius_faults import FaultMix

TOKEN = "fake-genius-token-0123456789"
CHAOS_KINDS = ("503", "429", "slow", "truncate", "reset")


@dataclass(frozen=True)
class Fault:
    """What to do instead of (or before) answering one request."""

    kind: str  # "status", "slow", "truncate", "reset", "challenge"
    status: int = 503
    retry_after: str | None = None
    delay: float = 0.0

    @classmethod
    def http(cls, status: int, retry_after: float | str | None = None) -> Fault:
        """Answer with this status (401 as Genius words it), with a Retry-After if given."""
        return cls("status", status, None if retry_after is None else str(retry_after))

    @classmethod
    def slow(cls, delay: float) -> Fault:
        """Answer normally after `delay` seconds (on top of the latency)."""
        return cls("slow", delay=delay)

    @classmethod
    def truncate(cls) -> Fault:
        """Send half the body under a full Content-Length, then hang up."""
        return cls("truncate")

    @classmethod
    def reset(cls) -> Fault:
        """Drop the connection without answering."""
        return cls("reset")

    @classmethod
    def challenge(cls) -> Fault:
        """A Cloudflare-style 403 challenge page."""
        return cls("challenge")


class FakeGenius:
    """Use as `async with FakeGenius(artists, songs) as fake:` then point the env at
    `fake.api_url` / `fake.web_url` (see `env()`)."""

    def __init__(self, artists: list[FakeArtist], songs: list[FakeSong], *, token: str = TOKEN,
                 latency: float = 0.0, fault_rate: float = 0.0, seed: int = 0,
                 fault_kinds: tuple[str, ...] = CHAOS_KINDS, slow_delay: float = 0.5,
                 padding_kb: int = 0, mix: FaultMix | None = None) -> None:
        self.artists = {a.id: a for a in artists}
        self.songs = songs
        self.token, self.latency, self.padding_kb = token, latency, padding_kb
        self.fault_rate, self.fault_kinds, self.slow_delay = fault_rate, fault_kinds, slow_delay
        self.rng = random.Random(seed)
        self.mix = mix
        self.blocked = False
        self.scripted: dict[str, deque[Fault]] = defaultdict(deque)
        self.hits: Counter[str] = Counter()
        self.faults_served: Counter[str] = Counter()
        # Every request as (path with query, "ok" or the fault served), in arrival order.
        self.log: list[tuple[str, str]] = []
        # Seconds between a 429 with Retry-After and the next try of the same request.
        self.retry_after_gaps: list[float] = []
        self._retry_after_at: dict[str, float] = {}
        self.auth_sent_to_web = 0
        self.in_flight = self.max_in_flight = 0
        self.api_url = self.web_url = ""
        self._runners: list[web.AppRunner] = []
        self._pages = {}  # path -> song, filled on start

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> FakeGenius:
        api = web.Application(middlewares=[self._middleware])
        api.router.add_get("/search", self._search)
        api.router.add_get("/artists/{id}", self._artist)
        api.router.add_get("/artists/{id}/songs", self._artist_songs)
        site = web.Application(middlewares=[self._middleware])
        site.router.add_get("/{path:.*}", self._page)
        urls = []
        for app in (api, site):
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            self._runners.append(runner)
            urls.append(f"http://127.0.0.1:{runner.addresses[0][1]}")
        self.api_url, self.web_url = urls
        self._pages = {s.path(self.artists[s.artist_id]): s for s in self.songs}
        return self

    async def stop(self) -> None:
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()

    async def __aenter__(self) -> FakeGenius:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def env(self, token: str | None = None) -> dict[str, str]:
        """Environment variables that point lyrictui at this fake."""
        return {"LYRICTUI_GENIUS_API_URL": self.api_url, "LYRICTUI_GENIUS_WEB_URL": self.web_url,
                "GENIUS_ACCESS_TOKEN": self.token if token is None else token}

    def song_path(self, song_id: int) -> str:
        song = next(s for s in self.songs if s.id == song_id)
        return song.path(self.artists[song.artist_id])

    def script(self, path: str, *faults: Fault) -> None:
        """The next requests to `path` meet these faults, in order."""
        self.scripted[path].extend(faults)

    @property
    def page_hits(self) -> int:
        return sum(n for path, n in self.hits.items() if path in self._pages)

    # -- faults ------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.hits[request.path] += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            self._note_retry_gap(request.path_qs)
            fault = self._next_fault(request.path)
            if fault is None and self.mix is not None:
                fault = self.mix.draw(request.path_qs)
            if fault is None:
                self.log.append((request.path_qs, "ok"))
                return await handler(request)
            served = fault.kind if fault.kind != "status" else str(fault.status)
            self.faults_served[served] += 1
            self.log.append((request.path_qs, served))
            if fault.retry_after is not None:
                self._retry_after_at[request.path_qs] = time.monotonic()
            return await self._apply(fault, request, handler)
        finally:
            self.in_flight -= 1

    def _note_retry_gap(self, key: str) -> None:
        asked = self._retry_after_at.pop(key, None)
        if asked is not None:
            self.retry_after_gaps.append(time.monotonic() - asked)

    def _next_fault(self, path: str) -> Fault | None:
        if self.scripted.get(path):
            return self.scripted[path].popleft()
        if self.fault_rate and self.rng.random() < self.fault_rate:
            kind = self.rng.choice(self.fault_kinds)
            if kind.isdigit():
                return Fault.http(int(kind), retry_after="0" if kind == "429" else None)
            return Fault(kind, delay=self.slow_delay)
        return None

    async def _apply(self, fault: Fault, request: web.Request, handler: Any) -> web.StreamResponse:
        if fault.kind == "status":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            if fault.status == 401:
                return _json_error(401, "invalid_token", "The access token provided is "
                                   "expired, revoked, malformed or invalid for other reasons.")
            return web.Response(status=fault.status, headers=headers,
                                text=f"<html><body><h1>{fault.status}</h1></body></html>",
                                content_type="text/html")
        if fault.kind == "challenge":
            return _challenge()
        if fault.kind == "slow":
            await asyncio.sleep(fault.delay)
            return await handler(request)
        if fault.kind == "reset":
            assert request.transport is not None
            request.transport.abort()
            return web.Response(text="never sent")
        if fault.kind == "truncate":
            full = await handler(request)
            body = full.body if isinstance(full.body, bytes) else b""
            resp = web.StreamResponse(status=full.status, headers={
                "Content-Type": full.headers.get("Content-Type", "text/html")})
            resp.content_length = len(body)
            await resp.prepare(request)
            await resp.write(body[: len(body) // 2])
            assert request.transport is not None
            request.transport.close()
            return resp
        raise ValueError(f"unknown fault {fault.kind!r}")

    # -- the API -----------------------------------------------------------------------

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.token}"

    async def _search(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return _unauthorized()
        words = {fold(w) for w in request.query.get("q", "").split() if fold(w)}
        hits = []
        for song in self.songs:
            artist = self.artists[song.artist_id]
            names = {fold(w) for w in f"{artist.name} {song.title}".split()}
            if words & names:
                hits.append({"highlights": [], "index": "song", "type": "song",
                             "result": song_json(song, self.artists, self.web_url)})
        return _ok({"hits": hits[: min(20, int(request.query.get("per_page", "10")))]})

    async def _artist(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return _unauthorized()
        artist = self.artists.get(int(request.match_info["id"]))
        if artist is None:
            return _json_error(404, "not_found", "Not found")
        return _ok({"artist": artist_json(artist, self.web_url)})

    async def _artist_songs(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return _unauthorized()
        artist_id = int(request.match_info["id"])
        per_page = min(50, int(request.query.get("per_page", "20")))
        page = int(request.query.get("page", "1"))
        mine = [s for s in self.songs if s.artist_id == artist_id or artist_id in s.featured]
        chunk = mine[(page - 1) * per_page: page * per_page]
        more = page * per_page < len(mine)
        return _ok({"songs": [song_json(s, self.artists, self.web_url) for s in chunk],
                    "next_page": page + 1 if more else None})

    async def _page(self, request: web.Request) -> web.Response:
        if "Authorization" in request.headers:
            self.auth_sent_to_web += 1
        if self.blocked:
            return _challenge()
        song = self._pages.get(request.path)
        if song is None:
            return web.Response(status=404, text="<html><title>Oops</title></html>",
                                content_type="text/html")
        text = page_html(song, self.artists[song.artist_id], padding_kb=self.padding_kb)
        return web.Response(text=text, content_type="text/html")

    # -- running beside blocking code ---------------------------------------------------

    @contextmanager
    def in_thread(self) -> Iterator[FakeGenius]:
        """Serve from a background thread (for subprocesses and blocking baselines)."""
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()
        asyncio.run_coroutine_threadsafe(self.start(), loop).result(30)
        try:
            yield self
        finally:
            asyncio.run_coroutine_threadsafe(self.stop(), loop).result(30)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(30)
            loop.close()


def _ok(response: dict) -> web.Response:
    return web.json_response({"meta": {"status": 200}, "response": response})


def _json_error(status: int, error: str, description: str) -> web.Response:
    return web.Response(status=status, content_type="application/json",
                        text=json.dumps({"error": error, "error_description": description}))


def _unauthorized() -> web.Response:
    return _json_error(401, "invalid_token", "The access token provided is expired, revoked, "
                       "malformed or invalid for other reasons.")


def _challenge() -> web.Response:
    return web.Response(status=403, text=CHALLENGE_PAGE, content_type="text/html",
                        headers={"cf-mitigated": "challenge", "Server": "cloudflare",
                                 "CF-RAY": "7d1f2e3a4b5c6d7e-AMS"})
