"""Line anchors: keep a mark (the rhyme lock) on the same song line while the text around it
changes, and find the line a lock on the cursor's line means."""

from __future__ import annotations

from lyrictui.core import prosody


def follow_line(old: list[str], new: list[str], row: int) -> int | None:
    """Where line `row` of `old` is in `new`, or None when it was deleted.

    Lines before the first change and after the last keep their place (counted from the end
    for those after it), so a line inserted above shifts the mark down; a line edited in place
    keeps it. Cost: one pass over the lines, so typing in a long song stays cheap.
    """
    if not 0 <= row < len(old):
        return None
    limit = min(len(old), len(new))
    prefix = 0
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    if row < prefix:
        return row
    suffix = 0
    while suffix < limit - prefix and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    if row >= len(old) - suffix:
        return row + len(new) - len(old)
    # In the changed middle: the line at the same place in the new middle, if there is one.
    return row if row < len(new) - suffix else None


def line_with_words(lines: list[str], row: int) -> int | None:
    """`row` if that line has words (and is not a section header), else the nearest line above
    that has; None when there is none."""
    for index in range(min(row, len(lines) - 1), -1, -1):
        if not prosody.is_header(lines[index]) and prosody.words(lines[index]):
            return index
    return None


def last_word(line: str) -> str | None:
    """The line's last word (what a rhyme lock on it rhymes with), or None."""
    found = [] if prosody.is_header(line) else prosody.words(line)
    return found[-1] if found else None
