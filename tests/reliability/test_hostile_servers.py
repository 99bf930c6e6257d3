"""Hostile servers (issue 21): a Genius that answers, but not as Genius does.

The fake Genius of `tests/fakes/` (real aiohttp on 127.0.0.1), with the listing endpoint
replaced where a case needs it. Each case checks what the library holds afterwards, read with
sqlite3. Run: `python -m pytest tests/reliability/test_hostile_servers.py -v`.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from typing import Any

import pytest
from aiohttp import web
from fakes import FakeArtist, FakeGenius, FakeSong
from fakes.genius_catalog import song_json

from lyrictui.core import paths
from lyrictui.core.errors import LyricError
from lyrictui.core.sources.genius import scrape
from lyrictui.core.sources.genius_api import MAX_PAGES
from lyrictui.core.sources.http import HttpOptions
from lyrictui.core.store.library import Library

FAST = HttpOptions(read_timeout=5, max_attempts=2, backoff_base=0.01)
BAND = FakeArtist(501, "Hostile Band")


def songs(n: int, start: int = 9000) -> list[FakeSong]:
    return [FakeSong(start + i, f"Song {i}", BAND.id,
                     containers=[f"line one of song {i}<br/>line two of song {i}"])
            for i in range(n)]


def stored(sql: str = "SELECT title, lyrics, skipped_reason FROM songs ORDER BY title"):
    conn = sqlite3.connect(paths.library_path())
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


async def run_scrape(fake: FakeGenius, library: Library, monkeypatch, name: str = BAND.name):
    for key, value in fake.env().items():
        monkeypatch.setenv(key, value)
    # A deadline, so a scraper that would loop forever fails the test instead of hanging it.
    return await asyncio.wait_for(scrape(library, name, http=FAST), timeout=60)


# -- 5. deeply nested song HTML ----------------------------------------------------------------

async def test_a_song_page_nested_60000_deep_is_read_and_the_scrape_goes_on(
        library: Library, monkeypatch) -> None:
    deep = "<span>" * 60_000 + "the deepest line<br/>and one more" + "</span>" * 60_000
    catalog = [*songs(3), FakeSong(9100, "Deep Song", BAND.id, containers=[deep])]
    async with FakeGenius([BAND], catalog) as fake:
        summary = await run_scrape(fake, library, monkeypatch)
    assert summary.kept == 4 and not summary.failed
    rows = {title: lyrics for title, lyrics, _ in stored()}
    assert rows["Deep Song"] == "the deepest line\nand one more"
    assert rows["Song 0"] == "line one of song 0\nline two of song 0"


# -- 6. a listing that never ends --------------------------------------------------------------

class EndlessGenius(FakeGenius):
    """`mode` "same": every page is page 1 and says next_page 1; "forward": every page holds
    the same songs and says next_page page + 1, forever; "fresh": a new song on every page,
    forever (only the page cap stops it)."""

    def __init__(self, *args: Any, mode: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.mode = mode

    async def _artist_songs(self, request: web.Request) -> web.Response:
        page = int(request.query.get("page", "1"))
        if self.mode == "fresh":
            listed = [song_json(FakeSong(20_000 + page, f"Fresh {page}", BAND.id,
                                         lyrics_state="unreleased"), self.artists, self.web_url)]
        else:
            listed = [song_json(s, self.artists, self.web_url) for s in self.songs]
        nxt = page if self.mode == "same" else page + 1
        return web.json_response({"meta": {"status": 200},
                                  "response": {"songs": listed, "next_page": nxt}})


@pytest.mark.parametrize("mode", ["same", "forward"])
async def test_a_next_page_that_never_advances_stops_after_one_more_request(
        library: Library, monkeypatch, mode: str) -> None:
    async with EndlessGenius([BAND], songs(3), mode=mode) as fake:
        summary = await run_scrape(fake, library, monkeypatch)
        listing = fake.hits[f"/artists/{BAND.id}/songs"]
    assert summary.kept == 3 and not summary.failed
    assert listing == (1 if mode == "same" else 2), listing
    assert len(stored()) == 3


async def test_a_listing_with_new_songs_forever_stops_at_the_page_cap(
        library: Library, monkeypatch) -> None:
    monkeypatch.setattr("lyrictui.core.sources.genius_api.MAX_PAGES", 30)
    async with EndlessGenius([BAND], songs(1), mode="fresh") as fake:
        summary = await run_scrape(fake, library, monkeypatch)
        listing = fake.hits[f"/artists/{BAND.id}/songs"]
    assert listing == 30 and summary.listed == 30
    assert MAX_PAGES >= 1_000  # the shipped cap still lets a prolific artist through


# -- Genius JSON of the wrong shape (minor items) ----------------------------------------------

class ShapedGenius(FakeGenius):
    """Answers the listing (and, for "hits", the search) with `body` as the response."""

    def __init__(self, *args: Any, where: str, body: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.where, self.body = where, body

    async def _artist_songs(self, request: web.Request) -> web.Response:
        if self.where != "songs":
            return await super()._artist_songs(request)
        return web.Response(text=self.body, content_type="application/json")

    async def _search(self, request: web.Request) -> web.Response:
        if self.where != "search":
            return await super()._search(request)
        return web.Response(text=self.body, content_type="application/json")


def _response(value: Any) -> str:
    return json.dumps({"meta": {"status": 200}, "response": value})


SHAPES = {
    "songs-60000-deep": ("songs", '{"response": {"songs": ' + "[" * 60_000 + "]" * 60_000 + "}}"),
    "songs-not-a-list": ("songs", _response({"songs": "abc", "next_page": None})),
    "songs-of-wrong-types": ("songs", _response({"songs": [1, "x", None, {"id": "abc"},
                                                           {"id": [1]}], "next_page": None})),
    "next-page-a-word": ("songs", _response({"songs": [], "next_page": "two"})),
    "hits-not-a-list": ("search", _response({"hits": {"a": 1}})),
    "hits-of-wrong-types": ("search", _response({"hits": [1, {"result": "x"},
                                                          {"result": {"primary_artist": 5}}]})),
}


@pytest.mark.parametrize("case", list(SHAPES))
async def test_genius_json_of_the_wrong_shape_is_one_clear_error_and_leaves_no_empty_artist(
        library: Library, monkeypatch, case: str) -> None:
    where, body = SHAPES[case]
    library.list_artists()  # the library file exists, whatever the scrape does
    async with ShapedGenius([BAND], songs(2), where=where, body=body) as fake:
        with pytest.raises(LyricError) as caught:
            await run_scrape(fake, library, monkeypatch)
    message = str(caught.value)
    assert "\n" not in message and len(message) < 400
    assert stored("SELECT id FROM artists WHERE name = 'Hostile Band'") == []


async def test_ids_as_strings_are_read_when_they_are_digits_and_skipped_when_not(
        library: Library, monkeypatch) -> None:
    class StringIds(FakeGenius):
        async def _artist_songs(self, request: web.Request) -> web.Response:
            listed = [dict(song_json(s, self.artists, self.web_url), id=str(s.id),
                           primary_artist={"id": str(BAND.id), "name": BAND.name})
                      for s in self.songs]
            listed += [dict(listed[0], id="abc"), dict(listed[1], id=9999,
                                                       primary_artist={"id": "n/a"})]
            return web.json_response({"response": {"songs": listed, "next_page": None}})

    async with StringIds([BAND], songs(2)) as fake:
        summary = await run_scrape(fake, library, monkeypatch)
    assert summary.kept == 2 and summary.listed == 2


# -- A slow-loris song page: one byte at a time, never done (minor item) -----------------------

class SlowLorisGenius(FakeGenius):
    """The page of song `slow_id` trickles one byte every `every` seconds and never ends."""

    def __init__(self, *args: Any, slow_id: int, every: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.slow_id, self.every = slow_id, every

    async def _page(self, request: web.Request) -> web.StreamResponse:
        if request.path != self.song_path(self.slow_id):
            return await super()._page(request)
        resp = web.StreamResponse(headers={"Content-Type": "text/html"})
        await resp.prepare(request)
        for _ in range(100_000):
            await resp.write(b" ")
            await asyncio.sleep(self.every)
        return resp


async def test_a_slow_loris_page_is_said_while_it_trickles_and_given_up_on_its_own(
        library: Library, monkeypatch) -> None:
    import time

    from lyrictui.core.sources.genius_events import RequestNote, SongFailed

    catalog = [*songs(3), FakeSong(9200, "Trickle Song", BAND.id, containers=["never"])]
    notes: list[tuple[float, str]] = []
    failed: list[str] = []
    started = time.monotonic()

    def on_event(batch: list) -> None:
        for event in batch:
            if isinstance(event, RequestNote):
                notes.append((time.monotonic() - started, event.text))
            elif isinstance(event, SongFailed):
                failed.append(f"{event.title}: {event.reason}")

    options = HttpOptions(read_timeout=5, total_timeout=3, max_attempts=2, backoff_base=0.01,
                          slow_note_s=1)
    async with SlowLorisGenius([BAND], catalog, slow_id=9200, every=0.3) as fake:
        for key, value in fake.env().items():
            monkeypatch.setenv(key, value)
        summary = await asyncio.wait_for(
            scrape(library, BAND.name, http=options, on_event=on_event, event_interval=0.1),
            timeout=60)
    # The other songs are stored; the trickling one fails on its own, with its reason.
    assert summary.kept == 3 and [t for t, _ in summary.failed] == ["Trickle Song"]
    assert "timed out" in failed[0]
    # While it trickled, lines said so: a slow note within ~2 s, then the retry.
    slow = [(at, text) for at, text in notes if "is slow" in text]
    assert slow and slow[0][0] < 5, notes
    assert any("timed out; trying again (2 of 2)" in text for _, text in notes), notes
    assert all("?" not in text for _, text in notes)  # a URL's query (a token) is never shown


def test_the_cli_prints_slow_notes_instead_of_minutes_of_silence(lyrictui_home) -> None:
    import os
    import subprocess
    import sys
    import threading
    import time

    catalog = [FakeSong(9300, "Trickle Song", BAND.id, containers=["never"])]
    fake = SlowLorisGenius([BAND], catalog, slow_id=9300, every=0.5)
    with fake.in_thread():
        env = {**os.environ, **fake.env()}
        proc = subprocess.Popen([sys.executable, "-m", "lyrictui", "scrape", BAND.name],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env)
        lines: list[tuple[float, str]] = []
        started = time.monotonic()

        def read() -> None:
            for line in proc.stderr:  # type: ignore[union-attr]
                lines.append((time.monotonic() - started, line.rstrip("\n")))

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            deadline = time.monotonic() + 60
            while not any("is slow" in text for _, text in lines):
                assert time.monotonic() < deadline, lines
                assert proc.poll() is None, lines
                time.sleep(0.2)
        finally:
            proc.kill()
            proc.wait()
            reader.join(10)
    (at, note) = next((at, text) for at, text in lines if "is slow" in text)
    assert note.startswith("note: ") and "bytes in" in note and "given up at 120 s" in note
    assert at < 30, lines  # the first note ~10 s into the page, not minutes of silence


@pytest.mark.parametrize("token", ["abc\r\nX-Evil: 1", "abc def", "tok\u00e9n", "abc\x00"])
def test_a_token_with_a_line_break_or_space_is_one_line_and_never_sent(
        lyrictui_home, token: str) -> None:
    import os
    import subprocess
    import sys

    fake = FakeGenius([BAND], songs(1))
    with fake.in_thread():
        env = {**os.environ, **fake.env(token=token)}
        if "\x00" in token:  # no environment can hold a NUL: it comes from config.toml
            env.pop("GENIUS_ACCESS_TOKEN")
            (lyrictui_home / "config.toml").write_text(
                'genius_token = "abc\\u0000"\n', "utf-8")
        result = subprocess.run([sys.executable, "-m", "lyrictui", "scrape", BAND.name],
                                capture_output=True, text=True, timeout=120, env=env)
        requests = sum(fake.hits.values())
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "holds a line break, space or other character" in line
    assert "unexpected" not in line and "abc" not in line  # the token is never printed
    assert requests == 0
    set_it = subprocess.run([sys.executable, "-m", "lyrictui", "config", "set", "genius_token",
                             "abc\rdef"], capture_output=True, text=True, timeout=60,
                            env=dict(os.environ))
    assert set_it.returncode == 2 and "the token alone" in set_it.stderr
