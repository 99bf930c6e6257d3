"""What the app shares with its screens: the engine cache, and the protocol LyricApp meets."""

from __future__ import annotations

from pathlib import Path

from lyrictui.app import make_app
from lyrictui.screens.library import LibraryScreen
from lyrictui.services import EngineCache, Services, lyric_app


def test_engine_cache_get_put_drop(tiny_model_dir: Path) -> None:
    from lyrictui.core.engine.suggest import Suggester

    cache = EngineCache()
    path = str(tiny_model_dir)
    assert cache.get(path) is None and len(cache) == 0
    engine = Suggester.load(path, device="cpu")
    cache.put(path, engine)
    assert cache.get(path) is engine and cache[path] is engine and len(cache) == 1
    cache.drop(path)
    cache.drop(path)  # dropping what is not there is fine
    assert cache.get(path) is None and len(cache) == 0


async def test_screens_reach_the_apps_services(library) -> None:
    services = Services(library=library)
    app = make_app(services)
    async with app.run_test(size=(100, 30)):
        assert lyric_app(app.screen).services is services
        assert lyric_app(app.screen).library is library


def test_a_newer_progress_message_replaces_a_queued_one_of_the_same_job() -> None:
    update = LibraryScreen.JobUpdated
    assert update("job-1", 2, 10, "b").can_replace(update("job-1", 1, 10, "a"))
    assert not update("job-2", 2, 10, "b").can_replace(update("job-1", 1, 10, "a"))
