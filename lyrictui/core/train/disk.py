"""What training runs hold on disk, and freeing what finished runs no longer need.

A run folder's bulk is its checkpoints (trainable weights in float32 plus AdamW's two moments:
three times the trainable weights) and `best/` (the best weights so far, float16). The rules:

- a completed run keeps neither: its model folder holds the result (the run deletes them itself
  once it is marked completed; `prune_runs` catches a run killed in between, and runs written by
  an older lyrictui);
- a cancelled, failed or interrupted run keeps its newest whole checkpoint and `best/`, all that
  `lyrictui resume` needs; older checkpoints and half-written ones go;
- a run that is training (its lock held) or starting is never touched.

`prune_runs` is what `lyrictui runs --prune` and the Library's "free what finished runs hold"
action call.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from lyrictui.core import paths
from lyrictui.core.errors import LyricError
from lyrictui.core.store.library import Library
from lyrictui.core.store.records import Artist, Run
from lyrictui.core.train import checkpoints, runs
from lyrictui.core.train.training import BEST


@dataclass
class PruneResult:
    freed: int = 0
    """Bytes deleted."""
    pruned: list[str] = field(default_factory=list)
    """Ids of the runs something was deleted from."""


def run_size(run: Run) -> int:
    """Bytes under the run's folder (0 when it is gone or outside the data home)."""
    try:
        return paths.dir_size(runs.run_dir(run))
    except (OSError, LyricError):
        return 0


def _prune_one(run: Run, folder: Path) -> int:
    if run.status == "completed":
        freed = checkpoints.remove_all(folder) + paths.dir_size(folder / BEST)
        shutil.rmtree(folder / BEST, ignore_errors=True)
        return freed
    return checkpoints.prune(folder, keep=1)


def prune_runs(library: Library, artist: Artist | None = None) -> PruneResult:
    """Free what finished runs (of `artist`, else of everyone) hold and resumes do not need;
    see the module doc. Returns the bytes freed and the runs pruned."""
    runs.mark_stale_runs(library)
    result = PruneResult()
    for run in library.list_runs(artist.id if artist else None):
        if run.status in runs.ACTIVE:
            continue
        try:
            folder = runs.run_dir(run)
        except LyricError:
            continue
        if not folder.is_dir() or runs.lock_held(folder):
            continue
        freed = _prune_one(run, folder)
        if freed:
            result.freed += freed
            result.pruned.append(run.id)
    return result
