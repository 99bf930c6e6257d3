"""Training as the app and users run it: real `lyrictui` processes, SIGKILL, detach, cancel."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from lyrictui.core.store.library import Library
from lyrictui.core.train import checkpoints, runs

TRAIN_ARGS = ["--block-size", "32", "--batch-size", "2", "--device", "cpu", "--lr", "5e-3",
              "--log-every", "1"]


@pytest.fixture
def base(tmp_path: Path, tiny_gpt2) -> Path:
    return tiny_gpt2(tmp_path / "base", n_embd=32, n_positions=64)


def lyrictui(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lyrictui", *args], capture_output=True,
                          text=True, env=os.environ.copy(), timeout=timeout)


def wait_for(predicate, timeout: float = 90.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def events_of(run_dir: Path) -> list[dict]:
    return runs.read_events(run_dir, 0)[0]


def test_a_run_killed_after_its_first_checkpoint_resumes_from_it_and_finishes(
        library: Library, base: Path, add_corpus):
    add_corpus(library)
    proc = subprocess.Popen(
        [sys.executable, "-m", "lyrictui", "train", "Test Band", "--base", str(base),
         "--epochs", "4", "--save-every", "2", *TRAIN_ARGS],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=os.environ.copy())
    try:
        run = wait_for(lambda: library.list_runs() and library.list_runs()[0], what="the run")
        folder = runs.run_dir(run)
        wait_for(lambda: any(e["type"] == "checkpoint" for e in events_of(folder)),
                 what="a first checkpoint")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    before = events_of(folder)
    assert not any(e["type"] == "end" for e in before), "the run finished before the kill"
    on_disk = checkpoints.latest_checkpoint(folder)
    assert on_disk is not None
    killed_at = int(on_disk.name.removeprefix("step-"))
    assert killed_at >= 2

    listed = json.loads(lyrictui("runs", "--json").stdout)
    assert listed[0]["id"] == run.id and listed[0]["status"] == "interrupted"

    resumed = lyrictui("resume", run.id)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resumed from step {killed_at}" in resumed.stdout
    after = events_of(folder)
    starts = [e for e in after if e["type"] == "start"]
    assert [s["resumed_from"] for s in starts] == [0, killed_at]
    first_new_step = next(e for e in after[len(before):] if e["type"] == "step")
    assert first_new_step["step"] == killed_at + 1
    assert after[-1]["type"] == "end" and after[-1]["status"] in {"completed", "stopped_early"}
    finished = Library().get_run(run.id)
    assert finished.status == "completed" and finished.model_id

    # What a user sees of it afterwards, through the CLI.
    runner = CliRunner()
    shown = runner.invoke(_cli(), ["watch", run.id, "--once"])
    assert shown.exit_code == 0 and run.id in shown.output and "evaluations" in shown.output
    models = json.loads(runner.invoke(_cli(), ["models", "--json"]).output)
    assert [m["id"] for m in models] == [finished.model_id] and models[0]["size_bytes"] > 0
    removed = runner.invoke(_cli(), ["rm-model", finished.model_id, "--yes"])
    assert removed.exit_code == 0 and "freed" in removed.output
    assert not Path(models[0]["path"]).exists()
    assert json.loads(runner.invoke(_cli(), ["models", "--json"]).output) == []


def _cli():
    from lyrictui.cli import cli

    return cli


def test_a_detached_run_cancels_cleanly_with_a_checkpoint(library: Library, base: Path,
                                                          add_corpus, tiny_config):
    artist = add_corpus(library)
    config = tiny_config(base, epochs=50, patience=0, save_every=3)
    run_id = runs.start_detached(library, artist, config)
    folder = runs.run_dir(library.get_run(run_id))
    wait_for(lambda: any(e["type"] == "step" and e["step"] >= 4 for e in events_of(folder)),
             what="a few steps")
    assert library.get_run(run_id).status == "running"
    runs.cancel(library, run_id)
    run = wait_for(lambda: (r := library.get_run(run_id)).status not in runs.ACTIVE and r,
                   timeout=30, what="the run to stop")
    assert run.status == "cancelled"
    events = events_of(folder)
    assert events[-1]["type"] == "end" and events[-1]["status"] == "cancelled"
    saved = checkpoints.latest_checkpoint(folder)
    assert saved is not None and int(saved.name.removeprefix("step-")) == run.step
    assert run.step < events[0]["total_steps"]
    assert (folder / runs.LOG_FILE).exists()
    wait_for(lambda: not runs.lock_held(folder), timeout=10, what="the process to exit")
    again = lyrictui("cancel", run_id)
    assert again.returncode == 2 and "not running" in again.stderr


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_two_processes_train_one_run_with_gloo(library: Library, base: Path, add_corpus,
                                               read_events):
    """`torchrun --nproc-per-node 2` on a CPU: rank 0 owns the run, each rank takes its share
    of every batch (half the steps of one process)."""
    add_corpus(library, songs=20)
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
         "--master-addr", "127.0.0.1", "--master-port", str(free_port()), "-m", "lyrictui", "train", "Test Band", "--base", str(base),
         "--epochs", "1", *TRAIN_ARGS],
        capture_output=True, text=True, env=os.environ.copy(), timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    (run,) = Library().list_runs()
    assert run.status == "completed"
    events = read_events(runs.run_dir(run))
    start = events[0]
    assert start["world_size"] == 2
    assert start["steps_per_epoch"] == start["dataset"]["train_blocks"] // (2 * 2)
    assert len([e for e in events if e["type"] == "start"]) == 1  # one owner, one event log
    assert events[-1]["status"] in {"completed", "stopped_early"}
