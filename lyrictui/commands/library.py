"""Library commands: artists, remove, config."""

from __future__ import annotations

from typing import Any

import click

from lyrictui.commands.common import echo_json, open_library, safe
from lyrictui.core import config as config_mod
from lyrictui.core import paths
from lyrictui.core.store.status import dataset_status, model_status


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def artists(as_json: bool) -> None:
    """List the artists in the library."""
    lib = open_library()
    rows: list[dict[str, Any]] = []
    for s in lib.summaries():
        rows.append(
            {
                "name": s.artist.name,
                "slug": s.artist.slug,
                "source": s.artist.source,
                "songs": s.songs,
                "skipped": s.skipped,
                "tokens": s.tokens,
                "dataset": dataset_status(s),
                "model": model_status(s),
                "disk_bytes": paths.dir_size(paths.artist_dir(s.artist.slug)),
            }
        )
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo(
            "No artists yet: `lyrictui scrape \"ARTIST\"` fetches one from Genius, "
            "`lyrictui import NAME FILES...` adds your own lyrics, `lyrictui demo` restores the demo."
        )
        return
    header = f"{'NAME':<32} {'SOURCE':<9} {'SONGS':>7} {'SKIPPED':>7} {'TOKENS':>9}  {'DATASET':<10} {'MODEL':<22} {'DISK':>9}"
    click.echo(header)
    for r in rows:
        tokens = f"{r['tokens']:,}" if r["tokens"] is not None else "-"
        click.echo(
            f"{safe(r['name'])[:32]:<32} {r['source']:<9} {r['songs']:>7} {r['skipped']:>7} "
            f"{tokens:>9}  {r['dataset']:<10} {r['model']:<22} {paths.human_size(r['disk_bytes']):>9}"
        )


@click.command()
@click.argument("name")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
def remove(name: str, yes: bool) -> None:
    """Delete an artist: its songs, datasets, runs, models and folder."""
    lib = open_library()
    artist = lib.get_artist(name)
    size = paths.dir_size(paths.artist_dir(artist.slug))
    kept, skipped = lib.song_counts(artist.id)
    if not yes:
        click.confirm(
            f'Delete "{safe(artist.name)}" ({kept + skipped} songs, {paths.human_size(size)} on disk)?',
            abort=True,
        )
    freed = lib.delete_artist(artist.id)
    click.echo(f'Removed "{safe(artist.name)}": {kept + skipped} songs, {paths.human_size(freed)} freed.')


@click.command()
@click.argument("name")
@click.argument("new_name")
def rename(name: str, new_name: str) -> None:
    """Rename artist NAME to NEW_NAME (its folder keeps its name)."""
    lib = open_library()
    artist = lib.get_artist(name)
    renamed = lib.rename_artist(artist.id, new_name)
    click.echo(f'Renamed "{safe(artist.name)}" to "{safe(renamed.name)}".')


@click.group(invoke_without_command=True)
@click.pass_context
def config(ctx: click.Context) -> None:
    """Show or change settings (config.toml)."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(show)


@config.command()
def show() -> None:
    """Print every setting (the token masked)."""
    for key, value in config_mod.shown().items():
        click.echo(f"{key} = {value}")


@config.command(name="set")
@click.argument("key")
@click.argument("value")
def set_(key: str, value: str) -> None:
    """Set KEY to VALUE (lists are comma-separated)."""
    config_mod.set_value(key, value)
    shown = config_mod.shown()[key]
    click.echo(f"{key} = {shown}")


@config.command()
def path() -> None:
    """Print where config.toml lives."""
    click.echo(str(paths.config_path()))


@click.command()
@click.option("--restore", is_flag=True,
              help="Put back the copy of the library made before its last upgrade.")
@click.option("--rebuild", is_flag=True,
              help="Copy every row that can still be read into a new library.")
def doctor(restore: bool, rebuild: bool) -> None:
    """Check the library file (SQLite's integrity check), one line per problem; --restore or
    --rebuild repair it (the damaged file is moved aside, never deleted)."""
    from lyrictui.core.errors import InvalidInput
    from lyrictui.core.store import doctor as doc

    library = paths.library_path()
    if restore and rebuild:
        raise InvalidInput("--restore or --rebuild, not both")
    if restore:
        source, aside = doc.restore(library)
        click.echo(f"Restored {source.name} (changes made since it was copied are not in it); "
                   f"the damaged library is now {aside.name}.")
    elif rebuild:
        done = doc.rebuild(library)
        kept = ", ".join(f"{n:,} {table}" for table, n in done.kept.items() if n)
        click.echo(f"Rebuilt the library: kept {kept or 'no rows'}; {done.unreadable} "
                   f"unreadable parts skipped, {done.dropped} rows of lost artists dropped; "
                   f"the damaged library is now {done.aside.name if done.aside else '-'}.")
    problems = doc.check(library)
    if not problems:
        click.echo(f"ok: {library} passed SQLite's integrity check")
        return
    for line in problems:
        click.echo(f"problem: {safe(line)}")
    hint = ("`lyrictui doctor --restore` puts back the copy made before the last upgrade; "
            if doc.backups(library) else "")
    click.echo(f"{len(problems)} problems. {hint}`lyrictui doctor --rebuild` keeps every row "
               "that can still be read.")
    raise SystemExit(1)


COMMANDS = [artists, rename, remove, config, doctor]
