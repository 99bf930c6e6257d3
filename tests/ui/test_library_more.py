"""The Library notices other processes, adds models trained elsewhere, prunes finished runs,
and its import and export dialogs keep what the user typed (Pilot; issue 17 items 12, 16, 17)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from textual.widgets import DirectoryTree, Input

from lyrictui.app import LyricApp, Services, make_app
from lyrictui.core import paths
from lyrictui.core.store.library import Library
from lyrictui.dialogs.add_model import AddModelDialog
from lyrictui.dialogs.export_path import ExportPathDialog, default_export_dir
from lyrictui.dialogs.import_files import ImportFilesDialog
from lyrictui.widgets.artist_table import ArtistTable

SIZE = (100, 30)


def table_names(app: LyricApp) -> list[str]:
    table = app.screen.query_one(ArtistTable)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


def notifications(app: LyricApp) -> list[tuple[str, str]]:
    return [(n.message, n.severity) for n in app._notifications]


async def test_a_cli_import_in_another_process_appears_without_refresh(
        lyrictui_home: Path, tmp_path: Path, wait_for_workers, wait_until) -> None:
    lib = Library()
    lib.add_artist("Already Here", "imported")
    song = tmp_path / "kitchen light.txt"
    song.write_text("the kitchen light is on\nand nobody is home\n", encoding="utf-8")
    app = make_app(Services(library=lib))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_workers(app, pilot)
        assert table_names(app) == ["Already Here"]
        done = subprocess.run([sys.executable, "-m", "lyrictui", "import", "Shell Band",
                               str(song)], env=dict(os.environ), capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        await wait_until(pilot, lambda: "Shell Band" in table_names(app),
                         "the artist imported from a shell", timeout=20)


async def test_add_model_registers_a_folder_and_says_why_not_in_one_line(
        lyrictui_home: Path, tmp_path: Path, tiny_gpt2, wait_for_workers, wait_until) -> None:
    lib = Library()
    folder = tiny_gpt2(tmp_path / "made-elsewhere")
    app = make_app(Services(library=lib))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_workers(app, pilot)
        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(app.screen, AddModelDialog), "the dialog")
        app.screen.query_one("#model-artist", Input).value = "Elsewhere"
        app.screen.query_one("#model-source", Input).value = str(tmp_path / "nothing-here")
        await pilot.press("enter")
        await wait_for_workers(app, pilot)
        errors = [m for m, severity in notifications(app) if severity == "error"]
        assert len(errors) == 1 and "\n" not in errors[0] and "Traceback" not in errors[0]
        assert lib.find_artist("Elsewhere") is None  # nothing left behind

        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(app.screen, AddModelDialog), "the dialog")
        app.screen.query_one("#model-artist", Input).value = "Elsewhere"
        app.screen.query_one("#model-source", Input).value = str(folder)
        await pilot.press("enter")
        await wait_until(pilot, lambda: any(m.startswith("Added model")
                                            for m, _ in notifications(app)), "the model")
        artist = lib.get_artist("Elsewhere")
        assert len(lib.list_models(artist.id)) == 1
        await wait_until(pilot, lambda: "Elsewhere" in table_names(app), "the new artist")


async def test_prune_runs_frees_checkpoints_of_finished_runs(
        lyrictui_home: Path, tmp_path: Path, wait_for_workers, wait_until) -> None:
    from lyrictui.core.train import checkpoints, runs
    from lyrictui.core.train.config import TrainConfig

    lib = Library()
    artist = lib.add_artist("Runner", "imported")
    run = runs.create_run(lib, artist, TrainConfig(base="starter"))
    lib.update_run(run.id, status="completed")
    step = checkpoints.checkpoints_dir(runs.run_dir(run)) / "step-00000001"
    step.mkdir(parents=True)
    (step / "optimizer.safetensors").write_bytes(b"\0" * 50_000)
    app = make_app(Services(library=lib))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_workers(app, pilot)
        await pilot.press("f")
        await wait_until(pilot, lambda: any(m.startswith("Freed")
                                            for m, _ in notifications(app)), "the prune")
        said = next(m for m, _ in notifications(app) if m.startswith("Freed"))
        assert paths.human_size(50_000) in said and "1 finished run" in said
        assert not step.exists()


async def test_import_dialog_leaves_the_artist_empty_and_the_tree_follows_the_path(
        lyrictui_home: Path, tmp_path: Path, wait_for_workers, wait_until) -> None:
    lib = Library()
    lib.add_artist("Selected Demo", "demo")
    (tmp_path / "lyrics" / "deeper").mkdir(parents=True)
    app = make_app(Services(library=lib))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_workers(app, pilot)
        assert app.screen.query_one(ArtistTable).selected_artist_id is not None
        await pilot.press("i")
        await wait_until(pilot, lambda: isinstance(app.screen, ImportFilesDialog), "dialog")
        assert app.screen.query_one("#import-name", Input).value == ""
        app.screen.query_one("#import-path", Input).value = str(tmp_path / "lyrics")
        tree = app.screen.query_one(DirectoryTree)
        await wait_until(pilot, lambda: Path(tree.path) == tmp_path / "lyrics", "the tree")
        app.screen.query_one("#import-path", Input).value = str(tmp_path / "lyrics" / "x.txt")
        await pilot.pause()
        assert Path(tree.path) == tmp_path / "lyrics"  # a file's folder


async def test_export_keeps_a_path_whose_folder_is_missing_and_writes_0644(
        lyrictui_home: Path, tmp_path: Path, wait_for_workers, wait_until) -> None:
    lib = Library()
    artist = lib.add_artist("Exporter", "imported")
    lib.add_song(artist.id, "One", "a line of words", source_key="1")
    app = make_app(Services(library=lib))
    old_umask = os.umask(0o022)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for_workers(app, pilot)
            await pilot.press("e")
            await wait_until(pilot, lambda: isinstance(app.screen, ExportPathDialog), "dialog")
            field = app.screen.query_one(Input)
            assert Path(field.value).parent == default_export_dir()
            typed = str(tmp_path / "no-such-folder" / "songs.txt")
            field.value = typed
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, ExportPathDialog), "the dialog stays open"
            assert field.value == typed
            assert "does not exist" in str(app.screen.query_one("#prompt-error").render())
            field.value = str(tmp_path / "songs.txt")
            await pilot.press("enter")
            await wait_until(pilot, lambda: (tmp_path / "songs.txt").exists(), "the export")
            await wait_for_workers(app, pilot)
    finally:
        os.umask(old_umask)
    assert (tmp_path / "songs.txt").stat().st_mode & 0o777 == 0o644


async def test_library_columns_up_to_disk_fit_at_80x24(lyrictui_home: Path,
                                                       wait_for_workers) -> None:
    lib = Library()
    artist = lib.add_artist("Public-domain verse (demo)", "demo")
    lib.add_song(artist.id, "One", "a line of words", source_key="1")
    app = make_app(Services(library=lib))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_workers(app, pilot)
        table = app.screen.query_one(ArtistTable)
        right = 0
        for column in table.ordered_columns:
            right += column.get_render_width(table)
            if str(column.label) == "Disk":
                break
        assert right <= table.scrollable_content_region.width
