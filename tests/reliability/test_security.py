"""Security: the token stays secret, user text never becomes a path outside the data home or a
shell command, only safetensors are loaded, network responses are capped and parsed (never run),
and text from Genius or files cannot put terminal escape sequences on a screen."""

from __future__ import annotations

import ast
import asyncio
import json
import os
import sqlite3
import stat
import time
from pathlib import Path

import pytest
from aiohttp import web
from fakes import FakeArtist, FakeGenius, FakeSong
from fakes.genius_data import standard_catalog

import lyrictui
from lyrictui.core import paths
from lyrictui.core.errors import InvalidInput, LyricError
from lyrictui.core.sources.genius import scrape
from lyrictui.core.sources.http import HttpClient, HttpError, HttpOptions
from lyrictui.core.store.library import Library

PACKAGE = Path(lyrictui.__file__).parent
SECRET = "s3cret-genius-token-4f9a0c27d1e8b6"
FAST = HttpOptions(backoff_base=0.01, read_timeout=2.0, connect_timeout=2.0, max_attempts=2)

EVIL_ID = 950
EVIL_NAME = "Evil\x1b[31m Band\x07"
EVIL_TITLE = "Title \x1b]0;pwned\x07with \x1b[5mescapes\x9b2J"
EVIL_LYRICS = (
    "[Verse]<br/>\nclear \x1b[2J\x1b[H screen<br/>\n"
    "copy \x1b]52;c;ZWNobyBwd25lZA==\x07 me<br/>\n"
    "link \x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\ here<br/>\n"
    "bell \x07\x07 ring &#27;[31m red<br/>\n"
    "eight \x9b31m csi \x9d0;title\x9c osc<br/>\n"
    "back\x08space and\x0bvertical\x0cform<br/>\n"
    "<script>document.title='EVIL-SCRIPT'</script>"
    "<img src=x onerror=\"alert('EVIL-IMG')\">still here"
)
VISIBLE_WORDS = ("clear", "screen", "copy", "me", "click", "here", "ring", "red", "csi", "osc",
                 "space", "vertical", "form", "still")
PAYLOADS = ("ZWNobyBwd25lZA", "evil.example", "EVIL-SCRIPT", "EVIL-IMG", "pwned")


@pytest.fixture(scope="module")
def no_controls(control_chars):
    """`no_controls(text)`: `text` holds none of the characters lyrictui must strip."""
    def check(text: str) -> bool:
        return not control_chars.search(text)
    return check


# -- the token -------------------------------------------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_token_file_is_0600_even_over_a_loose_file_and_a_zero_umask(lyrictui_home: Path,
                                                                    cli) -> None:
    config_file = lyrictui_home / "config.toml"
    config_file.write_text("genius_concurrency = 4\n", encoding="utf-8")
    config_file.chmod(0o644)
    old = os.umask(0)
    try:
        out = cli("config", "set", "genius_token", SECRET)
    finally:
        os.umask(old)
    assert out.code == 0, out.stderr
    assert mode(config_file) == 0o600
    assert SECRET in config_file.read_text(encoding="utf-8")
    assert "genius_concurrency = 4" in config_file.read_text(encoding="utf-8")
    assert SECRET not in out.stdout + out.stderr
    assert not list(lyrictui_home.glob("config.toml.tmp*")), "a temporary copy was left"


async def test_token_typed_into_the_app_is_stored_0600_and_never_shown(
        lyrictui_home: Path) -> None:
    from lyrictui.app import Services, make_app
    from lyrictui.dialogs.add_artist import AddArtistDialog
    from lyrictui.dialogs.text_prompt import TextPromptDialog

    app = make_app(Services(library=Library()))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, TextPromptDialog)
        app.screen.query_one("Input").value = SECRET
        await pilot.pause()
        assert SECRET not in screen_text(app), "the token is on screen"
        app.screen.submit()
        await pilot.pause()
        assert isinstance(app.screen, AddArtistDialog)
        assert SECRET not in screen_text(app)
        app.screen.dismiss(None)
        await pilot.pause()
    assert mode(lyrictui_home / "config.toml") == 0o600
    assert SECRET in (lyrictui_home / "config.toml").read_text(encoding="utf-8")


def hostile_catalog() -> tuple[list[FakeArtist], list[FakeSong]]:
    artists, songs = standard_catalog()
    evil = FakeArtist(EVIL_ID, EVIL_NAME)
    return [*artists, evil], [*songs, FakeSong(9501, EVIL_TITLE, EVIL_ID, [EVIL_LYRICS])]


@pytest.fixture(scope="module")
def genius():
    artists, songs = hostile_catalog()
    fake = FakeGenius(artists, songs, token=SECRET)
    with fake.in_thread():
        yield fake


def test_the_token_appears_in_no_output_file_event_or_error(lyrictui_home: Path,
                                                            genius: FakeGenius, real_cli,
                                                            cli) -> None:
    urls = {k: v for k, v in genius.env().items() if k != "GENIUS_ACCESS_TOKEN"}
    outputs: list[str] = []

    def run(*args: str, real: bool = False, **env: str) -> int:
        out = (real_cli if real else cli)(*args, env={**urls, **env})
        outputs.extend([out.stdout, out.stderr])
        return out.code

    assert run("config", "set", "genius_token", SECRET) == 0
    assert run("config") == 0 and run("config", "show") == 0
    assert run("scrape", "The Paper Lanterns", "--max-songs", "3") == 0
    genius.blocked = True  # every page a Cloudflare challenge: the scrape fails
    try:
        assert run("scrape", "Nina Brandt") == 2
        assert run("--debug", "scrape", "Nina Brandt", real=True) != 0
    finally:
        genius.blocked = False
    assert run("--debug", "scrape", "Nobody Known Here", real=True) != 0
    assert run("scrape", "The Paper Lanterns", GENIUS_ACCESS_TOKEN="wrong-but-not-secret") == 2
    assert run("songs", "The Paper Lanterns", "--json") == 0
    assert run("artists", "--json") == 0
    assert any("Traceback" in text for text in outputs), "the --debug runs showed no traceback"
    assert genius.auth_sent_to_web == 0, "the token went to the song-page host"

    for text in outputs:
        assert SECRET not in text
    leaked = [p for p in lyrictui_home.rglob("*") if p.is_file() and p.name != "config.toml"
              and SECRET.encode() in p.read_bytes()]
    assert leaked == []
    assert SECRET in (lyrictui_home / "config.toml").read_text(encoding="utf-8")


# -- paths -----------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", ["../x", "..", ".", "a/b", "/etc", "a\\b", "x\x00y", ""])
def test_a_folder_name_that_escapes_the_home_is_refused(slug: str, lyrictui_home: Path) -> None:
    with pytest.raises(InvalidInput):
        paths.artist_dir(slug)


@pytest.mark.parametrize("name", ["../../x", "/etc/passwd", "..", "~/x", "C:\\Windows\\x",
                                  "$(touch pwned)", "a; rm -rf ~", "x\u202egnp.exe"])
def test_hostile_names_become_slugs_inside_the_home(name: str, lyrictui_home: Path) -> None:
    lib = Library()
    artist = lib.add_artist(name, "imported") if "\u202e" not in name else None
    if artist is None:  # invisible bidi controls are refused outright
        with pytest.raises(InvalidInput):
            lib.add_artist(name, "imported")
        return
    folder = paths.artist_dir(artist.slug)
    assert folder.parent == (lyrictui_home / "artists").resolve()
    assert all(ch.isalnum() or ch == "-" for ch in artist.slug)


@pytest.mark.parametrize("title", ["../../etc/passwd", "/etc/passwd", "..", ".hidden",
                                   "C:\\x\\y", "a\x00b", "\x1b[2J", "   "])
def test_export_file_names_from_titles_are_plain_names(title: str, tmp_path: Path,
                                                       no_controls) -> None:
    from lyrictui.core.compose.drafts import safe_file_stem

    stem = safe_file_stem(title)
    assert stem and "/" not in stem and "\\" not in stem and not stem.startswith(".")
    assert no_controls(stem)
    assert (tmp_path / f"{stem}.txt").parent == tmp_path


def test_paths_stored_in_the_library_cannot_reach_outside_the_home(lyrictui_home: Path,
                                                                   tmp_path: Path, stock_library,
                                                                   cli) -> None:
    """A library file edited by hand (or by a bug) points rows outside the home: deleting an
    artist or a model, or cancelling a run, must not touch anything out there."""
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("precious", encoding="utf-8")
    lib = stock_library(lyrictui_home)
    acdc = lib.get_artist("AC/DC")
    lib.add_model("outside", acdc.id, base="gpt2", method="full", path=str(victim),
                  size_bytes=8)
    lib.create_run("run-outside", acdc.id, status="running", base="gpt2", method="full",
                   dir=str(victim), config_json="{}")
    lib.close()
    conn = sqlite3.connect(lyrictui_home / "library.sqlite3")
    with conn:
        conn.execute("INSERT INTO artists (name, slug, source, created_at) VALUES (?, ?, ?, ?)",
                     ("Sneaky", "../../" + victim.name, "imported", time.time()))
    conn.close()

    assert cli("remove", "Sneaky", "--yes").code == 2
    assert cli("cancel", "run-outside", "--no-wait").code == 2
    out = cli("rm-model", "outside", "--yes")
    assert out.code == 0 and "0 B freed" in out.stdout  # the row goes, the folder is not ours
    assert sorted(p.name for p in victim.iterdir()) == ["keep.txt"], "wrote or deleted outside"
    assert (victim / "keep.txt").read_text(encoding="utf-8") == "precious"


# -- no shell, no pickle ------------------------------------------------------------------


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(
                func.value, ast.Name) else ""
            yield owner, name, node


def test_no_shell_and_no_pickle_anywhere_in_the_source() -> None:
    """Every process is started from an argument list without a shell; nothing is unpickled."""
    sources = sorted(PACKAGE.rglob("*.py"))
    assert len(sources) > 50
    starts = []
    for source in sources:
        tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
        where = source.relative_to(PACKAGE)
        for owner, name, node in _calls(tree):
            assert not (owner == "os" and (name in {"system", "popen"} or name.startswith(
                "spawn"))), f"{where}:{node.lineno} {owner}.{name}"
            assert name != "create_subprocess_shell", f"{where}:{node.lineno}"
            assert not (isinstance(node.func, ast.Name) and node.func.id in {"eval", "exec"}), \
                f"{where}:{node.lineno} {name}()"
            assert not (owner in {"pickle", "torch", "joblib", "dill"} and name in {
                "load", "loads", "Unpickler"}), f"{where}:{node.lineno} {owner}.{name}"
            for kw in node.keywords:
                if kw.arg == "shell":
                    assert isinstance(kw.value, ast.Constant) and kw.value.value is False, \
                        f"{where}:{node.lineno} shell="
                if kw.arg == "weights_only":
                    assert isinstance(kw.value, ast.Constant) and kw.value.value is True
            if owner == "subprocess":
                starts.append(where)
                assert node.args and isinstance(node.args[0], ast.List), \
                    f"{where}:{node.lineno} subprocess.{name} without an argument list"
            if name == "from_pretrained" and owner == "AutoModelForCausalLM":
                kws = {kw.arg: kw.value for kw in node.keywords}
                assert isinstance(kws.get("use_safetensors"), ast.Constant) and \
                    kws["use_safetensors"].value is True, f"{where}:{node.lineno}"
    assert starts, "the detached training start was not found: is the scan looking?"


def test_a_pickle_beside_safetensors_is_never_opened(tmp_path: Path, gpt2_tokenizer,
                                                     tiny_gpt2, pickle_only_model, cli,
                                                     trap_is_live) -> None:
    folder = tiny_gpt2(tmp_path / "both", n_layer=1, n_embd=32,
                             n_positions=64)
    marker = tmp_path / "PICKLE-WAS-OPENED"
    pickle_only_model(tmp_path / "p", gpt2_tokenizer, marker)
    (tmp_path / "p" / "pytorch_model.bin").rename(folder / "pytorch_model.bin")
    out = cli("suggest", "--model", str(folder), "-n", "1", "--max-tokens", "4", "--seed", "1",
              input="hello\n")
    assert out.code == 0, out.stderr
    assert trap_is_live(tmp_path) and not marker.exists()


def test_a_lora_adapter_stored_as_a_pickle_is_refused(tmp_path: Path, gpt2_tokenizer, cli,
                                                      trap_is_live, pickle_trap) -> None:
    import torch

    folder = tmp_path / "adapter"
    folder.mkdir()
    (folder / "adapter_config.json").write_text(json.dumps(
        {"base_model_name_or_path": "starter", "peft_type": "LORA", "r": 4}), encoding="utf-8")
    marker = tmp_path / "PICKLE-WAS-OPENED"
    torch.save({"trap": pickle_trap(marker)}, folder / "adapter_model.bin")
    out = cli("suggest", "--model", str(folder))
    assert out.code == 2 and "pickle" in out.stderr and len(out.error_lines) == 1
    assert trap_is_live(tmp_path) and not marker.exists()


# -- network responses: capped, parsed -----------------------------------------------------


async def test_a_page_over_the_default_size_cap_is_refused_not_stored(
        library: Library, monkeypatch: pytest.MonkeyPatch) -> None:
    artists = [FakeArtist(960, "Big Pages")]
    songs = [FakeSong(9601, "Huge", 960, ["[Verse]<br/>one line here"])]
    cap = HttpOptions().max_body_bytes
    async with FakeGenius(artists, songs, padding_kb=cap // 1024 + 64) as fake:
        for key, value in fake.env().items():
            monkeypatch.setenv(key, value)
        summary = await scrape(library, "Big Pages", http=FAST)
    assert summary.kept == 0 and len(summary.failed) == 1
    assert "limit" in summary.failed[0][1]
    print(json.dumps({"case": "page-over-default-cap", "cap_bytes": cap,
                      "failed_reason": summary.failed[0][1].split(" is ", 1)[-1]}))
    artist = library.get_artist("Big Pages")
    assert library.songs(artist.id, include_skipped=True) == []


async def test_a_stream_without_a_length_is_cut_at_the_cap() -> None:
    """A chunked body with no Content-Length: the client stops reading at the cap."""
    sent = 0

    async def endless(request: web.Request) -> web.StreamResponse:
        nonlocal sent
        resp = web.StreamResponse()
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        try:
            for _ in range(800):  # 50 MB if nobody stops it
                await resp.write(b"x" * 65536)
                sent += 65536
        except (ConnectionResetError, RuntimeError):
            pass
        return resp

    app = web.Application()
    app.router.add_get("/", endless)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/"
    try:
        async with HttpClient(HttpOptions(max_body_bytes=1024 * 1024, max_attempts=1)) as client:
            with pytest.raises(HttpError, match="limit"):
                await client.get(url)
    finally:
        await runner.cleanup()
    assert sent < 20 * 1024 * 1024, f"{sent:,} bytes sent: the client kept reading"
    print(json.dumps({"case": "chunked-stream-cap", "cap_bytes": 1024 * 1024,
                      "bytes_sent_before_the_client_hung_up": sent}))


# -- escape sequences from Genius and from files ------------------------------------------


def screen_text(app) -> str:
    """What the app's current screen shows, as text (Textual's own styling is not text)."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(seg.text for seg in strip if not seg.control) for strip in strips)


def stored_texts(home: Path) -> list[str]:
    conn = sqlite3.connect(home / "library.sqlite3")
    try:
        rows = conn.execute("SELECT a.name, s.title, s.lyrics, coalesce(s.skipped_reason, '')"
                            " FROM songs s JOIN artists a ON a.id = s.artist_id").fetchall()
    finally:
        conn.close()
    return [text for row in rows for text in row]


def assert_clean_lyrics(lyrics: str, no_controls) -> None:
    assert no_controls(lyrics), repr(lyrics)
    for word in VISIBLE_WORDS:
        assert word in lyrics, (word, lyrics)
    for payload in PAYLOADS:
        assert payload not in lyrics, (payload, lyrics)


def test_escape_sequences_from_genius_never_reach_the_library_or_the_cli(
        lyrictui_home: Path, genius: FakeGenius, cli, no_controls) -> None:
    env = genius.env()
    out = cli("scrape", "Evil Band", env=env)
    assert out.code == 0, out.stderr
    lib = Library()
    artist = lib.get_artist("Evil Band")
    assert artist.name == "Evil Band"
    (song,) = lib.songs(artist.id)
    assert song.title == "Title with escapes"
    assert_clean_lyrics(song.lyrics, no_controls)
    lib.close()
    assert all(no_controls(t) for t in stored_texts(lyrictui_home))
    for args in (("songs", "Evil Band"), ("songs", "Evil Band", "--json"), ("artists",),
                 ("artists", "--json"), ("export", "Evil Band"),
                 ("export", "Evil Band", "--format", "jsonl")):
        shown = cli(*args)
        assert shown.code == 0, (args, shown.stderr)
        assert no_controls(shown.stdout + shown.stderr), (args, shown.stdout)
        assert "Evil Band" in shown.stdout or "Title with escapes" in shown.stdout


def test_escape_sequences_in_imported_files_and_file_names_are_stripped(
        lyrictui_home: Path, tmp_path: Path, cli, song_a, no_controls) -> None:
    folder = tmp_path / "lyrics"
    folder.mkdir()
    hostile = EVIL_LYRICS.replace("<br/>", "").split("<script>")[0].replace("&#27;", "\x1b")
    text = "\n".join([song_a] * 6 + [hostile, "still here"]) + "\n"  # mostly text: not binary
    (folder / "evil \x1b]0;pwned\x07name.txt").write_text(text, encoding="utf-8")
    out = cli("import", "Importer", str(folder))
    assert out.code == 0, out.stderr
    assert no_controls(out.stdout + out.stderr)
    lib = Library()
    (song,) = lib.songs(lib.get_artist("Importer").id)
    assert song.title == "evil name"
    assert no_controls(song.lyrics) and "pwned" not in song.lyrics
    for word in ("clear", "screen", "copy", "click", "here", "still"):
        assert word in song.lyrics
    lib.close()


def insert_legacy_rows(home: Path) -> None:
    """Rows as an older lyrictui (or a hand edit) may have stored them, controls and all."""
    lib = Library()
    lib.list_artists()  # the library file and its schema exist
    lib.close()
    conn = sqlite3.connect(home / "library.sqlite3")
    with conn:
        cur = conn.execute("INSERT INTO artists (name, slug, source, created_at)"
                           " VALUES (?, 'legacy', 'imported', ?)", (EVIL_NAME, time.time()))
        for n, reason in ((1, None), (2, "duplicate of \x1b]52;c;aGk=\x07x")):
            conn.execute(
                "INSERT INTO songs (artist_id, title, lyrics, content_hash, source_key,"
                " skipped_reason, fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (cur.lastrowid, f"{EVIL_TITLE} {n}", "line \x1b[2J one\nline \x9b2J two",
                 f"h{n}", f"k{n}", reason, time.time()))
        conn.execute("INSERT INTO drafts (title, text, created_at, updated_at)"
                     " VALUES (?, ?, ?, ?)", ("draft \x1b[2J", "verse \x07\x1b]52;c;aGk=\x07",
                                              time.time(), time.time()))
    conn.close()


def test_older_rows_with_escape_sequences_are_cleaned_on_display_by_the_cli(
        lyrictui_home: Path, snapshot, cli, no_controls) -> None:
    insert_legacy_rows(lyrictui_home)
    legacy = "Evil\x1b[31m Band\x07"
    before = snapshot(lyrictui_home)
    for args in (("songs", legacy), ("songs", "legacy", "--skipped"), ("songs", "legacy",
                 "--json"), ("artists",), ("artists", "--json"), ("export", "legacy"),
                 ("export", "legacy", "--format", "jsonl"), ("drafts",), ("drafts", "show", "1")):
        shown = cli(*args)
        assert shown.code in (0, 2), (args, shown.stderr)
        assert no_controls(shown.stdout + shown.stderr), (args, shown.stdout)
    assert snapshot(lyrictui_home) == before


async def test_the_app_shows_no_control_characters_from_genius_or_older_rows(
        lyrictui_home: Path, genius: FakeGenius, monkeypatch: pytest.MonkeyPatch,
        wait_until, wait_for_workers, control_chars, no_controls) -> None:
    from lyrictui.app import Services, make_app
    from lyrictui.screens.library import LibraryScreen
    from lyrictui.widgets.artist_detail import ArtistDetail
    from lyrictui.widgets.artist_table import ArtistTable

    for key, value in genius.env().items():
        monkeypatch.setenv(key, value)
    library = Library()
    insert_legacy_rows(lyrictui_home)
    seen: list = []
    app = make_app(Services(library=library))
    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.press("a")  # fetch the hostile artist through the app
        await pilot.pause()
        app.screen.query_one("#add-name").value = "Evil Band"
        app.screen.submit()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while not any(isinstance(m, LibraryScreen.JobEnded) for m in seen):
            assert loop.time() < deadline, "the scrape did not end"
            await pilot.pause(0.05)
        table = app.screen.query_one(ArtistTable)
        for row in range(2):
            await wait_for_workers(app, pilot)
            shown, mark = table.selected_artist_id, len(seen)
            table.move_cursor(row=row)
            await pilot.pause()
            target = table.selected_artist_id
            if target != shown:  # the detail pane reads the newly highlighted artist
                await wait_until(pilot, lambda t=target, m=mark: any(
                    isinstance(msg, ArtistDetail.Loaded) and msg.artist is not None
                    and msg.artist.id == t for msg in seen[m:]), "the artist's detail read")
            await wait_for_workers(app, pilot)
            text = screen_text(app)
            assert no_controls(text), repr([ln for ln in text.splitlines()
                                            if control_chars.search(ln)])
            assert "Title with escapes" in text  # the detail pane shows the songs
        ended = next(m for m in seen if isinstance(m, LibraryScreen.JobEnded))
        assert not ended.error and "Evil Band" in ended.message
    (song,) = library.songs(library.get_artist("Evil Band").id)
    assert song.title == "Title with escapes"
    assert_clean_lyrics(song.lyrics, no_controls)


def test_an_error_quoting_hostile_text_is_printed_clean(lyrictui_home: Path, cli,
                                                        no_controls) -> None:
    out = cli("songs", "no such \x1b]52;c;aGk=\x07artist")
    assert out.code == 2 and no_controls(out.stderr)
    with pytest.raises(LyricError):
        Library().get_artist("\x1b[2J")
    lib = Library()
    lib.add_artist("Real", "imported")
    out = cli("import", "Real", str(lyrictui_home / "missing \x1b[2J.txt"))
    assert out.code == 2 and no_controls(out.stderr) and len(out.error_lines) == 1
    lib.close()


def test_the_hostile_samples_really_hold_controls(song_a, no_controls) -> None:
    """The check can fail: it sees the raw controls the cases above feed in."""
    assert not no_controls(EVIL_LYRICS) and not no_controls(EVIL_NAME)
    assert no_controls(song_a)
