"""Library actions through the UI: rename and delete with their dialogs (Pilot)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lyrictui.app import Services, make_app
from lyrictui.core import paths
from lyrictui.core.store.library import Library
from lyrictui.dialogs.confirm import ConfirmDialog
from lyrictui.dialogs.text_prompt import TextPromptDialog
from lyrictui.widgets.artist_table import ArtistTable

SIZE = (100, 30)


async def settle(app, pilot) -> None:
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


def stock() -> Library:
    lib = Library()
    artist = lib.add_artist("Old Name", "imported")
    lib.add_song(artist.id, "A song", "some words", source_key="1")
    folder = paths.models_dir(artist.slug) / "m"
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"\0" * 4096)
    return lib


async def test_rename_through_dialog_refuses_bad_names_first(lyrictui_home: Path) -> None:
    lib = stock()
    app = make_app(Services(library=lib))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, TextPromptDialog)
        app.screen.query_one("Input").value = "   "
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, TextPromptDialog), "an empty name must not be accepted"
        assert "empty" in str(app.screen.query_one("#prompt-error").render())
        app.screen.query_one("Input").value = "New Name"
        await pilot.press("enter")
        await settle(app, pilot)
        assert [a.name for a in lib.list_artists()] == ["New Name"]
        assert app.screen.query_one(ArtistTable).get_row_at(0)[0] == "New Name"


async def test_delete_asks_with_size_and_cancel_keeps_everything(lyrictui_home: Path) -> None:
    lib = stock()
    slug = lib.list_artists()[0].slug
    app = make_app(Services(library=lib))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        body = str(app.screen.query_one("#confirm-body").render())
        assert "1 song," in body and "4.0 KB" in body
        await pilot.press("escape")
        await settle(app, pilot)
        assert len(lib.list_artists()) == 1 and paths.artist_dir(slug).exists()
        await pilot.press("d")
        await pilot.pause()
        await pilot.click("#confirm")
        await settle(app, pilot)
        assert lib.list_artists() == [] and not paths.artist_dir(slug).exists()
        assert app.screen.has_class("-empty")


async def test_delete_model_says_what_it_frees_and_removes_the_folder(lyrictui_home: Path) -> None:
    lib = stock()
    artist = lib.list_artists()[0]
    folder = paths.models_dir(artist.slug) / "m"
    lib.add_model("m", artist.id, base="gpt2", method="full", path=str(folder), size_bytes=4096)
    app = make_app(Services(library=lib))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("m")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        assert "4.0 KB" in str(app.screen.query_one("#confirm-body").render())
        await pilot.click("#confirm")
        await settle(app, pilot)
        assert lib.list_models(artist.id) == [] and not folder.exists()
        assert len(lib.list_artists()) == 1  # the artist and its songs stay


async def _train_dialog_bases(pilot, app) -> tuple[object, list[str]]:
    """Open the train dialog on the selected artist and wait for its base list."""
    from textual.widgets import Select

    from lyrictui.dialogs.train_options import TrainOptionsDialog

    await settle(app, pilot)
    await pilot.press("t")
    for _ in range(100):  # the dialog checks the bases in a thread
        await pilot.pause(0.05)
        if isinstance(app.screen, TrainOptionsDialog):
            select = app.screen.query_one("#train-base", Select)
            labels = [str(label) for label, _value in select._options]
            if len(labels) > 1:
                return select.value, labels
    raise AssertionError("the train dialog never listed its bases")


@pytest.mark.parametrize("hub_reachable", [False, True], ids=["offline", "online"])
async def test_train_dialog_starts_on_a_base_that_is_here_when_offline(
        lyrictui_home: Path, monkeypatch: pytest.MonkeyPatch, hub_reachable: bool) -> None:
    from huggingface_hub import constants

    from lyrictui.core.engine import bases

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(lyrictui_home / "hf"))  # nothing downloaded
    monkeypatch.setattr(bases, "hub_unreachable", lambda: not hub_reachable)
    stock()
    app = make_app(Services(library=Library()))
    async with app.run_test(size=SIZE) as pilot:
        value, labels = await _train_dialog_bases(pilot, app)
        gpt2 = next(label for label in labels if label.startswith("gpt2 "))
        if hub_reachable:
            assert value == "gpt2" and "offline" not in gpt2
        else:
            assert value == "starter" and "offline now" in gpt2
        await pilot.press("escape")


@pytest.mark.parametrize("size", [(80, 24), (100, 30)], ids=["80x24", "100x30"])
async def test_train_dialog_shows_its_plan_base_and_buttons_whole(lyrictui_home: Path,
                                                                   size) -> None:
    """At 80x24 the whole plan, the base and the buttons show without scrolling (the rest of
    the form scrolls)."""
    from textual.widgets import Select

    stock()
    app = make_app(Services(library=Library()))
    async with app.run_test(size=size) as pilot:
        await _train_dialog_bases(pilot, app)
        dialog = app.screen
        summary = dialog.query_one("#train-summary")
        for _ in range(100):  # the plan is measured in a thread: wait for its full text
            await pilot.pause(0.05)
            if "optimizer steps" in str(summary.render()):
                break
        await pilot.pause()
        assert "optimizer steps" in str(summary.render())
        screen_region = dialog.region
        for widget in (summary, dialog.query_one("#train-base", Select), dialog.query_one("#ok")):
            region = widget.region
            assert region.height > 0 and screen_region.contains_region(region), widget
            assert widget.scrollable_content_region.height >= 1
            scroll = widget.parent
            while scroll is not None and not getattr(scroll, "is_scrollable", False):
                scroll = scroll.parent
            if scroll is not None and scroll is not dialog:  # not clipped by the form's scroll
                assert scroll.region.contains_region(region), widget
        assert dialog.query_one("#train-note").display is (size[1] >= 30)


async def test_refresh_rereads_the_detail_of_the_same_artist(lyrictui_home: Path) -> None:
    """Songs added by another process (a scrape, the CLI) show in the detail pane after `r`,
    although the highlighted artist did not change."""
    from lyrictui.widgets.artist_detail import ArtistDetail

    lib = stock()
    app = make_app(Services(library=Library()))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        detail = app.screen.query_one(ArtistDetail)
        assert "Songs (1)" in str(detail.content)
        artist = lib.find_artist("Old Name")
        lib.add_song(artist.id, "Another song", "more words", source_key="2")
        await pilot.press("r")
        await settle(app, pilot)
        assert "Songs (2)" in str(detail.content) and "Another song" in str(detail.content)
