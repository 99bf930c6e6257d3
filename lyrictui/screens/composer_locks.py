"""The knobs a composer request carries: the rhyme lock (kept on its song line as lines move),
the syllable lock, the temperature and word mode, and the line that shows them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lyrictui.core.compose.anchor import follow_line, last_word
from lyrictui.core.engine.sampling import SamplingConfig

TEMPERATURES = (0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.4)


@dataclass
class Locks:
    """What the writer has set; the screen's keys change it, each request reads it."""

    rhyme_row: int | None = None
    """The line the rhyme lock rhymes with (0-based); it follows the line as text moves."""
    syllable_target: int | None = None
    temperature_index: int = field(
        default_factory=lambda: TEMPERATURES.index(SamplingConfig.temperature))
    word_mode: bool = False

    @property
    def temperature(self) -> float:
        return TEMPERATURES[self.temperature_index]

    def step_temperature(self, step: int) -> None:
        self.temperature_index = max(0, min(len(TEMPERATURES) - 1, self.temperature_index + step))

    def rhyme_word(self, text: str) -> str | None:
        """The last word of the rhyme lock's line in `text`, None without a lock or words."""
        if self.rhyme_row is None:
            return None
        lines = text.split("\n")
        return last_word(lines[self.rhyme_row]) if self.rhyme_row < len(lines) else None

    def follow(self, old: str, new: str) -> bool:
        """Keep the rhyme lock on its line as lines are added or removed around it; False when
        the line was deleted, and the lock with it."""
        if self.rhyme_row is None:
            return True
        self.rhyme_row = follow_line(old.split("\n"), new.split("\n"), self.rhyme_row)
        return self.rhyme_row is not None

    def request_options(self, text: str, row: int, complete: bool) -> dict[str, Any]:
        """The keyword arguments of a request for the cursor's line `row` of `text`."""
        options: dict[str, Any] = {"temperature": self.temperature, "complete": complete}
        word = self.rhyme_word(text)
        if word is not None and not (complete and row == self.rhyme_row):
            options["rhyme_with"] = word
        if self.syllable_target is not None:
            options["syllables"] = self.syllable_target
        return options

    def describe(self, text: str) -> str:
        """The locks line above the song."""
        parts = [f"temperature {self.temperature:.1f} (alt+↑/↓)"]
        word = self.rhyme_word(text)
        if self.rhyme_row is not None:
            parts.append(f"rhyme with “{word}” (line {self.rhyme_row + 1})" if word
                         else f"rhyme with line {self.rhyme_row + 1} (no words yet)")
        if self.syllable_target is not None:
            parts.append(f"{self.syllable_target} syllables")
        if self.word_mode:
            parts.append("word mode")
        return "  ·  ".join(parts)
