"""The app shell: sections by key and palette, the help screen, empty states (Pilot + snapshots)."""

from __future__ import annotations

from pathlib import Path

from textual.command import CommandList, CommandPalette

from lyrictui.app import LyricApp, Services, make_app
from lyrictui.core.store.library import Library
from lyrictui.screens.composer import ComposerScreen
from lyrictui.screens.help import HelpScreen
from lyrictui.screens.library import LibraryScreen
from lyrictui.screens.training import TrainingScreen
from lyrictui.widgets.artist_table import COLUMNS, ArtistTable

SIZE = (100, 30)


def app_for(home: Path) -> LyricApp:
    return make_app(Services(library=Library()))


async def settle(app: LyricApp, pilot) -> None:
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_sections_switch_by_key_and_help_opens(lyrictui_home: Path) -> None:
    app = app_for(lyrictui_home)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, LibraryScreen)
        assert app.screen.has_class("-empty")
        await pilot.press("2")
        await settle(app, pilot)
        assert isinstance(app.screen, TrainingScreen) and app.screen.has_class("-empty")
        await pilot.press("3")
        assert isinstance(app.screen, ComposerScreen)
        await pilot.press("f1")  # "?" is text while the song editor has focus
        assert isinstance(app.screen, HelpScreen)
        help_text = str(app.screen.query_one("Static").render())
        for key in ("Library", "Training", "Composer", "Refresh", "Command palette"):
            assert key in help_text
        await pilot.press("escape")
        assert isinstance(app.screen, ComposerScreen)
        await pilot.press("f2")  # digits are text in the editor; F-keys work everywhere
        assert isinstance(app.screen, LibraryScreen)


def palette_offers(app: LyricApp, title: str) -> bool:
    """The command palette is open and the command Enter would run goes to `title`."""
    if not isinstance(app.screen, CommandPalette):
        return False
    commands = app.screen.query_one(CommandList)
    if commands.option_count == 0:
        return False
    index = 0 if commands.highlighted is None else commands.highlighted
    return title in str(commands.get_option_at_index(index).prompt)


async def test_palette_reaches_every_section(lyrictui_home: Path, wait_until,
                                             wait_for_workers) -> None:
    app = app_for(lyrictui_home)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_workers(app, pilot)
        for title, screen_type in (("Training", TrainingScreen), ("Composer", ComposerScreen),
                                   ("Library", LibraryScreen)):
            await pilot.press("ctrl+p")
            await pilot.press(*title)
            await wait_until(pilot, lambda t=title: palette_offers(app, t), f"{title} offered")
            await pilot.press("enter")
            await wait_until(pilot, lambda s=screen_type: isinstance(app.screen, s),
                             f"the {title} section")


async def test_library_table_shows_artists_from_the_store(lyrictui_home: Path) -> None:
    lib = Library()
    artist = lib.add_artist("Sigur Rós", "imported")
    lib.add_song(artist.id, "Hoppípolla", "la la", source_key="1")
    lib.add_song(artist.id, "Copy", "la la", source_key="2")
    app = make_app(Services(library=lib))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert not app.screen.has_class("-empty")
        table = app.screen.query_one(ArtistTable)
        assert table.row_count == 1
        row = dict(zip(COLUMNS, table.get_row_at(0), strict=True))
        assert (row["Artist"], row["Source"], row["Songs"], row["Skipped"]) == (
            "Sigur Rós", "imported", "1", "1")
        await settle(app, pilot)
        detail = str(app.screen.query_one("#artist-detail").render())
        assert "Hoppípolla" in detail and 'duplicate of "Hoppípolla"' in detail


def test_snapshot_library_empty(snap_compare, lyrictui_home: Path) -> None:
    assert snap_compare(app_for(lyrictui_home), terminal_size=SIZE)


def test_snapshot_training_empty(snap_compare, lyrictui_home: Path) -> None:
    assert snap_compare(app_for(lyrictui_home), press=["2"], terminal_size=SIZE)


async def _starter_loaded(pilot) -> None:
    """Open the composer and wait (bounded, on state) until it has loaded the starter."""
    await pilot.press("f4")
    for _ in range(600):
        screen = pilot.app.screen
        if getattr(screen, "engine", None) is not None:
            break
        await pilot.pause(0.05)
    await pilot.app.workers.wait_for_complete()
    pilot.app.screen.query_one("#song").cursor_blink = False  # a blinking cursor is not stable
    await pilot.pause()


def test_snapshot_composer_with_only_the_starter(snap_compare, lyrictui_home: Path) -> None:
    assert snap_compare(app_for(lyrictui_home), terminal_size=SIZE, run_before=_starter_loaded)


def _stocked_app(home: Path) -> LyricApp:
    lib = Library()
    band = lib.add_artist("The Paper Lanterns", "genius", genius_id=7)
    for i in range(3):
        lib.add_song(band.id, f"Lantern song {i}", f"light number {i}\nburns all night",
                     source_key=f"genius:{i}")
    lib.add_song(band.id, "Lantern song 0 (Live)", "crowd noise", source_key="genius:9",
                 skipped_reason="title variant: live")
    lib.add_artist("Sigur Rós", "imported")
    return make_app(Services(library=lib))


def test_snapshot_library_with_artists_100x30(snap_compare, lyrictui_home: Path) -> None:
    assert snap_compare(_stocked_app(lyrictui_home), press=["down"], terminal_size=SIZE)


def test_snapshot_library_with_artists_80x24(snap_compare, lyrictui_home: Path) -> None:
    assert snap_compare(_stocked_app(lyrictui_home), terminal_size=(80, 24))
