"""Titles from file names: track-number prefixes go, a title that is only a number stays."""

from __future__ import annotations

from pathlib import Path

import pytest

from lyrictui.core.sources.importer import songs_in, title_from_file_name


@pytest.mark.parametrize(("stem", "title"), [
    ("01 kitchen light", "kitchen light"),
    ("01 - kitchen light", "kitchen light"),
    ("01.kitchen light", "kitchen light"),
    ("01. Kitchen Light", "Kitchen Light"),
    ("1 - one more", "one more"),
    ("12. Song", "Song"),
    ("02_blue_moon", "blue moon"),
    ("05 - 1999", "1999"),
    ("1999", "1999"),
    ("01", "01"),
    ("7 Rings", "7 Rings"),
    ("99 Problems", "99 Problems"),
    ("3.14 pie", "3.14 pie"),
])
def test_track_numbers_leave_the_title(stem: str, title: str) -> None:
    assert title_from_file_name(stem) == title


def test_an_imported_file_is_titled_without_its_number() -> None:
    songs, _empty = songs_in(Path("03 - porch song.txt"), "we sat out on the porch\n", None)
    assert [t for t, _ in songs] == ["porch song"]
