"""LineGutter: syllable count and rhyme letter beside every line of the song, kept in step."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from lyrictui.core.prosody import LineInfo

# Distinct colours for the first rhyme letters; later letters reuse them.
PALETTE = ("cyan", "magenta", "yellow", "green", "bright_blue", "red", "bright_cyan", "orange3")


class LineGutter(Widget):
    """Renders one row per song line, starting at `top_line` (the editor's scroll position)."""

    DEFAULT_CSS = """
    LineGutter { width: 9; height: 1fr; color: $text-muted; }
    """

    top_line: reactive[int] = reactive(0)
    infos: reactive[tuple[LineInfo, ...]] = reactive(tuple, always_update=True)

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="crop")
        rows = self.infos[self.top_line : self.top_line + max(self.size.height, 1)]
        for index, info in enumerate(rows):
            if index:
                text.append("\n")
            if info.syllables is None:
                continue
            text.append(f"{info.syllables:>3} ", style="dim")
            if info.letter:
                colour = PALETTE[(ord(info.letter[0]) - ord("A")) % len(PALETTE)]
                text.append(f"{info.letter:<3}", style=f"bold {colour}")
        return text
