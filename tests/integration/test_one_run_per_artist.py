"""One run per artist at a time, from any process: a second start is refused with one line
naming the active run; two processes starting at once make one run; a killed trainer leaves
no stale lock behind."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from lyrictui.cli import cli
from lyrictui.core.store.library import Library
from lyrictui.core.train import runs


@pytest.fixture
def base(tmp_path: Path, tiny_gpt2) -> Path:
    return tiny_gpt2(tmp_path / "base", n_embd=32, n_positions=64)


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def long_run(library: Library, artist, base: Path, tiny_config) -> str:
    """A detached run that trains until cancelled (or killed), once its process holds the lock."""
    run_id = runs.start_detached(library, artist, tiny_config(base, epochs=10_000, patience=0))
    wait_for(lambda: runs.artist_lock_holder(artist) == run_id, 120, "the run to train")
    return run_id


def test_a_second_run_of_a_training_artist_is_refused_in_one_line(
        library: Library, base: Path, add_corpus, tiny_config) -> None:
    artist = add_corpus(library)
    other = add_corpus(library, "Other Band", seed=1)
    assert runs.suggest_threads(library) is None
    active = long_run(library, artist, base, tiny_config)
    try:
        # A CPU run is training: an engine in the app leaves the trainer's core alone.
        assert runs.suggest_threads(library) == max(1, len(os.sched_getaffinity(0)) - 1)
        result = CliRunner().invoke(cli, ["train", artist.name, "--base", str(base),
                                          "--device", "cpu", "--epochs", "1", "--detach"])
        assert result.exit_code == 2
        errors = [line for line in result.stderr.splitlines() if line]
        assert errors == [errors[0]] and errors[0].startswith("error: ")
        assert active in errors[0] and artist.name in errors[0]
        with pytest.raises(runs.RunActive) as refused:
            runs.start_detached(library, artist, tiny_config(base))
        assert refused.value.run_id == active
        assert [r.id for r in library.list_runs(artist.id)] == [active]
        # Resuming an older stopped run of the same artist is refused the same way.
        older = runs.run_dir(library.get_run(active)).parent / "older-run"
        older.mkdir()  # a stopped run keeps its folder (a gone one is refused before this)
        old = library.create_run("older-run", artist.id, status="cancelled", base=str(base),
                                 method="full", dir=str(older))
        with pytest.raises(runs.RunActive):
            runs.ensure_can_resume(library, old)
        # Another artist trains at the same time.
        mine = runs.create_run(library, other, tiny_config(base), pid=os.getpid())
        assert mine.status == "queued"
    finally:
        runs.cancel(library, active)
        wait_for(lambda: library.get_run(active).status not in runs.ACTIVE, 120, "the cancel")
    # Its process holds the lock until it has exited.
    wait_for(lambda: runs.active_run(library, artist) is None, 60, "the process to exit")
    again = runs.create_run(library, artist, tiny_config(base), pid=os.getpid())
    assert again.status == "queued"


def test_a_killed_trainer_frees_the_artist_at_once(
        library: Library, base: Path, add_corpus, tiny_config) -> None:
    artist = add_corpus(library)
    active = long_run(library, artist, base, tiny_config)
    os.kill(library.get_run(active).pid, signal.SIGKILL)
    wait_for(lambda: runs.artist_lock_holder(artist) is None, 30, "the kernel to drop the lock")
    # No heartbeat timeout to wait out: the lock went with the process.
    fresh = runs.create_run(library, artist, tiny_config(base), pid=os.getpid())
    assert fresh.status == "queued"
    assert active in runs.mark_stale_runs(library)
    # Resuming the killed run is refused while the new one is starting.
    with pytest.raises(runs.RunActive):
        runs.ensure_can_resume(library, library.get_run(active))


def _start_one(home: str, base: str, barrier, results) -> None:
    os.environ["LYRICTUI_HOME"] = home
    from lyrictui.core.store.library import Library as Lib
    from lyrictui.core.train.config import TrainConfig

    library = Lib()
    artist = library.get_artist("Test Band")
    config = TrainConfig(base=base, block_size=32, batch_size=2, epochs=1, device="cpu")
    barrier.wait()
    try:
        run = runs.create_run(library, artist, config, pid=os.getpid())
        results.put(("started", run.id))
    except runs.RunActive as exc:
        results.put(("refused", exc.run_id))
    barrier.wait()  # both stay alive until both have tried


def test_two_processes_starting_at_once_make_one_run(
        library: Library, base: Path, add_corpus, lyrictui_home: Path) -> None:
    add_corpus(library)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(4)
    results = context.Queue()
    procs = [context.Process(target=_start_one, args=(str(lyrictui_home), str(base), barrier,
                                                      results)) for _ in range(4)]
    for proc in procs:
        proc.start()
    outcomes = [results.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
        assert proc.exitcode == 0
    started = [run_id for kind, run_id in outcomes if kind == "started"]
    refused = [run_id for kind, run_id in outcomes if kind == "refused"]
    assert len(started) == 1 and refused == started * 3
    assert [r.id for r in library.list_runs()] == started


def test_the_training_process_itself_refuses_a_second_run_of_its_artist(
        library: Library, base: Path, add_corpus, tiny_config) -> None:
    """Even a row that got past the check (here: inserted behind its back) cannot train while
    another run of the artist holds the lock."""
    artist = add_corpus(library)
    active = long_run(library, artist, base, tiny_config)
    try:
        sneaked = "sneaked-run"
        folder = runs.run_dir(library.get_run(active)).parent / sneaked
        folder.mkdir()
        config = tiny_config(base)
        library.create_run(sneaked, artist.id, status="interrupted", base=config.base,
                           method="full", dir=str(folder),
                           config_json=json.dumps(config.to_dict()))
        done = subprocess.run([sys.executable, "-m", "lyrictui", "run-worker", sneaked],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 2
        assert active in done.stderr.strip().splitlines()[-1]
        assert library.get_run(sneaked).status == "failed"
    finally:
        runs.cancel(library, active)
        wait_for(lambda: library.get_run(active).status not in runs.ACTIVE, 120, "the cancel")
