"""`lyrictui pack`: turn an artist's songs into a training dataset."""

from __future__ import annotations

from typing import Any

import click

from lyrictui.commands.common import echo_json, open_library, safe
from lyrictui.core.names import plural
from lyrictui.core.train.config import TrainConfig


@click.command()
@click.argument("name")
@click.option("--base", help="Whose tokenizer and window: gpt2, starter (bundled, offline), a hub "
              "id or a model folder [as `lyrictui train`: gpt2, or starter offline].")
@click.option("--block-size", type=int, help=f"Tokens per training block [{TrainConfig.block_size}, "
              "or the base's window if smaller].")
@click.option("--val-fraction", type=float, help="Share of songs held out for validation, chosen "
              f"by song, stable [{TrainConfig.val_fraction}].")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def pack(name: str, base: str | None, block_size: int | None, val_fraction: float | None,
         as_json: bool) -> None:
    """Pack NAME's songs into train/validation blocks (instant when nothing changed)."""
    from lyrictui.core.train.start import pack_for_training

    lib = open_library()
    artist = lib.get_artist(name)
    progress, on_progress = _progress(enabled=not as_json)
    try:
        result = pack_for_training(lib, artist, base=base, block_size=block_size,
                                   val_fraction=val_fraction, on_progress=on_progress)
    finally:
        if progress is not None and progress.live.is_started:
            progress.stop()
    if as_json:
        echo_json({"artist": artist.name, **result.summary()})
        return
    s = result.stats
    head = "Already packed" if result.cached else "Packed"
    click.echo(f'{head} "{safe(artist.name)}" for {safe(result.record.base)}: '
               f"{s.train_songs + s.val_songs} songs ({s.train_songs} train, "
               f"{s.val_songs} validation), {s.tokens:,} tokens "
               f"({s.tokens_per_song:,.0f} per song).")
    short = "" if s.val_tokens >= s.block_size else f" (one shorter block of {s.val_tokens})"
    click.echo(f"Blocks of {s.block_size} tokens: {s.train_blocks} train, "
               f"{s.val_blocks} validation{short}; {plural(s.dropped_tokens, 'token')} left "
               f"over at the ends of the splits, dropped.")
    if result.cached:
        click.echo(f"Nothing changed since it was packed: {result.path}")
    else:
        click.echo(f"Saved to {result.path} in {result.seconds:.1f} s.")


def _progress(enabled: bool) -> tuple[Any, Any]:
    """A transient rich bar for tokenizing (big corpora take seconds), shown once work starts."""
    from rich.console import Console

    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
        return None, None
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                        console=console, transient=True)
    task = progress.add_task("tokenizing", total=1.0)

    def on_progress(stage: str, done: float) -> None:
        if not progress.live.is_started:
            progress.start()
        progress.update(task, description=stage, completed=done)

    return progress, on_progress


COMMANDS = [pack]
