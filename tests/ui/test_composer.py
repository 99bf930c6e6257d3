"""The composer with a real (tiny) model: suggestions, taking one by key, drafts (Pilot)."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import pytest
from textual.widgets import Input

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
        seen.clear()
        await pilot.press("tab")  # the grey ghost line is the top candidate
        await pilot.pause()
        assert editor.text.split("\n")[:3] == ["The night is long", shown[0].text, ""]
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


# -- keys as terminals send them -----------------------------------------------------------

FUNCTION_KEYS = {"f1": "\x1bOP", "f2": "\x1bOQ", "f3": "\x1bOR", "f4": "\x1bOS",
                 "f5": "\x1b[15~", "f6": "\x1b[17~", "f7": "\x1b[18~", "f8": "\x1b[19~",
                 "f9": "\x1b[20~", "f10": "\x1b[21~"}
NAMED = {"tab": "\t", "shift+tab": "\x1b[Z", "enter": "\r", "escape": "\x1b",
         "up": "\x1b[A", "down": "\x1b[B", "alt+up": "\x1b[1;3A", "alt+down": "\x1b[1;3B",
         "question_mark": "?"}


def legacy_bytes(key: str) -> str:
    """What a terminal without the kitty keyboard protocol (tmux and screen by default, xterm,
    GNOME Terminal, iTerm2, Windows Terminal, VS Code) sends for `key`: alt is ESC first."""
    if key in NAMED:
        return NAMED[key]
    if key in FUNCTION_KEYS:
        return FUNCTION_KEYS[key]
    if key.startswith("ctrl+") and len(key) == 6:
        return chr(ord(key[-1]) & 0x1F)
    if key.startswith("alt+"):
        return "\x1b" + legacy_bytes(key[4:])
    assert len(key) == 1, key
    return key


def parse_keys(data: str) -> list:
    """`data` read by Textual's own terminal parser, as the app receives it."""
    from textual._xterm_parser import XTermParser

    parser = XTermParser()
    return [*parser.feed(data), *parser.feed("")]


def test_every_composer_key_arrives_as_itself_from_a_plain_terminal() -> None:
    from textual.binding import Binding

    from lyrictui.widgets.song_editor import SongEditor

    keys = set()
    for owner in (ComposerScreen, SongEditor, SuggestionList):
        for binding in owner.BINDINGS:
            assert isinstance(binding, Binding) and binding.description, binding
            keys.update(k.strip() for k in binding.key.split(","))
    # The keys that take suggestions, show the next one and undo are declared, with words.
    assert {"tab", "shift+tab", "ctrl+z", "1", "ctrl+g"} <= keys
    for key in sorted(keys):
        received = [event.key for event in parse_keys(legacy_bytes(key))]
        assert received == [key], f"{key} arrives as {received}"


async def test_raw_bytes_take_cycle_and_undo_suggestions(stocked: Library) -> None:
    async with composer(stocked) as (app, pilot, screen, seen):
        editor = screen.query_one(SongEditor)

        async def send(data: str) -> None:
            for event in parse_keys(data):
                app.post_message(event)  # what the driver does with what it parsed
            await pilot.pause()

        seen.clear()
        await send("The night is long\r")
        await wait_for(pilot, seen, ComposerScreen.SuggestionsReady)
        await pilot.pause()
        shown = screen.query_one(SuggestionList).candidates
        assert len(shown) >= 2
        assert editor.suggestion == shown[0].text
        await send("\x1b[Z")  # shift+Tab: the next candidate in grey
        assert editor.suggestion == shown[1].text
        assert screen.query_one(SuggestionList).highlighted == 1
        seen.clear()
        await send("\t")  # Tab takes it, on its own line, with a new line after it
        assert editor.text == f"The night is long\n{shown[1].text}\n"
        assert editor.cursor_location == (2, 0)
        # ... and the next suggestions come for the song with the taken line in it.
        ready = await wait_for(pilot, seen, ComposerScreen.SuggestionsReady)
        assert ready.context == editor.text
        await send("\x1a")  # ctrl+z takes the line back
        assert editor.text == "The night is long\n"
        # What tmux sends for alt+1 is not a composer key: no candidate is taken by it.
        assert [e.key for e in parse_keys("\x1b1")] != ["alt+1"]


# -- locks, section tags --------------------------------------------------------------------


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Every suggest() call's song and options, recorded on the way to the real engine."""
    from lyrictui.core.engine.suggest import Suggester

    calls: list[dict] = []
    real = Suggester.suggest

    def recording(self, song, n=5, **options):
        calls.append({"song": song, "n": n, **options})
        return real(self, song, n, **options)

    monkeypatch.setattr(Suggester, "suggest", recording)
    return calls


def locks_label(screen) -> str:
    return str(screen.query_one("#composer-locks").render())


async def test_the_rhyme_lock_stays_on_its_line_and_tags_go_above(
    stocked: Library, asked: list[dict],
) -> None:
    async with composer(stocked) as (app, pilot, screen, seen):
        editor = screen.query_one(SongEditor)
        await pilot.press(*"I walk alone", "enter", *"The road is home", "enter")
        await pilot.press("ctrl+l")  # on the new empty line: the nearest line with words
        await pilot.pause()
        assert screen.rhyme_row == 1
        assert "“home” (line 2)" in locks_label(screen)
        editor.move_cursor((0, 0))
        await pilot.press("alt+v")  # on a line with words: the tag goes above it
        await pilot.pause()
        assert editor.text.split("\n")[:3] == ["[Verse]", "I walk alone", "The road is home"]
        assert editor.cursor_location == (1, 0)  # still on its line
        assert screen.rhyme_row == 2
        assert "“home” (line 3)" in locks_label(screen)
        editor.move_cursor(editor.document.end)
        asked.clear()
        seen.clear()
        await pilot.press("ctrl+g")
        await wait_for(pilot, seen, ComposerScreen.SuggestionsReady)
        assert asked[-1]["rhyme_with"] == "home"
        # On an empty line a tag takes that line, and the cursor moves below it.
        await pilot.press("alt+c")
        await pilot.pause()
        assert editor.text.endswith("The road is home\n[Chorus]\n")
        assert screen.rhyme_row == 2
        await pilot.press("ctrl+n")  # a new draft: no lock from the old text
        await pilot.pause()
        assert screen.rhyme_row is None and "rhyme" not in locks_label(screen)
        await pilot.press("ctrl+l")  # nothing to rhyme with: said, and nothing locked
        await pilot.pause()
        assert screen.rhyme_row is None
        assert any("Nothing to rhyme with" in n.message for n in app._notifications)
        await pilot.press("ctrl+b")  # no syllables to aim at: said, and nothing locked
        await pilot.pause()
        assert screen.syllable_target is None
        assert any("its syllables become" in n.message for n in app._notifications)
        # On the empty line under a line, ctrl+b takes that line's count, as ctrl+l does.
        await pilot.press(*"The road is long and wide", "enter")
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert screen.syllable_target == 6
        assert any("6 syllables, as line 1" in n.message for n in app._notifications)
        await pilot.press("ctrl+b")  # again: off
        await pilot.pause()
        assert screen.syllable_target is None


async def test_choosing_a_model_in_the_picker_gives_the_editor_the_keys(
    stocked: Library, tiny_gpt2,
) -> None:
    artist = stocked.get_artist("Tiny Band")
    folder = tiny_gpt2(paths.models_dir(artist.slug) / "tiny2", seed=1)
    stocked.add_model("tiny2", artist.id, base="gpt2", method="lora", path=str(folder),
                      val_loss=6.0, perplexity=400.0, size_bytes=paths.dir_size(folder))
    async with composer(stocked) as (app, pilot, screen, seen):
        picker = screen.query_one("#model-picker")
        picker.focus()
        await pilot.press("enter")
        await pilot.pause()
        before = screen.choice
        assert before is not None
        other = next(key for key in picker.choices if key != before.key)
        overlay = picker.query_one("SelectOverlay")
        overlay.highlighted = [value for _label, value in picker._options].index(other)
        await pilot.press("enter")
        await pilot.pause()
        assert screen.choice is not None and screen.choice.key == other
        assert screen.query_one(SongEditor).has_focus
        await pilot.press(*"typed")
        assert screen.query_one(SongEditor).text == "typed"
        picker.focus()  # the same model again: no change, and still back to the lyrics
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert screen.choice.key == other and screen.query_one(SongEditor).has_focus


# -- loading, taking words and endings, marks, rhymes ------------------------------------


async def test_the_model_loads_in_view_while_the_writer_types_and_is_warmed(
    stocked: Library, asked: list[dict], monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading

    from lyrictui.core.engine.suggest import Suggester

    release = threading.Event()
    real_load = Suggester.load.__func__

    def slow_load(cls, source, **kwargs):
        release.wait(30)  # a big model: loading takes a while
        return real_load(cls, source, **kwargs)

    monkeypatch.setattr(Suggester, "load", classmethod(slow_load))
    seen: list = []
    app = make_app(Services(library=stocked))
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await pilot.press("f4")
        screen = app.screen
        for _ in range(100):
            status = str(screen.query_one("#suggest-status").render())
            if "Loading" in status:
                break
            await pilot.pause(0.05)
        assert "Loading the model Tiny Band" in status
        await pilot.press(*"While it loads")
        assert screen.query_one(SongEditor).text == "While it loads"
        assert not any(isinstance(m, ComposerScreen.EngineReady) for m in seen)
        release.set()
        await wait_for(pilot, seen, ComposerScreen.EngineReady)
        # Warmed in the loading worker: one tiny request, before the writer's first.
        assert [(call["song"], call["n"]) for call in asked][:1] == [("", 1)]
        assert all(call["song"] for call in asked[1:])


async def test_word_mode_takes_a_word_and_offers_the_next_words(stocked: Library) -> None:
    async with composer(stocked) as (app, pilot, screen, seen):
        editor = screen.query_one(SongEditor)
        await pilot.press(*"The night")
        seen.clear()
        await pilot.press("f8")
        ready = await wait_for(pilot, seen, ComposerScreen.SuggestionsReady)
        assert ready.words and ready.candidates
        await pilot.pause()
        first = ready.candidates[0].text
        assert editor.suggestion == " " + first
        seen.clear()
        await pilot.press("tab")
        await pilot.pause()
        assert editor.text == f"The night {first}"
        again = await wait_for(pilot, seen, ComposerScreen.SuggestionsReady)
        assert again.words and again.context == f"The night {first}"


async def test_finishing_a_half_written_line_and_the_lock_marks(
    stocked: Library, asked: list[dict],
) -> None:
    async with composer(stocked) as (app, pilot, screen, seen):
        editor = screen.query_one(SongEditor)
        await pilot.press(*"The night is long", "up")
        await pilot.press("ctrl+b")  # lines as long as this one: 4 syllables
        await pilot.press("end", "enter", *"And I walk")
        await pilot.pause()
        assert screen.syllable_target == 4
        seen.clear()
        asked.clear()
        await pilot.press("ctrl+g")
        ready = await wait_for(pilot, seen, ComposerScreen.SuggestionsReady)
        await pilot.pause()
        assert asked[-1]["complete"] is True and asked[-1]["song"] == "The night is long\nAnd I walk"
        shown = screen.query_one(SuggestionList)
        assert ready.candidates, "the tiny model finished the line at least once"
        for index, candidate in enumerate(ready.candidates):
            assert candidate.continuation
            assert candidate.text.startswith("And I walk")
            assert candidate.fits is not None  # a lock was on: each says whether it meets it
            prompt = str(shown.get_option_at_index(index).prompt)
            assert ("✓" in prompt) == candidate.fits and ("✗" in prompt) == (not candidate.fits)
        assert editor.suggestion == ready.candidates[0].continuation
        seen.clear()
        await pilot.press("tab")
        await pilot.pause()
        lines = editor.text.split("\n")
        assert lines[1] == "And I walk" + ready.candidates[0].continuation
        assert lines[2:] == [""] and editor.cursor_location == (2, 0)
        await wait_for(pilot, seen, ComposerScreen.SuggestionsReady)  # and the next lines come


async def test_the_rhyme_panel_shows_rhymes_for_the_word_under_the_cursor(
    stocked: Library,
) -> None:
    from lyrictui.widgets.rhyme_panel import RhymePanel

    async with composer(stocked) as (app, pilot, screen, seen):
        panel = screen.query_one(RhymePanel)
        assert not panel.display
        await pilot.press(*"I found my love", "left", "left")
        seen.clear()
        await pilot.press("ctrl+r")
        found = await wait_for(pilot, seen, ComposerScreen.RhymesFound)
        await pilot.pause()
        assert panel.display and found.word == "love"
        expected = screen.engine.rhymes("love")
        shown = str(panel.render())
        assert "Rhymes for “love”" in shown
        for _syllables, words in expected.perfect:
            assert words[0] in shown
        editor = screen.query_one(SongEditor)
        editor.move_cursor((0, 3))  # on "found"
        seen.clear()
        found = await wait_for(pilot, seen, ComposerScreen.RhymesFound)
        assert found.word == "found"
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert not panel.display


# -- saving ---------------------------------------------------------------------------------


@contextmanager
def disk_refuses_growth(folder: Path):
    """Writes that grow any file of this process past the library's current files fail in
    the OS (RLIMIT_FSIZE, EFBIG), as on a full disk: SQLite's own write fails for real."""
    import resource
    import signal

    largest = max(p.stat().st_size for p in folder.iterdir() if p.is_file())
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # fail the write, not the process
    resource.setrlimit(resource.RLIMIT_FSIZE, (largest + 16_384, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, old_handler)


async def test_a_failed_save_is_said_once_keeps_the_text_and_is_retried(
    stocked: Library,
) -> None:
    async with composer(stocked) as (app, pilot, screen, seen):
        editor = screen.query_one(SongEditor)
        await pilot.press(*"A first line", "ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert [n.message for n in app._notifications] == ["Saved."]
        assert stocked.list_drafts()[0].text == "A first line"
        # Far more than the files may grow by.
        long_text = "\n".join(f"line {i} " + "la " * 400 for i in range(200))
        with disk_refuses_growth(paths.library_path().parent):
            editor.insert("\n" + long_text)
            await pilot.press("ctrl+s")
            await app.workers.wait_for_complete()
            await pilot.pause()
            await pilot.press("ctrl+s")  # fails again: not said again
            await app.workers.wait_for_complete()
            await pilot.pause()
        errors = [n.message for n in app._notifications if n.severity == "error"]
        assert len(errors) == 1 and "could not be saved" in errors[0]
        assert app.is_running and editor.text.endswith(long_text)
        assert stocked.list_drafts()[0].text == "A first line"
        await pilot.press("ctrl+s")  # room again: the text is written
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert stocked.list_drafts()[0].text == editor.text
        assert "safe again" in list(app._notifications)[-1].message


# -- small terminals -----------------------------------------------------------------------


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
async def test_small_terminals_give_the_song_the_width_and_wrap_long_lines(
    stocked: Library, size: tuple[int, int],
) -> None:
    from lyrictui.core.prosody import line_syllables

    seen: list = []
    app = make_app(Services(library=stocked))
    long_line = "The moon was rising slowly over every quiet hill tonight"  # 57 characters
    async with app.run_test(size=size, message_hook=seen.append) as pilot:
        await pilot.press("f4")
        await wait_for(pilot, seen, ComposerScreen.EngineReady)
        screen = app.screen
        editor = screen.query_one(SongEditor)
        await pilot.press(*long_line, "enter", *"A short one")
        await wait_for(pilot, seen, ComposerScreen.Scanned)
        await pilot.pause()
        pane = screen.query_one("#suggest-pane")
        assert editor.outer_size.width >= 0.5 * size[0]
        assert editor.outer_size.width > pane.outer_size.width or screen.has_class("-stacked")
        # The long line wraps (nothing cut), and the gutter's figures stay beside their lines.
        assert editor.wrapped_document.height > editor.document.line_count
        rows = screen.query_one(LineGutter)._rows(10)
        wrapped_rows = len(editor.wrapped_document.get_offsets(0)) + 1
        assert rows[0] is not None and rows[0].syllables == line_syllables(long_line)
        assert rows[1:wrapped_rows] == [None] * (wrapped_rows - 1)
        assert rows[wrapped_rows] is not None
        assert rows[wrapped_rows].syllables == line_syllables("A short one")
        # The status line (what the model is doing) is on screen, not cut off.
        status = screen.query_one("#suggest-status")
        assert status.region.height >= 1 and status.region.bottom <= size[1] - 1
        assert screen.has_class("-stacked") == (size[0] < 72)


async def test_the_same_line_in_a_new_draft_gets_suggestions_again(stocked: Library) -> None:
    async with composer(stocked) as (app, pilot, screen, seen):
        await pilot.press(*"The night is long", "enter")
        seen.clear()
        await wait_for(pilot, seen, ComposerScreen.SuggestionsReady)
        await app.workers.wait_for_complete()
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert not screen.query_one(SuggestionList).candidates
        seen.clear()
        await pilot.press(*"The night is long", "enter")
        ready = await wait_for(pilot, seen, ComposerScreen.SuggestionsReady)
        assert ready.context == "The night is long\n"


async def test_f9_exports_the_text_on_screen_and_keeps_a_path_whose_folder_is_missing(
        stocked: Library, tmp_path) -> None:
    from lyrictui.dialogs.export_path import ExportPathDialog, default_export_dir

    async with composer(stocked) as (app, pilot, screen, seen):
        await pilot.press(*"Out of the kitchen light", "enter")
        await pilot.press("f9")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while not isinstance(app.screen, ExportPathDialog):
            assert loop.time() < deadline, "no export dialog"
            await pilot.pause(0.05)
        field = app.screen.query_one(Input)
        assert Path(field.value).parent == default_export_dir()  # as the Library's export
        typed = str(tmp_path / "no-such-folder" / "draft.txt")
        field.value = typed
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ExportPathDialog) and field.value == typed
        field.value = str(tmp_path / "draft.txt")
        await pilot.press("enter")
        while not (tmp_path / "draft.txt").exists():
            assert loop.time() < deadline, "nothing exported"
            await pilot.pause(0.05)
        await app.workers.wait_for_complete()
    assert "Out of the kitchen light" in (tmp_path / "draft.txt").read_text(encoding="utf-8")
