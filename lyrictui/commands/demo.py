"""The `demo` command: bring back the demo artist after it was deleted."""

from __future__ import annotations

import click

from lyrictui.commands.common import echo_json, open_library


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def demo(as_json: bool) -> None:
    """Restore the demo artist: public-domain verse with the bundled starter model."""
    from lyrictui.core.sources.demo import DEMO_MODEL_ID, restore_demo

    lib = open_library()
    existed = any(a.source == "demo" for a in lib.list_artists())
    artist = restore_demo(lib)
    kept, _skipped = lib.song_counts(artist.id)
    has_model = any(m.id == DEMO_MODEL_ID for m in lib.list_models(artist.id))
    if as_json:
        echo_json({"name": artist.name, "slug": artist.slug, "songs": kept,
                   "model": DEMO_MODEL_ID if has_model else None, "existed": existed})
        return
    verb = "is in the library" if existed else "is back"
    model = ("its model is the bundled starter (a small demo model; fine-tune gpt2 on a GPU "
             "for real quality)") if has_model else "the starter model is not installed"
    click.echo(f'"{artist.name}" {verb}: {kept} songs; {model}.')


COMMANDS = [demo]
