"""SIGKILL at seeded moments while `lyrictui train` trains and while the composer autosaves.

Training: each chain is one run driven by real `lyrictui train` / `lyrictui resume` processes,
each killed at a seeded moment of a seeded phase (startup, mid-step, mid-checkpoint write,
saving the best weights, publishing the model), then continued the way the CLI tells a user
to (`lyrictui resume RUN`, or a fresh `lyrictui train` if the run was never registered). After
every kill the library passes integrity_check, every model row points at a complete model,
the checkpoint a resume would load is whole and the run shows as interrupted; in the end
the run completes with exactly one loadable model.

Drafts: draft_writer.py saves a growing draft through the composer's own save, and is killed
at seeded moments; the stored draft is always the last acknowledged version or the next one.

Figures: `python -m pytest -m slow tests/reliability/test_kill_train_drafts.py -s` (JSON lines).
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest

from lyrictui.core import paths
from lyrictui.core.store.library import Library
from lyrictui.core.train import checkpoints

HERE = Path(__file__).parent
EPOCHS = 3  # about 14 songs in blocks of 32, batches of 2: a dozen steps or more
PHASES = ("startup", "step", "checkpoint", "best", "publish")
POLL_S = 0.001


@dataclass
class Kill:
    chain: int
    index: int
    target: str  # the phase aimed at
    landed: str  # where the process was, judged from what it left on disk
    seconds: float  # from spawn to the kill
    step: int  # steps done when it died (from its events)
    checkpoint: int | None  # the newest complete checkpoint left
    at: float = 0.0  # wall clock of the kill
    resumed_from: int | None = None  # where the next process started (from its start event)


# -- training -----------------------------------------------------------------------------------


@pytest.fixture
def chain_tools(train_args, spawn, lyrictui, rows, events, integrity, latest_step, temp_entries,
                runs_json, assert_models_complete) -> SimpleNamespace:
    """The conftest helpers a Chain starts its processes and checks what they left with."""
    return SimpleNamespace(
        train_args=train_args, spawn=spawn, lyrictui=lyrictui, rows=rows, events=events,
        integrity=integrity, latest_step=latest_step, temp_entries=temp_entries,
        runs_json=runs_json, assert_models_complete=assert_models_complete)


class Chain:
    """One run, trained by a sequence of processes that are killed one after the other."""

    def __init__(self, library: Library, base: Path, number: int, tmp: Path,
                 add_corpus, tools: SimpleNamespace) -> None:
        self.library, self.number, self.tools = library, number, tools
        self.artist = add_corpus(library, f"Band {number}", seed=number)
        self.train_args = ["train", self.artist.name, "--base", str(base), "--epochs",
                           str(EPOCHS), "--save-every", "1", *tools.train_args]
        self.log = tmp / f"chain-{number}.log"
        self.run_id: str | None = None
        self.kills: list[Kill] = []
        self._run_dir: Path | None = None
        self._spawned = 0.0  # wall clock when the current process was started
        self._runs_root = paths.runs_dir(self.artist.slug)
        self._models = paths.models_dir(self.artist.slug)

    # where things are (cached: the triggers poll them every millisecond)
    @property
    def run_dir(self) -> Path | None:
        if self._run_dir is None and self.run_id is not None:
            (row,) = self.tools.rows("SELECT dir FROM runs WHERE id = ?", self.run_id)
            self._run_dir = paths.inside_home(Path(row["dir"]))
        return self._run_dir

    def _find_run(self) -> None:
        found = self.tools.rows("SELECT id FROM runs WHERE artist_id = ? ORDER BY started_at",
                     self.artist.id)
        assert len(found) <= 1, "a chain registers one run"
        if found:
            self.run_id = found[0]["id"]

    def _run_dir_on_disk(self) -> Path | None:
        """The run folder, even before its row exists (the triggers watch files only)."""
        if self.run_id is not None:
            return self.run_dir
        found = sorted(p for p in self._runs_root.iterdir()  # not the artist's .training.lock
                       if p.is_dir() and not p.name.startswith(".")) \
            if self._runs_root.is_dir() else []
        return found[0] if found else None

    def command(self) -> list[str]:
        return self.train_args if self.run_id is None else ["resume", self.run_id]

    # one kill
    def kill_once(self, target: str, rng: random.Random) -> Kill:
        started, spawned = time.monotonic(), time.time()
        self._spawned = spawned
        proc = self.tools.spawn(self.command(), self.log)
        try:
            target = self._wait_for_moment(proc, target, rng, spawned)
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
            seconds, at = time.monotonic() - started, time.time()
        finally:
            if proc.poll() is None:
                proc.kill()
            code = proc.wait()
        assert code == -signal.SIGKILL, (
            f"the process ended by itself ({code}) before the kill aimed at {target!r}: "
            + self.log.read_text(errors="replace")[-1500:])
        landed = self._landed(spawned)
        if self.run_id is None:
            self._find_run()
        kill = Kill(self.number, len(self.kills), target, landed, round(seconds, 3),
                    self._steps_done(), None, at)
        self._check_after_kill(kill)
        self.kills.append(kill)
        return kill

    def _steps_done(self, since: float = 0.0, start: int = 0) -> int:
        """The last step done (by processes spawned from `since` on; else `start`)."""
        folder = self._run_dir_on_disk()
        steps = [e["step"] for e in self.tools.events(folder) if e["type"] == "step"
                 and e["time"] >= since] if folder else []
        return max(steps, default=start)

    def _wait_for_moment(self, proc: subprocess.Popen, target: str, rng: random.Random,
                         spawned: float) -> str:
        """Return at the seeded moment of `target` (at once if the process ended); returns the
        phase aimed at (a process with no steps left can only be killed starting or
        publishing)."""
        if target == "startup":
            # A random moment before training starts, however fast this machine imports.
            self._poll(proc, lambda: self._start(spawned) is not None, rng.uniform(0.2, 3.0))
            return target
        self._poll(proc, lambda: self._start(spawned) is not None, 120)
        start = self._start(spawned)
        if start is None:
            return target
        total, done = start["total_steps"], start["resumed_from"]
        left = total - done

        def steps() -> int:  # this process's own progress (an earlier one may have gone on)
            return self._steps_done(spawned, done)

        if target == "step" and left < 2 or target in ("checkpoint", "best") and left < 1:
            target = "publish"
        if target == "step":
            k = done + rng.randint(1, left - 1)
            self._poll(proc, lambda: steps() >= k, 120)
            self._poll(proc, lambda: False, rng.uniform(0.0, 0.03))
        elif target == "checkpoint":
            # One of the next few steps, then the moment its checkpoint folder is being written.
            k = done + rng.randint(0, min(3, left - 1))
            self._poll(proc, lambda: steps() >= k, 120)
            # A write quicker than the watcher is missed: then the kill lands in the training
            # after it, before the run can end.
            self._poll(proc, lambda: self._temp_in("checkpoints", ".step-")
                       or steps() > k + 1 and steps() < total, 5)
            self._poll(proc, lambda: False, rng.uniform(0.0, 0.005))
        elif target == "best":
            # The best weights are saved when an evaluation improves; if none does, the end.
            self._poll(proc, lambda: self._temp_in(".", ".best.")
                       or steps() >= total, 120)
            self._poll(proc, lambda: False, rng.uniform(0.0, 0.005))
        else:  # publish: after the last step, the moment the model folder is being written
            self._poll(proc, lambda: steps() >= total, 120)
            self._poll(proc, lambda: self._temp_in(self._models_dir(), ".")
                       or self._ended(), 10)
            self._poll(proc, lambda: False, rng.uniform(0.0, 0.003))
        return target

    def _start(self, spawned: float) -> dict | None:
        """The start event of the process spawned at `spawned` (wall clock), if it wrote one."""
        folder = self._run_dir_on_disk()
        found = [e for e in self.tools.events(folder)
                 if e["type"] == "start" and e["time"] >= spawned] if folder else []
        return found[0] if found else None

    def _ended(self) -> bool:
        folder = self._run_dir_on_disk()
        return folder is not None and any(e["type"] == "end" for e in self.tools.events(folder))

    def _checkpoint_or_zero(self) -> int:
        folder = self._run_dir_on_disk()
        latest = checkpoints.latest_checkpoint(folder) if folder else None
        return int(latest.name.removeprefix(checkpoints.PREFIX)) if latest else 0

    def _models_dir(self) -> Path:
        return self._models

    def _temp_in(self, where: str | Path, prefix: str) -> bool:
        folder = self._run_dir_on_disk()
        if isinstance(where, str):
            if folder is None:
                return False
            where = folder / where
        return any(name.startswith(prefix) and _changed_since(Path(where) / name, self._spawned)
                   for name in self.tools.temp_entries(Path(where)))

    @staticmethod
    def _poll(proc: subprocess.Popen, condition, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.poll() is None and not condition():
            time.sleep(POLL_S)

    def _landed(self, spawned: float) -> str:
        """Where the killed process was, from what it left behind."""
        folder = self._run_dir_on_disk()
        if folder is None or not self.tools.rows("SELECT 1 FROM runs WHERE artist_id = ?",
                                                 self.artist.id):
            return "before the run was registered"
        run_id = self.tools.rows("SELECT id FROM runs WHERE artist_id = ?", self.artist.id)[0]["id"]
        status = self.tools.rows("SELECT status FROM runs WHERE id = ?", run_id)[0]["status"]
        if status == "completed":
            return "after the run completed"
        # Only what this process wrote counts: an earlier one may have left a temporary folder.
        def fresh(folder: Path, prefix: str = ".") -> bool:
            return any(name.startswith(prefix) and _changed_since(folder / name, spawned)
                       for name in self.tools.temp_entries(folder))

        registered = self.tools.rows("SELECT 1 FROM models WHERE run_id = ?", run_id)
        if fresh(self._models) or not registered and _changed_since(self._models / run_id,
                                                                     spawned):
            return "publishing the model"
        if registered:
            return "after publishing, before completing"
        if fresh(folder, ".best."):
            return "saving the best weights"
        if fresh(checkpoints.checkpoints_dir(folder)):
            return "writing a checkpoint"
        mine = [e for e in self.tools.events(folder) if e["time"] >= spawned]
        if not any(e["type"] == "start" for e in mine):
            return "starting (loading, before training)"
        if not any(e["type"] == "step" for e in mine):
            return "starting (before its first step)"
        if checkpoints.latest_checkpoint(folder) is None:
            return "training, before the first checkpoint"
        return "training"

    def _check_after_kill(self, kill: Kill) -> None:
        assert self.tools.integrity() == "ok"
        self.tools.assert_models_complete()
        if self.run_id is None:
            return
        status = self.tools.rows("SELECT status FROM runs WHERE id = ?", self.run_id)[0]["status"]
        if status != "completed":
            kill.checkpoint = self.tools.latest_step(self.run_dir)  # asserts it is whole
            shown = {r["id"]: r["status"] for r in self.tools.runs_json()}
            assert shown[self.run_id] == "interrupted", shown

    def finish(self) -> subprocess.CompletedProcess[str] | None:
        """Continue as the user is told until the run completes; check the outcome."""
        if self.run_id is None:
            result = self.tools.lyrictui(*self.train_args)
            self._find_run()
        elif self.tools.rows("SELECT status FROM runs WHERE id = ?",
                             self.run_id)[0]["status"] != "completed":
            expected = self.tools.latest_step(self.run_dir)
            result = self.tools.lyrictui("resume", self.run_id)
            assert result.returncode == 0, result.stderr[-2000:]
            if expected:
                assert f"resumed from step {expected}" in result.stdout
        else:  # killed while cleaning up after completing: nothing left to resume
            refused = self.tools.lyrictui("resume", self.run_id)
            assert refused.returncode == 2 and "already completed" in refused.stderr
            result = None
        if result is not None:
            assert result.returncode == 0, result.stderr[-2000:]
        self._check_final(cleaned=result is not None)
        return result

    def _check_final(self, cleaned: bool) -> None:
        run = self.tools.rows("SELECT * FROM runs WHERE id = ?", self.run_id)[0]
        assert run["status"] == "completed" and run["model_id"]
        models = [m for m in self.tools.assert_models_complete() if m["run_id"] == self.run_id]
        assert [m["id"] for m in models] == [run["model_id"]]
        assert not self.tools.temp_entries(self._models_dir())
        if cleaned:  # (a kill during the cleanup may leave some of them, never resumed)
            assert not checkpoints.checkpoints_dir(self.run_dir).exists()
        assert self.tools.integrity() == "ok"
        # Each process that got as far as starting resumed from the checkpoint left before it.
        starts = [e for e in self.tools.events(self.run_dir) if e["type"] == "start"]
        for kill in self.kills:
            after = [e for e in starts if e["time"] > kill.at]
            if after:
                kill.resumed_from = after[0]["resumed_from"]
                assert kill.resumed_from == (kill.checkpoint or 0), asdict(kill)
        from lyrictui.core.engine.suggest import Suggester

        suggester = Suggester.load(models[0]["path"], device="cpu")
        assert suggester.loaded.window == 64


def _changed_since(path: Path, moment: float) -> bool:
    try:
        info = path.stat()
    except FileNotFoundError:
        return False
    return max(info.st_mtime, info.st_ctime) >= moment


def run_chains(library: Library, base: Path, tmp: Path, add_corpus, tools: SimpleNamespace, *,
               kills: int, per_chain: int, seed: int,
               plan: tuple[str, ...] = ()) -> list[Kill]:
    """Kill `kills` processes: runs of up to `per_chain` kills each, each run then finished.

    Kills follow `plan`; past its end, each run's first kill aims at its startup and the
    others at a seeded shuffle of the other phases, in equal numbers. A run that completes
    (a kill after its end) gives way to a new one.
    """
    rng = random.Random(seed)
    planned = list(plan)
    others = [PHASES[1 + i % (len(PHASES) - 1)] for i in range(kills)]
    rng.shuffle(others)
    done: list[Kill] = []
    chains = 0
    while len(done) < kills:
        chain = Chain(library, base, chains, tmp, add_corpus, tools)
        chains += 1
        for index in range(min(per_chain, kills - len(done))):
            target = planned.pop(0) if planned else ("startup" if index == 0
                                                    else others.pop())
            kill = chain.kill_once(target, rng)
            if kill.landed == "after the run completed":
                break
        chain.finish()
        for kill in chain.kills:
            print(json.dumps({"kill": asdict(kill)}), flush=True)
        done.extend(chain.kills)
    landed: dict[str, int] = {}
    for kill in done:
        landed[kill.landed] = landed.get(kill.landed, 0) + 1
    print(json.dumps({"summary": {
        "kills": len(done), "runs": chains, "landed": landed,
        "resumed_from_a_checkpoint": sum(1 for k in done if k.resumed_from),
        "resumed_from_step_0": sum(1 for k in done if k.resumed_from == 0),
        "median_seconds_spawn_to_kill": round(statistics.median(k.seconds for k in done), 2)}}),
        flush=True)
    return done


@pytest.fixture
def base(tmp_path: Path, tiny_base) -> Path:
    return tiny_base(tmp_path / "base")


def test_training_killed_at_seeded_moments_resumes_to_one_complete_model(
        library: Library, base: Path, tmp_path: Path, add_corpus, chain_tools):
    kills = run_chains(library, base, tmp_path, add_corpus, chain_tools, kills=3, per_chain=3,
                       seed=1, plan=("startup", "checkpoint", "publish"))
    assert len(kills) == 3
    # The kill aimed at a checkpoint write died in one, or (if the write was quicker than
    # the watcher) in the training around it; never before training or after the end.
    assert kills[1].landed in ("writing a checkpoint", "training")


@pytest.mark.slow
def test_training_killed_at_24_seeded_moments(library: Library, base: Path, tmp_path: Path,
                                              add_corpus, chain_tools):
    kills = run_chains(library, base, tmp_path, add_corpus, chain_tools, kills=24, per_chain=6,
                       seed=7)
    assert len(kills) == 24
    landed = {k.landed for k in kills}
    assert {"writing a checkpoint", "publishing the model", "saving the best weights"} <= landed
    assert any(k.resumed_from for k in kills)


# -- drafts -------------------------------------------------------------------------------------


def draft_kills(library: Library, tmp: Path, integrity, rows, kills: int, seed: int) -> dict:
    """Kill draft_writer.py `kills` times at seeded moments; check the draft after each."""
    from draft_writer import version_of, version_text

    rng = random.Random(seed)
    artist = library.add_artist("Writer", "imported")
    acked_then_next = 0
    saves = []
    for number in range(kills):
        log = tmp / f"writer-{number}.log"  # a file, not a pipe: a full pipe would stall it
        with open(log, "wb") as out:
            proc = subprocess.Popen([sys.executable, str(HERE / "draft_writer.py"),
                                     str(artist.id)], stdout=out, stderr=subprocess.STDOUT,
                                    env=os.environ.copy())
        try:
            # The writer is saving from its first acknowledgement on.
            while proc.poll() is None and not log.read_bytes().startswith(b"ACK"):
                time.sleep(0.005)
            time.sleep(rng.uniform(0.0, 0.25))
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        assert proc.returncode == -signal.SIGKILL, log.read_text()[-1000:]
        acks = [line.split() for line in log.read_text().splitlines() if line.startswith("ACK ")]
        last_acked = int(acks[-1][1])
        saves.append(len(acks))
        assert integrity() == "ok"
        stored = rows("SELECT * FROM drafts")
        assert len(stored) == 1, f"kill {number}: {len(stored)} drafts"
        assert {a[2] for a in acks} == {str(stored[0]["id"])}
        version = version_of(stored[0]["text"])  # a version written whole, never a torn one
        assert version in (last_acked, last_acked + 1), (version, last_acked)
        assert stored[0]["text"] == version_text(version) and stored[0]["text"].strip()
        assert stored[0]["title"] and stored[0]["artist_id"] == artist.id
        acked_then_next += version == last_acked + 1
    figures = {"kills": kills, "saved_but_not_acknowledged": acked_then_next,
               "median_saves_per_process": statistics.median(saves), "lost": 0}
    print(json.dumps({"drafts": figures}), flush=True)
    return figures


def test_draft_autosave_killed_at_seeded_moments_keeps_the_latest_version(
        library: Library, tmp_path: Path, integrity, rows):
    draft_kills(library, tmp_path, integrity, rows, kills=4, seed=3)


@pytest.mark.slow
def test_draft_autosave_killed_at_50_seeded_moments(library: Library, tmp_path: Path,
                                                    integrity, rows):
    draft_kills(library, tmp_path, integrity, rows, kills=50, seed=11)


# -- the real app in a terminal ----------------------------------------------------------------

F4 = b"\x1bOS"  # the key that opens the Composer
# CSI and OSC sequences and the two-byte escapes: what is left is the text the app drew.
ESCAPES = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]"
                     rb"|\x1b[=>78NOc]")
# A first start imports Textual (and the composer loads a model) on a loaded 2-core CI machine:
# generous, because a dead app fails at once and a missing screen still fails at the end.
APP_DEADLINE_S = 180.0


def wait_until(condition, proc: subprocess.Popen, timeout: float, what) -> None:
    """Poll `condition` until it holds; fail when `proc` has ended or at the deadline."""
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(f"the app ended ({proc.returncode}) before {what()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what()} within {timeout:.0f} s")
        time.sleep(0.05)


def stored_drafts(home: Path) -> list[str]:
    """The drafts' texts, read from the library file on a connection of our own."""
    path = home / "library.sqlite3"
    if not path.exists():
        return []
    conn = sqlite3.connect(path)
    try:
        return [row[0] for row in conn.execute("SELECT text FROM drafts")]
    except sqlite3.OperationalError:  # the app has not created its tables yet
        return []
    finally:
        conn.close()


class AppInPty:
    """`lyrictui` (the app) on a pseudo-terminal of 120x40, its screen output drained."""

    def __init__(self, env: dict[str, str]) -> None:
        import fcntl
        import pty
        import struct
        import termios
        import threading

        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        # In the test's own process group, so that stopping the test run stops the app too.
        self.proc = subprocess.Popen([sys.executable, "-m", "lyrictui"], stdin=slave,
                                     stdout=slave, stderr=slave, env=env)
        os.close(slave)
        self.screen = bytearray()
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            self.screen.extend(data)

    def shown(self) -> str:
        """Everything the app has written so far, less its escape sequences."""
        return ESCAPES.sub(b"", bytes(self.screen)).decode("utf-8", "replace")

    def wait_for(self, text: str, timeout: float = APP_DEADLINE_S) -> None:
        """Wait until `text` has been drawn; fail at once if the app dies, else at the deadline."""
        wait_until(lambda: text in self.shown(), self.proc, timeout,
                   lambda: f"{text!r} on the screen; the last it drew: {self.shown()[-1500:]!r}")

    def type(self, text: str, pace: float) -> None:
        for char in text:
            os.write(self.master, b"\r" if char == "\n" else char.encode())
            time.sleep(pace)

    def kill(self) -> int:
        if self.proc.poll() is None:  # (one that died by itself keeps its own exit code)
            os.kill(self.proc.pid, signal.SIGKILL)
        code = self.proc.wait()
        os.close(self.master)
        return code


def app_kills(tmp: Path, kills: int, seed: int) -> list[dict]:
    """Type into the real composer, pause long enough for an autosave, then type on without
    a pause for longer than the autosave's longest wait, and SIGKILL the app mid-typing."""
    from draft_writer import LINE_WORDS

    from lyrictui.screens.composer import AUTOSAVE_MAX_S

    rng = random.Random(seed)
    results = []
    for number in range(kills):
        home = tmp / f"app-{number}"
        home.mkdir()
        # COLUMNS and LINES win over the terminal's own size where set: say it twice.
        env = dict(os.environ, LYRICTUI_HOME=str(home), TERM="xterm-256color", COLUMNS="120",
                   LINES="40")
        app = AppInPty(env)
        try:
            app.wait_for("Library")
            os.write(app.master, F4)
            app.wait_for("Suggestions")  # the composer is up, its editor focused
            first = " ".join(rng.choice(LINE_WORDS) for _ in range(5)) + "\n"
            app.type(first, 0.02)
            # The pause: the autosave (AUTOSAVE_DELAY_S after the last key) stores the line.
            wait_until(lambda home=home, first=first: stored_drafts(home) == [first],
                       app.proc, APP_DEADLINE_S, lambda home=home, first=first:
                       f"autosaved draft {first!r} (stored: {stored_drafts(home)!r})")
            pace = rng.uniform(0.03, 0.07)
            typing_s = AUTOSAVE_MAX_S + 1.5 + rng.uniform(0.0, 1.5)
            more = ""
            while len(more) * pace < typing_s:
                more += rng.choice(LINE_WORDS) + ("\n" if rng.random() < 0.15 else " ")
            app.type(more, pace)
        finally:
            code = app.kill()
        assert code == -signal.SIGKILL
        typed = first + more
        conn = sqlite3.connect(home / "library.sqlite3")
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            stored = [row[0] for row in conn.execute("SELECT text FROM drafts")]
        finally:
            conn.close()
        assert len(stored) == 1, stored
        text = stored[0]
        # What was on screen at some moment: the typed text up to some point, and more than
        # the first line (saved at the pause) however long the typing without a pause.
        assert typed.startswith(text) and text.startswith(first), (text, typed)
        assert len(text) > len(first), "nothing typed after the pause was saved"
        results.append({"typed_chars": len(typed), "saved_chars": len(text),
                        "typing_without_pause_s": round(typing_s, 2),
                        "unsaved_at_kill_chars": len(typed) - len(text)})
        print(json.dumps({"app_kill": results[-1]}), flush=True)
    return results


def test_the_real_app_killed_while_typing_keeps_the_autosaved_draft(tmp_path: Path):
    app_kills(tmp_path, kills=1, seed=5)


@pytest.mark.slow
def test_the_real_app_killed_while_typing_8_times(tmp_path: Path):
    app_kills(tmp_path, kills=8, seed=17)
