"""Helpers for the training fault tests (kills, dead runs, disk full): real `lyrictui` processes
and independent checks of what they left on disk and in the library."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lyrictui.core import paths
from lyrictui.core.train import checkpoints

# A run of a dozen steps that checkpoints every step: a kill lands in a checkpoint write often.
TRAIN_ARGS = ["--block-size", "32", "--batch-size", "2", "--device", "cpu", "--lr", "5e-3",
              "--log-every", "1"]
CHECKPOINT_FILES = ("trainable.safetensors", "optimizer.safetensors", "rng.safetensors",
                    "state.json")


def lyrictui(*args: str, env: dict[str, str] | None = None,
             timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run `lyrictui ARGS` to its end, as a user would from a shell."""
    return subprocess.run([sys.executable, "-m", "lyrictui", *args], capture_output=True,
                          text=True, env=env or os.environ.copy(), timeout=timeout)


def spawn(args: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start `lyrictui ARGS` in the background, its output going to `log`."""
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "lyrictui", *args], stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env or os.environ.copy())


def wait_for(predicate: Callable[[], Any], timeout: float = 120.0, what: str = "condition",
             every: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


def runs_json() -> list[dict[str, Any]]:
    """`lyrictui runs --json`: what a user sees of every run."""
    result = lyrictui("runs", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def integrity(library_path: Path | None = None) -> str:
    """`PRAGMA integrity_check` on a connection of our own."""
    conn = sqlite3.connect(library_path or paths.library_path())
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def rows(sql: str, *params: Any) -> list[sqlite3.Row]:
    """Rows read straight from the library file, not through lyrictui's Library."""
    conn = sqlite3.connect(paths.library_path())
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def assert_models_complete() -> list[sqlite3.Row]:
    """Every registered model points at a complete folder inside the data home: config,
    safetensors weights matching its card, card.json; never a temporary folder."""
    from lyrictui.core.engine.folders import check_folder

    models = rows("SELECT * FROM models")
    for model in models:
        folder = Path(model["path"])
        assert not folder.name.startswith("."), f"a temporary folder is registered: {folder}"
        for name in ("config.json", "model.safetensors", "card.json"):
            assert (folder / name).is_file(), f"model {model['id']} lacks {name}"
        method, card = check_folder(folder)  # sizes match the card, safetensors headers whole
        assert method == "full" and card["run_id"] == model["run_id"]
    ids = [m["run_id"] for m in models]
    assert len(ids) == len(set(ids)), f"duplicate model rows for a run: {ids}"
    return models


def assert_checkpoint_complete(folder: Path) -> int:
    """The checkpoint a resume would load is whole: every file, readable tensors, its step."""
    from safetensors.torch import load_file

    for name in CHECKPOINT_FILES:
        assert (folder / name).is_file(), f"{folder.name} lacks {name}"
    state = json.loads((folder / "state.json").read_text(encoding="utf-8"))
    for name in CHECKPOINT_FILES[:3]:
        assert load_file(str(folder / name)), f"{folder.name}/{name} holds no tensors"
    assert state["step"] == int(folder.name.removeprefix(checkpoints.PREFIX))
    return int(state["step"])


def latest_step(run_dir: Path) -> int | None:
    latest = checkpoints.latest_checkpoint(run_dir)
    return None if latest is None else assert_checkpoint_complete(latest)


def events(run_dir: Path) -> list[dict[str, Any]]:
    from lyrictui.core.train.events import read_events

    return read_events(run_dir, 0)[0]


def temp_entries(folder: Path) -> list[str]:
    """Hidden (temporary or being-replaced) entries directly in `folder`."""
    try:
        return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))
    except FileNotFoundError:
        return []
