"""Getting lyrics in from the app: Genius (against the fake service) and file import (Pilot)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import FakeGenius
from fakes.genius_data import standard_catalog

from lyrictui.app import Services, make_app
from lyrictui.core import config
from lyrictui.core.store.library import Library
from lyrictui.dialogs.add_artist import AddArtistDialog
from lyrictui.dialogs.import_files import ImportFilesDialog
from lyrictui.dialogs.text_prompt import TextPromptDialog
from lyrictui.screens.library import LibraryScreen
from lyrictui.widgets.artist_table import COLUMNS, ArtistTable

SIZE = (100, 30)


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch):
    artists, songs = standard_catalog()
    async with FakeGenius(artists, songs) as server:
        env = server.env()
        monkeypatch.setenv("LYRICTUI_GENIUS_API_URL", env["LYRICTUI_GENIUS_API_URL"])
        monkeypatch.setenv("LYRICTUI_GENIUS_WEB_URL", env["LYRICTUI_GENIUS_WEB_URL"])
        yield server


async def test_add_from_genius_asks_for_a_token_then_songs_appear(fake: FakeGenius) -> None:
    seen: list = []
    library = Library()
    app = make_app(Services(library=library))
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, TextPromptDialog)  # no token yet
        app.screen.query_one("Input").value = fake.token
        await pilot.press("enter")
        await pilot.pause()
        assert config.genius_token() == fake.token
        assert isinstance(app.screen, AddArtistDialog)
        app.screen.query_one("#add-name").value = "the paper lanterns"
        app.screen.query_one("#add-max").value = ""
        await pilot.press("enter")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        ended = [m for m in seen if isinstance(m, LibraryScreen.JobEnded)]
        assert len(ended) == 1 and not ended[0].error, ended
        assert any(isinstance(m, LibraryScreen.JobUpdated) for m in seen)
        artist = library.get_artist("The Paper Lanterns")
        kept, skipped = library.song_counts(artist.id)
        assert kept > 0 and skipped > 0
        assert f"{kept} songs kept" in ended[0].message
        await app.workers.wait_for_complete()
        await pilot.pause()
        row = dict(zip(COLUMNS, app.screen.query_one(ArtistTable).get_row_at(0), strict=True))
        assert row["Artist"] == "The Paper Lanterns" and row["Source"] == "Genius"
        assert row["Songs"] == str(kept)


async def test_add_from_genius_bad_token_is_a_notification_not_a_crash(
    fake: FakeGenius, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GENIUS_ACCESS_TOKEN", "wrong-token")
    seen: list = []
    library = Library()
    app = make_app(Services(library=library))
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("a")
        await pilot.pause()
        app.screen.query_one("#add-name").value = "The Paper Lanterns"
        await pilot.press("enter")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        ended = [m for m in seen if isinstance(m, LibraryScreen.JobEnded)]
        assert len(ended) == 1 and ended[0].error
        assert "token" in ended[0].message and "wrong-token" not in ended[0].message
        assert library.list_artists() == []
        assert isinstance(app.screen, LibraryScreen)


async def test_import_files_from_the_dialog(tmp_path: Path) -> None:
    folder = tmp_path / "lyrics"
    folder.mkdir()
    (folder / "first.txt").write_text("Line one of one\nLine two of one\n", encoding="utf-8")
    (folder / "second.md").write_text("Another song here\nWith a second line\n", encoding="utf-8")
    (folder / "broken.txt").write_bytes(b"\x00\x01\x02binary")
    seen: list = []
    library = Library()
    app = make_app(Services(library=library))
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("i")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ImportFilesDialog)
        dialog.query_one("#import-name").value = "My Band"
        dialog.query_one("#import-path").value = str(folder)
        await pilot.click("#ok")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        ended = [m for m in seen if isinstance(m, LibraryScreen.JobEnded)]
        assert len(ended) == 1
        assert "Imported 2 songs into My Band" in ended[0].message
        assert "broken.txt" in ended[0].message
        artist = library.get_artist("My Band")
        assert sorted(s.title for s in library.songs(artist.id)) == ["first", "second"]
