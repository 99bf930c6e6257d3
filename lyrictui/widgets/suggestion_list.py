"""SuggestionList: candidate lines (or words) with syllables, rhyme and whether they meet the
locks; 1-9 or enter takes one."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option


@dataclass(frozen=True)
class ShownCandidate:
    """What the list shows for one candidate."""

    text: str
    syllables: int
    rhyme: str | None  # a note after the syllables: (word mode) the probability
    verbatim: bool = False
    fits: bool | None = None
    """Whether it meets the locks (None: no lock was on)."""
    rhyme_kind: str | None = None
    """Under a rhyme lock: "perfect", "near" or "identical" (the target word itself)."""
    continuation: str | None = None
    """Finishing the cursor's line: what goes at the cursor (`text` is the whole line)."""


# How each rhyme kind is marked, and in what style.
RHYME_MARKS = {"perfect": ("rhymes", "green"), "near": ("near rhyme", "yellow"),
               "identical": ("same word", "red")}


class SuggestionList(OptionList):
    """The panel of candidates. Posts `Accepted` with the candidate the writer took."""

    BINDINGS = [
        *[
            Binding(str(n), f"take({n - 1})", "Take" if n == 1 else f"Take {n}", show=n == 1,
                    key_display="1-9" if n == 1 else None, id=f"take-{n}")
            for n in range(1, 10)
        ],
        Binding("r", "regenerate", "Regenerate", id="regenerate"),
        Binding("escape", "back", "Editor", id="back", tooltip="Back to the song"),
    ]

    @dataclass
    class Accepted(Message):
        suggestion_list: SuggestionList
        candidate: ShownCandidate

    @dataclass
    class RegenerateRequested(Message):
        suggestion_list: SuggestionList

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.candidates: list[ShownCandidate] = []

    def show(self, candidates: list[ShownCandidate]) -> None:
        self.candidates = list(candidates)
        self.clear_options()
        for number, c in enumerate(self.candidates, start=1):
            label = Text()
            label.append(f"{number} ", style="bold")
            label.append(c.text)
            label.append(f"  {c.syllables} syl", style="dim")
            if c.rhyme:
                label.append(f" · {c.rhyme}", style="dim")
            if c.fits is not None:
                label.append(" ✓" if c.fits else " ✗", style="bold green" if c.fits else "yellow")
            if c.rhyme_kind in RHYME_MARKS:
                word, style = RHYME_MARKS[c.rhyme_kind]
                label.append(f" {word}", style=style)
            if c.verbatim:
                label.append("  (in training lyrics)", style="italic yellow")
            self.add_option(Option(label, id=str(number - 1)))
        if self.candidates:
            self.highlighted = 0

    def action_take(self, index: int) -> None:
        if 0 <= index < len(self.candidates):
            self.post_message(self.Accepted(self, self.candidates[index]))

    def action_back(self) -> None:
        self.screen.focus_next("SongEditor")

    def action_regenerate(self) -> None:
        self.post_message(self.RegenerateRequested(self))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.action_take(int(event.option.id))
