"""A training process that dies without a word (SIGKILL: no end event, no status change).

Its pid is left unreaped, so the process table still holds it (a zombie, as when nobody reaps
an orphan in a container, or as a pid reused after a crash looks): only the silent heartbeat
can tell. With `heartbeat_timeout` set to a few seconds, the run shows as interrupted in the
Library view, in the Training screen and in `lyrictui runs` once its heartbeat is that old,
and `lyrictui resume` continues it from its last checkpoint to a model.

Figures: `python -m pytest tests/reliability/test_dead_run.py -s` (JSON lines).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path

import pytest

from lyrictui.core.store import status
from lyrictui.core.store.library import Library
from lyrictui.core.train import runs

TIMEOUT_S = 3


@pytest.fixture
def base(tmp_path: Path, tiny_base) -> Path:
    return tiny_base(tmp_path / "base")


def library_view(library: Library, artist_id: int) -> str:
    """The model column of the Library screen (read-only: it marks nothing)."""
    (summary,) = [s for s in library.summaries() if s.artist.id == artist_id]
    return status.model_status(summary)


async def training_screen_status(library: Library, run_id: str) -> str:
    """What the Training screen's runs table says about the run once it has loaded."""
    from textual.widgets import DataTable

    from lyrictui.app import Services, make_app
    from lyrictui.screens.training import TrainingScreen

    app = make_app(Services(library=library))
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("f3")
        screen = app.screen
        assert isinstance(screen, TrainingScreen)
        table = screen.query_one("#runs", DataTable)
        deadline = asyncio.get_running_loop().time() + 20
        while run_id not in screen.runs:
            assert asyncio.get_running_loop().time() < deadline, "the runs never loaded"
            await pilot.pause(0.1)
        await pilot.pause()
        return str(table.get_cell(run_id, "status"))


def test_a_silently_dead_run_shows_interrupted_within_the_heartbeat_timeout_and_resumes(
        library: Library, base: Path, tmp_path: Path, add_corpus, lyrictui, spawn, latest_step,
        wait_for, integrity, train_args, events, runs_json, assert_models_complete):
    configured = lyrictui("config", "set", "heartbeat_timeout", str(TIMEOUT_S))
    assert configured.returncode == 0, configured.stderr
    artist = add_corpus(library)
    proc = spawn(["train", artist.name, "--base", str(base), "--epochs", "8", "--save-every",
                  "2", *train_args], tmp_path / "train.log")
    try:
        run = wait_for(lambda: library.list_runs() and library.list_runs()[0], what="the run")
        folder = runs.run_dir(run)
        wait_for(lambda: any(e["type"] == "checkpoint" for e in events(folder)),
                 what="a first checkpoint")
        assert library_view(library, artist.id).startswith("training")
        os.kill(proc.pid, signal.SIGKILL)
        killed_at = time.time()
        # Not reaped: the pid is still in the process table, as a zombie.
        wait_for(lambda: not runs.lock_held(folder), timeout=10, what="the lock to go")
        run = library.get_run(run.id)
        assert status.pid_alive(run.pid), "the pid must still look alive for this test"
        assert run.status == "running"
        assert not any(e["type"] == "end" for e in events(folder)), "it died without a word"
        last_beat = run.heartbeat_at
        killed_step = max(e["step"] for e in events(folder) if e["type"] == "step")
        assert last_beat is not None and killed_step < run.total_steps

        # The rule, at the boundary: silent for less than the timeout is alive, more is not.
        assert not status.run_is_stale(run, now=last_beat + TIMEOUT_S - 0.5)
        assert status.run_is_stale(run, now=last_beat + TIMEOUT_S + 0.5)

        # As the app and the CLI see it, in real time.
        seen = wait_for(lambda: library_view(library, artist.id) == "interrupted" and time.time(),
                        timeout=TIMEOUT_S * 10, what="the Library view", every=0.1)
        listed = {r["id"]: r for r in runs_json()}
        assert listed[run.id]["status"] == "interrupted"
        marked = time.time()
        assert asyncio.run(training_screen_status(library, run.id)) == "interrupted"
    finally:
        if proc.poll() is None:
            proc.kill()
        code = proc.wait()
    assert code == -signal.SIGKILL

    checkpoint = latest_step(folder)
    assert checkpoint is not None and checkpoint >= 2
    resumed = lyrictui("resume", run.id)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"resumed from step {checkpoint}" in resumed.stdout
    done = Library().get_run(run.id)
    assert done.status == "completed" and done.model_id
    assert [m["run_id"] for m in assert_models_complete()] == [run.id]
    assert integrity() == "ok"
    starts = [e["resumed_from"] for e in events(folder) if e["type"] == "start"]
    assert starts == [0, checkpoint]
    print(json.dumps({"dead_run": {
        "heartbeat_timeout_s": TIMEOUT_S,
        "heartbeat_every_s": runs.Heartbeat(library, run.id).every,
        "killed_at_step": killed_step, "total_steps": run.total_steps,
        "resumed_from": checkpoint,
        "library_view_interrupted_after_kill_s": round(seen - killed_at, 2),
        "library_view_interrupted_after_last_heartbeat_s": round(seen - last_beat, 2),
        "cli_and_app_interrupted_after_kill_s": round(marked - killed_at, 2)}}), flush=True)
