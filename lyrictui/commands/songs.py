"""Getting lyrics in and out: scrape, import, songs, export."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from lyrictui.commands.common import echo_json, open_library, safe, safe_line
from lyrictui.core.errors import InvalidInput
from lyrictui.core.names import plural

MAX_REFUSED_SHOWN = 20  # a folder of 10,000 unreadable files is not 10,000 lines


@click.command()
@click.argument("artist")
@click.option("--max-songs", type=click.IntRange(min=1), help="Stop after the N most popular songs.")
@click.option("--concurrency", type=click.IntRange(1, 64),
              help="Requests at once (default: the genius_concurrency setting, 8).")
@click.option("--include-features", is_flag=True, help="Also songs where the artist is featured.")
@click.option("--genius-id", type=click.IntRange(min=1),
              help="Pick the Genius artist by id when several share a name.")
def scrape(artist: str, max_songs: int | None, concurrency: int | None, include_features: bool,
           genius_id: int | None) -> None:
    """Fetch ARTIST's lyrics from Genius into the library (rerun to resume)."""
    import asyncio
    import signal

    from lyrictui.core.names import clean_name
    from lyrictui.core.sources.genius import scrape as run_scrape

    artist = clean_name(artist)
    lib = open_library()
    progress, on_event = _progress_bar()

    async def main() -> Any:
        cancel = asyncio.Event()
        try:  # Ctrl-C stops cleanly: what is stored stays, a rerun resumes
            asyncio.get_running_loop().add_signal_handler(signal.SIGINT, cancel.set)
        except (NotImplementedError, RuntimeError):
            pass
        return await run_scrape(lib, artist, max_songs=max_songs, concurrency=concurrency,
                                include_features=include_features, genius_id=genius_id,
                                on_event=on_event, cancel=cancel)

    try:
        summary = asyncio.run(main())
    finally:
        if progress.live.is_started:
            progress.stop()
    _print_summary(summary)
    if summary.cancelled:
        sys.exit(130)


def _progress_bar() -> tuple[Any, Any]:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from lyrictui.core.sources.genius_events import (
        ArtistFound,
        RequestNote,
        ScrapeProgress,
        SongFailed,
    )

    console = Console(stderr=True)
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.fields[info]}"), TimeElapsedColumn(),
                        console=console, transient=True, disable=not console.is_terminal)
    task = progress.add_task("Genius", total=None, info="looking up the artist")

    def on_event(batch: list[Any]) -> None:
        progress.start()  # on the first batch, so an early error shows no empty bar
        for event in batch:
            if isinstance(event, ArtistFound):
                progress.update(task, description=safe(event.name)[:40])
            elif isinstance(event, SongFailed):
                progress.console.print(f"failed: {safe(event.title)}: {safe(event.reason)}",
                                       markup=False, highlight=False, soft_wrap=True)
            elif isinstance(event, RequestNote):  # a retry or a server that trickles
                progress.console.print(f"note: {safe(event.text)}", markup=False,
                                       highlight=False, soft_wrap=True)
            elif isinstance(event, ScrapeProgress):
                info = (f"{event.kept} kept, {event.skipped} skipped, {event.failed} failed, "
                        f"{event.requests_per_s:.1f} req/s")
                progress.update(task, completed=event.done, total=event.total or None, info=info)

    return progress, on_event


def _print_summary(s: Any) -> None:
    skipped = sum(s.skipped.values())
    detail = ", ".join(f"{n} {kind}" for kind, n in sorted(s.skipped.items()))
    click.echo(f'{safe(s.artist)}: {plural(s.kept, "song")} stored, {skipped} skipped'
               + (f" ({detail})" if detail else "") + f", {len(s.failed)} failed"
               + (f"; {s.already_stored} already in the library" if s.already_stored else "")
               + f". {s.requests} requests in {s.elapsed:.1f} s ({s.requests_per_s:.1f}/s).")
    for title, reason in s.failed[:10]:
        click.echo(f"  failed: {safe(title)}: {safe(reason)}")
    if s.failed:
        click.echo("Run the same command again to retry the failed songs.")
    if s.cancelled:
        click.echo("Cancelled: stored songs are kept; run the same command to fetch the rest.")
    if skipped:
        click.echo(f'See why songs were skipped: lyrictui songs "{safe(s.artist)}" --skipped')


@click.command(name="import")
@click.argument("name")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--separator", metavar="LINE",
              help="A line that separates songs in one file (default: a '---' line or two "
                   "blank lines; 'none': one song per file).")
@click.option("--dataset", metavar="ID_OR_PATH",
              help="Import a Hugging Face dataset instead, one song per row: a hub id "
                   "(huggingartists/ARTIST), a save_to_disk folder, or a .json/.parquet/.csv file.")
@click.option("--column", default="text", show_default=True,
              help="With --dataset: the column that holds the lyrics.")
def import_(name: str, paths: tuple[Path, ...], separator: str | None, dataset: str | None,
            column: str) -> None:
    """Import NAME's lyrics from .txt / .md files, LyricsGenius .json exports or folders
    (one song per file, or several separated by a '---' line or two blank lines), or with
    --dataset from a Hugging Face dataset."""
    from collections import Counter

    if dataset is not None:
        if paths:
            raise InvalidInput("give files or --dataset, not both")
        _import_dataset(name, dataset, column)
        return
    if not paths:
        raise InvalidInput("give the files or folders to import (or --dataset ID_OR_PATH)")

    from lyrictui.core.sources.importer import FileReport, import_files

    listed = 0
    hidden: Counter[str] = Counter()  # refusals past the first few: counted, not listed
    single = len(paths) == 1 and not paths[0].is_dir()  # its refusal is the error line itself

    def on_file(r: FileReport) -> None:
        nonlocal listed
        shown = safe_line(str(r.path))
        if r.refused:
            if single:
                return
            if listed < MAX_REFUSED_SHOWN:
                listed += 1
                click.echo(f"skipped {shown}: {safe(r.refused)}")
            else:
                hidden[r.refused] += 1
        else:
            extra = [f"{r.already} already imported" if r.already else "",
                     f"{r.duplicates} duplicates" if r.duplicates else "",
                     f"{r.skipped} skipped" if r.skipped else "",
                     f"{r.empty} empty parts" if r.empty else ""]
            notes = ", ".join(e for e in extra if e)
            click.echo(f"{shown}: {plural(r.added, 'song')} added" + (f" ({notes})" if notes
                                                                      else ""))

    summary = import_files(open_library(), name, paths, separator=separator, on_file=on_file)
    if hidden:
        reasons = "; ".join(f"{n:,} {safe(why)}" for why, n in hidden.most_common(3))
        click.echo(f"... and {plural(sum(hidden.values()), 'more file')} skipped ({reasons})")
    refused = len(summary.refused)
    stored = sum(f.added + f.already + f.duplicates + f.skipped for f in summary.files)
    if stored == 0 and single and summary.refused:
        raise InvalidInput(f"nothing imported: {safe_line(str(paths[0]))}: "
                           f"{summary.refused[0].refused}")
    if stored == 0:
        raise InvalidInput(f"nothing imported: all {plural(refused, 'file')} were refused "
                           "(reasons above)")
    click.echo(f'Imported {plural(summary.added, "song")} into "{safe(summary.artist)}"'
               + (f"; {plural(refused, 'file')} skipped" if refused else "") + ".")


def _import_dataset(name: str, source: str, column: str) -> None:
    from lyrictui.core.sources.hfdataset import import_dataset

    r = import_dataset(open_library(), name, source, column=column)
    extra = [f"{r.already} already imported" if r.already else "",
             f"{r.duplicates} duplicates" if r.duplicates else "",
             f"{r.skipped} without lyrics" if r.skipped else "",
             f"{r.not_text} rows not text" if r.not_text else ""]
    notes = ", ".join(e for e in extra if e)
    click.echo(f'Imported {plural(r.added, "song")} into "{safe(r.artist)}" from '
               f"{plural(r.rows, 'row')} of {safe(source)}" + (f" ({notes})" if notes else "")
               + ".")


@click.command()
@click.argument("name")
@click.option("--skipped", is_flag=True, help="List the skipped songs and why.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def songs(name: str, skipped: bool, as_json: bool) -> None:
    """List an artist's songs (or, with --skipped, the songs left out and why)."""
    from lyrictui.core.sources.lyrics import lyric_lines

    lib = open_library()
    artist = lib.get_artist(name)
    rows = [s for s in lib.songs(artist.id, include_skipped=True) if s.skipped == skipped]
    if as_json:
        echo_json([{"id": s.id, "title": s.title, "lines": len(lyric_lines(s.lyrics)),
                    "words": len(s.lyrics.split()), "genius_id": s.genius_id, "url": s.url,
                    "album": s.album, "released": s.released,
                    "skipped_reason": s.skipped_reason} for s in rows])
        return
    kept, skipped_count = lib.song_counts(artist.id)
    if skipped:
        click.echo(f'{safe(artist.name)}: {plural(skipped_count, "skipped song")}')
        for s in rows:
            click.echo(f"  {safe(s.title)[:50]:<50}  {safe(s.skipped_reason or '')}")
        return
    click.echo(f'{safe(artist.name)}: {plural(kept, "song")}'
               + (f" ({skipped_count} skipped: add --skipped to see why)" if skipped_count
                  else ""))
    for s in rows:
        click.echo(f"  {safe(s.title)[:60]:<60} {plural(len(lyric_lines(s.lyrics)), 'line'):>10}")


@click.command()
@click.argument("name")
@click.option("--format", "fmt", type=click.Choice(["txt", "jsonl", "dataset"]), default="txt",
              show_default=True, help="txt re-imports with `lyrictui import`; jsonl for scripts; "
              "dataset: a Hugging Face save_to_disk folder (title, text, album, release_date).")
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="File to write (default, or -: stdout); the folder to create with --format "
                   "dataset.")
def export(name: str, fmt: str, output: Path | None) -> None:
    """Write an artist's songs (not the skipped ones) as text, JSON lines or a dataset."""
    from lyrictui.core.sources.export import render, write_atomic

    lib = open_library()
    artist = lib.get_artist(name)
    if fmt == "dataset" and output is None:
        raise InvalidInput("--format dataset writes a folder: give it with -o DIR")
    rows = lib.songs(artist.id)
    if not rows:
        raise InvalidInput(f'"{artist.name}" has no songs to export: scrape or import some first')
    if fmt == "dataset":
        from lyrictui.core.sources.hfdataset import export_dataset

        assert output is not None
        export_dataset(rows, output)
        click.echo(f"Wrote {plural(len(rows), 'song')} to {safe(str(output))} "
                   "(load it with datasets.load_from_disk).", err=True)
        return
    text = render(rows, fmt)
    if output is None or str(output) == "-":
        click.echo(text, nl=False)
        return
    write_atomic(output, text)
    click.echo(f"Wrote {plural(len(rows), 'song')} to {safe(str(output))}.", err=True)


COMMANDS = [scrape, import_, songs, export]
