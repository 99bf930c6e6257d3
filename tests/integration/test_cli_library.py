"""The library commands as a user runs them: a real `lyrictui` process, good and bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lyrictui.core import paths
from lyrictui.core.store.library import Library


def lyrictui(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lyrictui", *args], capture_output=True, text=True,
        input=input, env=os.environ.copy(), timeout=60,
    )


def snapshot_library() -> list[tuple]:
    lib = Library()
    rows = [(a.name, a.slug, lib.song_counts(a.id)) for a in lib.list_artists()]
    lib.close()
    return rows


@pytest.fixture
def stocked(lyrictui_home: Path) -> Library:
    lib = Library()
    artist = lib.add_artist("AC/DC", "imported")
    lib.add_song(artist.id, "Song", "words here", source_key="k1")
    folder = paths.artist_dir(artist.slug) / "datasets"
    folder.mkdir(parents=True)
    (folder / "data.bin").write_bytes(b"z" * 2048)
    lib.close()
    return lib


def test_version_and_help() -> None:
    result = lyrictui("--version")
    assert result.returncode == 0 and "lyrictui" in result.stdout
    result = lyrictui("--help")
    assert result.returncode == 0 and "artists" in result.stdout


def test_artists_json_lists_the_library(stocked: Library) -> None:
    result = lyrictui("artists", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [(r["name"], r["songs"], r["dataset"]) for r in rows] == [("AC/DC", 1, "not packed")]
    assert rows[0]["disk_bytes"] == 2048


def test_remove_deletes_rows_and_folder_and_reports_space(stocked: Library) -> None:
    slug = Library().get_artist("AC/DC").slug
    result = lyrictui("remove", "ac/dc", "--yes")
    assert result.returncode == 0, result.stderr
    assert "2.0 KB freed" in result.stdout
    assert snapshot_library() == []
    assert not paths.artist_dir(slug).exists()


def test_remove_asks_first_and_keeps_everything_on_no(stocked: Library) -> None:
    before = snapshot_library()
    result = lyrictui("remove", "AC/DC", input="n\n")
    assert result.returncode != 0
    assert snapshot_library() == before


@pytest.mark.parametrize(
    "name",
    ["Unknown Band", "../", "../x", "/", "a/../../etc", "bad\x01name", "x" * 10_000, "   "],
)
def test_remove_bad_names_one_line_exit_2_library_unchanged(stocked: Library, name: str) -> None:
    before = snapshot_library()
    result = lyrictui("remove", name, "--yes")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr
    assert snapshot_library() == before


def test_nul_in_argument_is_refused_by_the_os_or_by_us(stocked: Library) -> None:
    # POSIX argv cannot carry NUL; through the Python API the library refuses it.
    lib = Library()
    with pytest.raises(Exception, match="control characters|no artist"):
        lib.get_artist("AC\x00DC")
    assert snapshot_library()[0][0] == "AC/DC"


def test_config_path_and_debug_flag(stocked: Library) -> None:
    result = lyrictui("config", "path")
    assert result.returncode == 0 and result.stdout.strip().endswith("config.toml")
    result = lyrictui("--debug", "remove", "Nobody", "--yes")
    assert result.returncode != 0 and "Traceback" in result.stderr
