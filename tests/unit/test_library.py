"""The library store: round trips, migrations, slugs (several writing processes at once:
tests/reliability/test_library_writers.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from lyrictui.core import paths
from lyrictui.core.errors import InvalidInput, NotFound
from lyrictui.core.store.db import SCHEMA_VERSION
from lyrictui.core.store.library import Library


def test_fresh_file_is_migrated_to_current_schema(library: Library) -> None:
    library.list_artists()
    conn = sqlite3.connect(paths.library_path())
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"artists", "songs", "datasets", "runs", "models", "drafts"} <= tables


def test_newer_schema_is_refused_with_one_line(lyrictui_home: Path) -> None:
    db = paths.library_path()
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.close()
    with pytest.raises(Exception, match="newer lyrictui"):
        Library().list_artists()


def test_artist_round_trip_rename_and_delete(library: Library) -> None:
    artist = library.add_artist("  Sigur   Rós ", "imported")
    assert artist.name == "Sigur Rós"
    assert library.get_artist("sigur rós").id == artist.id
    renamed = library.rename_artist(artist.id, "Sigur Ros")
    assert renamed.slug == artist.slug and renamed.name == "Sigur Ros"
    folder = paths.artist_dir(artist.slug)
    (folder / "datasets").mkdir(parents=True)
    (folder / "datasets" / "blob").write_bytes(b"x" * 1000)
    assert library.delete_artist(artist.id) == 1000
    assert not folder.exists()
    with pytest.raises(NotFound):
        library.get_artist("Sigur Ros")


def test_song_round_trip_duplicates_and_source_keys(library: Library) -> None:
    artist = library.add_artist("Band", "imported")
    first = library.add_song(artist.id, "One", "Hello world\nagain", source_key="a")
    assert first is not None and first.lyrics == "Hello world\nagain"
    twin = library.add_song(artist.id, "One (copy)", "hello   WORLD again", source_key="b")
    assert twin is not None and twin.skipped_reason == 'duplicate of "One"'
    assert library.add_song(artist.id, "One", "other text", source_key="a") is None
    assert [s.title for s in library.songs(artist.id)] == ["One"]
    assert len(library.songs(artist.id, include_skipped=True)) == 2
    assert library.song_counts(artist.id) == (1, 1)
    assert library.source_keys(artist.id) == {"a", "b"}


def test_runs_models_drafts_round_trip(library: Library) -> None:
    artist = library.add_artist("Band", "imported")
    library.create_run("r1", artist.id, base="gpt2", method="full", dir="/runs/r1")
    library.update_run("r1", status="running", step=3, total_steps=10)
    run = library.get_run("r1")
    assert (run.status, run.step, run.total_steps) == ("running", 3, 10)
    model_dir = paths.models_dir(artist.slug) / "m1"
    model_dir.mkdir(parents=True)
    (model_dir / "model.safetensors").write_bytes(b"0" * 64)
    library.add_model("m1", artist.id, run_id="r1", base="gpt2", method="full",
                      path=str(model_dir), val_loss=2.0, perplexity=7.39, size_bytes=64)
    assert library.list_models(artist.id)[0].id == "m1"
    draft = library.save_draft(None, title="Song", text="line one", artist_id=artist.id)
    library.save_draft(draft.id, title="Song", text="line one\nline two", artist_id=artist.id)
    assert library.get_draft(draft.id).text == "line one\nline two"
    assert library.delete_model("m1") == 64 and not model_dir.exists()
    summary = library.summaries()[0]
    assert summary.latest_run is not None and summary.latest_run.id == "r1"


@pytest.mark.parametrize(
    "name", ["", "   ", "a\x00b", "bell\x07", "x" * 10_000, "line\nbreak"],
)
def test_bad_artist_names_are_refused(library: Library, name: str) -> None:
    with pytest.raises(InvalidInput):
        library.add_artist(name, "imported")
    assert library.list_artists() == []


@pytest.mark.parametrize("name", ["AC/DC", "../x", "..", "Sigur Rós", "🔥🔥", "a\\b", "CON"])
def test_odd_but_valid_names_get_safe_slugs_inside_home(library: Library, name: str) -> None:
    artist = library.add_artist(name, "imported")
    assert artist.name == name
    assert "/" not in artist.slug and "\\" not in artist.slug and ".." not in artist.slug
    assert 0 < len(artist.slug) <= 60
    home = paths.data_home().resolve()
    assert home in paths.artist_dir(artist.slug).parents


def test_slugs_are_unique_and_case_variants_resolve_to_one_artist(library: Library) -> None:
    a = library.add_artist("AC/DC", "imported")
    b = library.add_artist("AC DC", "imported")
    assert a.slug != b.slug
    with pytest.raises(InvalidInput, match="already exists"):
        library.add_artist("ac/dc", "genius")
    assert library.get_artist("ac/dc").id == a.id
