"""The Textual app: three sections (Library, Training, Composer) as modes, global keys, palette.

Kept thin on purpose: each section is a screen in lyrictui/screens/, dialogs live in
lyrictui/dialogs/, reusable widgets in lyrictui/widgets/. Nothing here imports torch,
transformers or datasets, so the first screen appears at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.content import Content
from textual.dom import DOMNode
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Header
from textual.widgets._header import HeaderTitle

from lyrictui.core.names import strip_control
from lyrictui.core.store.library import Library
from lyrictui.screens.composer import ComposerScreen
from lyrictui.screens.help import HelpScreen, KeyGroup, key_groups
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
    CSS_PATH = "lyrictui.tcss"
    MODES = {"library": LibraryScreen, "training": TrainingScreen, "composer": ComposerScreen}
    DEFAULT_MODE = "library"
    # Screens get -narrow below 100 columns: side panes give way to what matters most.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    # The sections' keys are in every header (format_title), so the footer keeps its room.
    BINDINGS = [
        Binding("f2,1", "switch_mode('library')", "Library", key_display="F2", id="library",
                show=False, tooltip="Artists, songs, datasets, models (also 1 outside the editor)"),
        Binding("f3,2", "switch_mode('training')", "Training", key_display="F3", show=False,
                id="training", tooltip="Training runs (also 2 outside the editor)"),
        Binding("f4,3", "switch_mode('composer')", "Composer", key_display="F4", show=False,
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

    def on_mount(self) -> None:
        self.mode_change_signal.subscribe(self, self._show_section)

    def format_title(self, title: str, sub_title: str) -> Content:
        """The header line: the three sections (F2/F3/F4, the current one highlighted, each
        clickable), then the screen's subtitle (e.g. the draft's name)."""
        keys = {b.action: b.key_display for b in self.BINDINGS if isinstance(b, Binding)}
        parts: list[Content | str] = [title, " "]
        for mode, (name, _help) in SECTIONS.items():
            action = f"switch_mode('{mode}')"
            style = "reverse bold" if mode == self.current_mode else "dim"
            parts += [" ", Content.styled(f" {keys.get(action) or ''} {name} ", style)
                      .stylize(f"@click=app.{action}")]
        line = Content.assemble(*parts)
        if sub_title:
            line = Content.assemble(line, (" — ", "dim"), Content(sub_title).stylize("dim"))
        return line

    def _show_section(self, _mode: str) -> None:
        """Redraw the new screen's header: which section is current changed."""
        for header in self.screen.query(Header):
            header.query_one(HeaderTitle).update(header.format_title())

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for mode, (title, help_text) in SECTIONS.items():
            yield SystemCommand(title, help_text, lambda m=mode: self.switch_mode(m))
        yield SystemCommand("Help", "Every key lyrictui knows", self.action_help)
        # Every action of every section, by the name its key has in the footer and in F1.
        for group in key_groups(self):
            if group.mode is None:
                continue
            section = SECTIONS[group.mode][0]
            for binding in group.own:
                yield SystemCommand(f"{section}: {binding.description}",
                                    binding.tooltip or f"{section} key {binding.key}",
                                    partial(self._run_in_section, group, binding.action))
        yield from super().get_system_commands(screen)

    async def _run_in_section(self, group: KeyGroup, action: str) -> None:
        """Switch to the group's section, then run `action` where its key would."""
        assert group.mode is not None
        await self.switch_mode(group.mode)
        target: DOMNode = self.screen
        if not isinstance(target, group.owner):
            found = [w for w in self.screen.query(Widget) if isinstance(w, group.owner)]
            if not found:
                return
            target = found[0]
            found[0].focus()
        await self.run_action(action, target)

    def on_unmount(self) -> None:
        self.library.close()


if TYPE_CHECKING:
    # mypy checks here that LyricApp gives screens what `lyric_app()` promises them.
    _satisfies: type[LyricAppServices] = LyricApp


def make_app(services: Services | None = None) -> LyricApp:
    """Build the app; the CLI calls this with defaults, tests with their own services."""
    return LyricApp(services or Services())
