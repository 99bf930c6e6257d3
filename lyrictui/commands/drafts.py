"""Draft commands: list, show, export and delete what was written in the composer."""

from __future__ import annotations

import time
from pathlib import Path

import click

from lyrictui.commands.common import echo_json, open_library, safe
from lyrictui.core.compose import drafts as drafts_mod


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
    """Write a draft to FILE as plain text or Markdown."""
    written = drafts_mod.export(open_library().get_draft(draft_id), file, fmt)
    click.echo(f"Wrote {written}")


@drafts.command(name="rm")
@click.argument("draft_id", type=int)
def remove(draft_id: int) -> None:
    """Delete a draft."""
    lib = open_library()
    draft = lib.get_draft(draft_id)
    lib.delete_draft(draft.id)
    click.echo(f'Deleted draft {draft.id} "{safe(draft.title)}".')


COMMANDS = [drafts]
