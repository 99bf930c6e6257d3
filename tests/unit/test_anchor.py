"""compose/anchor.py: a mark stays on its song line while lines change around it."""

from __future__ import annotations

import pytest

from lyrictui.core.compose.anchor import follow_line, last_word, line_with_words

SONG = ["I walk alone", "The road is home", "", "And night comes"]


@pytest.mark.parametrize(("new", "row", "expected"), [
    (["[Verse]", *SONG], 1, 2),                                  # a header above: moves down
    (SONG[:1] + ["", *SONG[1:]], 1, 2),                          # an empty line above
    ([SONG[0], "The road is homeward", *SONG[2:]], 1, 1),        # the line itself edited
    ([SONG[0], *SONG[2:]], 1, None),                             # the line deleted
    ([*SONG, "A new last line"], 1, 1),                          # a line added below
    (SONG[1:], 1, 0),                                            # the line above deleted
    (["The road is home", "The road is home", *SONG[2:]], 1, 1),  # a line replaced by a copy
])
def test_follow_line(new: list[str], row: int, expected: int | None) -> None:
    assert follow_line(SONG, new, row) == expected


def test_follow_line_outside_the_text_is_gone() -> None:
    assert follow_line(SONG, SONG, 9) is None


def test_line_with_words_looks_up_past_blanks_and_headers() -> None:
    lines = ["[Verse]", "The road is home", "", "[Chorus]", ""]
    assert line_with_words(lines, 4) == 1
    assert line_with_words(lines, 1) == 1
    assert line_with_words(["[Verse]", ""], 1) is None
    assert last_word(lines[1]) == "home" and last_word("[Chorus]") is None
