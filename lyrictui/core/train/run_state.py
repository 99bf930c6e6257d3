"""RunState: a training run's events folded into what a monitor shows (app and `watch`)."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from lyrictui.core.names import strip_control
from lyrictui.core.train.events import INVALID, check_event

LOG_LINES = 200
SAMPLE_LINES = 20  # sample lines and texts shown, however many the file holds
SHOWN_CHARS = 1000
LOGGED_INVALID = 3  # the first few skipped lines are named in the log; the rest only counted


@dataclass
class RunState:
    """Everything known about a run from its events so far. Feed events with `apply`."""

    status: str = "queued"
    step: int = 0
    total_steps: int = 0
    epoch: float = 0.0
    epochs: float | None = None
    started_at: float | None = None
    last_time: float | None = None
    train: list[tuple[int, float]] = field(default_factory=list)
    val: list[tuple[int, float]] = field(default_factory=list)
    perplexities: list[tuple[int, float]] = field(default_factory=list)
    lr: float | None = None
    tokens_per_s: float | None = None
    grad_norm: float | None = None
    gpu_mem: int | None = None
    samples: list[str] = field(default_factory=list)
    model_id: str | None = None
    best_val_loss: float | None = None
    error: str | None = None
    checkpoint_step: int | None = None
    log: deque[str] = field(default_factory=lambda: deque(maxlen=LOG_LINES))
    skipped_events: int = 0
    _first_step: tuple[int, float] | None = None

    def apply(self, event: dict[str, Any]) -> None:
        """Fold one event in. Missing fields are tolerated; an event that is not valid
        (`events.check_event`: a field of the wrong type, a number that is not finite...) or a
        line read_events could not use is skipped and counted in `skipped_events`."""
        if isinstance(event, dict) and event.get("type") == INVALID:
            why: str | None = str(event.get("reason") or "not valid")
        else:
            why = check_event(event)
        if why is not None:
            self.skipped_events += 1
            if self.skipped_events <= LOGGED_INVALID:
                self.log.append(f"skipped a bad event line: {strip_control(str(why))[:200]}")
            return
        kind = event.get("type")
        when = event.get("time") or time.time()
        self.last_time = when
        if kind == "start":
            # A resumed run starts again: its clock restarts, its curve continues.
            self.started_at = when
            self._first_step = None
            self.status = "running"
            self.total_steps = int(event.get("total_steps") or self.total_steps)
            self.epochs = event.get("epochs", self.epochs)
            self.log.append(f"started: {self.total_steps} steps")
        elif kind == "step":
            self.status = "running"
            self.step = int(event.get("step") or self.step)
            self.epoch = float(event.get("epoch") or self.epoch)
            if event.get("loss") is not None:
                self.train.append((self.step, float(event["loss"])))
            self.lr = event.get("lr", self.lr)
            self.tokens_per_s = event.get("tokens_per_s", self.tokens_per_s)
            self.grad_norm = event.get("grad_norm", self.grad_norm)
            self.gpu_mem = event.get("gpu_mem", self.gpu_mem)
            if self._first_step is None:
                self._first_step = (self.step, when)
        elif kind == "eval":
            step = int(event.get("step") or self.step)
            if event.get("val_loss") is not None:
                self.val.append((step, float(event["val_loss"])))
                if self.best_val_loss is None or event["val_loss"] < self.best_val_loss:
                    self.best_val_loss = float(event["val_loss"])
            if event.get("perplexity") is not None:
                self.perplexities.append((step, float(event["perplexity"])))
            self.log.append(f"step {step}: validation loss {_num(event.get('val_loss'))}, "
                            f"perplexity {_num(event.get('perplexity'))}")
        elif kind == "sample":
            # Model output: byte-level BPE can write any byte, escape sequences included.
            self.samples = [_shown(line) for line in (event.get("lines") or [])[:SAMPLE_LINES]]
        elif kind == "checkpoint":
            self.checkpoint_step = int(event.get("step") or self.step)
            self.log.append(f"step {event.get('step')}: checkpoint saved")
        elif kind == "end":
            self.status = strip_control(str(event.get("status") or "completed"))
            self.model_id = event.get("model_id") and strip_control(str(event["model_id"]))
            if event.get("best_val_loss") is not None:
                self.best_val_loss = float(event["best_val_loss"])
            self.log.append(f"ended: {self.status}"
                            + (f", model {self.model_id}" if self.model_id else ""))
        elif kind == "error":
            self.status = "failed"
            self.error = _shown(event.get("message") or "unknown error")
            self.log.append(f"error: {self.error}")

    @property
    def fraction(self) -> float:
        return min(1.0, self.step / self.total_steps) if self.total_steps else 0.0

    def eta_seconds(self, now: float | None = None) -> float | None:
        """Time left at the pace of this process's steps so far (None until it is known)."""
        if self._first_step is None or self.status != "running" or not self.total_steps:
            return None
        first_step, first_time = self._first_step
        done = self.step - first_step
        elapsed = (now or time.time()) - first_time
        if done <= 0 or elapsed <= 0:
            return None
        return (self.total_steps - self.step) * elapsed / done

    @property
    def finished(self) -> bool:
        return self.status not in {"queued", "running"}


def _shown(text: Any) -> str:
    """Text from the file as a monitor may show it: no control characters, one screen long."""
    clean = strip_control(str(text))
    return clean if len(clean) <= SHOWN_CHARS else clean[:SHOWN_CHARS - 1] + "…"


def _num(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, (int, float)) else "-"


def format_duration(seconds: float | None) -> str:
    """`1h 02m`, `3m 05s`, `12s`, or `-`."""
    if seconds is None:
        return "-"
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds}s"
