"""HelpScreen: every key lyrictui knows, read from the bindings themselves so it never drifts."""

from __future__ import annotations

from rich.markup import escape
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

INTRO = (
    "[b]lyrictui keys[/b]\n\n"
    "Write lyrics with next-line suggestions from GPT-2 fine-tuned on an artist, all on this "
    "machine. [b]ctrl+p[/b] opens the command palette (every action by name); [b]escape[/b] "
    "closes this help.\n"
)


def _rows(bindings: list[BindingType]) -> list[str]:
    rows = []
    for item in bindings:
        if not isinstance(item, Binding) or not item.description:
            continue
        keys = item.key_display or ", ".join(k.strip() for k in item.key.split(","))
        rows.append(f"  [b]{escape(keys):<12}[/b] {escape(item.description)}")
    return rows


def help_text(app: App[object]) -> str:
    """The help text of `app`: its global keys, then each section's (its modes' screens)."""
    parts = [INTRO, "[b $accent]Everywhere[/]", *_rows(list(app.BINDINGS)),
             f"  [b]{'ctrl+p':<12}[/b] Command palette"]
    for name, screen in app.MODES.items():
        rows = _rows(getattr(screen, "BINDINGS", []))
        if rows:
            parts += ["", f"[b $accent]{name.title()}[/]", *rows]
    return "\n".join(parts) + "\n"


class HelpScreen(ModalScreen[None]):
    """Modal list of keys; escape, q or ? closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > #help-body {
        width: 80%; max-width: 100; height: 80%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    """
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", key_display="esc")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Static(help_text(self.app))
