"""Draft commands: list, show, write, append, export and delete drafts (the composer's too)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from lyrictui.commands.common import echo_json, open_library, safe
from lyrictui.core.compose import drafts as drafts_mod
from lyrictui.core.errors import InvalidInput


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def drafts(ctx: click.Context, as_json: bool) -> None:
    """List drafts written in the composer (newest first)."""
    if ctx.invoked_subcommand is not None:
        return
    rows = open_library().list_drafts()
    if as_json:
        echo_json([{"id": d.id, "title": d.title, "text": d.text, "updated_at": d.updated_at}
                   for d in rows])
        return
    if not rows:
        click.echo("No drafts yet: open the app (lyrictui), press 3 for the composer and write.")
        return
    for d in rows:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(d.updated_at))
        click.echo(f"{d.id:>5}  {when}  {safe(d.title)}")


@drafts.command()
@click.argument("draft_id", type=int)
def show(draft_id: int) -> None:
    """Print a draft's text."""
    click.echo(safe(open_library().get_draft(draft_id).text).rstrip("\n"))


@drafts.command()
@click.argument("draft_id", type=int)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(drafts_mod.FORMATS),
              help="txt or md (default: from the file's suffix).")
def export(draft_id: int, file: Path, fmt: str | None) -> None:
    """Write a draft to FILE (- for stdout) as plain text or Markdown."""
    draft = open_library().get_draft(draft_id)
    if str(file) == "-":
        click.echo(drafts_mod.render(draft, fmt or "txt"), nl=False)
        return
    written = drafts_mod.export(draft, file, fmt)
    click.echo(f"Wrote {safe(str(written))}")


def _read_text(file: str) -> str:
    """The text of FILE, or of stdin for "-", read up to the draft size cap."""
    limit = drafts_mod.MAX_DRAFT_CHARS + 1
    try:
        if file == "-":
            text = sys.stdin.read(limit)
        else:
            with open(Path(file).expanduser(), encoding="utf-8", errors="replace") as fh:
                text = fh.read(limit)
    except OSError as exc:
        raise InvalidInput(f"cannot read {file}: {exc.strerror or exc}") from None
    return drafts_mod.check_text(text)


TEXT_OPTION = click.option("--file", "-f", "file", default="-", show_default=True,
                           help="Read the text from this file (- reads stdin).")


@drafts.command(name="new")
@TEXT_OPTION
def new(file: str) -> None:
    """Start a draft with the text of FILE (or stdin); prints its id."""
    text = _read_text(file)
    draft = open_library().save_draft(None, title=drafts_mod.title_of(text), text=text)
    click.echo(f'Draft {draft.id} "{safe(draft.title)}" saved.')


@drafts.command(name="write")
@click.argument("draft_id", type=int)
@TEXT_OPTION
def write(draft_id: int, file: str) -> None:
    """Replace a draft's text with the text of FILE (or stdin)."""
    lib = open_library()
    draft = lib.get_draft(draft_id)
    text = _read_text(file)
    saved = lib.save_draft(draft.id, title=drafts_mod.title_of(text), text=text,
                           artist_id=draft.artist_id, model_id=draft.model_id)
    click.echo(f'Draft {saved.id} "{safe(saved.title)}" saved.')


@drafts.command(name="append")
@click.argument("draft_id", type=int)
@TEXT_OPTION
def append(draft_id: int, file: str) -> None:
    """Add the text of FILE (or stdin) to the end of a draft, as new lines."""
    lib = open_library()
    draft = lib.get_draft(draft_id)
    text = drafts_mod.check_text(drafts_mod.appended(draft.text, _read_text(file)))
    saved = lib.save_draft(draft.id, title=drafts_mod.title_of(text), text=text,
                           artist_id=draft.artist_id, model_id=draft.model_id)
    click.echo(f'Draft {saved.id} "{safe(saved.title)}" saved.')


@drafts.command(name="rm")
@click.argument("draft_id", type=int)
def remove(draft_id: int) -> None:
    """Delete a draft."""
    lib = open_library()
    draft = lib.get_draft(draft_id)
    lib.delete_draft(draft.id)
    click.echo(f'Deleted draft {draft.id} "{safe(draft.title)}".')


COMMANDS = [drafts]
