"""Fixtures for the reliability tests (kills, faults, hostile input, several processes at once).

Helpers are handed out as fixtures, never imported: test modules take them as arguments
(`rows`, `integrity`, `spawn`, `cli`, `snapshot`, ...). Programs these tests start in their own
processes live beside them: draft_writer.py, hammer_worker.py and diskfull_site/ (a disk that
fills up, loaded by `lyrictui` subprocesses through its sitecustomize.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from diskfull_site import fulldisk
from fakes.genius_data import CHOIR, expected_choir

from lyrictui.core import paths
from lyrictui.core.store.library import Library
from lyrictui.core.train import checkpoints


@pytest.fixture(scope="session")
def tiny_base(tiny_gpt2) -> Callable[[Path], Path]:
    """`tiny_base(folder)`: the smallest GPT-2 that still trains (one layer, 32 wide, a
    64-token window), saved to `folder`."""
    def build(folder: Path) -> Path:
        return tiny_gpt2(folder, n_layer=1, n_embd=32, n_positions=64)
    return build


# -- the library and runs, read without lyrictui (the kill, fault and disk-full tests) -----------

# A run of a dozen steps that checkpoints every step: a kill lands in a checkpoint write often.
TRAIN_ARGS = ("--block-size", "32", "--batch-size", "2", "--device", "cpu", "--lr", "5e-3",
              "--log-every", "1")
CHECKPOINT_FILES = ("trainable.safetensors", "optimizer.safetensors", "rng.safetensors",
                    "state.json")


@pytest.fixture(scope="session")
def train_args() -> list[str]:
    """`lyrictui train` options for a short CPU run that checkpoints often (append them)."""
    return list(TRAIN_ARGS)


def _spawn(args: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "lyrictui", *args], stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env or os.environ.copy())


@pytest.fixture(scope="session")
def spawn() -> Callable[..., subprocess.Popen]:
    """`spawn(args, log, env=None)`: start `lyrictui ARGS` in the background, its output
    going to the file `log`; returns the Popen."""
    return _spawn


def _wait_for(predicate: Callable[[], Any], timeout: float = 120.0, what: str = "condition",
              every: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="session")
def wait_for() -> Callable[..., Any]:
    """`wait_for(predicate, timeout=120, what="condition", every=0.05)`: poll `predicate()`
    outside any app until it is truthy and return that value; fail naming `what`."""
    return _wait_for


def _query(db: Path, sql: str, *args: object) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="session")
def query() -> Callable[..., list[tuple]]:
    """`query(db, sql, *args)`: the rows of one query on a connection of our own (closed at
    once), as plain tuples."""
    return _query


def _rows(sql: str, *params: Any) -> list[sqlite3.Row]:
    conn = sqlite3.connect(paths.library_path())
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="session")
def rows() -> Callable[..., list[sqlite3.Row]]:
    """`rows(sql, *params)`: rows read straight from the current home's library file, not
    through lyrictui's Library."""
    return _rows


def _integrity(db: Path | None = None) -> str:
    return "; ".join(row[0] for row in _query(db or paths.library_path(),
                                              "PRAGMA integrity_check"))


@pytest.fixture(scope="session")
def integrity() -> Callable[..., str]:
    """`integrity(db=None)`: `PRAGMA integrity_check` of the library file (the current home's
    by default) on a connection of our own: "ok" when sound."""
    return _integrity


@pytest.fixture(scope="session")
def library_file() -> Callable[[], Path]:
    """`library_file()`: the library's SQLite file under the current LYRICTUI_HOME."""
    return paths.library_path


@pytest.fixture(scope="session")
def runs_json(lyrictui) -> Callable[[], list[dict[str, Any]]]:
    """`runs_json()`: `lyrictui runs --json`, what a user sees of every run."""
    def runs_json() -> list[dict[str, Any]]:
        result = lyrictui("runs", "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)
    return runs_json


def _assert_models_complete() -> list[sqlite3.Row]:
    from lyrictui.core.engine.folders import check_folder

    models = _rows("SELECT * FROM models")
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


@pytest.fixture(scope="session")
def assert_models_complete() -> Callable[[], list[sqlite3.Row]]:
    """`assert_models_complete()`: every registered model points at a complete folder inside
    the data home (config, safetensors weights matching its card, card.json; never a
    temporary folder), one per run. Returns the model rows."""
    return _assert_models_complete


def _assert_checkpoint_complete(folder: Path) -> int:
    from safetensors.torch import load_file

    for name in CHECKPOINT_FILES:
        assert (folder / name).is_file(), f"{folder.name} lacks {name}"
    state = json.loads((folder / "state.json").read_text(encoding="utf-8"))
    for name in CHECKPOINT_FILES[:3]:
        assert load_file(str(folder / name)), f"{folder.name}/{name} holds no tensors"
    assert state["step"] == int(folder.name.removeprefix(checkpoints.PREFIX))
    return int(state["step"])


def _latest_step(run_dir: Path) -> int | None:
    latest = checkpoints.latest_checkpoint(run_dir)
    return None if latest is None else _assert_checkpoint_complete(latest)


@pytest.fixture(scope="session")
def latest_step() -> Callable[[Path], int | None]:
    """`latest_step(run_dir)`: the step of the checkpoint a resume would load (None when there
    is none), asserting it is whole: every file, readable tensors, its step."""
    return _latest_step


def _events(run_dir: Path) -> list[dict[str, Any]]:
    from lyrictui.core.train.events import read_events

    return read_events(run_dir, 0)[0]


@pytest.fixture(scope="session")
def events() -> Callable[[Path], list[dict[str, Any]]]:
    """`events(run_dir)`: a run's events as lyrictui reads them (bad lines skipped); the root
    conftest's `read_events` reads them independently."""
    return _events


def _temp_entries(folder: Path) -> list[str]:
    try:
        return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))
    except FileNotFoundError:
        return []


@pytest.fixture(scope="session")
def temp_entries() -> Callable[[Path], list[str]]:
    """`temp_entries(folder)`: hidden (temporary or being-replaced) entries directly in
    `folder`."""
    return _temp_entries


# -- the synthetic choir: scrapes under faults and kills ------------------------------------------

def _choir_problems(db: Path, count: int) -> list[str]:
    expected = expected_choir(count)
    rows = _query(db, "SELECT s.genius_id, s.lyrics, s.skipped_reason, s.source_key, a.name "
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
    artists = _query(db, "SELECT name FROM artists")
    if artists != [(CHOIR,)]:
        problems.append(f"artists are {artists}")
    return problems


@pytest.fixture(scope="session")
def choir_problems() -> Callable[[Path, int], list[str]]:
    """`choir_problems(db, count)`: what is wrong with the stored synthetic songs (missing,
    extra, twice, wrong lyrics), read with sqlite3, never through the code under test."""
    return _choir_problems


def _song_count(db: Path) -> int:
    if not db.exists() or not _query(db, "SELECT 1 FROM sqlite_master WHERE name = 'songs'"):
        return 0
    return _query(db, "SELECT COUNT(*) FROM songs")[0][0]


@pytest.fixture(scope="session")
def song_count() -> Callable[[Path], int]:
    """`song_count(db)`: songs stored so far (0 when a killed first run left no file, or no
    schema yet)."""
    return _song_count


def _kill_moments(seed: int, count: int, duration: float) -> list[float]:
    rng = random.Random(seed)
    return [(i + rng.uniform(0.01, 0.99)) * duration / count for i in range(count)]


@pytest.fixture(scope="session")
def kill_moments() -> Callable[[int, int, float], list[float]]:
    """`kill_moments(seed, count, duration)`: `count` seeded moments in (0, duration), one
    drawn uniformly in each of `count` equal slices, so a few points still spread over the
    whole run."""
    return _kill_moments


@pytest.fixture(scope="session")
def lyrictui_argv() -> Callable[..., list[str]]:
    """`lyrictui_argv(*args)`: the command line of `lyrictui ARGS` in this Python."""
    def argv(*args: str) -> list[str]:
        return [sys.executable, "-m", "lyrictui", *args]
    return argv


@dataclass(frozen=True)
class Finished:
    code: int
    out: str
    err: str
    seconds: float


def _run(args: list[str], env: dict[str, str], timeout: float = 300) -> Finished:
    started = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout)
    return Finished(done.returncode, done.stdout, done.stderr, time.perf_counter() - started)


@pytest.fixture(scope="session")
def run() -> Callable[..., Finished]:
    """`run(argv, env, timeout=300)`: run a command to its end; returns code, out, err and
    seconds."""
    return _run


def _run_and_kill(args: list[str], env: dict[str, str], delay: float,
                  trigger: Callable[[], bool] | None = None, timeout: float = 300) -> int:
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


@pytest.fixture(scope="session")
def run_and_kill() -> Callable[..., int]:
    """`run_and_kill(argv, env, delay, trigger=None, timeout=300)`: start `argv`, SIGKILL it
    `delay` seconds after its start (or after `trigger()` first holds, when given); returns
    its exit code (-SIGKILL when the kill landed mid-run)."""
    return _run_and_kill


def _watch(args: list[str], env: dict[str, str], marks: dict[str, Callable[[], bool]],
           timeout: float = 300) -> tuple[int, float, dict[str, float]]:
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


@pytest.fixture(scope="session")
def watch() -> Callable[..., tuple[int, float, dict[str, float]]]:
    """`watch(argv, env, marks, timeout=300)`: run `argv` to its end, polling `marks` (name ->
    condition): (exit code, seconds, seconds from the start until each mark first held, for
    those that did)."""
    return _watch


def _figures(name: str, **values: object) -> None:
    print(json.dumps({"test": name, **values}, sort_keys=False), flush=True)


@pytest.fixture(scope="session")
def figures() -> Callable[..., None]:
    """`figures(test_name, **values)`: one JSON line of figures (shown with `pytest -s`)."""
    return _figures


# -- a disk that fills up (diskfull_site/fulldisk.py, also loaded by lyrictui subprocesses) ------

@pytest.fixture(scope="session")
def full_disk() -> type[fulldisk.FullDisk]:
    """`full_disk(root, at="", after=0)`: a FullDisk that refuses writes under `root` once a
    file whose path contains `at` is opened and `after` more bytes were written. Its `env()`
    makes a `lyrictui` subprocess see it; `install_full_disk` makes this process see it."""
    return fulldisk.FullDisk


@pytest.fixture(scope="session")
def install_full_disk() -> Callable[[fulldisk.FullDisk], Callable[[], None]]:
    """`install_full_disk(disk)`: patch this process's writes (open, os.sendfile, safetensors'
    save_file) for paths under the disk's root; returns the function that undoes it."""
    return fulldisk.install


# -- bad input and security: the CLI in-process or as a real process, everything stored ---------

# C0 and C1 controls, DEL, and the invisible formatting characters strip_control removes;
# newline and tab are the only controls allowed in what lyrictui shows or stores.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")

SONG_A = "Hold the line until the morning\nEvery window burning gold"
SONG_B = "Rain on the river, rain on the road\nCarry me home with a heavier load"
SONG_C = "Count the stars above the harbor\nNone of them are counting back"


@pytest.fixture(scope="session")
def control_chars() -> re.Pattern[str]:
    """The characters that must never reach what lyrictui shows or stores: C0 and C1
    controls, DEL and invisible formatting characters (newline and tab are allowed)."""
    return CONTROL


@pytest.fixture(scope="session")
def song_a() -> str:
    """The lyrics of "Song 1" of `stock_library`'s AC/DC (two clean lines)."""
    return SONG_A


@dataclass
class Outcome:
    """What a user saw: exit code, stdout and stderr (text)."""

    code: int
    stdout: str
    stderr: str
    exception: BaseException | None = None

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


def _cli(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Outcome:
    from lyrictui.cli import cli as group

    runner = CliRunner()
    result = runner.invoke(group, list(args), input=input, env=env, prog_name="lyrictui")
    exception = result.exception
    if isinstance(exception, SystemExit):
        exception = None
    return Outcome(result.exit_code, result.stdout, result.stderr, exception)


@pytest.fixture(scope="session")
def cli() -> Callable[..., Outcome]:
    """`cli(*args, input=None, env=None)`: run `lyrictui ARGS` in this process through click's
    runner (the real command group); returns an Outcome (code, stdout, stderr, exception,
    error_lines)."""
    return _cli


def _real_cli(*args: str, input: str | None = None, env: dict[str, str] | None = None,
              timeout: float = 120) -> Outcome:
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run([sys.executable, "-m", "lyrictui", *args], capture_output=True,
                          text=True, input=input, env=full_env, timeout=timeout)
    return Outcome(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture(scope="session")
def real_cli() -> Callable[..., Outcome]:
    """`real_cli(*args, input=None, env=None, timeout=120)`: run `python -m lyrictui ARGS` as a
    real process, as a user's terminal would, with `env` added; returns an Outcome."""
    return _real_cli


def _snapshot(home: Path) -> dict[str, object]:
    rows: dict[str, list[tuple]] = {}
    db = home / "library.sqlite3"
    if db.exists():
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            tables = [r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
            for table in tables:
                rows[table] = sorted(conn.execute(f'SELECT * FROM "{table}"'), key=repr)
        finally:
            conn.close()
    files = {}
    for path in sorted(home.rglob("*")):
        if path.is_file() and not path.name.startswith("library.sqlite3"):
            files[str(path.relative_to(home))] = (path.stat().st_size,
                                                  hashlib.sha256(path.read_bytes()).hexdigest())
        elif path.is_dir():
            files[str(path.relative_to(home)) + "/"] = None
    return {"rows": rows, "files": files}


@pytest.fixture(scope="session")
def snapshot() -> Callable[[Path], dict[str, object]]:
    """`snapshot(home)`: everything stored under `home`: every row of every library table,
    read with plain sqlite3, and every file with its size and content hash (SQLite's own files
    aside). Two equal snapshots: nothing was stored."""
    return _snapshot


def _stock_library(home: Path) -> Library:
    lib = Library()
    acdc = lib.add_artist("AC/DC", "imported")
    for n, text in enumerate((SONG_A, SONG_B, SONG_C), 1):
        lib.add_song(acdc.id, f"Song {n}", text, source_key=f"k{n}")
    lib.add_artist("Empty One", "imported")
    skipped = lib.add_artist("Skipped Only", "imported")
    lib.add_song(skipped.id, "Intro", "", source_key="s1", skipped_reason="instrumental")
    return lib


@pytest.fixture(scope="session")
def stock_library() -> Callable[[Path], Library]:
    """`stock_library(home)`: an open Library holding an artist with three songs ("AC/DC"),
    one with none ("Empty One") and one whose only song was skipped ("Skipped Only")."""
    return _stock_library


class PickleTrap:
    """Unpickling this creates `marker` (open(marker, "w")): proof that a pickle was opened."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


@pytest.fixture(scope="session")
def pickle_trap() -> type[PickleTrap]:
    """`pickle_trap(marker)`: an object whose unpickling creates the file `marker`: proof that
    a pickle was opened."""
    return PickleTrap


def _pickle_only_model(folder: Path, tokenizer, marker: Path) -> Path:
    import torch
    from transformers import GPT2Config

    folder.mkdir(parents=True, exist_ok=True)
    GPT2Config(vocab_size=len(tokenizer), n_positions=64, n_embd=32, n_layer=1,
               n_head=2).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    torch.save({"transformer.wte.weight": torch.zeros(2, 2), "trap": PickleTrap(marker)},
               folder / "pytorch_model.bin")
    return folder


@pytest.fixture(scope="session")
def pickle_only_model() -> Callable[[Path, Any, Path], Path]:
    """`pickle_only_model(folder, tokenizer, marker)`: a model folder like an old
    `save_pretrained(safe_serialization=False)` one: config, tokenizer and a pytorch_model.bin
    pickle whose unpickling would create `marker`."""
    return _pickle_only_model


def _trap_is_live(tmp: Path) -> bool:
    marker = tmp / "control-marker"
    pickle.loads(pickle.dumps(PickleTrap(marker))).close()
    return marker.exists()


@pytest.fixture(scope="session")
def trap_is_live() -> Callable[[Path], bool]:
    """`trap_is_live(tmp)`: the trap really fires when a pickle is opened (so its marker
    staying absent means something): unpickle a second trap with plain pickle, look for its
    marker."""
    return _trap_is_live
