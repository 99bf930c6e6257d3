"""Before a run starts, `lyrictui train` and the train dialog show the same plan: the songs,
tokens, optimizer steps and expected time, and say plainly when the data are too small; the
plan's validation split holds out whole songs, and a pack made first is the one the run uses."""

from __future__ import annotations

import asyncio
from pathlib import Path

from click.testing import CliRunner

from lyrictui.app import Services, make_app
from lyrictui.cli import cli
from lyrictui.core.sources.importer import import_files
from lyrictui.core.train import budget, start
from lyrictui.dialogs.train_options import TrainOptionsDialog

SONGS = Path(__file__).resolve().parent.parent / "data" / "original-songs"


def import_original(library, name: str = "Original", count: int | None = None):
    files = sorted(SONGS.glob("*.txt"))[:count]
    import_files(library, name, files)
    return library.get_artist(name)


def test_cli_shows_songs_tokens_steps_and_time_before_starting(library) -> None:
    artist = import_original(library)
    result = CliRunner().invoke(cli, ["train", artist.name, "--base", "starter", "--device",
                                      "cpu", "--dry-run"])
    assert result.exit_code == 0, result.output
    plan = start.plan_run_full(library, artist, "starter", device="cpu")
    # The same lines (the speed is probed again, so the time line may differ in its figures).
    assert result.output.splitlines()[:2] == plan.lines()[:2]
    text = result.output
    assert f"{plan.size.songs} songs" in text and f"{plan.size.tokens:,} tokens" in text
    assert f"{plan.steps:,} optimizer steps" in text and "expected time on cpu" in text
    assert "tokens/s" in text and "Too little" not in text
    assert not library.list_runs(artist.id)  # a dry run starts nothing
    # 32 songs of a few thousand tokens: the budget's steps, not 2 epochs of 512-token blocks.
    assert plan.config.max_steps == plan.steps >= budget.MIN_STEPS
    assert plan.config.epochs is None


def test_too_few_songs_are_named_with_what_it_needs(library) -> None:
    artist = import_original(library, "Few", count=12)
    result = CliRunner().invoke(cli, ["train", artist.name, "--base", "starter", "--device",
                                      "cpu", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Too little to learn a style from: 12 songs (it needs at least 30)" in result.output


def test_thirty_songs_hold_out_several_whole_songs_and_the_pack_is_reused(library) -> None:
    artist = import_original(library, "Thirty", count=30)
    config = start.plan_run(library, artist, "starter", device="cpu")
    packed = start.pack_for_training(library, artist, base="starter")
    assert packed.stats.val_songs >= budget.MIN_VAL_SONGS
    assert packed.stats.block_size == config.block_size < 512
    assert packed.record.val_fraction == config.val_fraction
    from lyrictui.core.pack.packing import pack

    again = pack(library, artist, base=config.base, block_size=config.block_size,
                 val_fraction=config.val_fraction)
    assert again.cached and again.record.key == packed.record.key


async def test_the_train_dialog_shows_the_same_plan(library) -> None:
    artist = import_original(library)
    expected = start.plan_run_full(library, artist, "starter", device="cpu").lines()
    from lyrictui.core import config as settings

    settings.set_value("device", "cpu")
    app = make_app(Services(library=library))
    async with app.run_test(size=(110, 40)) as pilot:
        await app.workers.wait_for_complete()
        app.push_screen(TrainOptionsDialog(artist.name, default_base="starter"))
        await pilot.pause()
        summary = app.screen.query_one("#train-summary")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while "optimizer steps" not in str(summary.render()):
            assert loop.time() < deadline, "the dialog never showed the plan"
            await pilot.pause(0.1)
        shown = str(summary.render())
    # The speed line may differ (the probe is measured again); the rest is the same plan.
    assert shown.splitlines()[:2] == expected[:2]
    assert "expected time on cpu" in shown
