"""End-to-end scrapes against the fake Genius (tests/fakes) on 127.0.0.1: real aiohttp, real
SQLite, real HTML parsing; faults injected by the server, never by patching our code."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest
from fakes import FakeGenius, Fault
from fakes.genius_data import LANTERNS, standard_catalog, synthetic_catalog, synthetic_song_text

from lyrictui.core import config
from lyrictui.core.errors import InvalidInput, LyricError, NotFound
from lyrictui.core.sources.genius import AuthError, BlockedError, scrape
from lyrictui.core.sources.genius_events import (
    ArtistFound,
    ScrapeProgress,
    SongFetched,
    SongsFound,
    SongSkipped,
)
from lyrictui.core.sources.http import HttpOptions
from lyrictui.core.store.library import Library

FAST = HttpOptions(backoff_base=0.01, read_timeout=0.5, connect_timeout=2.0)

HARBOR_LIGHTS = """\
[Verse 1]
The harbor lights are burning low
I don't know where the ferries go
We said "forever" on the pier
And every gull could hear

[Chorus]
Oh, harbor lights, don't fade on me
Keep one lamp lit out on the sea

[Verse 2]
Salt on the window, rust on the gate
You're never early, I'm never late

[Chorus]
Oh, harbor lights, don't fade on me
Keep one lamp lit out on the sea"""

PAPER_CROWN = """\
[Intro]
Ooh, ooh

[Verse 1]
I made a crown from yesterday's news
Wore it to the party with my brother's shoes

[Chorus]
Paper crown, paper crown
Rain's gonna wash it down

[Outro]
Paper crown"""

TIN_CAN = """\
[Verse 1]
Two tin cans and a kite string line
Your voice comes through like it's nineteen-ninety-nine

[Chorus]
Hello, hello, can you hear me now?
The string goes slack, I don't know how"""

LANTERNFISH = "[Verse]\nDown where the daylight never goes\nA little lantern glows"

SKIPPED = {
    "Glass Orchard": "lyrics not complete or unreleased",
    "Harbor Lights (Remix)": "title variant (remix)",
    "Harbor Lights (Live at the Pier)": "title variant (live)",
    "Borrowed Summer": "not the primary artist",
    "Skit": "title variant (skit)",
    "Static Bloom": "instrumental",
    "Undertow": "instrumental",
    "Silent Verse": "empty lyrics",
    "Low Tide": "instrumental",
}
NEVER_FETCHED = [1005, 1006, 1007, 1010, 1012, 1016]


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch):
    artists, songs = standard_catalog()
    async with FakeGenius(artists, songs) as server:
        for key, value in server.env().items():
            monkeypatch.setenv(key, value)
        yield server


@pytest.fixture
async def choir(monkeypatch: pytest.MonkeyPatch):
    """40 synthetic songs behind 50 ms of latency per request."""
    artists, songs = synthetic_catalog(40)
    async with FakeGenius(artists, songs, latency=0.05) as server:
        for key, value in server.env().items():
            monkeypatch.setenv(key, value)
        yield server


def by_title(library: Library, name: str) -> dict[str, object]:
    artist = library.get_artist(name)
    return {s.title: s for s in library.songs(artist.id, include_skipped=True)}


async def test_scrape_cleans_lyrics_records_skips_and_survives_faults(
    fake: FakeGenius, library: Library
) -> None:
    fake.script(f"/artists/{LANTERNS}/songs", Fault.http(429, retry_after=1))
    fake.script(fake.song_path(1013), Fault.http(503), Fault.http(503))
    fake.script(fake.song_path(1014), Fault.slow(1.5))  # past the 0.5 s read timeout
    fake.script(fake.song_path(1015), Fault.truncate())
    fake.script(fake.song_path(1003), Fault.reset())
    batches: list[list] = []

    summary = await scrape(library, "the paper lanterns", on_event=batches.append, http=FAST)

    assert set(fake.faults_served) == {"429", "503", "slow", "truncate", "reset"}
    assert summary.failed == []
    assert (summary.artist, summary.genius_id, summary.listed) == ("The Paper Lanterns", 101, 16)
    artist = library.get_artist("The Paper Lanterns")
    assert (artist.source, artist.genius_id) == ("genius", LANTERNS)

    songs = by_title(library, "The Paper Lanterns")
    assert songs["Harbor Lights"].lyrics == HARBOR_LIGHTS
    assert songs["Paper Crown"].lyrics == PAPER_CROWN
    assert songs["Tin Can Telephone"].lyrics == TIN_CAN
    assert songs["Lanternfish"].lyrics == LANTERNFISH
    assert songs["Harbor Lights"].genius_id == 1001
    assert songs["Harbor Lights"].url == fake.web_url + fake.song_path(1001)
    assert {t: s.skipped_reason for t, s in songs.items() if t in SKIPPED} == SKIPPED
    northbound = [t for t in ("Northbound", "North Bound") if not songs[t].skipped]
    assert len(northbound) == 1  # the same text twice: whichever came second is the duplicate
    twin = ({"Northbound", "North Bound"} - set(northbound)).pop()
    assert songs[twin].skipped_reason == f'duplicate of "{northbound[0]}"'
    kept = {t for t, s in songs.items() if not s.skipped}
    assert kept == {"Harbor Lights", "Paper Crown", "Tin Can Telephone", "Lanternfish",
                    "Quiet Engine", "Copper Rain", northbound[0]}
    assert all(s.lyrics for s in songs.values() if not s.skipped)

    for song_id in NEVER_FETCHED:  # decided from the API listing alone
        assert fake.hits[fake.song_path(song_id)] == 0
    assert fake.auth_sent_to_web == 0  # the token goes to the API only

    assert all(isinstance(batch[-1], ScrapeProgress) for batch in batches)
    events = [e for batch in batches for e in batch]
    assert ArtistFound("The Paper Lanterns", LANTERNS) in events
    assert any(isinstance(e, SongsFound) for e in events)
    assert {e.title for e in events if isinstance(e, SongFetched)} == kept
    assert {e.title for e in events if isinstance(e, SongSkipped)} == set(songs) - kept
    last = batches[-1][-1]
    assert (last.done, last.total, last.kept, last.listing_done) == (16, 16, len(kept), True)


async def test_rerun_fetches_nothing_already_stored(fake: FakeGenius, library: Library) -> None:
    await scrape(library, "The Paper Lanterns", http=FAST)
    rows = len(by_title(library, "The Paper Lanterns"))
    pages = fake.page_hits
    summary = await scrape(library, "The Paper Lanterns", http=FAST)
    assert (summary.already_stored, summary.kept, sum(summary.skipped.values())) == (16, 0, 0)
    assert fake.page_hits == pages
    assert len(by_title(library, "The Paper Lanterns")) == rows == 17


async def test_persistent_failures_are_not_stored_and_a_rerun_retries_only_them(
    fake: FakeGenius, library: Library
) -> None:
    options = HttpOptions(backoff_base=0.01, max_attempts=3)
    fake.script(fake.song_path(1013), *[Fault.http(503)] * 3)
    summary = await scrape(library, "The Paper Lanterns", http=options)
    assert [title for title, _ in summary.failed] == ["Lanternfish"]
    assert "after 3 attempts (HTTP 503)" in summary.failed[0][1]
    assert "Lanternfish" not in by_title(library, "The Paper Lanterns")

    pages = fake.page_hits
    again = await scrape(library, "The Paper Lanterns", http=options)
    assert (again.kept, again.failed, fake.page_hits - pages) == (1, [], 1)
    assert by_title(library, "The Paper Lanterns")["Lanternfish"].lyrics == LANTERNFISH


async def test_a_blocked_scrape_is_a_clear_error_and_never_stores_empty_lyrics(
    fake: FakeGenius, library: Library
) -> None:
    fake.blocked = True
    with pytest.raises(BlockedError) as caught:
        await scrape(library, "The Paper Lanterns", http=FAST)
    message = str(caught.value)
    assert "403" in message and "proxy" in message and "--concurrency" in message
    assert "lyrictui import" in message
    stored = by_title(library, "The Paper Lanterns")
    assert all(s.skipped for s in stored.values())  # only songs skipped from the listing
    assert not any(s.skipped_reason == "empty lyrics" for s in stored.values())

    fake.blocked = False  # once unblocked, a rerun completes what is missing
    summary = await scrape(library, "The Paper Lanterns", http=FAST)
    assert summary.failed == [] and summary.kept == 7


async def test_a_challenge_on_the_api_is_blocked_too(fake: FakeGenius, library: Library) -> None:
    fake.script("/search", Fault.challenge())
    with pytest.raises(BlockedError):
        await scrape(library, "The Paper Lanterns", http=FAST)


async def test_a_refused_token_says_how_to_set_one_without_printing_it(
    fake: FakeGenius, library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GENIUS_ACCESS_TOKEN", "secret-but-wrong-token")
    with pytest.raises(AuthError) as caught:
        await scrape(library, "The Paper Lanterns", http=FAST)
    assert "401" in str(caught.value)
    assert "lyrictui config set genius_token" in str(caught.value)
    assert "secret-but-wrong-token" not in str(caught.value)


async def test_a_401_in_the_middle_of_listing_is_an_auth_error(
    fake: FakeGenius, library: Library
) -> None:
    fake.script(f"/artists/{LANTERNS}/songs", Fault.http(401))
    with pytest.raises(AuthError):
        await scrape(library, "The Paper Lanterns", http=FAST)


async def test_the_genius_timeout_setting_bounds_how_long_a_silent_request_waits(
    fake: FakeGenius, library: Library
) -> None:
    config.set_value("genius_timeout", "1")
    fake.script(fake.song_path(1014), Fault.slow(4.0))  # silent for longer than the setting
    summary = await scrape(library, "The Paper Lanterns")  # the settings' options, no override
    assert fake.faults_served["slow"] == 1
    assert fake.hits[fake.song_path(1014)] == 2  # given up on after 1 s, asked again
    assert summary.failed == []
    assert 1014 in {song.genius_id for song in library.songs(library.get_artist("The Paper Lanterns").id)}
    config.set_value("genius_timeout", "30")
    fake.script(fake.song_path(1014), Fault.slow(2.0))
    library.delete_artist(library.get_artist("The Paper Lanterns").id)
    await scrape(library, "The Paper Lanterns")
    assert fake.hits[fake.song_path(1014)] == 3  # waited out: one more request, no retry


async def test_no_token_fails_before_any_request(
    fake: FakeGenius, library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GENIUS_ACCESS_TOKEN")
    with pytest.raises(AuthError) as caught:
        await scrape(library, "The Paper Lanterns")
    assert "GENIUS_ACCESS_TOKEN" in str(caught.value)
    assert sum(fake.hits.values()) == 0


async def test_artist_names_resolve_loosely_and_ambiguity_is_listed(
    fake: FakeGenius, library: Library
) -> None:
    with pytest.raises(NotFound) as caught:
        await scrape(library, "paper lanterns", http=FAST)
    assert "The Paper Lanterns" in str(caught.value) and "Paper Lantern" in str(caught.value)
    with pytest.raises(InvalidInput) as ambiguous:
        await scrape(library, "ECHO", http=FAST)
    assert "Écho (--genius-id 104)" in str(ambiguous.value)
    assert "Echo (--genius-id 105)" in str(ambiguous.value)
    assert library.list_artists() == []

    picked = await scrape(library, "echo", genius_id=105, http=FAST)
    assert (picked.artist, picked.kept) == ("Echo", 1)
    loose = await scrape(library, "  the PAPER-lanterns! ", max_songs=1, http=FAST)
    assert loose.artist == "The Paper Lanterns"


async def test_max_songs_and_features(fake: FakeGenius, library: Library) -> None:
    summary = await scrape(library, "The Paper Lanterns", max_songs=3, http=FAST)
    assert summary.listed == 3
    assert set(by_title(library, "The Paper Lanterns")) == {
        "Harbor Lights", "Paper Crown", "Tin Can Telephone"}

    await scrape(library, "The Paper Lanterns", http=FAST)
    assert by_title(library, "The Paper Lanterns")["Borrowed Summer"].skipped_reason == \
        "not the primary artist"
    summary = await scrape(library, "The Paper Lanterns", include_features=True, http=FAST)
    song = by_title(library, "The Paper Lanterns")["Borrowed Summer"]
    assert song.skipped_reason is None
    assert song.lyrics == ("[Verse 1]\nBorrowed summer, given back in June\n\n"
                           "[Verse 2]\nWe kept the sand inside our shoes")
    assert summary.kept == 1


async def test_concurrency_is_bounded_by_the_setting(choir: FakeGenius, library: Library) -> None:
    config.set_value("genius_concurrency", "4")
    summary = await scrape(library, "Synthetic Choir", http=FAST)
    assert summary.kept == 40
    assert 1 < choir.max_in_flight <= 4

    choir.max_in_flight = 0
    await scrape(library, "Synthetic Choir", concurrency=2, http=FAST)  # nothing left to fetch
    assert choir.max_in_flight <= 2


async def test_cancel_stops_the_scrape_and_a_rerun_completes_it(
    choir: FakeGenius, library: Library
) -> None:
    cancel = asyncio.Event()

    def on_event(batch: list) -> None:
        if batch[-1].kept >= 4:
            cancel.set()

    summary = await scrape(library, "Synthetic Choir", concurrency=2, on_event=on_event,
                           cancel=cancel, http=FAST, event_interval=0.05)
    assert summary.cancelled and 4 <= summary.kept < 40
    requests = sum(choir.hits.values())
    await asyncio.sleep(0.3)
    assert sum(choir.hits.values()) == requests  # nothing still running in the background

    again = await scrape(library, "Synthetic Choir", http=FAST)
    assert not again.cancelled
    songs = library.songs(library.get_artist("Synthetic Choir").id, include_skipped=True)
    assert sorted(s.genius_id for s in songs) == list(range(9_000_001, 9_000_041))
    assert all(s.lyrics == synthetic_song_text(s.genius_id - 9_000_000) for s in songs)


async def test_random_faults_lose_no_song(library: Library,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    artists, songs = synthetic_catalog(30)
    async with FakeGenius(artists, songs, fault_rate=0.3, seed=7, slow_delay=0.4) as chaos:
        for key, value in chaos.env().items():
            monkeypatch.setenv(key, value)
        options = HttpOptions(backoff_base=0.005, read_timeout=0.2, max_attempts=12)
        summary = await scrape(library, "Synthetic Choir", http=options)
    assert sum(chaos.faults_served.values()) > 5
    assert (summary.kept, summary.failed) == (30, [])
    stored = library.songs(library.get_artist("Synthetic Choir").id, include_skipped=True)
    assert all(s.lyrics == synthetic_song_text(s.genius_id - 9_000_000) for s in stored)
    assert len(stored) == 30


async def test_oversized_pages_fail_without_being_stored(
    library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    artists, songs = synthetic_catalog(3)
    async with FakeGenius(artists, songs, padding_kb=64) as big:
        for key, value in big.env().items():
            monkeypatch.setenv(key, value)
        options = HttpOptions(max_body_bytes=32 * 1024, backoff_base=0.01)
        summary = await scrape(library, "Synthetic Choir", http=options)
    assert len(summary.failed) == 3
    assert all("limit" in reason for _, reason in summary.failed)
    assert library.songs(library.get_artist("Synthetic Choir").id, include_skipped=True) == []


# -- the CLI, as a user runs it: a real `python -m lyrictui` process --------------------------


async def run_cli(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "lyrictui", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def stored_ids(name: str) -> list[int]:
    lib = Library()
    try:
        artist = lib.find_artist(name)
        if artist is None:
            return []
        return [s.genius_id or 0 for s in lib.songs(artist.id, include_skipped=True)]
    finally:
        lib.close()


async def interrupt_halfway(env: dict[str, str], sig: int, at_least: int) -> tuple[int, str]:
    """Start a CLI scrape, send `sig` once `at_least` songs are stored; (exit code, stdout)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "lyrictui", "scrape", "Synthetic Choir", "--concurrency", "2",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    try:
        for _ in range(1200):
            await asyncio.sleep(0.05)
            if proc.returncode is not None or len(stored_ids("Synthetic Choir")) >= at_least:
                break
        assert proc.returncode is None, "the scrape ended before it could be interrupted"
        proc.send_signal(sig)
        out, _ = await asyncio.wait_for(proc.communicate(), timeout=30)
        return proc.returncode or 0, out.decode()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


@pytest.fixture
async def slow_choir():
    artists, songs = synthetic_catalog(40)
    async with FakeGenius(artists, songs, latency=0.1) as server:
        yield server, {**os.environ, **server.env()}


async def test_kill_9_halfway_then_rerun_stores_every_song_exactly_once(slow_choir) -> None:
    server, env = slow_choir
    code, _ = await interrupt_halfway(env, signal.SIGKILL, at_least=8)
    assert code == -signal.SIGKILL
    survived = stored_ids("Synthetic Choir")
    assert 8 <= len(survived) < 40
    pages = server.page_hits

    code, out, err = await run_cli("scrape", "Synthetic Choir", env=env)
    assert code == 0, err
    assert f"{len(survived)} already in the library" in out
    ids = stored_ids("Synthetic Choir")
    assert sorted(ids) == list(range(9_000_001, 9_000_041))  # every song, exactly once
    assert server.page_hits - pages == 40 - len(survived)  # only the missing ones fetched


async def test_ctrl_c_stops_cleanly_and_says_how_to_resume(slow_choir) -> None:
    server, env = slow_choir
    code, out = await interrupt_halfway(env, signal.SIGINT, at_least=5)
    assert code == 130
    stored = len(stored_ids("Synthetic Choir"))
    assert 5 <= stored < 40
    assert f"Synthetic Choir: {stored} songs stored" in out
    assert "Cancelled: stored songs are kept; run the same command to fetch the rest." in out
    code, out, _ = await run_cli("scrape", "Synthetic Choir", env=env)
    assert code == 0 and sorted(stored_ids("Synthetic Choir")) == list(range(9_000_001,
                                                                             9_000_041))


async def test_cli_scrape_reports_and_fails_in_one_line(fake: FakeGenius) -> None:
    env = {**os.environ, **fake.env()}
    code, out, err = await run_cli("scrape", "The Paper Lanterns", env=env)
    assert code == 0, err
    assert out.startswith("The Paper Lanterns: 7 songs stored, 10 skipped")
    assert 'lyrictui songs "The Paper Lanterns" --skipped' in out

    code, out, err = await run_cli("songs", "the paper lanterns", "--skipped", "--json", env=env)
    assert code == 0
    rows = {row["title"]: row["skipped_reason"] for row in json.loads(out)}
    assert {t: r for t, r in rows.items() if t in SKIPPED} == SKIPPED

    code, out, err = await run_cli("scrape", "The Paper Lanterns",
                                   env={**env, "GENIUS_ACCESS_TOKEN": "wrong-token-123"})
    assert code == 2 and out == ""
    assert err.strip().splitlines()[-1].startswith("error: Genius refused the token")
    assert "wrong-token-123" not in err and "Traceback" not in err

    fake.blocked = True
    code, out, err = await run_cli("scrape", "Synthetic Nobody", env=env)
    assert code == 2 and "no Genius artist" in err
    code, out, err = await run_cli("scrape", "Nina Brandt", env=env)
    assert code == 2 and err.strip().splitlines()[-1].startswith("error: Genius blocked")


async def test_cli_export_writes_jsonl_and_txt(fake: FakeGenius, library: Library,
                                               tmp_path: Path) -> None:
    await scrape(library, "The Paper Lanterns", http=FAST)
    env = dict(os.environ)
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "lanterns.jsonl"
    code, _, err = await run_cli("export", "The Paper Lanterns", "--format", "jsonl", "-o",
                                 str(target), env=env)
    assert code == 0, err
    rows = [json.loads(line) for line in target.read_text().splitlines()]
    assert {r["title"]: r["lyrics"] for r in rows}["Harbor Lights"] == HARBOR_LIGHTS
    assert all(set(r) == {"title", "lyrics", "genius_id", "url", "album", "release_date"}
               for r in rows)
    assert all(r["album"] is None and r["release_date"] is None for r in rows)  # fake has none
    assert len(rows) == 7 and all(r["genius_id"] and r["url"] for r in rows)
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # no temporary left

    code, out, _ = await run_cli("export", "The Paper Lanterns", env=env)
    assert code == 0 and out.startswith("# Harbor Lights\n\n" + HARBOR_LIGHTS + "\n")
    code, _, err = await run_cli("export", "Nobody", env=env)
    assert code == 2 and "no artist named" in err


# -- smaller contracts -----------------------------------------------------------------------


def test_retry_after_reads_seconds_and_http_dates() -> None:
    from email.utils import formatdate

    from lyrictui.core.sources.http import retry_after

    assert retry_after("7") == 7.0
    assert 50 < (retry_after(formatdate(time.time() + 60, usegmt=True)) or 0) <= 61
    assert retry_after("soon") is None and retry_after(None) is None


async def test_a_retry_after_beyond_the_cap_fails_at_once_with_a_clear_message(
    fake: FakeGenius, library: Library
) -> None:
    fake.script(f"/artists/{LANTERNS}/songs", Fault.http(429, retry_after=3600))
    with pytest.raises(LyricError, match="asks to wait 3600 s"):
        await scrape(library, "The Paper Lanterns", http=FAST)
    assert fake.hits[f"/artists/{LANTERNS}/songs"] == 1


async def test_events_are_batched_by_time(fake: FakeGenius, library: Library) -> None:
    batches: list[list] = []
    await scrape(library, "The Paper Lanterns", on_event=batches.append, http=FAST,
                 event_interval=60)
    assert len(batches) == 1  # a quick scrape: everything arrives in the final batch
    assert len(batches[0]) > 16 and isinstance(batches[0][-1], ScrapeProgress)


def test_genius_page_links_move_to_the_configured_web_base() -> None:
    from lyrictui.core.sources.genius_api import GeniusApi
    from lyrictui.core.sources.http import HttpClient

    api = GeniusApi(HttpClient(), "token", "http://127.0.0.1:1", "http://127.0.0.1:2")
    assert api.page_url("https://genius.com/Band-song-lyrics?x=1") == \
        "http://127.0.0.1:2/Band-song-lyrics?x=1"
    assert api.page_url("http://127.0.0.1:3/Other-lyrics") == "http://127.0.0.1:3/Other-lyrics"
    default = GeniusApi(HttpClient(), "token", "https://api.genius.com", "https://genius.com")
    assert default.page_url("https://genius.com/A-lyrics") == "https://genius.com/A-lyrics"
