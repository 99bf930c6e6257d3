"""RhymePanel: rhymes for the word under the cursor, RhymeZone-like (perfect, then near, each
grouped by syllables, common words first)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from lyrictui.core.prosody.rhymeset import RhymeGroups

WORDS_PER_GROUP = 12


class RhymePanel(Static):
    """Shows `RhymeGroups` (see core/prosody/rhymeset.py) or a one-line note."""

    DEFAULT_CSS = """
    RhymePanel { height: auto; max-height: 50%; overflow-y: auto; padding-top: 1; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__("", markup=False, **kwargs)
        self.word: str | None = None

    def show_note(self, note: str) -> None:
        self.word = None
        self.update(Text(note, style="dim"))

    def show_groups(self, groups: RhymeGroups) -> None:
        self.word = groups.word
        text = Text()
        text.append(f"Rhymes for “{groups.word}”", style="bold")
        for title, rows in (("perfect", groups.perfect), ("near", groups.near)):
            if not rows:
                continue
            text.append(f"\n{title}", style="bold green" if title == "perfect" else "bold yellow")
            for syllables, words in rows:
                shown = ", ".join(words[:WORDS_PER_GROUP])
                text.append(f"\n {syllables} syl: ", style="dim")
                text.append(shown)
        if not groups.perfect and not groups.near:
            text.append("\nno rhymes found", style="dim")
        self.update(text)
