"""Scrape under a seeded storm of faults from the fake Genius: 20 % 429 (with Retry-After) or
503, 5 % responses stalled past the read timeout, 2 % truncated bodies, 2 % connection resets.

Every song must be stored exactly once with exactly its lyrics, none missing, none extra. The
faults a run meets depend on the seed only (see fakes.genius_faults), so a failure replays.
Figures (requests, retries, faults by kind, wall time) print as one JSON line with `-s`.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
from fakes import FakeGenius, FaultMix
from fakes.genius_data import CHOIR, synthetic_catalog

from lyrictui.core.sources.genius import scrape
from lyrictui.core.sources.http import HttpOptions
from lyrictui.core.store.library import Library

MIX = {"429": 0.10, "503": 0.10, "stall": 0.05, "truncate": 0.02, "reset": 0.02}
SEED = 9
RETRY_AFTER = 1  # seconds, as the 429s say
MAX_ATTEMPTS = 10  # with 29 % of requests failing, 6 tries would lose ~1 song in 300 to chance

CASES = [
    # songs, read timeout (s): the stalls last three times as long
    pytest.param(60, 1.0, id="60-songs"),
    pytest.param(300, 2.0, id="300-songs", marks=pytest.mark.slow),
]


@pytest.mark.parametrize(("count", "read_timeout"), CASES)
async def test_every_song_stored_once_with_its_lyrics_under_faults(
    library: Library, monkeypatch: pytest.MonkeyPatch, count: int, read_timeout: float,
    library_file, figures, integrity, choir_problems
) -> None:
    artists, songs = synthetic_catalog(count)
    mix = FaultMix(MIX, seed=SEED, retry_after=str(RETRY_AFTER), stall=3 * read_timeout)
    # The knobs a caller of scrape() has; everything else (backoff, caps) stays the default.
    options = HttpOptions(read_timeout=read_timeout, max_attempts=MAX_ATTEMPTS)
    async with FakeGenius(artists, songs, mix=mix, padding_kb=16) as fake:
        for key, value in fake.env().items():
            monkeypatch.setenv(key, value)
        started = time.perf_counter()
        summary = await scrape(library, CHOIR, http=options)
        wall = time.perf_counter() - started

    assert summary.failed == []
    assert (summary.listed, summary.kept, summary.already_stored) == (count, count, 0)
    db = library_file()
    assert integrity(db) == "ok"
    assert choir_problems(db, count) == []

    served = Counter(fake.faults_served)
    assert set(served) == {"429", "503", "slow", "truncate", "reset"}  # every kind was met
    attempts = Counter(key for key, _ in fake.log)
    outcomes = {key: [o for k, o in fake.log if k == key] for key in attempts}
    assert all(o[-1] == "ok" for o in outcomes.values())  # each request ended in an answer
    pages = [key for key in attempts if key.endswith("-lyrics")]
    assert len(pages) == count  # each song page asked for, and only those
    # What the server saw is what the client sent, plus aiohttp's own silent second try of a
    # GET whose kept-alive connection was reset (at most one per reset).
    assert summary.requests <= len(fake.log) <= summary.requests + served["reset"]
    assert fake.retry_after_gaps and min(fake.retry_after_gaps) >= RETRY_AFTER - 0.01

    figures(
        "scrape_faults", songs=count, requests=len(fake.log), client_attempts=summary.requests,
        distinct_requests=len(attempts),
        retries=len(fake.log) - len(attempts), faults={
            "429": served["429"], "503": served["503"], "stall": served["slow"],
            "truncate": served["truncate"], "reset": served["reset"]},
        faults_on_api=sum(o != "ok" for k, o in fake.log if not k.endswith("-lyrics")),
        most_tries_one_request=max(attempts.values()),
        answered_twice=sum(o.count("ok") > 1 for o in outcomes.values()),
        retry_after_min_wait_s=round(min(fake.retry_after_gaps), 3),
        read_timeout_s=read_timeout, stall_s=mix.stall, wall_s=round(wall, 2),
    )
