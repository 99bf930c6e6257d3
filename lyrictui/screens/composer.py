"""The Composer section: write a song with an artist's model suggesting next lines."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

EMPTY_TEXT = (
    "[b]No model to write with yet.[/b]\n\n"
    "The composer suggests next lines in an artist's style once the artist has a model:\n"
    "  1. add lyrics (Library: lyrictui scrape / import, or the bundled demo)\n"
    "  2. train a model: lyrictui train NAME\n"
    "  3. come back here (key 3)."
)


class ComposerScreen(Screen[None]):
    """The song editor with suggestions beside it."""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(EMPTY_TEXT, id="composer-empty", classes="empty-state")
        yield Footer()
