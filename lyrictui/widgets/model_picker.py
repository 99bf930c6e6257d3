"""ModelPicker: the composer's choice of model (the artists' models, and the bundled starter)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual import on, work
from textual.message import Message
from textual.widgets import Select
from textual.widgets._select import SelectOverlay

from lyrictui.services import lyric_app


@dataclass(frozen=True)
class ModelChoice:
    """One entry of the model picker."""

    key: str  # model id, or "starter"
    label: str
    path: str
    artist_id: int | None


class ModelPicker(Select[str]):
    """Lists the models in a thread (on mount and on `reload`); posts `Picked` when the writer
    (or `select_model`) settles on another one. The first list picks a trained model if there
    is one, else the starter."""

    DEFAULT_CSS = """
    ModelPicker { width: 50; }
    """

    @dataclass
    class Picked(Message):
        """Another model was chosen."""

        picker: ModelPicker
        choice: ModelChoice

    @dataclass
    class Settled(Message):
        """The writer chose from the open list, the same model or another."""

        picker: ModelPicker

    @dataclass
    class Listed(Message):
        """The models were read (in a thread)."""

        choices: list[ModelChoice]

    def __init__(self, *, wanted: str | None = None, **kwargs: Any) -> None:
        """`wanted`: the model id to pick once the list is read (else the default)."""
        super().__init__([], prompt="Choose a model", allow_blank=True, **kwargs)
        self.choices: dict[str, ModelChoice] = {}
        self.picked: ModelChoice | None = None
        self._wanted = wanted

    def on_mount(self) -> None:
        self.reload()

    def reload(self) -> None:
        """Read the models again (one may have been trained or deleted meanwhile)."""
        self.list_models()

    def select_model(self, key: str) -> None:
        """Pick a model by id (the Library's compose action); reads the list first if needed."""
        self._wanted = key
        if key in self.choices:
            self.value = key
        else:
            self.reload()

    @work(thread=True, exclusive=True, group="model-choices", exit_on_error=False,
          description="Listing models")
    def list_models(self) -> None:
        from lyrictui.core.paths import starter_dir

        library = lyric_app(self).library
        artists = {a.id: a.name for a in library.list_artists()}
        choices = [
            ModelChoice(m.id, f"{artists.get(m.artist_id, '?')} — {m.method}"
                        + (f", ppl {m.perplexity:.0f}" if m.perplexity else ""),
                        m.path, m.artist_id)
            for m in library.list_models()
        ]
        starter = starter_dir()
        if (starter / "model.safetensors").exists() and not any(
            Path(c.path) == starter for c in choices
        ):
            choices.append(ModelChoice("starter", "Starter (small demo model)", str(starter), None))
        self.post_message(self.Listed(choices))

    def on_model_picker_listed(self, message: Listed) -> None:
        message.stop()
        self.choices = {c.key: c for c in message.choices}
        current = self.value
        self.set_options([(c.label, c.key) for c in message.choices])
        if self._wanted is not None and self._wanted in self.choices:
            self.value = self._wanted
            self._wanted = None
        elif isinstance(current, str) and current in self.choices:
            self.value = current
        elif self.picked is None and message.choices:
            trained = [c for c in message.choices if c.key != "starter"]
            self.value = (trained or message.choices)[0].key

    @on(SelectOverlay.UpdateSelection)
    def _settled(self, _event: SelectOverlay.UpdateSelection) -> None:
        # Select posts Changed only for another value; choosing the current one again is a
        # choice too (the writer is done with the list).
        self.post_message(self.Settled(self))

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select is not self:
            return
        event.stop()
        choice = self.choices.get(event.value) if isinstance(event.value, str) else None
        if choice is not None and choice != self.picked:
            self.picked = choice
            self.post_message(self.Picked(self, choice))
