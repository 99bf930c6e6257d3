"""Hostile state (issue 21): what is on disk or in a process table is not what a command expects.

Each case names the issue's item it covers. Real processes, a real library file, real tiny
GPT-2 folders; no mocks. Figures: `python -m pytest tests/reliability/test_hostile_state.py -v`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from train_faults_kit import TRAIN_ARGS, lyrictui, rows, spawn, wait_for

from lyrictui.core import paths
from lyrictui.core.store.library import Library
from lyrictui.core.train import runs


@pytest.fixture
def base(tmp_path: Path, tiny_base) -> Path:
    return tiny_base(tmp_path / "base")


# -- 1. remove while the artist's run trains ----------------------------------------------------

def test_remove_is_refused_while_the_artists_run_trains_and_works_once_it_stopped(
        library: Library, base: Path, tmp_path: Path, add_corpus):
    artist = add_corpus(library, "Busy Band")
    proc = spawn(["train", artist.name, "--base", str(base), "--epochs", "200", *TRAIN_ARGS],
                 tmp_path / "train.log")
    try:
        run = wait_for(lambda: library.list_runs() and library.list_runs()[0], what="the run")
        folder = runs.run_dir(run)
        wait_for(lambda: runs.lock_held(folder), what="the worker to hold its lock")

        refused = lyrictui("remove", artist.name, "--yes")
        assert refused.returncode == 2, refused.stderr
        (line,) = refused.stderr.strip().splitlines()
        assert "is training" in line and run.id in line and "lyrictui cancel" in line
        # Nothing went: the row, the run, the folder; the run is still listed and cancellable.
        assert rows("SELECT id FROM artists WHERE id = ?", artist.id)
        assert rows("SELECT id FROM runs WHERE id = ?", run.id)
        assert folder.is_dir() and paths.artist_dir(artist.slug).is_dir()
        # The core call the app makes refuses the same way.
        from lyrictui.core.errors import InvalidInput
        with pytest.raises(InvalidInput, match="is training"):
            Library().delete_artist(artist.id)

        cancelled = lyrictui("cancel", run.id)
        assert cancelled.returncode == 0, cancelled.stderr
        proc.wait(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not runs.lock_held(folder)
    removed = lyrictui("remove", artist.name, "--yes")
    assert removed.returncode == 0, removed.stderr
    assert not rows("SELECT id FROM artists WHERE id = ?", artist.id)
    assert not rows("SELECT id FROM runs WHERE artist_id = ?", artist.id)
    assert not paths.artist_dir(artist.slug).exists()
