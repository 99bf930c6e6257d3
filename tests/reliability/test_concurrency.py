"""Concurrency: the library under several writers at once, with no "database is locked" and no
lost write.

1. The app (Pilot) reads the library over and over, from the Library screen (table, detail
   pane) and the Training screen (runs, events), while a real `lyrictui scrape` (against the
   fake Genius) and a real `lyrictui train` (a tiny GPT-2) write to the same library file.
2. Eight processes hammer the library through its public API, mixing the writes the app, the
   CLI and training make with reads, each logging every write it got acknowledged; afterwards
   every acknowledged write is read back from the file with sqlite3.

Figures: `python -m pytest -m slow tests/reliability/test_concurrency.py -s` (JSON lines);
the CI variants print theirs with `python -m pytest tests/reliability/test_concurrency.py -s`.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from fakes import FakeGenius
from fakes.genius_data import CHOIR, FIRST_ID, expected_choir, synthetic_catalog
from textual.notifications import Notify
from textual.worker import Worker, WorkerState

from lyrictui.app import Services, make_app
from lyrictui.core import config, paths
from lyrictui.core.store.library import Library
from lyrictui.screens.library import LibraryScreen
from lyrictui.screens.training import TrainingScreen
from lyrictui.widgets.artist_detail import ArtistDetail

HERE = Path(__file__).parent
SIZE = (110, 32)
BAND = "Test Band"
# What a lock or SQLite failure looks like in a process's output.
FAILURE_MARKS = ("locked", "OperationalError", "DatabaseError", "Traceback")


# -- 1. the app reading while a scrape and a training run write ----------------------------

@dataclass(frozen=True)
class AppPlan:
    songs: int  # synthetic songs the scrape fetches
    latency: float  # seconds the fake Genius takes per request
    epochs: int  # of the tiny training run
    timeout: float


APP_CI = AppPlan(songs=60, latency=0.12, epochs=8, timeout=240)
APP_SLOW = AppPlan(songs=400, latency=0.1, epochs=60, timeout=900)


def loaded_state(message: LibraryScreen.Loaded) -> tuple[int | None, str | None]:
    """(choir songs, status of the band's latest run) in one read of the library table."""
    by_name = {s.artist.name: s for s in message.summaries}
    choir, band = by_name.get(CHOIR), by_name.get(BAND)
    run = band.latest_run if band is not None else None
    return (choir.songs if choir else None), (run.status if run else None)


class AppWatch:
    """Every message the app handles, sorted into the reads and the failures we look for."""

    def __init__(self) -> None:
        self.messages: list = []
        self.both_writing = False  # set by the test while both processes are alive
        self.reads_while_both: dict[str, int] = {}

    def __call__(self, message) -> None:
        self.messages.append(message)
        kind = {LibraryScreen.Loaded: "library", ArtistDetail.Loaded: "detail",
                TrainingScreen.RunsLoaded: "runs",
                TrainingScreen.EventsRead: "events"}.get(type(message))
        if kind and self.both_writing:
            self.reads_while_both[kind] = self.reads_while_both.get(kind, 0) + 1

    def of(self, kind: type) -> list:
        return [m for m in self.messages if isinstance(m, kind)]

    def run_seen_running(self) -> bool:
        return (any(loaded_state(m)[1] == "running" for m in self.of(LibraryScreen.Loaded))
                or any(r.status == "running" for m in self.of(TrainingScreen.RunsLoaded)
                       for r in m.runs))

    def failures(self) -> list[str]:
        found = [f"worker {m.worker.name or m.worker.description}: {m.worker.error!r}"
                 for m in self.of(Worker.StateChanged) if m.state == WorkerState.ERROR]
        for m in self.of(Notify):
            note = m.notification
            if note.severity != "information" or any(k in note.message for k in FAILURE_MARKS):
                found.append(f"notification ({note.severity}): {note.message}")
        return found


async def read_round(pilot, step: int) -> None:
    """One round of what a user does that makes the app read the library."""
    app = pilot.app
    if step % 6 == 5:  # the Training screen: runs every 2 s, events 4 times a second
        await pilot.press("f3")
        await pilot.pause(0.4)
        await pilot.press("r")
        await pilot.pause(0.2)
        await pilot.press("f2")  # back: the Library screen reads the library again on resume
        return
    if not isinstance(app.screen, LibraryScreen):
        await pilot.press("f2")
    await pilot.press("r")  # refresh the table
    await pilot.press("down" if step % 2 else "up")  # another artist: the detail pane reads
    await pilot.pause(0.15)


def output_failures(log: Path) -> list[str]:
    text = log.read_text(encoding="utf-8", errors="replace")
    return [line for line in text.splitlines() if any(k in line for k in FAILURE_MARKS)]


@pytest.mark.parametrize("plan", [pytest.param(APP_CI, id="ci"),
                                  pytest.param(APP_SLOW, id="slow", marks=pytest.mark.slow)])
async def test_the_app_reads_while_a_scrape_and_a_training_run_write(
        plan: AppPlan, tmp_path: Path, add_corpus, tiny_base, spawn, integrity, train_args) -> None:
    base = tiny_base(tmp_path / "base")
    library = Library()
    add_corpus(library, BAND)
    config.set_value("heartbeat_timeout", "4")  # so the run writes a heartbeat every second
    artists, songs = synthetic_catalog(plan.songs)
    # One thread per process: on a shared 2-core machine torch's default thread pool crawls.
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    logs = {"train": tmp_path / "train.log", "scrape": tmp_path / "scrape.log"}
    watch = AppWatch()
    procs: dict[str, subprocess.Popen] = {}
    started = time.monotonic()
    rounds = 0
    with FakeGenius(artists, songs, latency=plan.latency).in_thread() as fake:
        env.update(fake.env())
        procs["train"] = spawn(["train", BAND, "--base", str(base), "--epochs",
                                str(plan.epochs), "--patience", "0", *train_args],
                               logs["train"], env)  # no early stop: every epoch writes
        app = make_app(Services(library=library))
        try:
            async with app.run_test(size=SIZE, message_hook=watch) as pilot:
                loop = asyncio.get_running_loop()
                deadline = loop.time() + plan.timeout
                # The scrape starts once the app has seen the run training, so that the two
                # write at the same time (the training process takes seconds to start).
                while "scrape" not in procs or any(p.poll() is None for p in procs.values()):
                    assert loop.time() < deadline, "the scrape and the run did not end in time"
                    if "scrape" not in procs and (watch.run_seen_running()
                                                  or procs["train"].poll() is not None):
                        procs["scrape"] = spawn(["scrape", CHOIR, "--concurrency", "2"],
                                                logs["scrape"], env)
                    watch.both_writing = (len(procs) == 2
                                          and all(p.poll() is None for p in procs.values()))
                    await read_round(pilot, rounds)
                    rounds += 1
                watch.both_writing = False
                writing_s = time.monotonic() - started
                # Once both are done the app must show what they wrote.
                seen_before = len(watch.of(LibraryScreen.Loaded))
                await pilot.press("f2", "r")
                await wait_until(pilot, lambda: len(watch.of(LibraryScreen.Loaded)) > seen_before,
                                 30, "a last read of the library")
                await app.workers.wait_for_complete()
                final = watch.of(LibraryScreen.Loaded)[-1]
        finally:
            for proc in procs.values():
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()

    # Both writers finished, and said nothing about locks or SQLite.
    for name, proc in procs.items():
        assert proc.returncode == 0, f"{name}: {logs[name].read_text()[-2000:]}"
        assert output_failures(logs[name]) == [], name
    assert watch.failures() == []
    assert watch.of(Worker.StateChanged), "the hook sees workers change state (and so fail)"
    # The app read the library while both processes were writing to it.
    partial = [loaded_state(m) for m in watch.of(LibraryScreen.Loaded)]
    assert any(0 < (n or 0) < plan.songs and status == "running" for n, status in partial), (
        "no read of the library saw the scrape half done while the run was training")
    assert set(watch.reads_while_both) == {"library", "detail", "runs", "events"}

    # Everything they wrote is there: read straight from the file.
    db = paths.library_path()
    assert integrity(db) == "ok"
    conn = sqlite3.connect(db)
    try:
        stored = conn.execute(
            "SELECT s.genius_id, s.lyrics, s.skipped_reason FROM songs s JOIN artists a"
            " ON a.id = s.artist_id WHERE a.name = ?", (CHOIR,)).fetchall()
        run = conn.execute("SELECT r.status, r.model_id, r.step, r.total_steps FROM runs r"
                           " JOIN artists a ON a.id = r.artist_id WHERE a.name = ?",
                           (BAND,)).fetchall()
        models = conn.execute("SELECT id, path FROM models").fetchall()
    finally:
        conn.close()
    assert sorted(gid for gid, _, _ in stored) == list(range(FIRST_ID, FIRST_ID + plan.songs))
    expected = expected_choir(plan.songs)
    assert all(text == expected[gid] and reason is None for gid, text, reason in stored)
    assert len(run) == 1 and run[0][0] == "completed" and run[0][2] == run[0][3] > 0
    assert [m[0] for m in models] == [run[0][1]]
    assert (Path(models[0][1]) / "model.safetensors").is_file()
    # ... and the app's last read shows it.
    choir_songs, status = loaded_state(final)
    assert (choir_songs, status) == (plan.songs, "completed")

    print(json.dumps({
        "test": "app_reads_while_scrape_and_train_write", "songs": plan.songs,
        "epochs": plan.epochs, "train_steps": run[0][2], "seconds_writing": round(writing_s, 1),
        "app_rounds": rounds,
        "app_reads": {k: len(watch.of(t)) for k, t in (
            ("library", LibraryScreen.Loaded), ("detail", ArtistDetail.Loaded),
            ("runs", TrainingScreen.RunsLoaded), ("events", TrainingScreen.EventsRead))},
        "app_reads_while_both_wrote": watch.reads_while_both,
        "locked_errors": 0, "app_failures": 0}))


async def wait_until(pilot, condition: Callable[[], bool], timeout: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.1)


# -- 2. eight processes hammering the library -----------------------------------------------

def test_an_artist_created_by_another_process_meanwhile_is_the_one_returned(
        library: Library) -> None:
    """get_or_create_artist when another writer creates the same artist between its look-up
    and its insert (two imports into one new artist at once): the winner's row, not an error.
    The other writer is a connection of our own holding the write lock, so the interleaving is
    certain rather than left to the scheduler (the hammer below meets it only now and then)."""
    import threading

    library.list_artists()  # the file exists and this Library has checked its schema (under
    # the write lock, which the thread's look-up below must not wait for)
    other = sqlite3.connect(paths.library_path(), isolation_level=None)
    result: list = []
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO artists (name, slug, source, created_at)"
                      " VALUES ('Same Band', 'same-band', 'imported', 0)")
        thread = threading.Thread(target=lambda: result.append(
            _outcome(lambda: library.get_or_create_artist("same band", "imported"))))
        thread.start()
        thread.join(1.0)
        # Still waiting: its look-up found nothing (readers never wait in WAL mode) and its
        # insert queues for the write lock we hold.
        assert thread.is_alive() and result == []
        other.execute("COMMIT")
        thread.join(30)
    finally:
        other.close()
    assert not thread.is_alive()
    (artist,) = result
    assert not isinstance(artist, Exception), artist
    assert (artist.name, artist.slug) == ("Same Band", "same-band")
    assert [a.name for a in library.list_artists()] == ["Same Band"]


def _outcome(fn: Callable[[], object]) -> object:
    try:
        return fn()
    except Exception as exc:
        return exc


@dataclass(frozen=True)
class HammerPlan:
    processes: int
    seconds: float
    seed: int


HAMMER_CI = HammerPlan(processes=8, seconds=4, seed=1)
HAMMER_SLOW = HammerPlan(processes=8, seconds=30, seed=2)


def start_hammers(plan: HammerPlan, folder: Path) -> list[subprocess.Popen]:
    folder.mkdir()
    procs = []
    for worker in range(plan.processes):
        with open(folder / f"stderr-{worker}.txt", "wb") as err:
            procs.append(subprocess.Popen(
                [sys.executable, str(HERE / "hammer_worker.py"), str(worker), str(plan.seed),
                 str(folder)], stdout=subprocess.DEVNULL, stderr=err,
                stdin=subprocess.DEVNULL, env=os.environ.copy()))
    return procs


def wait_ready(procs: list[subprocess.Popen], folder: Path, timeout: float = 120) -> None:
    """Until every worker has opened the library (or one has given up trying)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all((folder / f"ready-{w}").exists() or (folder / f"summary-{w}.json").exists()
               for w in range(len(procs))):
            return
        time.sleep(0.05)
    raise AssertionError("the workers did not start in time")


def acked(folder: Path, workers: int) -> list[dict]:
    records = []
    for worker in range(workers):
        lines = (folder / f"acked-{worker}.jsonl").read_text(encoding="utf-8").splitlines()
        records += [{**json.loads(line), "worker": worker} for line in lines]
    return records


def lost_writes(db: Path, records: list[dict]) -> list[str]:
    """Every acknowledged write, compared with the file (read with sqlite3, not the Library);
    also anything stored that no worker was told was written."""
    conn = sqlite3.connect(db)
    try:
        songs = {(a, k): (t, ly, r) for a, k, t, ly, r in conn.execute(
            "SELECT artist_id, source_key, title, lyrics, skipped_reason FROM songs")}
        artists = dict(conn.execute("SELECT id, name FROM artists"))
        drafts = {i: (t, x) for i, t, x in conn.execute("SELECT id, title, text FROM drafts")}
        runs = {i: (s, h, a) for i, s, h, a in conn.execute(
            "SELECT id, step, heartbeat_at, artist_id FROM runs")}
        models = dict(conn.execute("SELECT id, run_id FROM models"))
        song_rows = conn.execute("SELECT COUNT(*) FROM songs").fetchone()[0]
    finally:
        conn.close()
    problems: list[str] = []
    want_songs, want_artists, want_drafts = {}, {"Shared"}, {}
    want_runs: dict[str, tuple[int, float | None, int]] = {}
    want_models = set()
    for rec in records:  # in each worker's order, so a later update overrides an earlier one
        kind = rec["kind"]
        if kind == "song":
            want_songs[(rec["artist_id"], rec["key"])] = (rec["title"], rec["lyrics"], None)
        elif kind == "artist":
            want_artists.add(rec["name"])
            if artists.get(rec["id"]) != rec["name"]:
                problems.append(f"artist {rec['name']} not stored under id {rec['id']}")
        elif kind == "draft":
            want_drafts[rec["id"]] = (rec["title"], rec["text"])
        elif kind == "run":
            want_runs[rec["id"]] = (0, None, rec["artist_id"])
        elif kind == "beat":
            want_runs[rec["id"]] = (rec["step"], rec["heartbeat_at"], want_runs[rec["id"]][2])
        elif kind == "model":
            want_models.add(rec["id"])
    if song_rows != len(songs):
        problems.append(f"{song_rows - len(songs)} songs stored twice")
    problems += [f"song {key} lost or changed" for key, value in want_songs.items()
                 if songs.get(key) != value]
    if extra := set(songs) - set(want_songs):
        problems.append(f"{len(extra)} songs stored that no worker was told of")
    if sorted(artists.values()) != sorted(want_artists):
        problems.append(f"artists differ: {len(artists)} stored, {len(want_artists)} acked")
    problems += [f"draft {i} is not its last saved version" for i, value in want_drafts.items()
                 if drafts.get(i) != value]
    if len(drafts) != len(want_drafts):
        problems.append(f"{len(drafts)} drafts stored, {len(want_drafts)} acknowledged")
    for run_id, (step, beat, artist_id) in want_runs.items():
        got = runs.get(run_id)
        if got is None or got[0] != step or got[2] != artist_id or (
                beat is not None and got[1] != beat):
            problems.append(f"run {run_id} lost its last heartbeat: {got} != {step}, {beat}")
    if set(runs) != set(want_runs):
        problems.append(f"{len(runs)} runs stored, {len(want_runs)} acknowledged")
    if set(models) != want_models:
        problems.append(f"models differ: {len(models)} stored, {len(want_models)} acked")
    return problems


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@pytest.mark.parametrize("plan", [pytest.param(HAMMER_CI, id="ci"),
                                  pytest.param(HAMMER_SLOW, id="slow", marks=pytest.mark.slow)])
def test_eight_processes_hammering_the_library_lose_nothing(plan: HammerPlan,
                                                            tmp_path: Path, integrity) -> None:
    db = paths.library_path()
    assert not db.exists()  # the workers race to create it, as a first start can
    folder = tmp_path / "hammer"
    procs = start_hammers(plan, folder)
    try:
        wait_ready(procs, folder)
        go = folder / "go.tmp"
        start = time.time() + 0.5
        go.write_text(f"{start} {start + plan.seconds}", encoding="utf-8")
        go.rename(folder / "go")
        started = time.monotonic()
        for proc in procs:
            proc.wait(timeout=plan.seconds + 180)
        wall = time.monotonic() - started
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    assert [p.returncode for p in procs] == [0] * plan.processes
    summaries = [json.loads((folder / f"summary-{w}.json").read_text(encoding="utf-8"))
                 for w in range(plan.processes)]
    stderr = [(folder / f"stderr-{w}.txt").read_text(encoding="utf-8", errors="replace")
              for w in range(plan.processes)]
    assert stderr == [""] * plan.processes
    errors = [e for s in summaries for e in s["errors"]]
    locked = sum(s["locked"] for s in summaries)
    assert locked == 0 and errors == [], errors[:5]
    assert all(s["ops"] > 0 and s["writes"] > 0 and s["reads"] > 0 for s in summaries)
    assert sum(s["visibility"] for s in summaries) == 0

    records = acked(folder, plan.processes)
    assert integrity(db) == "ok"
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()
    assert lost_writes(db, records) == []

    latencies = [x for s in summaries for x in s["write_latencies"]]
    ops = sum(s["ops"] for s in summaries)
    kinds: dict[str, int] = {}
    for rec in records:
        kinds[rec["kind"]] = kinds.get(rec["kind"], 0) + 1
    print(json.dumps({
        "test": "hammer", "processes": plan.processes, "seconds": plan.seconds,
        "wall_s": round(wall, 1), "ops": ops, "ops_per_s": round(ops / plan.seconds),
        "writes": sum(s["writes"] for s in summaries),
        "reads": sum(s["reads"] for s in summaries), "locked_errors": locked,
        "acknowledged": kinds, "write_latency_ms": {
            "p50": round(statistics.median(latencies) * 1000, 2),
            "p99": round(percentile(latencies, 0.99) * 1000, 1),
            "max": round(max(latencies) * 1000, 1)}}))
