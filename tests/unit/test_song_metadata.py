"""Migration 2: songs gain an album and a release date; a library written before keeps its songs."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from lyrictui.core.store.db import MIGRATIONS, SCHEMA_VERSION
from lyrictui.core.store.library import Library
from lyrictui.core.store.records import NewSong


def test_a_version_1_library_migrates_and_keeps_its_songs(tmp_path: Path) -> None:
    path = tmp_path / "library.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0])
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO artists (name, slug, source, created_at) "
                 "VALUES ('Old Band', 'old-band', 'imported', 0)")
    conn.execute("INSERT INTO songs (artist_id, title, lyrics, content_hash, fetched_at) "
                 "VALUES (1, 'Old Song', 'an old line', 'h', 0)")
    conn.commit()
    conn.close()

    library = Library(path)
    artist = library.get_artist("Old Band")
    (old,) = library.songs(artist.id)
    assert (old.title, old.album, old.released) == ("Old Song", None, None)
    (new,) = library.add_songs(artist.id, [NewSong("New Song", "a new line", album="Later",
                                                   released="2024-01-02")])
    assert new is not None and (new.album, new.released) == ("Later", "2024-01-02")
    version = library.db.conn.execute("PRAGMA user_version").fetchone()[0]
    assert version == SCHEMA_VERSION >= 2  # migration 3 (artist name keys) came after
    library.close()
