"""CLI twins of app actions: rename, drafts written from the shell, and the demo artist found by
every command on a fresh home (not only after `artists` or the app ran once)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from lyrictui.cli import cli
from lyrictui.core.sources.demo import DEMO_NAME
from lyrictui.core.store.library import Library


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, list(args), input=input)


def test_a_fresh_home_finds_the_demo_from_any_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LYRICTUI_NO_DEMO")
    songs = run("songs", DEMO_NAME)
    assert songs.exit_code == 0, songs.output
    assert songs.output.startswith(f"{DEMO_NAME}: 200 songs")


def test_a_renamed_demo_is_not_made_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LYRICTUI_NO_DEMO")
    assert run("rename", DEMO_NAME, "Old Verse").exit_code == 0
    listing = run("artists").output
    assert "Old Verse" in listing and DEMO_NAME not in listing
    assert run("songs", DEMO_NAME).exit_code == 2


def test_rename(library: Library) -> None:
    library.add_artist("First Name", "imported")
    library.add_artist("Taken", "imported")
    result = run("rename", "first name", "Second Name")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == 'Renamed "First Name" to "Second Name".'
    assert library.find_artist("Second Name") is not None
    clash = run("rename", "Second Name", "Taken")
    assert clash.exit_code == 2 and "already exists" in clash.output
    assert run("rename", "Nobody", "X").exit_code == 2


def test_drafts_are_written_and_appended_from_the_shell(library: Library, tmp_path) -> None:
    made = run("drafts", "new", input="[Verse]\nthe kitchen light is humming low\n")
    assert made.exit_code == 0, made.output
    (draft,) = library.list_drafts()
    assert draft.title == "the kitchen light is humming low"

    more = tmp_path / "more.txt"
    more.write_text("and I have nowhere else to go\r\n", encoding="utf-8")
    assert run("drafts", "append", str(draft.id), "--file", str(more)).exit_code == 0
    assert library.get_draft(draft.id).text == ("[Verse]\nthe kitchen light is humming low\n"
                                                "and I have nowhere else to go\n")

    assert run("drafts", "write", str(draft.id), input="a new first line\n").exit_code == 0
    rewritten = library.get_draft(draft.id)
    assert rewritten.text == "a new first line\n" and rewritten.title == "a new first line"
    assert run("drafts", "show", str(draft.id)).output == "a new first line\n"


def test_bad_draft_input_is_one_line_and_stores_nothing(library: Library) -> None:
    missing = run("drafts", "append", "9", input="x\n")
    assert missing.exit_code == 2 and missing.output.strip() == "error: no draft 9"
    unreadable = run("drafts", "new", "--file", "no/such/file.txt")
    assert unreadable.exit_code == 2 and len(unreadable.output.strip().splitlines()) == 1
    huge = run("drafts", "new", input="a" * 1_000_001)
    assert huge.exit_code == 2 and "at most 1,000,000" in huge.output
    assert library.list_drafts() == []
