"""Training runs as OS processes: ids, folders, detached start, heartbeat, stale runs, cancel.

A run is a row in the library plus `artists/<slug>/runs/<run-id>/` holding events.jsonl,
config.json, train.log, checkpoints/ and a lock file. The process that trains a run holds the
lock for its whole life, so a second process can never train the same run, and the OS frees
the lock when the process dies, even by SIGKILL.

One run per artist at a time: the training process also holds `runs/.training.lock` of its
artist (flock; the file names the run), and a new run is registered by one `BEGIN IMMEDIATE`
transaction that first checks that no run of the artist is training (that lock) or starting
(a queued row whose process is alive or not yet launched). Two starts from two processes (the
app, the CLI, a second app) queue on SQLite's write lock, so the second sees the first's row
and is refused with one line naming it; a killed process frees its flock with it.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

from lyrictui.core import paths
from lyrictui.core.errors import InvalidInput, NotFound
from lyrictui.core.procs import pid_alive
from lyrictui.core.store.library import Library
from lyrictui.core.store.records import Artist, Run
from lyrictui.core.store.status import heartbeat_timeout, run_is_stale
from lyrictui.core.train.config import TrainConfig
from lyrictui.core.train.events import read_events  # re-exported: the app reads events through here

__all__ = ["read_events", "create_run", "start_detached", "cancel", "mark_stale_runs",
           "RunActive", "active_run"]

STOP_FILE = "STOP"
LOCK_FILE = ".lock"
ARTIST_LOCK_FILE = ".training.lock"
LOCK_RETRY_S = 1.0
LOG_FILE = "train.log"
HEARTBEAT_EVERY_S = 5.0
ACTIVE = ("queued", "running")
RESUMABLE = ("interrupted", "cancelled", "failed")


def new_run_id(artist: Artist) -> str:
    """`<slug>-<YYYYmmdd-HHMMSS>-<4 hex>`: sortable, readable, and unique."""
    return f"{artist.slug}-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"


def run_dir(run: Run) -> Path:
    return paths.inside_home(Path(run.dir))


class RunActive(InvalidInput):
    """A run of this artist is training or starting: one run per artist at a time."""

    def __init__(self, artist: Artist, run_id: str) -> None:
        super().__init__(f'"{artist.name}" is already training in run {run_id}: '
                         f"`lyrictui watch {run_id}` follows it, `lyrictui cancel {run_id}` "
                         "stops it; start another when it has ended")
        self.run_id = run_id


def _starting(run: Run, now: float) -> bool:
    """A queued run whose process is launching (alive, or not launched yet and recent)."""
    if run.status != "queued" or run_is_stale(run, now):
        return False
    return run.pid is None or pid_alive(run.pid)


def active_run(library: Library, artist: Artist, *, conn: Any = None,
               ignore: str | None = None) -> str | None:
    """The id of `artist`'s run that is training (its process holds the artist lock) or
    starting, else None. `conn` reads inside the caller's transaction."""
    holder = artist_lock_holder(artist)
    if holder is not None and holder != ignore:
        return holder
    reader = conn if conn is not None else library.db.conn
    now = time.time()
    for row in reader.execute("SELECT * FROM runs WHERE artist_id = ? AND status = 'queued' "
                              "ORDER BY started_at DESC", (artist.id,)):
        run = Run(**row)
        if run.id != ignore and _starting(run, now):
            return run.id
    return None


def suggest_threads(library: Library) -> int | None:
    """Torch threads a suggestion engine in this process should use while a CPU training run
    is active on this machine (one core fewer than this process may use; at least 1), else None
    (no change). A background run trains on one core fewer (setup.configure_backend): an engine
    that also leaves that core alone is not slowed by the run's scheduling (docs/benchmarks.md:
    1.4-1.6x its idle p50 instead of 34-38x)."""
    for run in library.list_runs():
        if run.status not in ACTIVE:
            continue
        try:
            device = str(json.loads(run.config_json or "{}").get("device", "auto"))
            held = lock_held(run_dir(run))
        except (InvalidInput, ValueError, OSError):
            continue
        if held and device in ("cpu", "auto"):
            try:
                usable = len(os.sched_getaffinity(0))
            except AttributeError:  # macOS
                usable = os.cpu_count() or 1
            return max(1, usable - 1)
    return None


def ensure_artist_free(library: Library, artist: Artist, ignore: str | None = None) -> None:
    """Raise RunActive when a run of `artist` (other than `ignore`) is training or starting."""
    busy = active_run(library, artist, ignore=ignore)
    if busy is not None:
        raise RunActive(artist, busy)


def create_run(library: Library, artist: Artist, config: TrainConfig,
               pid: int | None = None) -> Run:
    """Register a queued run and make its folder (with config.json); `pid` is the process
    that will train it, when that is known (so a kill before its first heartbeat shows).
    Refused (RunActive) when a run of the artist is training or starting: the check and the
    insert are one write transaction."""
    config.validate()
    run_id = new_run_id(artist)
    folder = paths.runs_dir(artist.slug) / run_id
    folder.mkdir(parents=True, exist_ok=False)
    text = json.dumps(config.to_dict(), indent=2)
    tmp = folder / "config.json.tmp"
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, folder / "config.json")
    try:
        with library.db.write() as conn:
            busy = active_run(library, artist, conn=conn)
            if busy is not None:
                raise RunActive(artist, busy)
            conn.execute(
                "INSERT INTO runs (id, artist_id, status, base, method, dir, config_json, pid, "
                "started_at) VALUES (?, ?, 'queued', ?, ?, ?, ?, ?, ?)",
                (run_id, artist.id, config.base, config.method, str(folder), text, pid,
                 time.time()))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return library.get_run(run_id)


def run_config(run: Run) -> TrainConfig:
    return TrainConfig.from_dict(json.loads(run.config_json or "{}"))


def start_detached(library: Library, artist: Artist, config: TrainConfig,
                   *, run: Run | None = None) -> str:
    """Start (or, given `run`, continue) a run in its own background process; returns its id.

    The process is `python -m lyrictui run-worker RUN` in a new session, with its output in the
    run's train.log, so it survives the caller and never shares its terminal or signals.
    """
    if run is None:
        run = create_run(library, artist, config)
    else:
        ensure_can_resume(library, run)
    folder = run_dir(run)
    clear_stop(folder)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    with open(folder / LOG_FILE, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "lyrictui", "run-worker", run.id],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, env=env, close_fds=True,
        )
    library.update_run(run.id, pid=proc.pid, status="queued", heartbeat_at=time.time(),
                       error=None, ended_at=None)
    # Reap the child when it ends, so a long-lived caller (the app) leaves no zombie behind.
    threading.Thread(target=proc.wait, name=f"reap-{run.id}", daemon=True).start()
    return run.id


def stop_requested(folder: Path) -> bool:
    return (folder / STOP_FILE).exists()


def clear_stop(folder: Path) -> None:
    (folder / STOP_FILE).unlink(missing_ok=True)


def cancel(library: Library, run_id: str) -> str:
    """Ask a run to save a checkpoint and stop; returns what happened, in words.

    The run polls for a stop file between steps; a run whose process is already gone is
    marked cancelled at once.
    """
    run = library.get_run(run_id)
    if run.status not in ACTIVE:
        raise InvalidInput(f"run {run.id} is {run.status}, not running: nothing to cancel")
    folder = run_dir(run)
    (folder / STOP_FILE).write_text(str(time.time()), encoding="utf-8")
    if run_is_stale(run) and not lock_held(folder):
        library.update_run(run.id, status="cancelled", ended_at=time.time())
        return f"run {run.id} was not running any more: marked cancelled"
    return f"asked run {run.id} to save a checkpoint and stop"


def mark_stale_runs(library: Library) -> list[str]:
    """Mark runs whose process died (or whose heartbeat stopped) as interrupted; returns ids."""
    marked = []
    for run in library.list_runs():
        if run.status in ACTIVE and run_is_stale(run):
            try:
                held = lock_held(run_dir(run))
            except InvalidInput:
                held = False
            if not held:
                library.update_run(run.id, status="interrupted")
                marked.append(run.id)
    return marked


def resolve_run(library: Library, ref: str) -> Run:
    """A run by id, by unique id prefix, or an artist's latest run by artist name."""
    ref = ref.strip()
    if not ref:
        raise InvalidInput("no run given: `lyrictui runs` lists them")
    try:
        return library.get_run(ref)
    except NotFound:
        pass
    runs = library.list_runs()
    prefixed = [r for r in runs if r.id.startswith(ref)]
    if len(prefixed) == 1:
        return prefixed[0]
    artist = library.find_artist(ref)
    if artist is not None:
        own = library.list_runs(artist.id)
        if own:
            return own[0]
        raise NotFound(f'"{artist.name}" has no training runs yet: `lyrictui train` starts one')
    if len(prefixed) > 1:
        raise InvalidInput(f"{ref!r} matches {len(prefixed)} runs: give more of the id")
    raise NotFound(f"no training run {ref!r}: `lyrictui runs` lists them")


def latest_resumable(library: Library, artist: Artist) -> Run | None:
    """The artist's newest run that stopped before finishing (and is not training now)."""
    mark_stale_runs(library)
    for run in library.list_runs(artist.id):
        if run.status in RESUMABLE:
            return run
    return None


def ensure_not_running(run: Run) -> None:
    if run.status == "completed":
        raise InvalidInput(f"run {run.id} already completed: start a new one with `lyrictui train`")
    if lock_held(run_dir(run)) or (run.status in ACTIVE and not run_is_stale(run)
                                   and pid_alive(run.pid) and run.pid != os.getpid()):
        raise InvalidInput(f"run {run.id} is still running (pid {run.pid}): "
                           f"`lyrictui watch {run.id}` follows it, `lyrictui cancel` stops it")


def ensure_folder(run: Run) -> Path:
    """The run's folder, or one clear line when it is gone (deleted by hand, a restored
    library pointing at folders that are not there): nothing to resume from."""
    folder = run_dir(run)
    if not folder.is_dir():
        raise InvalidInput(f"run {run.id}'s folder {folder} is gone: it cannot be resumed; "
                           "`lyrictui train` starts a new run")
    return folder


def ensure_can_resume(library: Library, run: Run) -> None:
    """`ensure_not_running`, and no other run of the same artist training or starting."""
    ensure_folder(run)
    ensure_not_running(run)
    ensure_artist_free(library, library.artist_by_id(run.artist_id), ignore=run.id)


# -- the lock held by the training process ---------------------------------------------------

def acquire_lock(folder: Path) -> IO[Any] | None:
    """Hold the run's lock (returns the open file to keep), or None if another process has it."""
    fh = open(folder / LOCK_FILE, "a+")  # noqa: SIM115 - held for the run's life
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory locks, rely on the pid check
        return fh
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        return None
    return fh


def _artist_lock_path(artist: Artist) -> Path:
    return paths.runs_dir(artist.slug) / ARTIST_LOCK_FILE


def acquire_artist_lock(artist: Artist, run_id: str) -> IO[Any] | None:
    """Hold `artist`'s training lock for run `run_id` (returns the open file to keep), or
    None when another process holds it. The file names the run while it is held."""
    path = _artist_lock_path(artist)
    path.parent.mkdir(parents=True, exist_ok=True)
    fh = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the run's life
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: the row check alone
        return fh
    # A reader's probe (`artist_lock_holder`) holds the lock for microseconds: retry briefly
    # so a probe is never taken for a training process.
    deadline = time.monotonic() + LOCK_RETRY_S
    while True:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except OSError:
            if time.monotonic() >= deadline or artist_lock_holder(artist) is not None:
                fh.close()
                return None
            time.sleep(0.02)
    fh.seek(0)
    fh.truncate()
    fh.write(run_id)
    fh.flush()
    return fh


def artist_lock_holder(artist: Artist) -> str | None:
    """The id of the run whose process holds `artist`'s training lock, else None."""
    path = _artist_lock_path(artist)
    if not path.exists():
        return None
    try:
        import fcntl
    except ImportError:  # pragma: no cover
        return None
    with open(path, "a+", encoding="utf-8") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            fh.seek(0)
            return fh.read().strip() or "?"
        return None  # nobody holds it; closing drops our probe


def lock_held(folder: Path) -> bool:
    """Whether some live process is training the run in `folder` right now."""
    if not (folder / LOCK_FILE).exists():
        return False
    fh = acquire_lock(folder)
    if fh is None:
        return True
    fh.close()  # closing releases our probe lock
    return False


class Heartbeat:
    """Writes pid, step and a heartbeat to the run's row every few seconds from a thread.

    A thread, not the training loop, so that a long compile, evaluation or checkpoint write
    never makes a healthy run look dead.
    """

    def __init__(self, library: Library, run_id: str, every: float | None = None) -> None:
        if every is None:  # well inside the timeout readers judge it by
            every = min(HEARTBEAT_EVERY_S, heartbeat_timeout() / 4)
        self.library, self.run_id, self.every = library, run_id, every
        self.step = 0
        self.total_steps = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        self.beat()
        self._thread.start()
        return self

    def beat(self) -> None:
        self.library.update_run(self.run_id, heartbeat_at=time.time(), pid=os.getpid(),
                                step=self.step, total_steps=self.total_steps)

    def _beat(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.beat()
            except Exception as exc:  # a busy or vanished library must not kill training,
                # but must not pass unseen either: the run's log (its stderr) says so.
                print(f"warning: heartbeat not written ({exc}); training goes on",
                      file=sys.stderr, flush=True)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.every + 1)
