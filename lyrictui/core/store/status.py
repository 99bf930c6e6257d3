"""Human-readable status of an artist's dataset and model, shared by the CLI and the app."""

from __future__ import annotations

import math
import time

from lyrictui.core.procs import pid_alive
from lyrictui.core.store.library import KEY_SONGS_DIGITS
from lyrictui.core.store.records import ArtistSummary, Run

HEARTBEAT_TIMEOUT_S = 60.0


def heartbeat_timeout() -> float:
    """Seconds of silence after which a run counts as interrupted: the `heartbeat_timeout`
    setting, else HEARTBEAT_TIMEOUT_S. Its process may still seem alive (a zombie nobody reaps,
    or a pid reused after a crash), so the heartbeat is what tells."""
    from lyrictui.core import config
    from lyrictui.core.errors import LyricError

    try:
        value = config.get("heartbeat_timeout")
    except LyricError:  # a broken config.toml is reported where settings are edited
        return HEARTBEAT_TIMEOUT_S
    return float(value) if isinstance(value, int) and value >= 1 else HEARTBEAT_TIMEOUT_S


def run_is_stale(run: Run, now: float | None = None) -> bool:
    """A running run whose process is gone or whose heartbeat stopped."""
    if run.status not in {"running", "queued"}:
        return False
    now = time.time() if now is None else now
    last = run.heartbeat_at or run.started_at
    return (now - last > heartbeat_timeout()) or (run.pid is not None
                                                  and not pid_alive(run.pid))


def run_progress(run: Run) -> str:
    if run.total_steps:
        return f"{100 * run.step // max(run.total_steps, 1)} %"
    return "starting"


def model_status(summary: ArtistSummary) -> str:
    run = summary.latest_run
    if run is not None and run.status in {"running", "queued"}:
        return "interrupted" if run_is_stale(run) else f"training {run_progress(run)}"
    model = summary.best_model
    if model is not None:
        if model.perplexity is not None and math.isfinite(model.perplexity):
            return f"ready (ppl {model.perplexity:.1f})"
        return "ready"
    if run is not None and run.status in {"interrupted", "failed", "cancelled"}:
        return run.status
    return "none"


def dataset_status(summary: ArtistSummary) -> str:
    if summary.songs == 0:
        return "no songs"
    if summary.dataset is None:
        return "not packed"
    fingerprint = summary.songs_fingerprint
    if fingerprint is not None:
        # The key starts with the fingerprint of the songs it was packed from
        # (core/pack/packing.py), so any song added, removed or changed shows here.
        stale = not summary.dataset.key.startswith(fingerprint[:KEY_SONGS_DIGITS])
    else:
        stale = summary.dataset.train_songs + summary.dataset.val_songs != summary.songs
    return "stale" if stale else "packed"
