"""A run's events.jsonl: the only channel from a training process to the app and `watch`.

One JSON object per line, `type` in EVENT_TYPES and `time` in unix seconds. The writer appends
whole lines and flushes each, so a reader never sees half an event unless the process was killed
mid-write; a killed run's torn last line is cut off before the run appends again, and readers
only consume lines that end in a newline.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

EVENT_TYPES = ("start", "step", "eval", "sample", "checkpoint", "end", "error")
END_STATUSES = ("completed", "cancelled", "failed", "stopped_early")
EVENTS_FILE = "events.jsonl"
# Fields each event type carries besides `type` and `time` (docs/training.md, formats brief).
REQUIRED: dict[str, tuple[str, ...]] = {
    "start": ("config", "total_steps", "epochs"),
    "step": ("step", "epoch", "loss", "lr", "tokens_per_s", "grad_norm", "gpu_mem"),
    "eval": ("step", "epoch", "val_loss", "perplexity"),
    "sample": ("step", "lines"),
    "checkpoint": ("step", "path"),
    "end": ("status", "model_id", "best_val_loss"),
    "error": ("message",),
}


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity: such floats are written as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


class EventLog:
    """Appends events to `<run_dir>/events.jsonl` (nothing when `path` is None) and hands each
    one to `listener` (the foreground CLI prints them)."""

    def __init__(self, path: Path | None,
                 listener: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.path = path
        self.listener = listener
        self._fh = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            _cut_torn_tail(path)
            self._fh = open(path, "a", encoding="utf-8")  # noqa: SIM115 - kept open for the run

    def emit(self, kind: str, **fields: Any) -> dict[str, Any]:
        """Write one event and return it."""
        if kind not in EVENT_TYPES:
            raise ValueError(f"unknown event type {kind!r}")
        event = {"type": kind, "time": time.time(), **_finite(fields)}
        if self._fh is not None:
            self._fh.write(json.dumps(event, ensure_ascii=False) + "\n")
            self._fh.flush()
        if self.listener is not None:
            self.listener(event)
        return event

    def close(self) -> None:
        if self._fh is not None:
            fh, self._fh = self._fh, None
            try:
                os.fsync(fh.fileno())
            except OSError:
                pass
            try:
                fh.close()
            except OSError:  # a full disk refused the last buffered line: the run has ended
                pass


def _cut_torn_tail(path: Path) -> None:
    """Drop a last line left without its newline by a killed writer."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    if size == 0:
        return
    with open(path, "rb+") as fh:
        fh.seek(-1, os.SEEK_END)
        if fh.read(1) == b"\n":
            return
        fh.seek(0)
        content = fh.read()
        fh.truncate(content.rfind(b"\n") + 1)


def read_events(run_dir: Path, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Events appended since byte `offset`, and the offset to pass next time.

    Only complete lines are read, so polling while the run writes is safe; a line that is not
    a JSON object is skipped rather than stopping the reader.
    """
    path = Path(run_dir) / EVENTS_FILE
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            chunk = fh.read()
    except FileNotFoundError:
        return [], offset
    end = chunk.rfind(b"\n") + 1
    events = []
    for raw in chunk[:end].splitlines():
        try:
            event = json.loads(raw)
        except ValueError:
            continue
        if isinstance(event, dict) and "type" in event:
            events.append(event)
    return events, offset + end
