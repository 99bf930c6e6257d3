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


# Caps on what a reader takes from the file: a line the writer never writes (a 50 MB line, a
# JSON 60,000 levels deep) is skipped, never parsed whole, printed or held.
MAX_LINE_BYTES = 256 * 1024
MAX_DEPTH = 8
MAX_SAMPLE_LINES = 256
MAX_TEXT = 64 * 1024
_READ_BYTES = 1024 * 1024
INVALID = "invalid"  # the type read_events gives a skipped line; RunState counts them
_MAX_INT = 2**53

_INT_FIELDS = ("step", "total_steps", "gpu_mem", "resumed_from")
_NUMBER_FIELDS = ("epoch", "epochs", "loss", "lr", "tokens_per_s", "grad_norm", "val_loss",
                  "perplexity", "best_val_loss")
_TEXT_FIELDS = ("status", "model_id", "message", "path")


def _is_number(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value) and abs(value) < 1e300)


def _depth(value: Any) -> int:
    """How deeply lists and objects nest in `value`, found without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            if deepest > MAX_DEPTH:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


def check_event(event: Any) -> str | None:
    """Why `event` is not one this module could have written (None when it is fine).

    Missing fields are allowed (older runs wrote fewer); a field of the wrong type, a number
    that is not finite, a negative step or over-long text makes the whole event invalid.
    """
    if not isinstance(event, dict):
        return "not a JSON object"
    kind = event.get("type")
    if kind not in EVENT_TYPES:
        return f"unknown type {str(kind)[:40]!r}"
    if _depth(event) > MAX_DEPTH:
        return f"nested deeper than {MAX_DEPTH} levels"
    if "time" in event and not _is_number(event["time"]):
        return "time is not a number"
    for key in _INT_FIELDS:
        value = event.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                  or not 0 <= value < _MAX_INT):
            return f"{key} is not a whole number of at least 0"
    for key in _NUMBER_FIELDS:
        value = event.get(key)
        if value is not None and not _is_number(value):
            return f"{key} is not a finite number"
    for key in _TEXT_FIELDS:
        value = event.get(key)
        if value is not None and not (isinstance(value, str) and len(value) <= MAX_TEXT):
            return f"{key} is not text of at most {MAX_TEXT} characters"
    lines = event.get("lines")
    if lines is not None and not (
            isinstance(lines, list) and len(lines) <= MAX_SAMPLE_LINES
            and all(isinstance(line, str) and len(line) <= MAX_TEXT for line in lines)):
        return f"lines is not a list of at most {MAX_SAMPLE_LINES} short texts"
    if "config" in event and not isinstance(event["config"], dict):
        return "config is not an object"
    return None


def parse_event_line(raw: bytes) -> dict[str, Any]:
    """One line of events.jsonl as an event, or an `invalid` event saying why it was skipped."""
    if len(raw) > MAX_LINE_BYTES:
        return {"type": INVALID, "reason": f"a line of {len(raw):,} bytes (at most "
                                           f"{MAX_LINE_BYTES:,})"}
    try:
        event = json.loads(raw)
    except RecursionError:
        return {"type": INVALID, "reason": f"nested deeper than {MAX_DEPTH} levels"}
    except ValueError:
        return {"type": INVALID, "reason": "not JSON"}
    why = check_event(event)
    if why is not None:
        return {"type": INVALID, "reason": why}
    return event


def read_events(run_dir: Path, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Events appended since byte `offset`, and the offset to pass next time.

    Only complete lines are read, so polling while the run writes is safe. A line that is not
    a valid event (not JSON, a field of the wrong type, too long, too deep) comes back as
    `{"type": "invalid", "reason": ...}` in its place, never stopping the reader; a line longer
    than MAX_LINE_BYTES is skipped without being held in memory.
    """
    path = Path(run_dir) / EVENTS_FILE
    events: list[dict[str, Any]] = []
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed below
    except (FileNotFoundError, NotADirectoryError):
        return events, offset
    with fh:
        fh.seek(offset)
        pending = b""  # what is read and not yet split into lines
        while True:
            *lines, pending = pending.split(b"\n")
            for raw in lines:
                offset += len(raw) + 1
                if raw.strip():
                    events.append(parse_event_line(raw))
            if len(pending) > MAX_LINE_BYTES:
                # An over-long line: read past it in blocks, never holding it whole.
                skipped, pending = len(pending), b""
                while True:
                    block = fh.read(_READ_BYTES)
                    cut = block.find(b"\n")
                    if not block:  # still being written: skip what is there, and go on later
                        offset += skipped
                        events.append({"type": INVALID, "reason": "an unfinished line of "
                                       f"{skipped:,} bytes (at most {MAX_LINE_BYTES:,})"})
                        return events, offset
                    if cut >= 0:
                        offset += skipped + cut + 1
                        events.append({"type": INVALID, "reason": f"a line of {skipped + cut:,}"
                                       f" bytes (at most {MAX_LINE_BYTES:,})"})
                        pending = block[cut + 1:]
                        break
                    skipped += len(block)
                continue
            block = fh.read(_READ_BYTES)
            if not block:
                break
            pending += block
    return events, offset
