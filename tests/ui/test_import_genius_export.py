"""The app's import dialog takes a LyricsGenius .json export like a text file (Pilot)."""

from __future__ import annotations

import json
from pathlib import Path

from lyrictui.app import Services, make_app
from lyrictui.core.store.library import Library
from lyrictui.dialogs.import_files import ImportFilesDialog
from lyrictui.screens.library import LibraryScreen

SIZE = (100, 30)


async def test_import_a_lyricsgenius_export_from_the_dialog(tmp_path: Path) -> None:
    export = tmp_path / "Lyrics_MaraQuill.json"
    export.write_text(json.dumps({"id": 9, "name": "Mara Quill", "songs": [
        {"id": 31, "title": "Salt Road", "album": {"name": "Coast"}, "lyrics_state": "complete",
         "primary_artist": {"name": "Mara Quill"}, "artist": "Mara Quill",
         "lyrics": "Salt Road Lyrics[Verse 1: Mara Quill]\nWalk the salt road home\n4Embed"},
    ]}), encoding="utf-8")
    seen: list = []
    library = Library()
    app = make_app(Services(library=library))
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("i")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ImportFilesDialog)
        dialog.query_one("#import-name").value = "Mara Quill"
        dialog.query_one("#import-path").value = str(export)
        await pilot.click("#ok")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        ended = [m for m in seen if isinstance(m, LibraryScreen.JobEnded)]
        assert len(ended) == 1 and not ended[0].error, ended
        assert "Imported 1 song into Mara Quill" in ended[0].message
    (song,) = library.songs(library.get_artist("Mara Quill").id)
    assert (song.title, song.lyrics, song.album) == ("Salt Road", "[Verse 1]\nWalk the salt road home",
                                                     "Coast")
