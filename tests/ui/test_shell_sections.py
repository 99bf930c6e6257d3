"""The shell shows where you are, and the palette and F1 know every key (Pilot).

Issue 17 items 3, 5 and 6: the sections are visible at all times, every section action is in the
command palette by name, and F1 lists every binding of the app, each section's screen and the
lyrictui widgets those screens compose, all with descriptions.
"""

from __future__ import annotations

from pathlib import Path

from textual.binding import Binding
from textual.command import CommandPalette
from textual.widgets._header import HeaderTitle

from lyrictui.app import LyricApp, Services, make_app
from lyrictui.core.store.library import Library
from lyrictui.screens.composer import ComposerScreen
from lyrictui.screens.help import HelpScreen, key_groups, key_text
from lyrictui.screens.library import LibraryScreen
from lyrictui.screens.training import TrainingScreen
from lyrictui.widgets.song_editor import SongEditor
from lyrictui.widgets.suggestion_list import SuggestionList

SIZE = (80, 24)


def header_line(app: LyricApp) -> tuple[str, str]:
    """The header's text, and the text drawn highlighted (reverse) in it."""
    content = app.screen.query_one(HeaderTitle).render()
    text = str(content)
    current = "".join(text[span.start:span.end] for span in content.spans
                      if "reverse" in str(span.style))
    return text, current


async def test_every_section_and_the_current_one_are_in_the_header(
        lyrictui_home: Path, wait_for_workers) -> None:
    app = make_app(Services(library=Library()))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_workers(app, pilot)
        for key, screen_type, name in (("f3", TrainingScreen, "Training"),
                                       ("f4", ComposerScreen, "Composer"),
                                       ("f2", LibraryScreen, "Library")):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, screen_type)
            text, current = header_line(app)
            for label in ("F2 Library", "F3 Training", "F4 Composer"):
                assert label in text
            assert current.strip() == f"{key.upper()} {name}"


async def test_sections_can_be_clicked_in_the_header(lyrictui_home: Path,
                                                     wait_for_workers) -> None:
    app = make_app(Services(library=Library()))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_workers(app, pilot)
        text, _ = header_line(app)
        title = app.screen.query_one(HeaderTitle)
        column = title.content_region.x - title.region.x + (
            (title.content_region.width - len(text)) // 2) + text.index("Training")
        await pilot.click(HeaderTitle, offset=(column, 0))
        await pilot.pause()
        assert isinstance(app.screen, TrainingScreen)


def test_every_binding_has_a_description_and_is_in_the_help(lyrictui_home: Path) -> None:
    from lyrictui.screens.help import help_text

    app = make_app(Services(library=Library()))
    groups = key_groups(app)
    owners = {group.owner for group in groups}
    # The composer's own widgets are found from its module, whatever they are named.
    assert {SongEditor, SuggestionList} <= owners
    text = str(help_text(app))
    for group in groups:
        for item in group.owner.__dict__.get("BINDINGS", []):
            assert isinstance(item, Binding) and item.description, (
                f"{group.owner.__name__} binds {item} without a description")
        for binding in group.own:
            assert binding.description in text
            assert key_text(binding) in text
    for key in ("ctrl+z", "shift+tab", "ctrl+p", "F2", "F3", "F4"):
        assert key in text


async def test_help_screen_shows_the_composer_keys_from_anywhere(lyrictui_home: Path,
                                                                  wait_for_workers) -> None:
    app = make_app(Services(library=Library()))
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_for_workers(app, pilot)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        shown = str(app.screen.query_one("Static").render())
        composer = next(g for g in key_groups(app) if g.owner is ComposerScreen)
        for binding in composer.own:
            assert binding.description in shown


async def palette_titles(app: LyricApp, pilot, query: str) -> list[str]:
    """The titles the command palette offers for `query`."""
    await pilot.press("ctrl+p")
    await pilot.pause()
    assert isinstance(app.screen, CommandPalette)
    app.screen.query_one("#--input Input").value = query  # type: ignore[attr-defined]
    titles: list[str] = []
    for _ in range(100):
        await pilot.pause(0.05)
        commands = app.screen.query_one("CommandList")
        titles = [str(commands.get_option_at_index(i).prompt)  # type: ignore[attr-defined]
                  for i in range(commands.option_count)]  # type: ignore[attr-defined]
        if titles:
            break
    await pilot.press("escape")
    await pilot.pause()
    return titles


async def test_palette_finds_every_section_action_by_name(lyrictui_home: Path,
                                                          wait_for_workers) -> None:
    app = make_app(Services(library=Library()))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_workers(app, pilot)
        for word in ("import", "pack", "rhyme", "prune", "add model", "cancel run", "resume"):
            titles = await palette_titles(app, pilot, word)
            assert any(word in t.lower() for t in titles), (word, titles)
        commands = {c.title for c in app.get_system_commands(app.screen)}
        for group in key_groups(app):
            if group.mode is None:
                continue
            for binding in group.own:
                assert any(binding.description in title for title in commands), binding


async def test_a_palette_command_runs_in_its_section(lyrictui_home: Path,
                                                     wait_for_workers, wait_until) -> None:
    app = make_app(Services(library=Library()))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_workers(app, pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        app.screen.query_one("#--input Input").value = "Training: Refresh"  # type: ignore[attr-defined]
        await wait_until(pilot, lambda: app.screen.query_one("CommandList").option_count > 0,
                         "the palette's answer")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, TrainingScreen),
                         "the Training section")
