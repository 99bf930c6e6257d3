"""Training runs as OS processes: ids, folders, detached start, heartbeat, stale runs, cancel.

A run is a row in the library plus `artists/<slug>/runs/<run-id>/` holding events.jsonl,
config.json, train.log, checkpoints/ and a lock file. The process that trains a run holds the
lock for its whole life, so a second process can never train the same run, and the OS frees
the lock when the process dies, even by SIGKILL.
"""

from __future__ import annotations

import json
import os
import secrets
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

__all__ = ["read_events", "create_run", "start_detached", "cancel", "mark_stale_runs"]

STOP_FILE = "STOP"
LOCK_FILE = ".lock"
LOG_FILE = "train.log"
HEARTBEAT_EVERY_S = 5.0
ACTIVE = ("queued", "running")
RESUMABLE = ("interrupted", "cancelled", "failed")


def new_run_id(artist: Artist) -> str:
    """`<slug>-<YYYYmmdd-HHMMSS>-<4 hex>`: sortable, readable, and unique."""
    return f"{artist.slug}-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"


def run_dir(run: Run) -> Path:
    return paths.inside_home(Path(run.dir))


def create_run(library: Library, artist: Artist, config: TrainConfig,
               pid: int | None = None) -> Run:
    """Register a queued run and make its folder (with config.json); `pid` is the process
    that will train it, when that is known (so a kill before its first heartbeat shows)."""
    config.validate()
    run_id = new_run_id(artist)
    folder = paths.runs_dir(artist.slug) / run_id
    folder.mkdir(parents=True, exist_ok=False)
    text = json.dumps(config.to_dict(), indent=2)
    tmp = folder / "config.json.tmp"
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, folder / "config.json")
    return library.create_run(run_id, artist.id, status="queued", base=config.base,
                              method=config.method, dir=str(folder), config_json=text, pid=pid)


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
        ensure_not_running(run)
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
