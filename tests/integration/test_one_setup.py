"""The CLI and the app set up each action the same way (core/train/start.py): the same inputs
start the same run and pack the same dataset, and both honour the `device` setting."""

from __future__ import annotations

import asyncio
import time

import pytest
from click.testing import CliRunner

from lyrictui.app import Services, make_app
from lyrictui.cli import cli
from lyrictui.core import config as settings
from lyrictui.core.errors import InvalidInput
from lyrictui.core.store.library import Library
from lyrictui.core.train import runs
from lyrictui.dialogs.train_options import TrainOptionsDialog
from lyrictui.screens.library import LibraryScreen

SIZE = (100, 30)


async def wait_until(pilot, condition, timeout: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.1)


def wait_finished(library: Library, run_id: str, timeout: float = 180) -> str:
    """Wait for a detached run's process to end; returns its final status."""
    deadline = time.monotonic() + timeout
    while True:
        run = library.get_run(run_id)
        if run.status not in runs.ACTIVE:
            return run.status
        assert time.monotonic() < deadline, f"run {run_id} still {run.status}"
        runs.mark_stale_runs(library)
        time.sleep(0.2)


async def test_cli_and_app_start_the_same_run(tmp_path, tiny_gpt2, library,
                                              add_corpus) -> None:
    # A base whose window (128) is below the default block size (512): both front ends must
    # shrink the default instead of failing, and both must read the device setting.
    base = tiny_gpt2(tmp_path / "small-window", n_positions=128)
    settings.set_value("device", "cpu")
    artist = add_corpus(library, "Same Band")

    result = CliRunner().invoke(cli, ["train", artist.name, "--base", str(base), "--epochs", "1",
                                      "--detach"])
    assert result.exit_code == 0, result.output
    cli_run = library.get_run(result.output.strip().splitlines()[-1])
    # One run per artist at a time: the app's run starts once the CLI's has ended.
    assert wait_finished(library, cli_run.id) == "completed"

    app = make_app(Services(library=library))
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("t")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, TrainOptionsDialog)
        dialog.query_one("#train-epochs").value = "1"
        dialog.query_one("#train-base-path").value = str(base)
        await pilot.click("#ok")
        await wait_until(pilot, lambda: len(library.list_runs(artist.id)) == 2, 30,
                         "the app's run to start")
    app_run = next(r for r in library.list_runs(artist.id) if r.id != cli_run.id)

    cli_config, app_config = runs.run_config(cli_run), runs.run_config(app_run)
    # At most the window (the budget may pick a smaller block for this small corpus).
    assert cli_config.device == "cpu" and cli_config.block_size <= 128
    assert app_config.to_dict() == cli_config.to_dict()
    assert wait_finished(library, app_run.id) == "completed"


async def test_cli_and_app_pack_the_same_dataset(library, add_corpus) -> None:
    # Offline (the suite's environment) with gpt2 not downloaded, both pack for the base a run
    # would then use: the bundled starter.
    artist = add_corpus(library, "Pack Band", songs=60)
    app = make_app(Services(library=library))
    ended: list[LibraryScreen.JobEnded] = []

    def hook(message) -> None:
        if isinstance(message, LibraryScreen.JobEnded):
            ended.append(message)

    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("p")
        await wait_until(pilot, lambda: ended, 60, "the pack to end")
    assert not ended[0].error, ended[0].message
    packed = library.latest_dataset(artist.id)
    assert packed is not None and packed.base == "starter"

    result = CliRunner().invoke(cli, ["pack", artist.name])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Already packed"), result.output
    again = library.latest_dataset(artist.id)
    assert again is not None and again.key == packed.key


def test_suggestions_follow_the_device_setting(tiny_model_dir) -> None:
    import torch

    from lyrictui.core.engine.suggest import Suggester

    settings.set_value("device", "cpu")
    assert Suggester.load(str(tiny_model_dir)).loaded.device == "cpu"
    settings.set_value("device", "cuda")
    if torch.cuda.is_available():
        assert Suggester.load(str(tiny_model_dir)).loaded.device.startswith("cuda")
    else:
        with pytest.raises(InvalidInput, match="CUDA is not available"):
            Suggester.load(str(tiny_model_dir))
