"""Hostile text on the way to the Training screen and `lyrictui watch`: an artist name that
looks like markup, and model output / an error message carrying terminal escape sequences
(a byte-level model can write any byte into a training sample)."""

from __future__ import annotations

import json

from click.testing import CliRunner
from rich.text import Text

from lyrictui.app import Services, make_app
from lyrictui.core import paths
from lyrictui.core.store.library import Library
from lyrictui.screens.training import TrainingScreen
from lyrictui.widgets.run_monitor import RunMonitor

NAME = "[b]Bold[/b] Crew"
ESC = "\x1b"


def hostile_run(library: Library) -> str:
    artist = library.add_artist(NAME, "imported")
    run_id = f"{artist.slug}-20261124-120000-abcd"
    folder = paths.runs_dir(artist.slug) / run_id
    folder.mkdir(parents=True)
    events = [
        {"type": "start", "time": 1.0, "total_steps": 4, "epochs": 1},
        {"type": "step", "time": 2.0, "step": 1, "epoch": 0.25, "loss": 5.0},
        {"type": "sample", "time": 3.0, "step": 1,
         "lines": ["a line \x1b[2J\x1b]0;owned\x07 [red]red[/red]", "ok \x1b[31mline"]},
        {"type": "error", "time": 4.0, "message": "boom \x1b[1A\x1b[K [link=x]y[/link]"},
    ]
    (folder / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    library.create_run(run_id, artist.id, status="failed", base="starter", method="full",
                       dir=str(folder), error="boom \x1b[1A")
    return run_id


async def test_the_training_screen_shows_hostile_text_as_plain_text(lyrictui_home) -> None:
    library = Library()
    run_id = hostile_run(library)
    app = make_app(Services(library=library))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f3")
        screen = app.screen
        assert isinstance(screen, TrainingScreen)
        for _ in range(100):
            await pilot.pause(0.05)
            if screen.followed is not None and screen.followed.state.error:
                break
        await pilot.pause(0.2)
        cell = screen.query_one("#runs").get_cell(run_id, "artist")
        assert Text.from_markup(cell).plain == NAME  # the name, not bold "Bold Crew"
        monitor = screen.query_one(RunMonitor)
        title = str(monitor.query_one("#run-title").render())
        assert f"{NAME} · {run_id}" in title
        shown = [str(monitor.query_one(f"#{part}").render()) for part in ("run-samples", "run-stats")]
        shown += list(monitor.query_one("#run-log").lines)
        text = "\n".join(shown)
        assert ESC not in text and "\x07" not in text
        assert "[red]red[/red]" in text and "[link=x]y[/link]" in text  # markup stays text
        assert "boom" in text and "ok line" in text


def test_watch_prints_hostile_text_without_escape_sequences(lyrictui_home) -> None:
    from lyrictui.cli import cli

    run_id = hostile_run(Library())
    shown = CliRunner().invoke(cli, ["watch", run_id, "--once"])
    assert shown.exit_code == 0, shown.output
    assert ESC not in shown.output and "\x07" not in shown.output
    assert NAME in shown.output and "[red]red[/red]" in shown.output and "boom" in shown.output
