"""Drafts: titles, export to .txt/.md, and the drafts commands."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from lyrictui.cli import cli
from lyrictui.core.compose import drafts
from lyrictui.core.store.library import Library

SONG = "[Verse 1]\nI walked along the river\nThe water running cold\n\n[Chorus]\nHold on\n"


def test_title_skips_headers_and_blank_lines() -> None:
    assert drafts.title_of(SONG) == "I walked along the river"
    assert drafts.title_of("\n[Chorus]\n\n") == drafts.UNTITLED


def test_export_txt_and_md(tmp_path: Path, library: Library) -> None:
    draft = library.save_draft(None, title=drafts.title_of(SONG), text=SONG)
    txt = drafts.export(draft, tmp_path / "song.txt")
    assert txt.read_text(encoding="utf-8") == SONG
    md = drafts.export(draft, tmp_path / "song.md").read_text(encoding="utf-8")
    assert md.startswith("# I walked along the river\n")
    assert "**[Chorus]**  \n" in md and "The water running cold  \n" in md
    assert not list(tmp_path.glob(".*.tmp"))


def test_cli_drafts_list_show_export_rm(tmp_path: Path, library: Library) -> None:
    draft = library.save_draft(None, title=drafts.title_of(SONG), text=SONG)
    runner = CliRunner()
    listing = runner.invoke(cli, ["drafts"])
    assert listing.exit_code == 0 and "I walked along the river" in listing.output
    shown = runner.invoke(cli, ["drafts", "show", str(draft.id)])
    assert shown.output == SONG.rstrip("\n") + "\n"
    out = tmp_path / "x.md"
    result = runner.invoke(cli, ["drafts", "export", str(draft.id), str(out)])
    assert result.exit_code == 0 and out.read_text(encoding="utf-8").startswith("# ")
    bad = runner.invoke(cli, ["drafts", "export", "999", str(out)])
    assert bad.exit_code == 2 and "no draft 999" in bad.output
    to_dir = runner.invoke(cli, ["drafts", "export", str(draft.id), str(tmp_path)])
    assert to_dir.exit_code == 2
    assert runner.invoke(cli, ["drafts", "rm", str(draft.id)]).exit_code == 0
    assert library.list_drafts() == []
