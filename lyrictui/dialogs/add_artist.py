"""AddArtistDialog: which artist to fetch from Genius, and how many songs."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label, Static

from lyrictui.core.errors import LyricError
from lyrictui.core.names import clean_name
from lyrictui.dialogs.form import FormDialog


@dataclass(frozen=True)
class ScrapeRequest:
    """What the user asked to fetch."""

    artist: str
    max_songs: int | None
    include_features: bool


def parse_max_songs(text: str) -> int | None:
    """Empty means every song; otherwise a whole number of at least 1."""
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        raise LyricError("max songs must be a whole number of at least 1 (or empty for all)")
    return int(text)


class AddArtistDialog(FormDialog[ScrapeRequest]):
    """Returns a ScrapeRequest, or None when cancelled."""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Add an artist from Genius", classes="dialog-title")
            yield Label("Artist name")
            yield Input(placeholder="e.g. Sigur Rós", id="add-name")
            yield Label("Max songs (empty: all, most popular first)")
            yield Input("50", id="add-max", type="integer")
            yield Checkbox("Include songs where the artist is only featured", id="add-features")
            yield Static("", id="add-error", classes="dialog-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Fetch lyrics", id="ok", variant="primary")

    def submit(self) -> None:
        try:
            request = ScrapeRequest(
                artist=clean_name(self.query_one("#add-name", Input).value),
                max_songs=parse_max_songs(self.query_one("#add-max", Input).value),
                include_features=self.query_one("#add-features", Checkbox).value,
            )
        except LyricError as exc:
            self.query_one("#add-error", Static).update(str(exc))
            return
        self.dismiss(request)
