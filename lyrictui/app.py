"""The Textual app: three sections (Library, Training, Composer) as modes, global keys, palette.

Kept thin on purpose: each section is a screen in lyrictui/screens/, dialogs live in
lyrictui/dialogs/, reusable widgets in lyrictui/widgets/. Nothing here imports torch,
transformers or datasets, so the first screen appears at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import Screen

from lyrictui import __version__
from lyrictui.core.names import strip_control
from lyrictui.core.store.library import Library
from lyrictui.screens.composer import ComposerScreen
from lyrictui.screens.help import HelpScreen
from lyrictui.screens.library import LibraryScreen
from lyrictui.screens.training import TrainingScreen
from lyrictui.services import LyricAppServices, Services

__all__ = ["LyricApp", "Services", "make_app"]

SECTIONS = {
    "library": ("Library", "Artists, their songs, datasets and models"),
    "training": ("Training", "Follow, cancel and resume fine-tuning runs"),
    "composer": ("Composer", "Write a song with next-line suggestions"),
}


class LyricApp(App[None]):
    """lyrictui's terminal app."""

    TITLE = "lyrictui"
    SUB_TITLE = f"v{__version__}"
    CSS_PATH = "lyrictui.tcss"
    MODES = {"library": LibraryScreen, "training": TrainingScreen, "composer": ComposerScreen}
    DEFAULT_MODE = "library"
    # Screens get -narrow below 100 columns: side panes give way to what matters most.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    BINDINGS = [
        Binding("f2,1", "switch_mode('library')", "Library", key_display="F2", id="library",
                tooltip="Artists, songs, datasets, models (also 1 outside the editor)"),
        Binding("f3,2", "switch_mode('training')", "Training", key_display="F3",
                id="training", tooltip="Training runs (also 2 outside the editor)"),
        Binding("f4,3", "switch_mode('composer')", "Composer", key_display="F4",
                id="composer", tooltip="Write with suggestions (also 3 outside the editor)"),
        Binding("f1,question_mark", "help", "Help", key_display="F1", id="help",
                tooltip="Every key (also ? outside the editor)"),
        Binding("ctrl+q", "quit", "Quit", id="quit", priority=True),
    ]

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services

    @property
    def library(self) -> Library:
        return self.services.library

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Every notification, without terminal control or escape characters: messages quote
        names, titles and file names that came from outside."""
        super().notify(strip_control(message), title=strip_control(title), severity=severity,
                       timeout=timeout, markup=markup)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for mode, (title, help_text) in SECTIONS.items():
            yield SystemCommand(title, help_text, lambda m=mode: self.switch_mode(m))
        yield SystemCommand("Help", "Every key lyrictui knows", self.action_help)
        yield from super().get_system_commands(screen)

    def on_unmount(self) -> None:
        self.library.close()


if TYPE_CHECKING:
    # mypy checks here that LyricApp gives screens what `lyric_app()` promises them.
    _satisfies: type[LyricAppServices] = LyricApp


def make_app(services: Services | None = None) -> LyricApp:
    """Build the app; the CLI calls this with defaults, tests with their own services."""
    return LyricApp(services or Services())
