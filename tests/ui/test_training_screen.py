"""The Training screen at 80x24: a new active run is selected when it appears, the Status
column is whole, the cancel dialog says what each button does, and the loss chart names its
series outside the plot (Pilot; issue 17 items 10, 13, 18)."""

from __future__ import annotations

import os
import time

from textual.widgets import Button, DataTable

from lyrictui.app import Services, make_app
from lyrictui.core.store.library import Library
from lyrictui.core.train import runs
from lyrictui.core.train.config import TrainConfig
from lyrictui.dialogs.confirm import ConfirmDialog
from lyrictui.screens.training import TrainingScreen
from lyrictui.widgets.loss_chart import LossChart

SIZE = (80, 24)


def make_run(lib: Library, artist, status: str, started_at: float) -> str:
    run = runs.create_run(lib, artist, TrainConfig(base="starter"))
    # This test process stands in for the training process: alive, with a fresh heartbeat.
    lib.update_run(run.id, status=status, pid=os.getpid(), heartbeat_at=time.time(),
                   started_at=started_at)
    return run.id


def cursor_run(screen: TrainingScreen) -> str | None:
    return screen._selected_id()


async def test_a_new_active_run_is_selected_and_followed(lyrictui_home, wait_for_workers,
                                                         wait_until) -> None:
    lib = Library()
    artist = lib.add_artist("Runner", "imported")
    other = lib.add_artist("Another", "imported")
    old = make_run(lib, artist, "completed", time.time() - 3600)
    older = make_run(lib, other, "cancelled", time.time() - 7200)
    app = make_app(Services(library=lib))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_workers(app, pilot)
        await pilot.press("f3")
        screen = app.screen
        assert isinstance(screen, TrainingScreen)
        await wait_until(pilot, lambda: screen.followed is not None, "a followed run")
        table = screen.query_one("#runs", DataTable)
        table.move_cursor(row=table.get_row_index(older))  # the user looks at an old run
        await wait_until(pilot, lambda: screen.followed.run_id == older, "the old run")
        new = make_run(lib, artist, "running", time.time())
        assert old != new
        await wait_until(pilot, lambda: screen.followed.run_id == new
                         and cursor_run(screen) == new, "the new run selected", timeout=20)


async def test_status_column_is_whole_at_80_columns(lyrictui_home, wait_for_workers,
                                                    wait_until) -> None:
    lib = Library()
    artist = lib.add_artist("A Band With A Rather Long Name", "imported")
    make_run(lib, artist, "cancelled", time.time() - 60)
    app = make_app(Services(library=lib))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_workers(app, pilot)
        await pilot.press("f3")
        screen = app.screen
        table = screen.query_one("#runs", DataTable)
        await wait_until(pilot, lambda: table.row_count == 1, "the run")
        await pilot.pause()
        visible = table.scrollable_content_region.width
        right = 0
        for column in table.ordered_columns:
            right += column.get_render_width(table)
            if str(column.label) == "Status":
                break
        assert right <= visible, (right, visible)
        status = [c for c in table.ordered_columns if str(c.label) == "Status"][0]
        assert status.get_render_width(table) - 2 * table.cell_padding >= len("cancelled")


async def test_cancel_dialog_buttons_say_what_they_do(lyrictui_home, wait_for_workers,
                                                      wait_until) -> None:
    lib = Library()
    artist = lib.add_artist("Runner", "imported")
    run_id = make_run(lib, artist, "running", time.time())
    app = make_app(Services(library=lib))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_workers(app, pilot)
        await pilot.press("f3")
        screen = app.screen
        await wait_until(pilot, lambda: cursor_run(screen) == run_id, "the run")
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the dialog")
        labels = [str(b.label) for b in app.screen.query(Button)]
        assert labels == ["Keep training", "Cancel run"]
        await pilot.press("escape")
        await pilot.pause()
        assert lib.get_run(run_id).status == "running"
        assert not runs.stop_requested(runs.run_dir(lib.get_run(run_id)))
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the dialog")
        await pilot.click("#confirm")
        await wait_until(pilot, lambda: runs.stop_requested(runs.run_dir(lib.get_run(run_id))),
                         "the stop file")
        await wait_for_workers(app, pilot)
        assert any(n.severity == "information" for n in app._notifications)


def test_loss_chart_names_its_series_outside_the_plot() -> None:
    chart = LossChart()
    chart.show([(1, 3.0), (2, 2.5), (3, 2.0)], [(2, 2.8), (3, 2.4)])
    chart.plt.plotsize(60, 16)
    lines = chart.plt.build().splitlines()
    title, plot = lines[0], "\n".join(lines[1:])
    assert "train" in title and "validation" in title
    assert "train" not in plot and "validation" not in plot
