"""SongEditor: the song's TextArea; Tab takes the ghost suggestion, alt+1-5 take a candidate."""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea

from lyrictui.core.names import strip_control


class SongEditor(TextArea):
    """A plain-text editor without soft wrap, so each song line is one row beside the gutter."""

    BINDINGS = [
        Binding("tab", "accept_ghost", "Take ghost line", show=False, id="accept-ghost"),
        *[
            Binding(f"alt+{n}", f"accept({n})", f"Take suggestion {n}", show=False,
                    id=f"accept-{n}")
            for n in range(1, 6)
        ],
    ]

    @dataclass
    class AcceptRequested(Message):
        """The writer asked for candidate `index` (0-based) from inside the editor."""

        editor: SongEditor
        index: int

    def __init__(self, text: str = "", **kwargs) -> None:
        super().__init__(text, soft_wrap=False, tab_behavior="focus",
                         placeholder="Write your first line…", **kwargs)
        self._ghost_at: tuple[int, int] | None = None

    def show_ghost(self, line: str) -> None:
        """Show `line` as the ghost at the cursor, which must be on an empty line: a ghost is
        a whole next line, and Tab would glue it onto any text already there."""
        row, _column = self.cursor_location
        if self.document.get_line(row).strip():
            return
        self._ghost_at = self.cursor_location
        self.suggestion = line

    async def _on_paste(self, event: events.Paste) -> None:
        # Runs before TextArea's own handler, which inserts event.text: lyrics copied from a
        # web page or a terminal keep their lines, not their escape sequences, control or
        # invisible characters (they would go to the terminal on every redraw, and into drafts).
        event.text = strip_control(event.text.replace("\r\n", "\n").replace("\r", "\n"))

    def on_text_area_selection_changed(self, event: TextArea.SelectionChanged) -> None:
        # The ghost was made for where the cursor was; anywhere else Tab would put it there.
        if self.suggestion and self.cursor_location != self._ghost_at:
            self.suggestion = ""

    def action_accept_ghost(self) -> None:
        if self.suggestion:
            self.insert(self.suggestion)
        else:
            self.app.action_focus_next()

    def action_accept(self, number: int) -> None:
        self.post_message(self.AcceptRequested(self, number - 1))

    def text_before_cursor(self) -> str:
        """The song up to the cursor: what a suggestion continues."""
        row, column = self.cursor_location
        lines = self.text.split("\n")
        return "\n".join(lines[:row] + [lines[row][:column] if row < len(lines) else ""])

    def insert_line(self, line: str) -> None:
        """Put `line` on the cursor's line (when it is empty) or on a new line after it.

        Goes through `insert`, so undo takes it back like typing.
        """
        row, column = self.cursor_location
        current = self.document.get_line(row)
        if current.strip():
            self.move_cursor((row, len(current)))
            self.insert("\n" + line + "\n")
        else:
            self.move_cursor((row, 0))
            self.insert(line + "\n")
