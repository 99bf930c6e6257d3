"""The demo artist: created on a fresh home, gone for good once deleted, back on request."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from lyrictui.core import paths
from lyrictui.core.errors import InvalidInput
from lyrictui.core.sources import demo
from lyrictui.core.store.library import Library

CORPUS = Path(__file__).resolve().parents[2] / "data" / "verse" / "verse.txt.gz"


@pytest.fixture
def with_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    """Undo the autouse LYRICTUI_NO_DEMO=1: these tests are about the demo."""
    monkeypatch.delenv(demo.NO_DEMO_ENV, raising=False)


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir()) if p.is_file()}


def test_fresh_home_has_the_demo_with_songs_and_the_starter(library, with_demo) -> None:
    artist = demo.ensure_demo(library)
    assert artist is not None and artist.name == demo.DEMO_NAME and artist.source == "demo"
    assert [a.name for a in library.list_artists()] == [demo.DEMO_NAME]
    with gzip.open(demo.demo_corpus(), "rt", encoding="utf-8") as fh:
        blocks = [b.strip("\n") for b in fh.read().split("\n\n") if b.strip()]
    songs = library.songs(artist.id)
    assert 150 <= len(songs) == len(blocks) <= 300
    assert [s.lyrics for s in songs] == blocks
    assert all(s.title and "\n" not in s.title for s in songs)
    models = library.list_models(artist.id)
    assert [m.id for m in models] == [demo.DEMO_MODEL_ID]
    assert Path(models[0].path) == paths.starter_dir()
    assert models[0].base == "starter" and models[0].method == "full"
    assert models[0].val_loss is not None and models[0].size_bytes > 0


def test_demo_songs_are_blocks_the_starter_held_out() -> None:
    # The starter validates on corpus blocks i % 20 == 0 (scripts/train_starter.py): the demo
    # must be a slice of exactly those, so its songs were never trained on.
    with gzip.open(CORPUS, "rt", encoding="utf-8") as fh:
        corpus = [b.strip("\n") for b in fh.read().split("\n\n") if b.strip()]
    held_out = {b for i, b in enumerate(corpus) if i % 20 == 0}
    trained = {b for i, b in enumerate(corpus) if i % 20}
    lyrics = [s.lyrics for s in demo.demo_songs()]
    assert lyrics and all(text in held_out and text not in trained for text in lyrics)


def test_ensure_is_idempotent_across_restarts(library, with_demo) -> None:
    first = demo.ensure_demo(library)
    again = Library()
    try:
        second = demo.ensure_demo(again)
        assert second is not None and first is not None and second.id == first.id
        assert len(again.list_artists()) == 1
        assert again.song_counts(second.id) == (len(demo.demo_songs()), 0)
    finally:
        again.close()


def test_deleted_demo_does_not_come_back_and_keeps_the_starter(library, with_demo) -> None:
    starter = paths.starter_dir()
    before = _digest(starter)
    artist = demo.ensure_demo(library)
    assert artist is not None
    library.delete_artist(artist.id)
    assert library.get_setting(demo.REMOVED) == "1"
    assert demo.ensure_demo(library) is None
    restarted = Library()
    try:
        assert demo.ensure_demo(restarted) is None
        assert restarted.list_artists() == []
    finally:
        restarted.close()
    assert _digest(starter) == before  # the bundled model is never deleted with the demo


def test_deleting_the_demo_model_keeps_the_starter_files(library, with_demo) -> None:
    starter = paths.starter_dir()
    before = _digest(starter)
    artist = demo.ensure_demo(library)
    assert artist is not None
    assert library.delete_model(demo.DEMO_MODEL_ID) == 0
    assert library.list_models(artist.id) == []
    assert _digest(starter) == before
    demo.ensure_demo(library)  # a removed model stays removed on the next start
    assert library.list_models(artist.id) == []
    demo.restore_demo(library)  # ... until the demo is restored
    assert [m.id for m in library.list_models(artist.id)] == [demo.DEMO_MODEL_ID]


def test_delete_model_inside_home_still_removes_its_folder(library, lyrictui_home) -> None:
    artist = library.add_artist("Someone", "imported")
    folder = lyrictui_home / "artists" / artist.slug / "models" / "m1"
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"x" * 10)
    library.add_model("m1", artist.id, base="gpt2", method="full", path=str(folder))
    assert library.delete_model("m1") == 10
    assert not folder.exists()


def test_restore_brings_it_back(library, with_demo) -> None:
    artist = demo.ensure_demo(library)
    assert artist is not None
    library.delete_artist(artist.id)
    restored = demo.restore_demo(library)
    assert restored.name == demo.DEMO_NAME
    assert library.song_counts(restored.id) == (len(demo.demo_songs()), 0)
    assert [m.id for m in library.list_models(restored.id)] == [demo.DEMO_MODEL_ID]
    assert library.get_setting(demo.REMOVED) is None
    assert demo.ensure_demo(library) is not None  # it is a normal demo again


def test_no_demo_env_is_honoured(library, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(demo.NO_DEMO_ENV, "1")
    assert demo.ensure_demo(library) is None
    assert library.list_artists() == []
    assert demo.restore_demo(library).name == demo.DEMO_NAME  # an explicit request still works


def test_an_unfinished_demo_is_completed(library, with_demo) -> None:
    # A process killed right after creating the artist: the next start fills in the rest.
    artist = library.add_artist(demo.DEMO_NAME, "demo")
    assert demo.ensure_demo(library) is not None
    assert library.song_counts(artist.id) == (len(demo.demo_songs()), 0)
    assert [m.id for m in library.list_models(artist.id)] == [demo.DEMO_MODEL_ID]


def test_a_moved_starter_is_found_again(library, with_demo, tmp_path: Path) -> None:
    artist = demo.ensure_demo(library)
    assert artist is not None
    library.set_model_path(demo.DEMO_MODEL_ID, str(tmp_path / "old-venv" / "starter"), 1)
    demo.ensure_demo(library)
    assert Path(library.get_model(demo.DEMO_MODEL_ID).path) == paths.starter_dir()


def test_a_users_artist_with_the_demo_name_is_left_alone(library, with_demo) -> None:
    mine = library.add_artist(demo.DEMO_NAME, "imported")
    assert demo.ensure_demo(library) is None
    assert library.song_counts(mine.id) == (0, 0)
    with pytest.raises(InvalidInput, match="rename"):
        demo.restore_demo(library)


def test_cli_artists_remove_and_demo(with_demo) -> None:
    from lyrictui.cli import cli

    runner = CliRunner()
    listed = runner.invoke(cli, ["artists"])
    assert listed.exit_code == 0 and demo.DEMO_NAME in listed.output
    removed = runner.invoke(cli, ["remove", demo.DEMO_NAME, "--yes"])
    assert removed.exit_code == 0, removed.output
    assert demo.DEMO_NAME not in runner.invoke(cli, ["artists"]).output
    back = runner.invoke(cli, ["demo"])
    assert back.exit_code == 0 and "is back" in back.output and "starter" in back.output
    assert demo.DEMO_NAME in runner.invoke(cli, ["artists"]).output
