"""Several processes write to one library at once: nothing is lost, no write is refused."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

from lyrictui.core.store.library import Library


def _write_songs(home: str, worker: int, count: int) -> None:
    os.environ["LYRICTUI_HOME"] = home
    lib = Library()
    artist = lib.get_or_create_artist("Shared", "imported")
    for i in range(count):
        lib.add_song(artist.id, f"w{worker}-{i}", f"worker {worker} song {i}",
                     source_key=f"{worker}:{i}")
    lib.close()


def test_four_processes_writing_at_once_lose_nothing(lyrictui_home: Path) -> None:
    Library().add_artist("Shared", "imported")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_write_songs, args=(str(lyrictui_home), w, 500)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=180)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    lib = Library()
    artist = lib.get_artist("Shared")
    assert lib.song_counts(artist.id) == (2000, 0)
    assert len(lib.source_keys(artist.id)) == 2000
