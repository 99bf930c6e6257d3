"""Importing the user's own files: real files on disk, the real library, the real CLI."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from lyrictui.core.errors import InvalidInput
from lyrictui.core.sources.export import render
from lyrictui.core.sources.importer import import_files, read_text, split_songs
from lyrictui.core.store.library import Library
from lyrictui.core.store.records import NewSong


def lyrictui(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lyrictui", *args], capture_output=True,
                          text=True, env=os.environ.copy(), timeout=60)


def titles_and_lyrics(library: Library, name: str) -> dict[str, str]:
    artist = library.get_artist(name)
    return {s.title: s.lyrics for s in library.songs(artist.id)}


def test_one_song_per_file_titled_by_file_name(tmp_path: Path, library: Library) -> None:
    folder = tmp_path / "lyrics"
    (folder / "b-sides").mkdir(parents=True)
    (folder / "harbor_lights.txt").write_text("[Verse 1: Me]\nI don\u2019t know  \nwhere we go\n")
    (folder / "Paper Crown.md").write_text("Paper crown\nwash it down\n")
    (folder / "b-sides" / "side.txt").write_text("flip it over\n")
    (folder / "cover.jpg").write_bytes(b"\xff\xd8\xff\x00binary")  # not .txt/.md: ignored
    (folder / ".draft.txt").write_text("hidden, unfinished\n")

    summary = import_files(library, "My Band", [folder])

    assert titles_and_lyrics(library, "My Band") == {
        "harbor lights": "[Verse 1]\nI don't know\nwhere we go",
        "Paper Crown": "Paper crown\nwash it down",
        "side": "flip it over",
    }
    assert library.get_artist("My Band").source == "imported"
    assert summary.added == 3 and summary.refused == []


def test_several_songs_in_one_file(tmp_path: Path, library: Library) -> None:
    path = tmp_path / "album.md"
    path.write_text(
        "# First Song\n\nverse one\nstill one\n\nverse two\n---\n"
        "Title: Second Song\nonly line\n\n\n"
        "no heading here\n  \n \nlast part\n"
    )
    import_files(library, "Band", [path])
    assert titles_and_lyrics(library, "Band") == {
        "First Song": "verse one\nstill one\n\nverse two",
        "Second Song": "only line",
        "album #3": "no heading here",
        "album #4": "last part",
    }


def test_separator_option(tmp_path: Path, library: Library) -> None:
    path = tmp_path / "set.txt"
    path.write_text("one\n---\nstill one\n\n\nstill one\n===\ntwo\n")
    import_files(library, "Custom", [path], separator="===")
    assert titles_and_lyrics(library, "Custom") == {
        "set #1": "one\n---\nstill one\n\nstill one", "set #2": "two"}
    import_files(library, "Whole", [path], separator="none")
    assert list(titles_and_lyrics(library, "Whole")) == ["set"]


def test_split_songs_defaults() -> None:
    assert split_songs("a\n\nb\n -----  \nc\n\n\n\nd") == ["a\n\nb", "c", "d"]
    assert split_songs("\r\na\r\n---\r\nb\r\n") == ["a", "b"]


def test_bad_files_are_skipped_with_a_reason_and_good_ones_imported(
    tmp_path: Path, library: Library
) -> None:
    good = tmp_path / "good.txt"
    good.write_text("a good line\n")
    binary = tmp_path / "song.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    latin1 = tmp_path / "latin.txt"
    latin1.write_bytes("caf\u00e9 au lait\n".encode("latin-1"))
    utf16 = tmp_path / "windows.txt"
    utf16.write_bytes("notepad lyrics\n".encode("utf-16"))
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    blank = tmp_path / "blank.md"
    blank.write_text("\n   \n\t\n")
    headers_only = tmp_path / "headers.txt"
    headers_only.write_text("[Verse 1]\n\n[Chorus]\n")
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as handle:  # 1 GB, sparse: refused from its size, never read
        handle.truncate(1024 ** 3)

    reasons: dict[str, str | None] = {}
    summary = import_files(library, "Mixed", [tmp_path / name for name in sorted(
        p.name for p in tmp_path.iterdir() if p.is_file())],
        on_file=lambda r: reasons.__setitem__(r.path.name, r.refused))

    assert reasons["good.txt"] is None
    assert reasons["song.txt"] == "binary file, not text"
    assert reasons["latin.txt"].startswith("not UTF-8 text (bad byte at offset 3)")
    assert reasons["windows.txt"] == "UTF-16 text: save it as UTF-8"
    assert reasons["empty.txt"] == "empty file"
    assert reasons["blank.md"] == "empty file"
    assert reasons["headers.txt"] == "no lyrics in it"
    assert reasons["huge.txt"] == "1.0 GB, over the 5.0 MB limit for one file: split it"
    assert summary.added == 1
    assert titles_and_lyrics(library, "Mixed") == {"good": "a good line"}


def test_read_text_never_reads_past_its_cap(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("x" * 2000)
    with pytest.raises(Exception, match="over the"):
        read_text(path, max_bytes=1000)
    assert read_text(path, max_bytes=5000) == "x" * 2000


def test_reimport_adds_nothing_and_duplicates_are_marked(tmp_path: Path,
                                                         library: Library) -> None:
    (tmp_path / "a.txt").write_text("same words\nhere\n")
    (tmp_path / "b.txt").write_text("SAME words\n\nhere\n")  # the same text, normalized
    (tmp_path / "c.txt").write_text("other words\n")
    first = import_files(library, "Band", [tmp_path])
    assert [(f.path.name, f.added, f.duplicates) for f in first.files] == [
        ("a.txt", 1, 0), ("b.txt", 0, 1), ("c.txt", 1, 0)]
    artist = library.get_artist("Band")
    rows = library.songs(artist.id, include_skipped=True)
    assert [r.skipped_reason for r in rows] == [None, 'duplicate of "a"', None]

    again = import_files(library, "band", [tmp_path])
    assert again.added == 0 and sum(f.already for f in again.files) == 3
    assert library.songs(artist.id, include_skipped=True) == rows


def test_a_files_songs_are_stored_together_or_not_at_all(library: Library) -> None:
    artist = library.add_artist("Atomic", "imported")
    batch = [NewSong("one", "first song"), NewSong(None, "second song")]  # type: ignore[arg-type]
    with pytest.raises(sqlite3.IntegrityError):
        library.add_songs(artist.id, batch)
    assert library.songs(artist.id, include_skipped=True) == []


def test_missing_path_is_refused_before_anything_is_stored(tmp_path: Path,
                                                           library: Library) -> None:
    (tmp_path / "ok.txt").write_text("fine\n")
    with pytest.raises(InvalidInput, match="does not exist"):
        import_files(library, "Band", [tmp_path / "ok.txt", tmp_path / "nope.txt"])
    assert library.list_artists() == []


def test_exported_text_imports_back_unchanged(tmp_path: Path, library: Library) -> None:
    artist = library.add_artist("Source", "imported")
    originals = {"Harbor Lights": "[Verse 1]\nlow lights\n\n[Chorus]\noh",
                 "Paper Crown": "paper crown\nwash it down"}
    for title, text in originals.items():
        library.add_song(artist.id, title, text)
    path = tmp_path / "export.txt"
    path.write_text(render(library.songs(artist.id), "txt"))
    import_files(library, "Copy", [path])
    assert titles_and_lyrics(library, "Copy") == originals


def test_cli_import_reports_each_file_and_refuses_all_bad(tmp_path: Path) -> None:
    (tmp_path / "one.txt").write_text("first\n---\nsecond\n")
    (tmp_path / "bad.txt").write_bytes(b"\x00\x01\x02")
    result = lyrictui("import", "CLI Band", str(tmp_path / "one.txt"), str(tmp_path / "bad.txt"))
    assert result.returncode == 0, result.stderr
    assert "one.txt: 2 songs added" in result.stdout
    assert "bad.txt: binary file, not text" in result.stdout
    assert 'Imported 2 songs into "CLI Band"; 1 file skipped.' in result.stdout

    result = lyrictui("import", "Nobody", str(tmp_path / "bad.txt"))
    assert result.returncode == 2
    assert result.stderr.strip() == (f"error: nothing imported: {tmp_path / 'bad.txt'}: "
                                     "binary file, not text")
    assert result.stdout == ""
    assert "Nobody" not in lyrictui("artists").stdout

    result = lyrictui("songs", "CLI Band")
    assert result.returncode == 0 and "one #1" in result.stdout and "one #2" in result.stdout
