"""Ctrl-C in `lyrictui train`: said at once (stopping after a checkpoint, what a second Ctrl-C
does), then the run stops cancelled and resumable (a real process and a real SIGINT)."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path


def read_until(proc: subprocess.Popen, stream, needle: str, timeout: float) -> str:
    """What `stream` gave until `needle` appeared (or the deadline passed)."""
    selector = selectors.DefaultSelector()
    selector.register(stream, selectors.EVENT_READ)
    seen = ""
    deadline = time.monotonic() + timeout
    while needle not in seen and time.monotonic() < deadline:
        if not selector.select(timeout=0.1):
            continue
        chunk = os.read(stream.fileno(), 4096).decode("utf-8", "replace")
        if not chunk:
            break
        seen += chunk
    return seen


def test_ctrl_c_says_at_once_that_it_stops_after_a_checkpoint(
        library, add_corpus, tiny_gpt2, tmp_path: Path) -> None:
    base = tiny_gpt2(tmp_path / "base", n_embd=32, n_positions=64)
    add_corpus(library, "Ctrl C Band", songs=20)
    proc = subprocess.Popen(
        [sys.executable, "-m", "lyrictui", "train", "Ctrl C Band", "--base", str(base),
         "--device", "cpu", "--block-size", "32", "--batch-size", "2", "--max-steps", "100000",
         "--log-every", "1", "--patience", "0", "--eval-every", "50000"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ))
    try:
        out = read_until(proc, proc.stdout, "step ", timeout=120)
        assert "step " in out, out + proc.stderr.read().decode() if proc.poll() is not None else out
        proc.send_signal(signal.SIGINT)
        said = read_until(proc, proc.stderr, "again", timeout=2.0)
        assert "stopping after the current step" in said, said
        assert "checkpoint" in said and "Ctrl-C again" in said and "resume" in said
        rest, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err.decode()
    assert "stopped: `lyrictui resume" in rest.decode()
    run = library.list_runs()[0]
    assert library.get_run(run.id).status == "cancelled"
