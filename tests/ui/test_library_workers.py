"""Library actions that touch the disk run in thread workers, never on the event loop (Pilot)."""

from __future__ import annotations

from pathlib import Path

from textual.worker import Worker, WorkerState

from lyrictui.app import Services, make_app
from lyrictui.core import paths
from lyrictui.core.store.library import Library
from lyrictui.dialogs.confirm import ConfirmDialog
from lyrictui.screens.library import LibraryScreen

SIZE = (100, 30)


async def test_delete_measures_and_deletes_in_thread_workers(lyrictui_home: Path) -> None:
    lib = Library()
    artist = lib.add_artist("Old Name", "imported")
    lib.add_song(artist.id, "A song", "some words", source_key="1")
    paths.artist_dir(artist.slug).mkdir(parents=True, exist_ok=True)
    seen: list = []
    app = make_app(Services(library=lib))
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("d")
        for _ in range(200):  # the folder is measured in a thread, then the dialog opens
            if isinstance(app.screen, ConfirmDialog):
                break
            await pilot.pause(0.05)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.click("#confirm")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        done = {(m.worker.group, m.worker.description) for m in seen
                if isinstance(m, Worker.StateChanged) and m.state == WorkerState.SUCCESS}
        assert ("library-read", "Measuring Old Name's folder") in done
        assert ("library-change", "Deleting Old Name") in done
        said = [m.text for m in seen if isinstance(m, LibraryScreen.ActionDone)]
        assert said and said[0].startswith("Deleted Old Name:")
        assert lib.list_artists() == [] and app.screen.has_class("-empty")
