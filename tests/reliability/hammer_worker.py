"""One of the processes that hammer the library at once (tests/reliability/test_concurrency.py).

Run as `python hammer_worker.py WORKER SEED FOLDER`. It opens the library of LYRICTUI_HOME
(perhaps not created yet: every worker races to create it), writes FOLDER/ready-WORKER, waits
for FOLDER/go (the start and the deadline), gets or creates the artists "Shared", "Opening 0"...
(all workers at the same moment), then until the deadline mixes, through the public
Library API, the writes the app, the CLI and training make (add_artist, add_songs batches,
save_draft inserts and updates, create_run + update_run heartbeats, a finished run's model)
with reads (artists, songs, drafts, runs, the library table's summaries), and gets or creates
artists that other workers may be creating at the same moment. It also reopens the
library now and then, as every CLI command does.

After each write returns it appends the write as one JSON line to FOLDER/acked-WORKER.jsonl:
what the test expects to find afterwards. Reads check what they can: this worker's own writes
are visible, and songs a peer acknowledged (the last line of its log) are visible too. Every
exception is caught, counted (sqlite OperationalError apart) and the work goes on; the summary
goes to FOLDER/summary-WORKER.json.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import sys
import time
import traceback
from pathlib import Path

WORDS = "love night fire heart rain money dream city road light cold gold run away home".split()
# Relative weights of each operation (reads about 40 %, as a screen refreshing while jobs run).
OPS = {"add_songs": 22, "save_draft": 18, "heartbeat": 16, "add_artist": 2, "join_artist": 2,
       "finish_run": 1, "reopen": 1, "read_songs": 12, "read_peer": 6, "read_drafts": 8,
       "read_runs": 6, "read_artists": 4, "summaries": 3}
MAX_DRAFTS = 6
TAIL_BYTES = 64 * 1024
COMMON_ARTISTS = 60
OPENING_ARTISTS = 10


def song_text(worker: int, n: int, rng: random.Random) -> str:
    """Unique per (worker, n), so no song is ever stored as a duplicate of another."""
    lines = [" ".join(rng.choice(WORDS) for _ in range(6)) for _ in range(rng.randint(2, 8))]
    return f"song {n} of worker {worker}\n" + "\n".join(lines)


class Worker:
    def __init__(self, worker: int, seed: int, folder: Path) -> None:
        from lyrictui.core.store.library import Library

        self.Library = Library
        self.worker, self.folder = worker, folder
        self.rng = random.Random(seed * 1000 + worker)
        self.log = (folder / f"acked-{worker}.jsonl").open("a", encoding="utf-8")
        self.library = Library()
        self.library.list_artists()  # opens (perhaps creates) the library file
        self.shared_id = 0
        self.artists: list[int] = []
        self.songs: dict[int, set[str]] = {}  # acked keys per artist
        self.n = 0
        self.drafts: dict[int, str] = {}  # id -> last acked text
        self.runs: dict[str, int] = {}  # id -> last acked step
        self.counts = {"writes": 0, "reads": 0, "locked": 0, "visibility": 0}
        self.errors: list[str] = []
        self.latencies: list[float] = []

    def join_shared(self) -> None:
        """Every worker at the same moment: the same few artists, each created by whoever is
        first (as two imports into one new artist started together)."""
        for name in ["Shared"] + [f"Opening {i}" for i in range(OPENING_ARTISTS)]:
            artist = self.write(self.library.get_or_create_artist, name, "imported")
            self.shared_id = self.shared_id or artist.id
            self.artists.append(artist.id)
            self.songs[artist.id] = set()
            self.ack({"kind": "artist", "id": artist.id, "name": name})

    def join_artist(self) -> None:
        """Get or create an artist other workers may be creating too (two imports at once)."""
        name = f"Common {self.rng.randrange(COMMON_ARTISTS)}"
        artist = self.write(self.library.get_or_create_artist, name, "imported")
        if artist.id not in self.songs:
            self.artists.append(artist.id)
            self.songs[artist.id] = set()
        self.ack({"kind": "artist", "id": artist.id, "name": name})

    def ack(self, record: dict) -> None:
        self.log.write(json.dumps(record) + "\n")
        self.log.flush()

    def write(self, fn, *args, **kwargs):
        started = time.perf_counter()
        result = fn(*args, **kwargs)
        self.latencies.append(time.perf_counter() - started)
        self.counts["writes"] += 1
        return result

    # -- writes ----------------------------------------------------------------------------

    def add_artist(self) -> None:
        name = f"Hammer {self.worker}-{len(self.artists)}"
        artist = self.write(self.library.add_artist, name, "imported")
        self.artists.append(artist.id)
        self.songs[artist.id] = set()
        self.ack({"kind": "artist", "id": artist.id, "name": name})

    def add_songs(self) -> None:
        from lyrictui.core.store.records import NewSong

        artist_id = self.rng.choice(self.artists)
        batch = []
        for _ in range(self.rng.randint(1, 20)):
            self.n += 1
            batch.append(NewSong(f"w{self.worker} song {self.n}",
                                 song_text(self.worker, self.n, self.rng),
                                 source_key=f"{self.worker}:{self.n}"))
        stored = self.write(self.library.add_songs, artist_id, batch)
        for song, row in zip(batch, stored, strict=True):
            if row is None or row.skipped_reason is not None:
                self.errors.append(f"song {song.source_key} not stored as new: {row}")
                continue
            self.songs[artist_id].add(song.source_key or "")
            self.ack({"kind": "song", "artist_id": artist_id, "key": song.source_key,
                      "title": song.title, "lyrics": song.lyrics})

    def save_draft(self) -> None:
        draft_id = None
        if self.drafts and (len(self.drafts) >= MAX_DRAFTS or self.rng.random() < 0.8):
            draft_id = self.rng.choice(sorted(self.drafts))
        text = "\n".join(" ".join(self.rng.choice(WORDS) for _ in range(5))
                         for _ in range(self.rng.randint(1, 30)))
        title = f"w{self.worker} draft {self.counts['writes']}"
        draft = self.write(self.library.save_draft, draft_id, title=title, text=text,
                           artist_id=self.shared_id, model_id=None)
        self.drafts[draft.id] = text
        self.ack({"kind": "draft", "id": draft.id, "title": title, "text": text})

    def heartbeat(self) -> None:
        if not self.runs or self.rng.random() < 0.05:
            return self.create_run()
        run_id = self.rng.choice(sorted(self.runs))
        step = self.runs[run_id] + 1
        beat = time.time()
        # What runs.Heartbeat.beat writes.
        self.write(self.library.update_run, run_id, heartbeat_at=beat, pid=os.getpid(),
                   step=step, total_steps=10_000)
        self.runs[run_id] = step
        self.ack({"kind": "beat", "id": run_id, "step": step, "heartbeat_at": beat})

    def create_run(self) -> None:
        run_id = f"hammer-{self.worker}-{len(self.runs)}"
        artist_id = self.rng.choice(self.artists)
        self.write(self.library.create_run, run_id, artist_id, status="running", base="tiny",
                   method="full", dir=str(self.folder / run_id), config_json="{}",
                   pid=os.getpid(), heartbeat_at=time.time())
        self.runs[run_id] = 0
        self.ack({"kind": "run", "id": run_id, "artist_id": artist_id})

    def finish_run(self) -> None:
        """What the end of a training run writes: its model, then the run's last update."""
        if not self.runs:
            return
        run_id = self.rng.choice(sorted(self.runs))
        run = self.library.get_run(run_id)
        model_id = f"{run_id}-model-{self.runs[run_id]}"
        self.write(self.library.add_model, model_id, run.artist_id, run_id=run_id, base="tiny",
                   method="full", path=str(self.folder / model_id), val_loss=1.5,
                   size_bytes=1234)
        self.ack({"kind": "model", "id": model_id, "artist_id": run.artist_id})

    def reopen(self) -> None:
        """A new Library, as each CLI command opens (it checks the schema on first use)."""
        self.library.close()
        self.library = self.Library()
        self.library.list_artists()
        self.counts["reads"] += 1

    # -- reads -----------------------------------------------------------------------------

    def read_songs(self) -> None:
        artist_id = self.rng.choice(self.artists)
        keys = {s.source_key for s in self.library.songs(artist_id)}
        self._read_back(self.songs[artist_id] <= keys,
                        f"own songs missing from a read of artist {artist_id}")

    def read_peer(self) -> None:
        """A song another worker acknowledged must be visible to this process."""
        peer = self.rng.choice([p for p in self.peers() if p != self.worker] or [self.worker])
        record = last_song(self.folder / f"acked-{peer}.jsonl")
        if record is None:
            return
        songs = self.library.songs(record["artist_id"])
        self._read_back(any(s.source_key == record["key"] and s.lyrics == record["lyrics"]
                            for s in songs),
                        f"peer song {record['key']} acknowledged but not visible")

    def peers(self) -> list[int]:
        return [int(p.stem.split("-")[1]) for p in self.folder.glob("acked-*.jsonl")]

    def _read_back(self, seen_ok: bool, what: str) -> None:
        """Count a read; a write it should see and does not is a visibility fault."""
        self.counts["reads"] += 1
        if not seen_ok:
            self.counts["visibility"] += 1
            self.errors.append(what)

    def read_drafts(self) -> None:
        found = {d.id: d.text for d in self.library.list_drafts()}
        self._read_back(all(found.get(i) == text for i, text in self.drafts.items()),
                        "an own draft read back with other text")

    def read_runs(self) -> None:
        steps = {r.id: r.step for r in self.library.list_runs()}
        self._read_back(all(steps.get(i) == step for i, step in self.runs.items()),
                        "an own run read back at another step")

    def read_artists(self) -> None:
        ids = {a.id for a in self.library.list_artists()}
        self._read_back(set(self.artists) <= ids, "an own artist missing from the artist list")

    def summaries(self) -> None:
        self.library.summaries()
        self.counts["reads"] += 1

    # -- loop ------------------------------------------------------------------------------

    def run(self, deadline: float) -> None:
        names, weights = zip(*OPS.items(), strict=True)
        self.attempt("join_shared")
        ops = 1
        while time.time() < deadline:
            self.attempt(self.rng.choices(names, weights)[0])
            ops += 1
        self.counts["ops"] = ops

    def attempt(self, op: str) -> None:
        try:
            getattr(self, op)()
        except sqlite3.OperationalError as exc:
            self.counts["locked"] += 1
            self.errors.append(f"{op}: OperationalError: {exc}")
        except Exception as exc:  # counted and reported, never hidden
            self.errors.append(f"{op}: {type(exc).__name__}: {exc}\n"
                               f"{traceback.format_exc(limit=4)}")


def last_song(path: Path) -> dict | None:
    """The last complete song line of a peer's log (lines are written after their commit)."""
    try:
        with path.open("rb") as fh:
            start = max(0, fh.seek(0, os.SEEK_END) - TAIL_BYTES)
            fh.seek(start)
            data = fh.read()
    except FileNotFoundError:
        return None
    lines = data.split(b"\n")[1 if start else 0:-1]  # cut pieces at both ends
    for line in reversed(lines):
        record = json.loads(line)
        if record["kind"] == "song":
            return record
    return None


def main(worker: int, seed: int, folder: Path) -> None:
    summary: dict = {"worker": worker}
    try:
        hammer = Worker(worker, seed, folder)
    except Exception as exc:
        summary["errors"] = [f"open: {type(exc).__name__}: {exc}"]
        summary["locked"] = int(isinstance(exc, sqlite3.OperationalError))
    else:
        (folder / f"ready-{worker}").touch()
        go = folder / "go"
        while not go.exists():
            time.sleep(0.01)
        start, deadline = map(float, go.read_text(encoding="utf-8").split())
        while time.time() < start:  # spin, so that every worker starts within a few µs
            pass
        started = time.time()
        hammer.run(deadline)
        summary.update(hammer.counts, seconds=time.time() - started, errors=hammer.errors,
                       write_latencies=hammer.latencies)
        hammer.library.close()
    tmp = folder / f"summary-{worker}.json.tmp"
    tmp.write_text(json.dumps(summary), encoding="utf-8")
    os.replace(tmp, folder / f"summary-{worker}.json")


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]))
