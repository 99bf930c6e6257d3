"""Helpers shared by the scrape-under-faults and kill tests: reading the library file straight
with sqlite3 (never through the code under test), seeded kill moments, killing a subprocess."""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fakes.genius_data import SYNTH_ARTIST, synthetic_song_text

from lyrictui.core import paths

CHOIR = "Synthetic Choir"  # the synthetic catalog's artist
FIRST_ID = SYNTH_ARTIST * 10_000 + 1  # its songs' Genius ids: FIRST_ID .. FIRST_ID + count - 1


def library_file() -> Path:
    """The library's SQLite file under the current LYRICTUI_HOME."""
    return paths.library_path()


def query(db: Path, sql: str, *args: object) -> list[tuple]:
    """Rows of one query, on a connection of our own (closed at once)."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def song_count(db: Path) -> int:
    """Songs stored so far (0 when a killed first run left no file, or no schema yet)."""
    if not db.exists() or not query(db, "SELECT 1 FROM sqlite_master WHERE name = 'songs'"):
        return 0
    return query(db, "SELECT COUNT(*) FROM songs")[0][0]


def integrity(db: Path) -> str:
    """`PRAGMA integrity_check` of the library file ("ok" when sound)."""
    return "; ".join(row[0] for row in query(db, "PRAGMA integrity_check"))


def expected_choir(count: int) -> dict[int, str]:
    """Genius id -> the clean lyrics each synthetic song must end up with (from the catalog's
    own source text, not from anything the scraper produced)."""
    return {FIRST_ID + i: synthetic_song_text(i + 1) for i in range(count)}


def choir_problems(db: Path, count: int) -> list[str]:
    """What is wrong with the stored synthetic songs: missing, extra, twice, wrong lyrics."""
    expected = expected_choir(count)
    rows = query(db, "SELECT s.genius_id, s.lyrics, s.skipped_reason, s.source_key, a.name "
                     "FROM songs s JOIN artists a ON a.id = s.artist_id")
    problems = []
    ids = [row[0] for row in rows]
    if len(ids) != len(set(ids)):
        problems.append(f"{len(ids) - len(set(ids))} songs stored twice")
    if missing := set(expected) - set(ids):
        problems.append(f"{len(missing)} songs missing, e.g. {min(missing)}")
    if extra := set(ids) - set(expected):
        problems.append(f"{len(extra)} unexpected songs, e.g. {sorted(extra, key=str)[0]}")
    for gid, text, reason, key, artist in rows:
        if gid in expected and (text != expected[gid] or reason is not None
                                or key != f"genius:{gid}" or artist != CHOIR):
            problems.append(f"song {gid} stored wrong: {reason or text[:60]!r}")
    artists = query(db, "SELECT name FROM artists")
    if artists != [(CHOIR,)]:
        problems.append(f"artists are {artists}")
    return problems


def kill_moments(seed: int, count: int, duration: float) -> list[float]:
    """`count` seeded moments in (0, duration): one drawn uniformly in each of `count` equal
    slices, so a few points still spread over the whole run."""
    rng = random.Random(seed)
    return [(i + rng.uniform(0.01, 0.99)) * duration / count for i in range(count)]


def lyrictui(*args: str) -> list[str]:
    return [sys.executable, "-m", "lyrictui", *args]


@dataclass(frozen=True)
class Finished:
    code: int
    out: str
    err: str
    seconds: float


def run(args: list[str], env: dict[str, str], timeout: float = 300) -> Finished:
    """Run a command to its end."""
    started = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout)
    return Finished(done.returncode, done.stdout, done.stderr, time.perf_counter() - started)


def run_and_kill(args: list[str], env: dict[str, str], delay: float,
                 trigger: Callable[[], bool] | None = None, timeout: float = 300) -> int:
    """Start `args`, SIGKILL it `delay` seconds after its start (or after `trigger()` first
    holds, when given); returns its exit code (-SIGKILL when the kill landed mid-run)."""
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        if trigger is not None:
            deadline = time.monotonic() + timeout
            while proc.poll() is None and not trigger() and time.monotonic() < deadline:
                time.sleep(0.0005)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)  # a no-op if it has already exited
        return proc.wait(timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def watch(args: list[str], env: dict[str, str], marks: dict[str, Callable[[], bool]],
          timeout: float = 300) -> tuple[int, float, dict[str, float]]:
    """Run `args` to its end, polling `marks`: (exit code, seconds, seconds from the start
    until each mark first held, for those that did)."""
    started = time.monotonic()
    seen: dict[str, float] = {}
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        while proc.poll() is None and time.monotonic() - started < timeout:
            for name, holds in marks.items():
                if name not in seen and holds():
                    seen[name] = time.monotonic() - started
            time.sleep(0.0005)
        code = proc.wait(timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return code, time.monotonic() - started, seen


def figures(name: str, **values: object) -> None:
    """One JSON line of figures (shown with `pytest -s`)."""
    print(json.dumps({"test": name, **values}, sort_keys=False), flush=True)
