"""SongEditor: the song's TextArea, soft-wrapped; Tab takes the ghost suggestion, shift+Tab
shows the next candidate as the ghost.

Keys are ones every terminal sends as such (tmux and screen included): Tab and shift+Tab
(`ESC [ Z`) and ctrl+letters. alt+digit is not: most terminals send ESC and the digit, which
Textual reads as a macOS option character, so it would type junk into the song."""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea

from lyrictui.core.names import strip_control


class SongEditor(TextArea):
    """A plain-text editor with soft wrap (the gutter leaves a wrapped line's extra rows blank)."""

    BINDINGS = [
        Binding("tab", "accept_ghost", "Take", id="accept-ghost",
                tooltip="Take the suggestion shown in grey (without one: to the next pane)"),
        Binding("shift+tab", "cycle_ghost", "Next", key_display="⇧Tab", id="cycle-ghost",
                tooltip="Show the next candidate in grey"),
        Binding("ctrl+z", "undo", "Undo", show=False, id="undo",
                tooltip="Take back the last change (a taken suggestion too)"),
        Binding("ctrl+y", "redo", "Redo", show=False, id="redo"),
    ]

    @dataclass
    class GhostTaken(Message):
        """The writer took the ghost (Tab, or → at its start)."""

        editor: SongEditor

    @dataclass
    class GhostCycled(Message):
        """The writer asked for the next candidate as the ghost (shift+Tab)."""

        editor: SongEditor

    def __init__(self, text: str = "", **kwargs) -> None:
        super().__init__(text, soft_wrap=True, tab_behavior="focus",
                         placeholder="Write your first line…", **kwargs)
        self._ghost_at: tuple[int, int] | None = None

    def show_ghost(self, text: str) -> None:
        """Show `text` in grey at the cursor: what Tab would insert there."""
        self._ghost_at = self.cursor_location
        self.suggestion = text

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
            self.post_message(self.GhostTaken(self))
        else:
            self.app.action_focus_next()

    def action_cycle_ghost(self) -> None:
        self.post_message(self.GhostCycled(self))

    def action_cursor_right(self, select: bool = False) -> None:
        # TextArea inserts the suggestion on →; here the screen takes it, as with Tab, so the
        # line, the new line after it and the next suggestions come the same way.
        if self.suggestion and not select:
            self.post_message(self.GhostTaken(self))
            return
        super().action_cursor_right(select)

    def word_at_cursor(self) -> str | None:
        """The word the cursor is in or just after; else the line's last word; else None."""
        row, column = self.cursor_location
        line = self.document.get_line(row)
        start = column
        while start > 0 and (line[start - 1].isalnum() or line[start - 1] in "'-"):
            start -= 1
        end = column
        while end < len(line) and (line[end].isalnum() or line[end] in "'-"):
            end += 1
        word = line[start:end].strip("'-")
        if word:
            return word
        found = line.split()
        return found[-1].strip(".,;:!?\"'()-") or None if found else None

    def text_before_cursor(self) -> str:
        """The song up to the cursor: what a suggestion continues."""
        row, column = self.cursor_location
        lines = self.text.split("\n")
        return "\n".join(lines[:row] + [lines[row][:column] if row < len(lines) else ""])

    def insert_header(self, header: str) -> None:
        """Put a section header on the cursor's line when it is empty (the cursor moves below
        it), else on a new line above it (so a header can open the song). Undo takes it back."""
        row, _column = self.cursor_location
        if self.document.get_line(row).strip():
            self.insert(header + "\n", (row, 0), maintain_selection_offset=True)
        else:
            self.move_cursor((row, 0))
            self.insert(header + "\n")

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
