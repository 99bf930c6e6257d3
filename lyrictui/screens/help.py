"""HelpScreen: every key lyrictui knows, read from the bindings themselves so it never drifts.

`key_groups(app)` is the one reading of the bindings: the app's, then each section's screen
and the lyrictui widgets its module composes (each with the keys it inherits from Textual's
own widget, e.g. the editor's undo). The help screen shows it, and the app's command palette
offers every section action from it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.dom import DOMNode
from textual.keys import format_key
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Static

from lyrictui import __version__

INTRO = (
    f"[b]lyrictui {__version__} keys[/b]\n\n"
    "Write lyrics with next-line suggestions from GPT-2 fine-tuned on an artist, all on this "
    "machine. The command palette runs every action by name; escape closes this help.\n"
)


@dataclass
class KeyGroup:
    """The bindings one class declares (`own`) and those it inherits from Textual (`builtin`)."""

    title: str
    owner: type[DOMNode]
    mode: str | None = None  # the section (app mode) the owner belongs to; None: everywhere
    own: list[Binding] = field(default_factory=list)
    builtin: list[Binding] = field(default_factory=list)


def _bindings(cls: type[DOMNode]) -> tuple[list[Binding], list[Binding]]:
    """`cls`'s bindings with a description: declared by lyrictui classes, then by Textual's."""
    own: list[Binding] = []
    builtin: list[Binding] = []
    seen: set[str] = set()
    for klass in cls.__mro__:
        for item in klass.__dict__.get("BINDINGS", []):
            if not isinstance(item, Binding) or not item.description:
                continue
            for binding in Binding.make_bindings([item]):
                if binding.key in seen:  # overridden lower in the class tree
                    continue
                seen.add(binding.key)
                (own if klass.__module__.startswith("lyrictui") else builtin).append(binding)
    return own, builtin


def _widgets_of(screen: type[Screen]) -> list[type[Widget]]:
    """The lyrictui widgets a screen's module uses (its compose draws on these)."""
    module = sys.modules.get(screen.__module__)
    found = []
    for value in vars(module).values() if module else []:
        if (isinstance(value, type) and issubclass(value, Widget)
                and not issubclass(value, Screen)
                and value.__module__.startswith("lyrictui.widgets")):
            found.append(value)
    return sorted(found, key=lambda cls: cls.__name__)


def _title(cls: type[DOMNode]) -> str:
    """'SongEditor' -> 'Song editor'."""
    words = "".join(f" {c.lower()}" if c.isupper() else c for c in cls.__name__).split()
    return " ".join(words).capitalize()


def key_groups(app: App[Any]) -> list[KeyGroup]:
    """Every binding of `app`, each section's screen and that screen's lyrictui widgets."""
    own, builtin = _bindings(type(app))
    groups = [KeyGroup("Everywhere", type(app), None, own, builtin)]
    for mode, screen in app.MODES.items():
        if not (isinstance(screen, type) and issubclass(screen, Screen)):
            continue
        own, builtin = _bindings(screen)
        # Textual's screen keys (focus next/previous, copy) are the same on every screen.
        groups[0].builtin += [b for b in builtin if b.key not in
                              {seen.key for seen in groups[0].builtin}]
        groups.append(KeyGroup(mode.title(), screen, mode, own))
        for widget in _widgets_of(screen):
            own, builtin = _bindings(widget)
            if own:
                groups.append(KeyGroup(f"{mode.title()}: {_title(widget)}", widget, mode, own,
                                       builtin))
    return groups


def key_text(binding: Binding) -> str:
    """How a binding's key reads: 'F2', 'ctrl+z', '?'."""
    key = binding.key
    if key.startswith("f") and key[1:].isdigit():
        return key.upper()
    return format_key(key) if len(key) > 1 and "+" not in key else key


def _by_description(bindings: list[Binding]) -> dict[str, list[str]]:
    keys: dict[str, list[str]] = {}
    for binding in bindings:
        keys.setdefault(binding.description, []).append(key_text(binding))
    return keys


def _rows(bindings: list[Binding]) -> list[Content]:
    """One row per description, its keys joined ('F2, 1  Library')."""
    return [Content.assemble("  ", (f"{', '.join(keys):<14}", "bold"), " ", description)
            for description, keys in _by_description(bindings).items()]


def _compact(bindings: list[Binding]) -> Content:
    """Keys inherited from a Textual widget, in one wrapped paragraph."""
    items: list[Content | tuple[str, str] | str] = [("  also: ", "dim")]
    for description, keys in _by_description(bindings).items():
        if len(items) > 1:
            items.append(" · ")
        items += [description, " ", ("/".join(keys), "bold")]
    return Content.assemble(*items)


def help_text(app: App[Any]) -> Content:
    """The help text of `app`: its global keys (and the palette's), then each section's."""
    lines = [Content.from_markup(INTRO)]
    palette = Binding(app.COMMAND_PALETTE_BINDING, "command_palette", "Command palette")
    for group in key_groups(app):
        own = group.own + ([palette] if group.mode is None else [])
        lines += [Content(""), Content.styled(group.title, "bold $accent"), *_rows(own)]
        if group.builtin:
            lines.append(_compact(group.builtin))
    return Content("\n").join(lines)


class HelpScreen(ModalScreen[None]):
    """Modal list of keys; escape, q or ? closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > #help-body {
        width: 90%; max-width: 110; height: 90%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    """
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", key_display="esc")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Static(help_text(self.app))
