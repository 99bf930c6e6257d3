"""Bad input, through the CLI and the app: every case is one clear line (exit code 2, or a
notification / a dialog's error line in the app), never a traceback, and nothing stored changes.

The CLI cases are one table (CASES); their ids are the rows of docs/reliability.md "Bad input".
Most run in this process through click's runner on the real command group; a few run again as
real `lyrictui` processes to show what a terminal gets.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fakes import FakeArtist, FakeGenius
from fakes.genius_data import standard_catalog

from lyrictui.core import paths
from lyrictui.core.store.library import Library

LONG_NAME = "x" * 10_000
SILENT_ID = 777  # a Genius artist with no songs at all


@dataclass(frozen=True)
class Case:
    """One row of the table: `lyrictui ARGS` must fail with one line holding `expect`."""

    id: str
    args: tuple[str, ...]
    expect: tuple[str, ...]
    setup: str | None = None  # a key of SETUPS, run before the snapshot
    genius: str | None = None  # "good" or "bad": point at the fake Genius with that token
    env: dict[str, str] = field(default_factory=dict)


CASES = [
    # names
    Case("name-empty", ("scrape", ""), ("empty",)),
    Case("name-only-spaces", ("import", "   ", "{files}/good.txt"), ("empty",)),
    Case("name-control-character", ("import", "bad\x01name", "{files}/good.txt"),
         ("control characters",)),
    Case("name-escape-sequence", ("scrape", "evil\x1b[2J\x1b]52;c;aGk=\x07"),
         ("control characters",)),
    Case("name-nul", ("remove", "AC\x00DC", "--yes"), ("control characters",)),
    Case("name-10000-chars-import", ("import", LONG_NAME, "{files}/good.txt"), ("200",)),
    Case("name-10000-chars-scrape", ("scrape", LONG_NAME), ("200",)),
    Case("name-10000-chars-lookup", ("songs", LONG_NAME), ("200",)),
    Case("artist-unknown", ("songs", "Nobody Here"), ("no artist", "lyrictui artists")),
    Case("artist-unknown-close-match", ("pack", "AC/DX"), ("did you mean", "AC/DC")),
    Case("artist-remove-dotdot", ("remove", "../", "--yes"), ("no artist",)),
    # an artist with no songs
    Case("export-no-songs", ("export", "Empty One"), ("no songs",)),
    Case("pack-no-songs", ("pack", "Empty One", "--base", "starter"), ("no songs",)),
    Case("pack-all-songs-skipped", ("pack", "Skipped Only", "--base", "starter"),
         ("skipped",)),
    Case("train-no-songs", ("train", "Empty One", "--base", "starter"), ("no songs",)),
    Case("train-no-dataset-all-skipped", ("train", "Skipped Only", "--base", "starter"),
         ("no songs",)),
    # bases and training options
    Case("pack-unknown-base-offline", ("pack", "AC/DC", "--base", "no-such-base"),
         ("not available", "--base starter")),
    Case("train-unknown-base-offline", ("train", "AC/DC", "--base", "no-such-base"),
         ("not available", "--base starter")),
    Case("train-base-folder-missing", ("train", "AC/DC", "--base", "{files}/no-such-folder"),
         ("no model folder",)),
    Case("train-base-pickle-only", ("train", "AC/DC", "--base", "{models}/pickle-only"),
         ("pickle", "safetensors")),
    Case("train-block-size-0", ("train", "AC/DC", "--base", "starter", "--block-size", "0"),
         ("--block-size",)),
    Case("train-block-size-100000",
         ("train", "AC/DC", "--base", "starter", "--block-size", "100000"),
         ("--block-size", "window")),
    Case("pack-block-size-0", ("pack", "AC/DC", "--base", "starter", "--block-size", "0"),
         ("--block-size",)),
    Case("pack-block-size-100000",
         ("pack", "AC/DC", "--base", "starter", "--block-size", "100000"),
         ("--block-size", "window")),
    Case("train-negative-epochs", ("train", "AC/DC", "--base", "starter", "--epochs", "-3"),
         ("--epochs",)),
    Case("train-negative-lr", ("train", "AC/DC", "--base", "starter", "--lr", "-1"), ("--lr",)),
    Case("resume-unknown-run", ("resume", "no-such-run"), ("no",)),
    # suggestions and model folders
    Case("suggest-no-model", ("suggest", "AC/DC"), ("no trained model", "--model starter")),
    Case("suggest-model-folder-missing", ("suggest", "--model", "{files}/no-such-folder"),
         ("no model folder",)),
    Case("suggest-truncated-safetensors", ("suggest", "--model", "{models}/truncated"),
         ("corrupt or incomplete",)),
    Case("suggest-garbage-safetensors", ("suggest", "--model", "{models}/garbage"),
         ("corrupt or incomplete",)),
    Case("suggest-pickle-only", ("suggest", "--model", "{models}/pickle-only"),
         ("pickle", "never loads")),
    Case("suggest-artist-model-pickle-only", ("suggest", "AC/DC"), ("pickle",),
         setup="register_pickle_model"),
    # files
    Case("import-binary-file", ("import", "New Band", "{files}/binary.txt"),
         ("nothing imported",)),
    Case("import-latin1-file", ("import", "New Band", "{files}/latin1.txt"),
         ("nothing imported",)),
    Case("import-empty-file", ("import", "New Band", "{files}/empty.txt"),
         ("nothing imported",)),
    Case("import-huge-file", ("import", "New Band", "{files}/huge.txt"), ("nothing imported",)),
    Case("import-utf16-file", ("import", "New Band", "{files}/utf16.txt"),
         ("nothing imported",)),
    Case("import-missing-path", ("import", "New Band", "{files}/missing.txt"),
         ("does not exist",)),
    Case("import-10000-files-none-lyrics", ("import", "New Band", "{files}/ten-thousand-bin"),
         ("no .txt or .md",)),
    Case("import-10000-empty-txt-files", ("import", "New Band", "{files}/ten-thousand-empty"),
         ("nothing imported", "10,000")),
    Case("export-to-missing-folder", ("export", "AC/DC", "-o", "{files}/no/such/dir/out.txt"),
         ("not a folder",)),
    # config.toml and settings
    Case("config-garbage-show", ("config",), ("config.toml", "not valid TOML"),
         setup="garbage_config"),
    Case("config-garbage-scrape", ("scrape", "AC/DC"), ("not valid TOML",),
         setup="garbage_config"),
    Case("config-garbage-train", ("train", "AC/DC", "--base", "starter"), ("not valid TOML",),
         setup="garbage_config"),
    Case("config-set-unknown-key", ("config", "set", "colour", "blue"), ("unknown setting",)),
    Case("config-set-concurrency-0", ("config", "set", "genius_concurrency", "0"),
         ("at least 1",)),
    Case("config-set-token-two-lines", ("config", "set", "genius_token", "abc\ndef"),
         ("one line",)),
    # Genius
    Case("scrape-no-token", ("scrape", "The Paper Lanterns"), ("no Genius token",)),
    Case("scrape-invalid-token", ("scrape", "The Paper Lanterns"), ("refused the token",),
         genius="bad"),
    Case("scrape-unknown-artist", ("scrape", "Nobody Known Here"), ("no Genius artist",),
         genius="good"),
    Case("scrape-artist-with-no-songs", ("scrape", "Silent Artist", "--genius-id",
                                         str(SILENT_ID)), ("no songs",), genius="good"),
    Case("drafts-show-unknown", ("drafts", "show", "999"), ("no draft",)),
]
CASES_BY_ID = {c.id: c for c in CASES}
# Run again as real processes: what a terminal shows, start-up and all.
# (An unknown base with the hub unreachable runs as a real process further down.)
REAL_PROCESS_IDS = ["name-empty", "name-10000-chars-import", "suggest-pickle-only",
                    "config-garbage-show"]


# -- hostile files and models, made once ---------------------------------------------------


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, song_a) -> Path:
    folder = tmp_path_factory.mktemp("files")
    (folder / "good.txt").write_text(song_a + "\n", encoding="utf-8")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (folder / "latin1.txt").write_bytes("Caf\xe9 au lait, d\xe9j\xe0 vu\n".encode("latin-1"))
    (folder / "empty.txt").write_bytes(b"")
    (folder / "utf16.txt").write_bytes("a song in UTF-16\n".encode("utf-16"))
    with open(folder / "huge.txt", "wb") as fh:  # 6 MB, over the 5 MB cap
        fh.write(b"la la la la la la la la la la la la la la la\n" * 140_000)
    many_bin = folder / "ten-thousand-bin"
    many_empty = folder / "ten-thousand-empty"
    many_bin.mkdir()
    many_empty.mkdir()
    for i in range(10_000):
        (many_bin / f"scan-{i:05d}.dat").write_bytes(b"\x00\x01")
        (many_empty / f"song-{i:05d}.txt").write_bytes(b"")
    return folder


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory, gpt2_tokenizer,
           tiny_gpt2, pickle_only_model) -> Path:
    folder = tmp_path_factory.mktemp("models")
    good = tiny_gpt2(folder / "good", n_layer=1, n_embd=32,
                           n_positions=64)
    truncated = folder / "truncated"
    shutil.copytree(good, truncated)
    weights = truncated / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    garbage = folder / "garbage"
    shutil.copytree(good, garbage)
    (garbage / "model.safetensors").write_bytes(os.urandom(4096))
    pickle_only_model(folder / "pickle-only", gpt2_tokenizer, folder / "PICKLE-WAS-OPENED")
    return folder


@pytest.fixture(scope="module")
def genius():
    artists, songs = standard_catalog()
    fake = FakeGenius([*artists, FakeArtist(SILENT_ID, "Silent Artist")], songs)
    with fake.in_thread():
        yield fake


def garbage_config(home: Path, models: Path) -> None:
    (home / "config.toml").write_bytes(b"genius_token = \"abc\ndevice = [[[\n\x00\xff")


def register_pickle_model(home: Path, models: Path) -> None:
    lib = Library()
    artist = lib.get_artist("AC/DC")
    lib.add_model("pickled", artist.id, base="gpt2", method="full",
                  path=str(models / "pickle-only"), size_bytes=1)
    lib.close()


SETUPS = {"garbage_config": garbage_config, "register_pickle_model": register_pickle_model}


def expand(args: tuple[str, ...], files: Path, models: Path) -> list[str]:
    return [a.replace("{files}", str(files)).replace("{models}", str(models)) for a in args]


def case_env(case: Case, genius: FakeGenius) -> dict[str, str]:
    env = dict(case.env)
    if case.genius:
        env.update(genius.env(None if case.genius == "good" else "wrong-token-123456789"))
    return env


def report(surface: str, shown: str) -> None:
    """One JSON line per case with what the user saw (`-s` shows them; docs/reliability.md)."""
    test = os.environ.get("PYTEST_CURRENT_TEST", "").split("::")[-1].split(" ")[0]
    print(json.dumps({"case": test, "surface": surface, "shown": shown}, ensure_ascii=True))


@pytest.fixture(scope="module")
def assert_one_clear_line(control_chars):
    """`assert_one_clear_line(outcome, expect)`: the CLI refused with exit code 2 and one clean
    `error: ` line holding every word of `expect`; returns the line."""
    def check(out, expect: tuple[str, ...]) -> str:
        assert out.exception is None, f"escaped: {out.exception!r}"
        assert out.code == 2, (out.code, out.stdout[-500:], out.stderr[-500:])
        assert "Traceback" not in out.stdout + out.stderr
        lines = out.error_lines
        assert len(lines) == 1, lines[:5]
        line = lines[0]
        assert line.startswith("error: ")
        assert len(line) < 400, f"{len(line)} characters"
        assert not control_chars.search(line), repr(line)
        for word in expect:
            assert word.casefold() in line.casefold(), (word, line)
        report("CLI", line)
        return line
    return check


@pytest.fixture(scope="module")
def run_case(cli, snapshot, stock_library, assert_one_clear_line):
    """`run_case(case, home, files, models, genius, runner=cli)`: run one bad-input case on the
    stock library; the CLI refuses it in one clear line and stores nothing."""
    def run(case: Case, home: Path, files: Path, models: Path, genius: FakeGenius,
            runner=cli) -> str:
        stock_library(home).close()
        if case.setup:
            SETUPS[case.setup](home, models)
        before = snapshot(home)
        out = runner(*expand(case.args, files, models), env=case_env(case, genius))
        line = assert_one_clear_line(out, case.expect)
        assert snapshot(home) == before, "stored state changed"
        return line
    return run


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_cli_bad_input(case: Case, lyrictui_home: Path, files: Path, models: Path,
                       genius: FakeGenius, trap_is_live, run_case) -> None:
    run_case(case, lyrictui_home, files, models, genius)
    if case.id.startswith(("suggest-pickle", "train-base-pickle", "suggest-artist-model")):
        assert trap_is_live(lyrictui_home.parent)
        assert not (models / "PICKLE-WAS-OPENED").exists(), "a pickle was unpickled"


@pytest.mark.parametrize("case_id", REAL_PROCESS_IDS)
def test_cli_bad_input_in_a_real_process(case_id: str, lyrictui_home: Path, files: Path,
                                         models: Path, genius: FakeGenius, real_cli,
                                         run_case) -> None:
    run_case(CASES_BY_ID[case_id], lyrictui_home, files, models, genius, runner=real_cli)


def test_refused_files_are_summed_up_not_listed_ten_thousand_times(
        lyrictui_home: Path, files: Path, cli) -> None:
    out = cli("import", "New Band", str(files / "ten-thousand-empty"))
    assert out.code == 2
    assert len(out.stdout.splitlines()) < 30, "a refusal per line for 10,000 files"
    assert "10,000" in out.stdout + out.stderr


# -- odd but valid names -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["AC/DC", "../x", "Sigur Rós", "🎸 Guitar 🎸", "/etc/passwd",
                                  "..", "C:\\Windows", "~root"])
def test_odd_names_are_valid_and_their_folder_stays_inside_the_home(
        name: str, lyrictui_home: Path, files: Path, cli) -> None:
    out = cli("import", name, str(files / "good.txt"))
    assert out.code == 0, out.stderr
    lib = Library()
    artist = lib.get_artist(name)
    assert artist.name == name
    folder = paths.artist_dir(artist.slug)
    assert folder.parent == (lyrictui_home / "artists").resolve()
    assert artist.slug.isascii() and "/" not in artist.slug and artist.slug not in {".", ".."}
    lib.close()


def test_a_pack_for_a_dotdot_name_writes_only_inside_the_home(lyrictui_home: Path,
                                                              tmp_path: Path, cli, song_a) -> None:
    lib = Library()
    artist = lib.add_artist("../x", "imported")
    for n, text in enumerate((song_a, "Another song\nwith two lines", "third one\nhere"), 1):
        lib.add_song(artist.id, f"s{n}", text, source_key=str(n))
    outside = sorted(p.name for p in tmp_path.iterdir())
    out = cli("pack", "../x", "--base", "starter", "--block-size", "16")
    assert out.code == 0, out.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == outside, "something was written outside"
    written = [p for p in (lyrictui_home / "artists").rglob("*") if p.is_file()]
    assert written and all(p.resolve().is_relative_to(lyrictui_home.resolve()) for p in written)
    lib.close()


def test_a_name_differing_only_by_case_is_the_same_artist(lyrictui_home: Path,
                                                          files: Path, cli, stock_library) -> None:
    stock_library(lyrictui_home).close()
    out = cli("import", "ac/dc", str(files / "good.txt"))
    assert out.code == 0, out.stderr
    lib = Library()
    assert [a.name for a in lib.list_artists()].count("AC/DC") == 1
    assert not any(a.name == "ac/dc" for a in lib.list_artists())
    assert lib.get_artist("aC/Dc").name == "AC/DC"
    lib.close()
    out = cli("songs", "ac/dc")
    assert out.code == 0 and "AC/DC: 3 songs" in out.stdout


# -- inputs that must work ---------------------------------------------------------------


def test_an_empty_song_gets_opening_lines(models: Path, cli) -> None:
    out = cli("suggest", "--model", str(models / "good"), "-n", "2", "--seed", "1",
              "--max-tokens", "6", input="")
    assert out.code == 0, out.stderr
    assert out.stdout.startswith("1. ") or "No suggestions" in out.stdout


def test_a_song_longer_than_the_window_is_trimmed_and_works(models: Path,
                                                             gpt2_tokenizer, cli) -> None:
    song = "\n".join(f"line {i} of a song that goes on and on" for i in range(40)) + "\n"
    assert len(gpt2_tokenizer.encode(song)) > 4 * 64  # the model's window is 64 tokens
    out = cli("suggest", "--model", str(models / "good"), "-n", "2", "--seed", "1",
              "--max-tokens", "6", "--json", input=song)
    assert out.code == 0, out.stderr
    assert isinstance(json.loads(out.stdout), list)


# -- the app -------------------------------------------------------------------------------

SIZE = (110, 34)


async def settle(app, pilot) -> None:
    """Wait until no worker runs (an exclusive one replaced by a newer one is fine)."""
    from textual.worker import WorkerCancelled

    await pilot.pause()
    for _ in range(100):
        try:
            await app.workers.wait_for_complete()
            break
        except WorkerCancelled:
            await pilot.pause()
    await pilot.pause()


async def wait_until(pilot, condition, what: str, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.05)


def notes(seen: list) -> list[tuple[str, str]]:
    """(message, severity) of every notification the app raised."""
    from textual.notifications import Notify

    return [(m.notification.message, m.notification.severity) for m in seen
            if isinstance(m, Notify)]


@pytest.fixture(scope="module")
def assert_notified(control_chars):
    """`assert_notified(seen, *expect)`: exactly the one error or warning notification, one
    line, holding every `expect`; returns its message."""
    def check(seen: list, *expect: str) -> str:
        shown = [(msg, sev) for msg, sev in notes(seen) if sev in ("error", "warning")]
        assert len(shown) == 1, notes(seen)
        message = shown[0][0]
        assert "\n" not in message and "Traceback" not in message
        assert not control_chars.search(message), repr(message)
        for word in expect:
            assert word.casefold() in message.casefold(), (word, message)
        report("app notification", message)
        return message
    return check


def dialog_error(app, selector: str) -> str:
    shown = str(app.screen.query_one(selector).render())
    report("app dialog", shown)
    return shown


def select_artist(app, name: str) -> None:
    from lyrictui.widgets.artist_table import ArtistTable

    table = app.screen.query_one(ArtistTable)
    artist = app.library.get_artist(name)
    table.move_cursor(row=table.get_row_index(str(artist.id)))


@pytest.fixture
def stocked_app(lyrictui_home: Path, stock_library):
    from lyrictui.app import Services, make_app

    library = stock_library(lyrictui_home)
    app = make_app(Services(library=library))
    return app


@pytest.mark.parametrize("name,expect", [
    ("", "empty"), ("   ", "empty"), ("bad\x01name", "control characters"),
    ("evil\x1b]52;c;aGk=\x07", "control characters"), (LONG_NAME, "200"),
], ids=["app-add-name-empty", "app-add-name-spaces", "app-add-name-control",
        "app-add-name-escape", "app-add-name-10000-chars"])
async def test_app_add_artist_refuses_bad_names_in_the_dialog(
        name: str, expect: str, stocked_app, lyrictui_home: Path,
        monkeypatch: pytest.MonkeyPatch, snapshot) -> None:
    from lyrictui.dialogs.add_artist import AddArtistDialog

    monkeypatch.setenv("GENIUS_ACCESS_TOKEN", "some-token-000000000000")
    app = stocked_app
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        before = snapshot(lyrictui_home)
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, AddArtistDialog)
        app.screen.query_one("#add-name").value = name
        app.screen.submit()
        await pilot.pause()
        assert isinstance(app.screen, AddArtistDialog), "a bad name must not start a scrape"
        error = dialog_error(app, "#add-error")
        assert expect.casefold() in error.casefold() and len(error) < 300
        app.screen.dismiss(None)
        await settle(app, pilot)
        assert snapshot(lyrictui_home) == before


async def test_app_import_refuses_a_blank_name_in_the_dialog(stocked_app, lyrictui_home: Path,
                                                             files: Path, snapshot) -> None:
    from lyrictui.dialogs.import_files import ImportFilesDialog

    app = stocked_app
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        before = snapshot(lyrictui_home)
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, ImportFilesDialog)
        app.screen.query_one("#import-name").value = "   "
        app.screen.query_one("#import-path").value = str(files / "good.txt")
        app.screen.submit()
        await pilot.pause()
        assert isinstance(app.screen, ImportFilesDialog)
        assert "empty" in dialog_error(app, "#import-error")
        app.screen.dismiss(None)
        await settle(app, pilot)
        assert snapshot(lyrictui_home) == before


@pytest.mark.parametrize("folder", [
    pytest.param("binary.txt", id="app-import-binary-file"),
    # 10,000 files through the app's progress messages: the CLI case covers them in CI.
    pytest.param("ten-thousand-empty", id="app-import-10000-empty-files",
                 marks=pytest.mark.slow),
])
async def test_app_import_of_unusable_files_is_one_notification(
        folder: str, stocked_app, lyrictui_home: Path, files: Path, snapshot,
        assert_notified) -> None:
    from lyrictui.dialogs.import_files import ImportFilesDialog

    seen: list = []
    app = stocked_app
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await settle(app, pilot)
        before = snapshot(lyrictui_home)
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, ImportFilesDialog)
        app.screen.query_one("#import-name").value = "New Band"
        app.screen.query_one("#import-path").value = str(files / folder)
        app.screen.submit()
        await settle(app, pilot)
        assert_notified(seen, "Nothing imported", "refused")
        assert snapshot(lyrictui_home) == before


async def test_app_add_artist_without_a_token_asks_for_one_and_stores_nothing_on_cancel(
        stocked_app, lyrictui_home: Path, snapshot) -> None:
    from lyrictui.dialogs.text_prompt import TextPromptDialog

    app = stocked_app
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        before = snapshot(lyrictui_home)
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, TextPromptDialog)
        assert "token" in str(app.screen.query_one("Static").render())
        await pilot.press("escape")
        await settle(app, pilot)
        assert not (lyrictui_home / "config.toml").exists()
        assert snapshot(lyrictui_home) == before


@pytest.mark.parametrize("artist,token,expect", [
    ("The Paper Lanterns", "wrong-token-123456789", ("refused the token",)),
    ("Nobody Known Here", None, ("no Genius artist",)),
], ids=["app-scrape-invalid-token", "app-scrape-unknown-artist"])
async def test_app_scrape_failures_are_one_notification(
        artist: str, token: str | None, expect: tuple[str, ...], stocked_app,
        lyrictui_home: Path, genius: FakeGenius, monkeypatch: pytest.MonkeyPatch, snapshot,
        assert_notified) -> None:
    for key, value in genius.env(token).items():
        monkeypatch.setenv(key, value)
    seen: list = []
    app = stocked_app
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await settle(app, pilot)
        before = snapshot(lyrictui_home)
        await pilot.press("a")
        await pilot.pause()
        app.screen.query_one("#add-name").value = artist
        app.screen.submit()
        await settle(app, pilot)
        message = assert_notified(seen, *expect)
        assert "wrong-token" not in message
        assert snapshot(lyrictui_home) == before


async def test_app_garbage_config_is_a_notification_not_silence(stocked_app,
                                                                lyrictui_home: Path, snapshot,
                                                                assert_notified) -> None:
    garbage_config(lyrictui_home, lyrictui_home)
    seen: list = []
    app = stocked_app
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await settle(app, pilot)
        before = snapshot(lyrictui_home)
        await pilot.press("a")
        await settle(app, pilot)
        assert_notified(seen, "config.toml", "not valid TOML")
        assert snapshot(lyrictui_home) == before


@pytest.mark.parametrize("key,artist,expect", [
    ("p", "Empty One", ("no songs",)),
    ("p", "Skipped Only", ("skipped",)),
    ("t", "Empty One", ("no songs",)),
    ("c", "AC/DC", ("no model",)),
], ids=["app-pack-no-songs", "app-pack-all-skipped", "app-train-no-songs",
        "app-compose-no-model"])
async def test_app_actions_on_an_artist_without_what_they_need(
        key: str, artist: str, expect: tuple[str, ...], stocked_app,
        lyrictui_home: Path, snapshot, assert_notified) -> None:
    seen: list = []
    app = stocked_app
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await settle(app, pilot)
        select_artist(app, artist)
        before = snapshot(lyrictui_home)
        await pilot.press(key)
        await settle(app, pilot)
        assert_notified(seen, *expect)
        assert snapshot(lyrictui_home) == before


async def test_app_rename_onto_another_artist_in_another_case_is_refused(
        stocked_app, lyrictui_home: Path, snapshot, assert_notified) -> None:
    from lyrictui.dialogs.text_prompt import TextPromptDialog

    seen: list = []
    app = stocked_app
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await settle(app, pilot)
        select_artist(app, "Empty One")
        before = snapshot(lyrictui_home)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, TextPromptDialog)
        app.screen.query_one("Input").value = "ac/dc"
        app.screen.submit()
        await settle(app, pilot)
        assert_notified(seen, "already exists")
        assert snapshot(lyrictui_home) == before


@pytest.mark.parametrize("field_id,value,expect", [
    ("#train-block", "0", "--block-size"),
    ("#train-epochs", "-2", "--epochs"),
    ("#train-epochs", "0", "--epochs"),
    ("#train-lr", "fast", "number"),
], ids=["app-train-block-size-0", "app-train-negative-epochs", "app-train-zero-epochs",
        "app-train-lr-not-a-number"])
async def test_app_train_dialog_refuses_bad_options(
        field_id: str, value: str, expect: str, stocked_app, lyrictui_home: Path, snapshot) -> None:
    from lyrictui.dialogs.train_options import TrainOptionsDialog

    app = stocked_app
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        before = snapshot(lyrictui_home)
        await pilot.press("t")
        await wait_until(pilot, lambda: isinstance(app.screen, TrainOptionsDialog), "the dialog")
        await pilot.pause()
        app.screen.query_one(field_id).value = value
        app.screen.submit()
        await pilot.pause()
        assert isinstance(app.screen, TrainOptionsDialog)
        assert expect in dialog_error(app, "#train-error")
        app.screen.dismiss(None)
        await settle(app, pilot)
        assert snapshot(lyrictui_home) == before


@pytest.mark.parametrize("base,block,expect", [
    ("{models}/pickle-only", "32", ("pickle",)),
    ("starter", "100000", ("--block-size", "window")),
], ids=["app-train-base-pickle-only", "app-train-block-size-100000"])
async def test_app_train_with_an_unusable_base_starts_no_run(
        base: str, block: str, expect: tuple[str, ...], stocked_app, lyrictui_home: Path,
        models: Path, snapshot, assert_notified) -> None:
    from lyrictui.dialogs.train_options import TrainOptionsDialog

    seen: list = []
    app = stocked_app
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await settle(app, pilot)
        before = snapshot(lyrictui_home)
        await pilot.press("t")
        await wait_until(pilot, lambda: isinstance(app.screen, TrainOptionsDialog), "the dialog")
        await pilot.pause()
        if base == "starter":
            app.screen.query_one("#train-base").value = "starter"
        else:
            app.screen.query_one("#train-base-path").value = base.replace("{models}",
                                                                          str(models))
        app.screen.query_one("#train-block").value = block
        app.screen.submit()
        await settle(app, pilot)
        await wait_until(pilot, lambda: notes(seen), "a notification")
        assert_notified(seen, *expect)
        assert app.library.list_runs() == []
        assert snapshot(lyrictui_home) == before
    assert not (models / "PICKLE-WAS-OPENED").exists()


@pytest.mark.parametrize("model,expect", [
    ("truncated", ("corrupt or incomplete",)),
    ("pickle-only", ("pickle", "never loads")),
], ids=["app-composer-truncated-safetensors", "app-composer-pickle-only"])
async def test_app_composer_with_a_broken_model_is_one_notification(
        model: str, expect: tuple[str, ...], stocked_app, lyrictui_home: Path,
        models: Path, snapshot, assert_notified) -> None:
    from lyrictui.screens.composer import ComposerScreen

    app = stocked_app
    artist = app.library.get_artist("AC/DC")
    app.library.add_model("broken", artist.id, base="gpt2", method="full",
                          path=str(models / model), size_bytes=1)
    seen: list = []
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await settle(app, pilot)
        before = snapshot(lyrictui_home)
        await pilot.press("f4")
        await wait_until(pilot, lambda: any(isinstance(m, ComposerScreen.SuggestFailed)
                                            for m in seen), "the model load to fail")
        await settle(app, pilot)
        assert_notified(seen, *expect)
        assert isinstance(app.screen, ComposerScreen)
        assert snapshot(lyrictui_home) == before
    assert not (models / "PICKLE-WAS-OPENED").exists()


@pytest.mark.slow  # generation in the app; the CLI case covers trimming in CI
async def test_app_composer_with_a_song_longer_than_the_window_still_suggests(
        stocked_app, models: Path) -> None:
    from lyrictui.screens.composer import ComposerScreen
    from lyrictui.widgets.song_editor import SongEditor

    app = stocked_app
    artist = app.library.get_artist("AC/DC")
    app.library.add_model("tiny", artist.id, base="gpt2", method="full",
                          path=str(models / "good"), size_bytes=1)
    song = "\n".join(f"line {i} of a song that goes on and on" for i in range(40)) + "\n"
    seen: list = []
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await pilot.press("f4")
        await wait_until(pilot, lambda: any(isinstance(m, ComposerScreen.EngineReady)
                                            for m in seen), "the model to load")
        editor = app.screen.query_one(SongEditor)
        editor.load_text(song)
        editor.move_cursor(editor.document.end)
        seen.clear()
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: any(isinstance(m, (ComposerScreen.SuggestionsReady,
                                                           ComposerScreen.SuggestFailed))
                                            for m in seen), "suggestions")
        assert not any(isinstance(m, ComposerScreen.SuggestFailed) for m in seen)
        assert app.services.engines[str(models / "good")].window == 64


async def test_app_shows_brackets_and_backslashes_in_names_and_titles_as_text(
        lyrictui_home: Path) -> None:
    """Valid names and titles that look like markup are shown as typed, in the table and the
    detail pane (Textual would read "[Live at X]" as a style tag)."""
    from rich.text import Text

    from lyrictui.app import Services, make_app
    from lyrictui.widgets.artist_table import ArtistTable

    lib = Library()
    artist = lib.add_artist("[b]Bracket[/b] Band\\", "imported")
    titles = ["Song [Live at X]", "Intro [2020", "ends with a backslash \\", "[red]not red"]
    for n, title in enumerate(titles):
        lib.add_song(artist.id, title, f"words {n}\nmore words {n}", source_key=str(n))
    app = make_app(Services(library=lib))
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(app, pilot)
        await wait_until(pilot, lambda: "Intro [2020" in str(
            app.screen.query_one("#artist-detail").render()), "the detail pane")
        shown = str(app.screen.query_one("#artist-detail").render())
        for title in titles:
            assert title in shown, (title, shown)
        assert "[b]Bracket[/b] Band\\" in shown
        cell = app.screen.query_one(ArtistTable).get_row_at(0)[0]
        assert Text.from_markup(cell).plain == "[b]Bracket[/b] Band\\"  # what the cell shows


# -- offline without HF_HUB_OFFLINE: one fast line, and a cached base still loads ----------


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def offline_env(tmp_path: Path) -> dict[str, str]:
    """HF_HUB_OFFLINE unset, the hub's address refusing connections, an empty HF cache."""
    return {"HF_HUB_OFFLINE": "", "TRANSFORMERS_OFFLINE": "", "HF_HOME": str(tmp_path / "hf"),
            "HF_ENDPOINT": f"http://127.0.0.1:{_closed_port()}"}


def test_an_unknown_base_with_the_hub_unreachable_is_one_line_at_once(
        lyrictui_home: Path, tmp_path: Path, snapshot, real_cli, stock_library,
        assert_one_clear_line) -> None:
    """As on a laptop on a train, HF_HUB_OFFLINE unset: huggingface_hub alone retries for
    most of a minute and prints each retry; lyrictui probes the hub once and says what to do,
    before any run exists."""
    stock_library(lyrictui_home).close()
    before = snapshot(lyrictui_home)
    out = real_cli("train", "AC/DC", "--base", "gpt2", env=offline_env(tmp_path))
    assert_one_clear_line(out, ("not available", "--base starter"))
    assert "Retry" not in out.stderr
    assert snapshot(lyrictui_home) == before


@pytest.mark.slow
def test_a_cached_hub_base_loads_with_the_hub_unreachable(tmp_path: Path, models: Path,
                                                          real_cli) -> None:
    env = offline_env(tmp_path)
    repo = Path(env["HF_HOME"]) / "hub" / "models--lyrictui-test--tiny"
    shutil.copytree(models / "good", repo / "snapshots" / ("0" * 40))
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0" * 40)
    out = real_cli("suggest", "--model", "lyrictui-test/tiny", "-n", "1", "--max-tokens", "4",
                   "--seed", "1", input="hello\n", env=env)
    assert out.code == 0, out.stderr
    assert "Retry" not in out.stderr and "Traceback" not in out.stderr
