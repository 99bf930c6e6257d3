"""The selected artist's models and runs from the Library: train (in the background), add a
model trained elsewhere, delete a model, prune what finished runs hold."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from textual import work

from lyrictui.core import paths
from lyrictui.core.errors import LyricError
from lyrictui.core.names import plural
from lyrictui.core.train.start import TrainChoice
from lyrictui.dialogs.add_model import AddModelDialog
from lyrictui.dialogs.choice import ChoiceDialog
from lyrictui.dialogs.confirm import ConfirmDialog
from lyrictui.dialogs.train_options import TrainOptionsDialog
from lyrictui.screens.library_view import LibraryView
from lyrictui.services import lyric_app
from lyrictui.widgets.artist_table import ArtistTable


class ModelActions(LibraryView):
    """Train, add model, delete model, prune runs (a base of `LibraryScreen`)."""

    @work(exclusive=True, group="library-action", exit_on_error=False)
    async def action_train(self) -> None:
        artist = self._selected()
        if artist is None:
            return
        summary = self.query_one(ArtistTable).selected_summary
        if summary is not None and summary.songs == 0:
            self.notify(f"{artist.name} has no songs to learn from: add some first.",
                        severity="warning", markup=False)
            return
        config = await self.app.push_screen_wait(TrainOptionsDialog(artist.name))
        if config is not None:
            self.start_training(artist.id, config)

    @work(thread=True, group="train-start", exit_on_error=False,
          description="Starting a training run")
    def start_training(self, artist_id: int, choice: TrainChoice) -> None:
        from lyrictui.core.train.start import plan_choice, start_run

        library = self.library
        artist = library.artist_by_id(artist_id)
        try:
            # The CLI's set-up: defaults, device setting, base and window checked before a run
            # exists (a default block size shrinks to a smaller window).
            config = plan_choice(library, artist, choice)
            run_id = start_run(library, artist, config, detach=True)
        except LyricError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error", markup=False)
            return
        self.app.call_from_thread(
            self.notify, f"Training {artist.name} in the background (run {run_id}): "
            "F3 shows it live; it goes on if you close the app.", markup=False, timeout=8)
        self.app.call_from_thread(self.load_library)  # workers start on the event loop

    @work(exclusive=True, group="library-action", exit_on_error=False)
    async def action_delete_model(self) -> None:
        artist = self._selected()
        if artist is None:
            return
        library = self.library
        models = await self._in_thread(partial(library.list_models, artist.id),
                                       f"Listing {artist.name}'s models")
        if not models:
            self.notify("This artist has no model to delete.", severity="warning")
            return
        model = models[0]
        if len(models) > 1:
            model_id = await self.app.push_screen_wait(ChoiceDialog(
                "Which model?",
                [(f"{m.id}  {m.method} on {m.base}, {paths.human_size(m.size_bytes)}", m.id)
                 for m in models]))
            if model_id is None:
                return
            model = next(m for m in models if m.id == model_id)
        size = await self._in_thread(partial(_model_folder_size, model.path),
                                     f"Measuring model {model.id}")
        where = (f"its folder ({paths.human_size(size)})" if size is not None
                 else "its entry (the bundled starter's files stay)")
        body = f"This deletes model {model.id} ({model.method} on {model.base}) and {where}."
        engines = lyric_app(self).services.engines

        def delete(_confirmed: bool) -> str:
            freed = library.delete_model(model.id)
            engines.drop(model.path)
            return f"Deleted model {model.id}: {paths.human_size(freed)} freed."

        await self._ask_then_change(ConfirmDialog(f"Delete {model.id}?", body), delete,
                                    f"Deleting model {model.id}")

    @work(exclusive=True, group="library-action", exit_on_error=False)
    async def action_add_model(self) -> None:
        summary = self.query_one(ArtistTable).selected_summary
        name = summary.artist.name if summary and summary.artist.source != "demo" else ""
        request = await self.app.push_screen_wait(AddModelDialog(name))
        if request is None:
            return
        from lyrictui.core.engine.external import add_external_model

        library = self.library

        def add() -> str:
            try:
                model = add_external_model(library, request.artist, request.source)
            except (LyricError, OSError):
                raise
            except Exception as exc:  # a hub or Transformers failure: still one sentence
                raise LyricError(f"cannot add {request.source}: {exc}") from None
            return (f"Added model {model.id} to {request.artist}: press c to compose with "
                    "it.")

        self.notify(f"Checking and copying {request.source}…", markup=False)
        self._run_and_say(add, f"Adding model {request.source}", reread=True)

    def action_prune_runs(self) -> None:
        from lyrictui.core.train.disk import prune_runs

        library = self.library

        def prune() -> str:
            result = prune_runs(library)
            if not result.pruned:
                return "Nothing to free: finished runs hold no checkpoints."
            return (f"Freed {paths.human_size(result.freed)} from "
                    f"{plural(len(result.pruned), 'finished run')}.")

        self._run_and_say(prune, "Pruning finished runs", reread=True)


def _model_folder_size(path: str) -> int | None:
    """Bytes in a model's folder, or None for one outside the data home (the bundled starter,
    whose files a delete keeps)."""
    try:
        return paths.dir_size(paths.inside_home(Path(path)))
    except LyricError:
        return None
