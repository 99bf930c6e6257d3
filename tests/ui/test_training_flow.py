"""The whole path in the app: train a tiny model through the real training process, watch it
in the monitor, then write with it in the composer (Pilot)."""

from __future__ import annotations

from lyrictui.app import Services, make_app
from lyrictui.core.store.library import Library
from lyrictui.dialogs.train_options import TrainOptionsDialog
from lyrictui.screens.composer import ComposerScreen
from lyrictui.screens.training import TrainingScreen
from lyrictui.widgets.artist_table import ArtistTable
from lyrictui.widgets.loss_chart import LossChart
from lyrictui.widgets.suggestion_list import SuggestionList

SIZE = (100, 30)


async def test_train_watch_then_compose(tiny_model_dir, add_corpus, wait_until) -> None:
    library = Library()
    artist = add_corpus(library, "Test Band")
    seen: list = []
    app = make_app(Services(library=library))
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("t")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, TrainOptionsDialog)
        dialog.query_one("#train-epochs").value = "2"
        dialog.query_one("#train-batch").value = "2"
        dialog.query_one("#train-block").value = "32"
        dialog.query_one("#train-lr").value = "5e-3"
        dialog.query_one("#train-base-path").value = str(tiny_model_dir)
        await pilot.click("#ok")
        await wait_until(pilot, lambda: library.list_runs(artist.id), "the run to start")
        runs = library.list_runs(artist.id)
        assert len(runs) == 1, "the dialog must start one run"
        run_id = runs[0].id

        await pilot.press("f3")
        screen = app.screen
        assert isinstance(screen, TrainingScreen)
        # The run is a separate OS process; the monitor follows its events file.
        await wait_until(pilot, lambda: screen.followed is not None
                         and screen.followed.run_id == run_id
                         and screen.followed.state.finished, "the run to end", timeout=180)
        state = screen.followed.state
        assert state.status == "completed", state.error
        assert len(state.train) >= 2 and state.val, "loss points reach the monitor"
        assert library.get_run(run_id).status == "completed"
        chart = screen.query_one(LossChart)
        assert chart.plt is not None
        await wait_until(pilot, lambda: "completed" in str(
            screen.query_one("#run-title").render()), "the finished run on screen")

        models = library.list_models(artist.id)
        assert len(models) == 1
        await pilot.press("f2")
        await wait_until(pilot, lambda: app.screen.query_one(ArtistTable).selected_artist_id
                         == artist.id, "the library table")
        await pilot.press("c")  # compose with this artist's model
        await pilot.pause()
        composer = app.screen
        assert isinstance(composer, ComposerScreen)
        await wait_until(pilot, lambda: any(isinstance(m, ComposerScreen.EngineReady)
                                            for m in seen), "the model to load")
        assert composer.choice is not None and composer.choice.key == models[0].id
        await pilot.press(*"love night fire", "enter")
        await wait_until(pilot, lambda: any(isinstance(m, ComposerScreen.SuggestionsReady)
                                            for m in seen), "suggestions")
        await pilot.pause()
        assert composer.query_one(SuggestionList).candidates
