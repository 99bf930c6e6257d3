"""AddModelDialog: register a model trained elsewhere (a local folder or a hub id) for an artist;
`core/engine/external.add_external_model` checks and copies it."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from lyrictui.core.errors import LyricError
from lyrictui.core.names import clean_name
from lyrictui.dialogs.form import FormDialog


@dataclass(frozen=True)
class ModelRequest:
    """Which artist gets the model, and where it comes from."""

    artist: str
    source: str


class AddModelDialog(FormDialog[ModelRequest]):
    """Returns a ModelRequest, or None when cancelled."""

    def __init__(self, artist: str = "") -> None:
        super().__init__()
        self._artist = artist

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Add a model trained elsewhere", classes="dialog-title")
            yield Label("Artist name (new or existing)")
            yield Input(self._artist, placeholder="e.g. My Band", id="model-artist")
            yield Label("Model folder (from_pretrained, safetensors) or hub id")
            yield Input(placeholder="e.g. huggingartists/my-band or ~/models/my-band",
                        id="model-source")
            yield Static("", id="model-error", classes="dialog-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Add model", id="ok", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#model-source" if self._artist else "#model-artist", Input).focus()

    def submit(self) -> None:
        error = self.query_one("#model-error", Static)
        try:
            artist = clean_name(self.query_one("#model-artist", Input).value)
        except LyricError as exc:
            error.update(str(exc))
            return
        source = self.query_one("#model-source", Input).value.strip()
        if not source:
            error.update("name a model folder or a hub id")
            return
        self.dismiss(ModelRequest(artist, source))
