"""What users already have, taken in: LyricsGenius exports, Hugging Face datasets (on disk, in
the local hub caches under HF_HUB_OFFLINE), and datasets out again.

Every file here is made by the test (invented songs), in the layouts the real tools write:
LyricsGenius's `save_lyrics()` (1.x and 2.x/3.x), `datasets.save_to_disk`, the prepared
datasets cache and the hub's file cache.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from lyrictui.core.store.library import Library

LANTERNS = "The Paper Lanterns"


def run_cli(*args: str) -> Result:
    from lyrictui.cli import cli

    return CliRunner().invoke(cli, list(args))


def song_body(genius_id: int, title: str, lyrics: str, **extra: object) -> dict:
    """A Genius song object as LyricsGenius 3.x saves it (API fields plus artist and lyrics)."""
    body = {"id": genius_id, "title": title, "api_path": f"/songs/{genius_id}",
            "url": f"https://genius.com/The-paper-lanterns-{genius_id}-lyrics",
            "full_title": f"{title} by {LANTERNS}", "lyrics_state": "complete",
            "primary_artist": {"id": 77, "name": LANTERNS}, "album": None,
            "artist": LANTERNS, "lyrics": lyrics}
    body.update(extra)
    return body


def modern_artist_file(folder: Path) -> Path:
    """`Lyrics_ThePaperLanterns.json` as Artist.save_lyrics() writes it in 2.x/3.x."""
    songs = [
        # 3.0-era text: the page header glued to the first header, an Embed tail.
        song_body(1001, "Harbor Lights",
                  "Harbor Lights Lyrics[Verse 1: Mara Quill]\nThe harbor lights are burning low\n"
                  "And every boat has somewhere it can go\n[Chorus]\nSo carry me home\n"
                  "You might also like27Embed",
                  album={"id": 5, "name": "Low Tide"}, release_date="2019-04-12"),
        # newer text: contributors and a translations list before the title header.
        song_body(1002, "Paper Crown",
                  "12 ContributorsTranslationsEspañolPaper Crown Lyrics[Intro]\n"
                  "I wore a crown of paper\nIt folded in the rain\nEmbed",
                  release_date_components={"year": 2020, "month": 2, "day": None}),
        song_body(1003, "Undertow", "Undertow Lyrics[Instrumental]\n3Embed"),
        song_body(1004, "Glass Orchard", "", lyrics_state="unreleased"),
        song_body(1005, "Harbor Lights (Live at the Pier)",
                  "[Verse 1]\nThe harbor lights are burning low\nEmbed"),
        song_body(1006, "Northbound", "[Verse 1]\nThe harbor lights are burning low\n"
                  "And every boat has somewhere it can go\n\n[Chorus]\nSo carry me home"),
    ]
    data = {"api_path": "/artists/77", "id": 77, "name": LANTERNS, "is_verified": False,
            "url": "https://genius.com/artists/The-paper-lanterns", "songs": songs}
    path = folder / "Lyrics_ThePaperLanterns.json"
    path.write_text(json.dumps(data, indent=4), encoding="utf-8")
    return path


def test_lyricsgenius_artist_file_is_cleaned_like_a_scrape(tmp_path: Path,
                                                           library: Library) -> None:
    export = modern_artist_file(tmp_path)
    result = run_cli("import", LANTERNS, str(export))
    assert result.exit_code == 0, result.output
    assert "2 songs added (1 duplicates, 3 skipped)" in result.output

    artist = library.get_artist(LANTERNS)
    kept = {s.title: s for s in library.songs(artist.id)}
    assert set(kept) == {"Harbor Lights", "Paper Crown"}
    harbor = kept["Harbor Lights"]
    assert harbor.lyrics == ("[Verse 1]\nThe harbor lights are burning low\n"
                             "And every boat has somewhere it can go\n\n[Chorus]\nSo carry me home")
    assert (harbor.album, harbor.released, harbor.genius_id) == ("Low Tide", "2019-04-12", 1001)
    assert harbor.source_key == "genius:1001"  # as a scrape keys it: a scrape will not refetch it
    assert harbor.url == "https://genius.com/The-paper-lanterns-1001-lyrics"
    assert kept["Paper Crown"].lyrics == "[Intro]\nI wore a crown of paper\nIt folded in the rain"
    assert kept["Paper Crown"].released == "2020-02"

    skipped = {s.title: s.skipped_reason for s in library.songs(artist.id, include_skipped=True)
               if s.skipped}
    assert skipped == {"Undertow": "instrumental",
                       "Glass Orchard": "lyrics not complete or unreleased",
                       "Harbor Lights (Live at the Pier)": "title variant (live)",
                       "Northbound": 'duplicate of "Harbor Lights"'}

    again = run_cli("import", LANTERNS, str(export))
    assert again.exit_code == 0 and "0 songs added (6 already imported)" in again.output


def test_lyricsgenius_old_layout_and_song_files(tmp_path: Path, library: Library) -> None:
    # 1.x: {"artist", "songs": [{"title", "album", "year", "lyrics", "image", "artist", "json"}]},
    # written by Artist.save_lyrics and (one song) by Song.save_lyrics.
    old_song = {"title": "Tin Can Telephone", "album": "Strings", "year": "2016-05-06",
                "lyrics": "[Verse 1: Mara Quill]\nHello down the string\nCan you hear me sing",
                "image": None, "artist": LANTERNS,
                "json": {"id": 2001, "url": "https://genius.com/tin-can-lyrics",
                         "lyrics_state": "complete", "title": "Tin Can Telephone"}}
    (tmp_path / "Lyrics_ThePaperLanterns.json").write_text(
        json.dumps({"artist": LANTERNS, "songs": [old_song]}), encoding="utf-8")
    # 2.x/3.x song file: one song object (Song.save_lyrics, "lyrics_<artist>_<title>.json").
    single = song_body(2002, "Lantern Song", "Lantern Song Lyrics[Chorus]\nHold the light up high"
                       "\n5Embed", album={"name": "Strings"}, release_date_for_display="May 6, 2016")
    (tmp_path / "lyrics_thepaperlanterns_lanternsong.json").write_text(
        json.dumps(single, indent=4, ensure_ascii=True), encoding="utf-8")

    result = run_cli("import", "Lanterns", str(tmp_path))  # a folder: both files
    assert result.exit_code == 0, result.output
    assert 'Imported 2 songs into "Lanterns"' in result.output
    songs = {s.title: s for s in library.songs(library.get_artist("Lanterns").id)}
    tin = songs["Tin Can Telephone"]
    assert tin.lyrics == "[Verse 1]\nHello down the string\nCan you hear me sing"
    assert (tin.album, tin.released, tin.genius_id) == ("Strings", "2016-05-06", 2001)
    lantern = songs["Lantern Song"]
    assert lantern.lyrics == "[Chorus]\nHold the light up high"
    assert (lantern.album, lantern.released) == ("Strings", "May 6, 2016")

    listed = json.loads(run_cli("songs", "Lanterns", "--json").output)
    assert {s["title"]: s["album"] for s in listed} == {"Tin Can Telephone": "Strings",
                                                       "Lantern Song": "Strings"}


def test_a_json_that_is_not_an_export_gets_one_line_and_stores_nothing(tmp_path: Path,
                                                                       lyrictui) -> None:
    (tmp_path / "package.json").write_text('{"name": "left-pad", "version": "1.0.0"}')
    (tmp_path / "broken.json").write_text('{"songs": [')
    (tmp_path / "titles.json").write_text('{"songs": [{"name": "no lyrics here"}]}')
    for name, why in (("package.json", 'neither a "songs" list nor a "title" with "lyrics"'),
                      ("broken.json", "not valid JSON"),
                      ("titles.json", 'hold no song with a "title" and "lyrics"')):
        result = lyrictui("import", "Nobody", str(tmp_path / name))
        assert result.returncode == 2, result
        assert result.stdout == ""
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: nothing imported: ")
        assert why in lines[0]
    assert "Nobody" not in lyrictui("artists").stdout


# -- datasets ------------------------------------------------------------------------------

SONGS = ["[Verse 1]\nThe river knows my name\nIt calls me every spring",
         "Stone upon a stone\nWe built this house alone",
         "[Instrumental]",
         "[Verse 1]\nThe River knows my name\nIt calls me every Spring"]  # the first, recased


def huggingartists_rows() -> dict[str, list[str]]:
    """The huggingartists/<artist> layout: one `text` column, a song per row."""
    return {"text": SONGS}


def test_dataset_saved_to_disk_and_files(tmp_path: Path, library: Library) -> None:
    import datasets

    folder = tmp_path / "saved"
    datasets.DatasetDict({"train": datasets.Dataset.from_dict(huggingartists_rows())}
                         ).save_to_disk(str(folder))
    result = run_cli("import", "River", "--dataset", str(folder))
    assert result.exit_code == 0, result.output
    assert ('Imported 2 songs into "River" from 4 rows of' in result.output
            and "(1 duplicates, 1 without lyrics)" in result.output)
    artist = library.get_artist("River")
    kept = library.songs(artist.id)
    assert [s.title for s in kept] == ["The river knows my name", "Stone upon a stone"]
    assert kept[0].lyrics == SONGS[0]
    again = run_cli("import", "River", "--dataset", str(folder))
    assert again.exit_code == 0 and "(4 already imported)" in again.output

    # One file of rows, with a title and metadata, and another lyrics column.
    rows = tmp_path / "rows.parquet"
    datasets.Dataset.from_dict({"title": ["Stone House"], "lyrics": [SONGS[1]],
                                "album": ["Masonry"], "year": [2021]}).to_parquet(str(rows))
    result = run_cli("import", "Mason", "--dataset", str(rows), "--column", "lyrics")
    assert result.exit_code == 0, result.output
    (song,) = library.songs(library.get_artist("Mason").id)
    assert (song.title, song.album, song.released) == ("Stone House", "Masonry", "2021")

    jsonl = tmp_path / "rows.jsonl"
    jsonl.write_text("".join(json.dumps({"text": t}) + "\n" for t in SONGS[:2]))
    assert run_cli("import", "Jsonl", "--dataset", str(jsonl)).exit_code == 0
    assert library.song_counts(library.get_artist("Jsonl").id) == (2, 0)


def test_dataset_without_the_column_gets_one_line_and_stores_nothing(tmp_path: Path,
                                                                     lyrictui) -> None:
    import datasets

    folder = tmp_path / "no-text"
    datasets.Dataset.from_dict({"lyrics": SONGS}).save_to_disk(str(folder))
    result = lyrictui("import", "Nobody", "--dataset", str(folder))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"error: the dataset {folder} has no 'text' column (its columns: lyrics): choose the "
        "lyrics column with --column"]
    nothing = lyrictui("import", "Nobody", "--dataset", str(tmp_path / "missing-folder"))
    assert nothing.returncode == 2 and len(nothing.stderr.strip().splitlines()) == 1
    assert "Nobody" not in lyrictui("artists").stdout


def prepared_cache(cache: Path, repo_id: str, rows: dict[str, list[str]]) -> Path:
    """What an online `load_dataset(repo_id)` leaves in the datasets cache:
    <cache>/<namespace>___<name>/default/0.0.0/<hash>/ with <name>-train.arrow and
    dataset_info.json, prepared here by datasets' own json builder from a local file."""
    from datasets.packaged_modules.json.json import Json

    namespace, name = repo_id.split("/")
    cache.mkdir(parents=True, exist_ok=True)
    source = cache / "source.jsonl"
    keys = list(rows)
    source.write_text("".join(json.dumps(dict(zip(keys, values, strict=True))) + "\n"
                              for values in zip(*rows.values(), strict=True)))
    builder = Json(cache_dir=str(cache / "build"), dataset_name=name, config_name="default",
                   data_files={"train": str(source)}, hash="0f1e2d3c4b5a6978")
    builder.download_and_prepare()
    target = cache / f"{namespace}___{name}" / "default" / "0.0.0" / "0f1e2d3c4b5a6978"
    target.parent.mkdir(parents=True)
    shutil.move(builder.cache_dir, target)
    shutil.rmtree(cache / "build")
    source.unlink()
    return target


def test_hub_datasets_offline_from_the_local_caches(tmp_path: Path, hub_file_cache,
                                                    lyrictui) -> None:
    datasets_cache = tmp_path / "datasets-cache"
    prepared_cache(datasets_cache, "huggingartists/paper-lanterns", huggingartists_rows())
    hub_cache = tmp_path / "hub-cache"
    hub_file_cache(hub_cache, "dataset", "huggingartists/river-band", {
        "README.md": b"---\ntags:\n- huggingartists\n---\n",
        "data/train.jsonl": "".join(json.dumps({"text": t}) + "\n" for t in SONGS[:2]).encode()})
    env = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_CACHE": str(datasets_cache),
           "HF_HUB_CACHE": str(hub_cache)}

    # The layout is the one datasets itself reloads offline.
    check = subprocess.run(
        [sys.executable, "-c", "import datasets; print(datasets.load_dataset("
         "'huggingartists/paper-lanterns')['train'].num_rows)"],
        capture_output=True, text=True, env={**os.environ, **env}, timeout=120)
    assert check.stdout.strip() == "4", check.stderr

    prepared = lyrictui("import", "Lanterns", "--dataset", "huggingartists/paper-lanterns", **env)
    assert prepared.returncode == 0, prepared.stderr
    assert 'Imported 2 songs into "Lanterns" from 4 rows' in prepared.stdout
    files = lyrictui("import", "River", "--dataset", "huggingartists/river-band", **env)
    assert files.returncode == 0, files.stderr
    assert 'Imported 2 songs into "River" from 2 rows' in files.stdout

    missing = lyrictui("import", "Ghost", "--dataset", "huggingartists/not-cached", **env)
    assert missing.returncode == 2 and missing.stdout == ""
    assert missing.stderr.strip().splitlines() == [
        "error: the dataset 'huggingartists/not-cached' is not in the local Hugging Face cache "
        "and the hub is offline: connect once and run the same command (it downloads and "
        "caches it), or give a local folder or file"]
    listed = lyrictui("artists", **env).stdout
    assert "Lanterns" in listed and "River" in listed and "Ghost" not in listed


def test_export_as_a_dataset_and_back(tmp_path: Path, library: Library) -> None:
    import datasets

    export = modern_artist_file(tmp_path)
    assert run_cli("import", LANTERNS, str(export)).exit_code == 0
    out = tmp_path / "lanterns-dataset"
    result = run_cli("export", LANTERNS, "--format", "dataset", "-o", str(out))
    assert result.exit_code == 0, result.output
    loaded = datasets.load_from_disk(str(out))
    assert loaded.column_names == ["title", "text", "album", "release_date"]
    assert loaded["title"] == ["Harbor Lights", "Paper Crown"]
    assert loaded["album"] == ["Low Tide", None]
    assert loaded["text"][0].startswith("[Verse 1]\nThe harbor lights")
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())  # no temp folder left

    again = run_cli("export", LANTERNS, "--format", "dataset", "-o", str(out))
    assert again.exit_code == 2 and "not an empty folder" in again.output
    assert run_cli("export", LANTERNS, "--format", "dataset").exit_code == 2

    back = run_cli("import", "Copy", "--dataset", str(out))
    assert back.exit_code == 0, back.output
    copies = library.songs(library.get_artist("Copy").id)
    originals = library.songs(library.get_artist(LANTERNS).id)
    assert [(s.title, s.lyrics, s.album, s.released) for s in copies] == \
        [(s.title, s.lyrics, s.album, s.released) for s in originals]


@pytest.mark.parametrize("bad", ["{}", "[]", '"text"', '{"songs": {}}', '{"songs": []}'])
def test_not_exports_are_refused_by_the_parser(bad: str) -> None:
    from lyrictui.core.sources.lyricsgenius import NotAnExport, read_export

    with pytest.raises(NotAnExport):
        read_export(bad)
