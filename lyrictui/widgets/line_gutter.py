"""LineGutter: syllable count and rhyme letter beside every line of the song, kept in step."""

from __future__ import annotations

from rich.text import Text
from textual.geometry import Offset
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import TextArea

from lyrictui.core.prosody import LineInfo

# Distinct colours for the first rhyme letters; later letters reuse them.
PALETTE = ("cyan", "magenta", "yellow", "green", "bright_blue", "red", "bright_cyan", "orange3")


class LineGutter(Widget):
    """One row per screen row of the editor it follows: a song line's figures on its first
    row, nothing on the rows its soft wrap adds. Starts at `top_line` (the editor's scroll
    position, in screen rows)."""

    DEFAULT_CSS = """
    LineGutter { width: 8; height: 1fr; color: $text-muted; }
    """

    top_line: reactive[int] = reactive(0)
    infos: reactive[tuple[LineInfo, ...]] = reactive(tuple, always_update=True)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._editor: TextArea | None = None

    def follow(self, editor: TextArea) -> None:
        """Keep in step with `editor`: its scrolling, and its wrapping when it resizes."""
        self._editor = editor
        self.watch(editor, "scroll_y", self._scrolled, init=False)
        self.watch(editor, "virtual_size", self._rewrapped, init=False)

    def _rewrapped(self) -> None:
        self.refresh()

    def _scrolled(self, scroll_y: float) -> None:
        self.top_line = int(scroll_y)

    def _rows(self, height: int) -> list[LineInfo | None]:
        """What each visible row shows: a line's info, or None (a wrapped line's later row)."""
        if self._editor is None or not self._editor.soft_wrap:
            return list(self.infos[self.top_line : self.top_line + height])
        wrapped = self._editor.wrapped_document
        if self.top_line >= wrapped.height:
            return []
        line, column = wrapped.offset_to_location(Offset(0, self.top_line))
        rows: list[LineInfo | None] = []
        if column:  # the top row continues a line that started above
            offsets = wrapped.get_offsets(line)
            rows += [None] * (len(offsets) + 1 - sum(1 for o in offsets if o <= column))
            line += 1
        while len(rows) < height and line < len(self.infos):
            rows.append(self.infos[line])
            try:
                rows += [None] * len(wrapped.get_offsets(line))
            except ValueError:  # the scan is a moment behind the text
                pass
            line += 1
        return rows[:height]

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="crop")
        for index, info in enumerate(self._rows(max(self.size.height, 1))):
            if index:
                text.append("\n")
            if info is None or info.syllables is None:
                continue
            text.append(f"{info.syllables:>3} ", style="dim")
            if info.letter:
                colour = PALETTE[(ord(info.letter[0]) - ord("A")) % len(PALETTE)]
                text.append(f"{info.letter:<3}", style=f"bold {colour}")
        return text
