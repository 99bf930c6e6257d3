"""The composer with a real (tiny) model: suggestions, taking one by key, drafts (Pilot)."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from lyrictui.app import Services, make_app
from lyrictui.core import paths
from lyrictui.core.store.library import Library
from lyrictui.dialogs.open_draft import OpenDraftDialog
from lyrictui.screens.composer import ComposerScreen
from lyrictui.widgets.line_gutter import LineGutter
from lyrictui.widgets.song_editor import SongEditor
from lyrictui.widgets.suggestion_list import ShownCandidate, SuggestionList

SIZE = (100, 30)


@pytest.fixture
def stocked(tiny_gpt2) -> Library:
    lib = Library()
    artist = lib.add_artist("Tiny Band", "imported")
    lib.add_song(artist.id, "One", "hello there my friend", source_key="1")
    folder = tiny_gpt2(paths.models_dir(artist.slug) / "tiny")
    lib.add_model("tiny", artist.id, base="gpt2", method="full", path=str(folder),
                  val_loss=5.0, perplexity=148.0, size_bytes=paths.dir_size(folder))
    return lib


async def wait_for(pilot, seen: list, kind: type, timeout: float = 30.0):
    """Wait (on messages, not a fixed sleep) until a message of `kind` was posted."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not any(isinstance(m, kind) for m in seen):
        assert loop.time() < deadline, f"no {kind.__name__} within {timeout} s"
        await pilot.pause(0.05)
    return next(m for m in seen if isinstance(m, kind))


@asynccontextmanager
async def composer(library: Library):
    """The app on the composer with its model loaded: (app, pilot, screen, seen messages)."""
    seen: list = []
    app = make_app(Services(library=library))
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await pilot.press("f4")
        await wait_for(pilot, seen, ComposerScreen.EngineReady)
        assert isinstance(app.screen, ComposerScreen)
        yield app, pilot, app.screen, seen


async def test_write_take_a_suggestion_undo_save_and_reopen(stocked: Library) -> None:
    async with composer(stocked) as (app, pilot, screen, seen):
        editor = screen.query_one(SongEditor)
        await pilot.press(*"The night is long", "enter")
        seen.clear()
        ready = await wait_for(pilot, seen, ComposerScreen.SuggestionsReady)
        assert ready.context == "The night is long\n"
        shown = screen.query_one(SuggestionList).candidates
        assert 1 <= len(shown) <= 5
        assert all(c.text.strip() and "\n" not in c.text for c in shown)
        assert len({c.text for c in shown}) == len(shown)
        # The gutter counts syllables beside each line.
        assert screen.query_one(LineGutter).infos[0].syllables == 4
        await pilot.press("alt+1")
        await pilot.pause()
        assert editor.text.split("\n")[:2] == ["The night is long", shown[0].text]
        await pilot.press("ctrl+z")  # undo takes the accepted line back
        await pilot.pause()
        assert editor.text.split("\n")[0] == "The night is long"
        assert shown[0].text not in editor.text
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()  # the save runs in a thread worker
        drafts = stocked.list_drafts()
        assert [d.title for d in drafts] == ["The night is long"]
        assert drafts[0].text == editor.text
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert editor.text == ""
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, OpenDraftDialog)
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert editor.text == drafts[0].text


async def test_stale_suggestions_are_dropped(stocked: Library) -> None:
    async with composer(stocked) as (app, pilot, screen, seen):
        editor = screen.query_one(SongEditor)
        await pilot.press(*"First line", "enter")
        seen.clear()
        await wait_for(pilot, seen, ComposerScreen.SuggestionsReady)
        await pilot.pause()
        before = [c.text for c in screen.query_one(SuggestionList).candidates]
        ghost = editor.suggestion
        # A result made for text that is no longer on screen must not be shown: not in the
        # list, not as the ghost line.
        stale = ShownCandidate("a line that was made for other text", 9, None)
        seen.clear()
        screen.post_message(ComposerScreen.SuggestionsReady("something else\n", [stale], False))
        await wait_for(pilot, seen, ComposerScreen.SuggestionsReady)
        await pilot.pause()
        shown = [c.text for c in screen.query_one(SuggestionList).candidates]
        assert stale.text not in shown
        assert shown == before
        assert editor.suggestion == ghost != stale.text


async def test_the_ghost_line_only_sits_on_an_empty_line_and_leaves_with_the_cursor(
    stocked: Library,
) -> None:
    async with composer(stocked) as (app, pilot, screen, seen):
        editor = screen.query_one(SongEditor)
        await pilot.press(*"The night is long", "enter")
        seen.clear()
        await wait_for(pilot, seen, ComposerScreen.SuggestionsReady)
        await pilot.pause()
        first = screen.query_one(SuggestionList).candidates[0].text
        assert editor.suggestion == first  # the empty second line shows the top candidate
        await pilot.press("up", "end")  # the ghost was for line 2, not the end of line 1
        await pilot.pause()
        assert editor.suggestion == ""
        await pilot.press("tab")
        await pilot.pause()
        assert editor.text == "The night is long\n"
        # Asked for at the start of a line that has text: candidates, but no ghost on it.
        editor.focus()
        editor.move_cursor((0, 0))
        seen.clear()
        await pilot.press("ctrl+g")
        await wait_for(pilot, seen, ComposerScreen.SuggestionsReady)
        await pilot.pause()
        assert screen.query_one(SuggestionList).candidates
        assert editor.suggestion == ""


async def test_pasted_text_keeps_its_lines_but_not_escape_sequences(stocked: Library) -> None:
    from textual.events import Paste

    async with composer(stocked) as (app, pilot, screen, seen):
        editor = app.screen.query_one(SongEditor)
        editor.focus()
        # As the terminal driver delivers a paste: to the app, which hands it to the focus.
        app.post_message(Paste("\x1b[31mRed\x1b[0m rose\r\nBlue\u200b sky\x07\r\n"))
        await pilot.pause()
        assert editor.text == "Red rose\nBlue sky\n"


async def test_without_a_trained_model_the_starter_is_offered_with_a_way_forward(
    lyrictui_home: Path,
) -> None:
    async with composer(Library()) as (app, pilot, screen, seen):
        await pilot.pause()
        assert app.screen.query_one("#model-picker").value == "starter"
        note = app.screen.query_one("#model-note")
        assert note.display and app.screen.has_class("-starter")
        assert "starter" in str(note.render()) and "train" in str(note.render())
