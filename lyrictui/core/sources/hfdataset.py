"""Hugging Face datasets in and out: `import NAME --dataset ID_OR_PATH`, `export --format dataset`.

In: a hub id (`huggingartists/<artist>`: one `text` column, one song per row), a folder written
by `save_to_disk`, a folder of data files, or one .json / .jsonl / .parquet / .csv / .arrow
file. Every split is read, one song per row, cleaned by the scrape's contract; a `title`
column names the songs (else their first line does), `album` and `release_date` / `year`
columns are kept. Songs are stored in batches, keyed by title and text, so a rerun adds only
what is missing.

Offline (HF_HUB_OFFLINE, or the hub unreachable) a hub id is read from the local caches only:
the hub's file cache (`snapshot_download`) and then the prepared datasets cache that an earlier
`load_dataset` left; if neither holds it, one line says so, after no network wait.

Out: the kept songs as a `save_to_disk` folder (`title`, `text`, `album`, `release_date`),
written under a temporary name and renamed into place.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lyrictui.core.engine import bases
from lyrictui.core.errors import InvalidInput, LyricError, NotFound
from lyrictui.core.names import clean_name, one_line
from lyrictui.core.sources import lyrics
from lyrictui.core.store.library import Library, content_hash
from lyrictui.core.store.records import NewSong, Song

DEFAULT_COLUMN = "text"
BATCH = 500  # songs per transaction: short writes, and a rerun resumes after a crash
FILE_BUILDERS = {".json": "json", ".jsonl": "json", ".parquet": "parquet", ".csv": "csv",
                 ".arrow": "arrow"}
EXPORT_COLUMNS = ("title", "text", "album", "release_date")


@dataclass
class DatasetImport:
    """What an import from a dataset did."""

    artist: str
    source: str
    rows: int = 0
    added: int = 0
    already: int = 0  # stored by an earlier import
    duplicates: int = 0  # stored as skipped: same text as another song
    skipped: int = 0  # stored as skipped: no lyric lines (empty, instrumental)
    not_text: int = 0  # rows whose column held no string: not stored


@contextmanager
def _hub_offline() -> Iterator[None]:
    """Make datasets and huggingface_hub read only their caches for this block: with the hub
    unreachable but HF_HUB_OFFLINE unset they retry for about 20 s before trying the cache."""
    import datasets.config
    from huggingface_hub import constants

    saved = (datasets.config.HF_HUB_OFFLINE, constants.HF_HUB_OFFLINE)
    datasets.config.HF_HUB_OFFLINE = constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        datasets.config.HF_HUB_OFFLINE, constants.HF_HUB_OFFLINE = saved


@contextmanager
def _quiet() -> Iterator[None]:
    """No progress bars or "Found the latest cached dataset" warnings on the terminal."""
    import datasets

    verbosity = datasets.logging.get_verbosity()
    bars = datasets.is_progress_bar_enabled()
    datasets.logging.set_verbosity_error()
    datasets.disable_progress_bars()
    try:
        yield
    finally:
        datasets.logging.set_verbosity(verbosity)
        if bars:
            datasets.enable_progress_bars()


def _first_line(message: object) -> str:
    text = str(message).strip().splitlines()
    return text[0][:300] if text else ""


def _splits(loaded: Any) -> list[Any]:
    """Every split of a Dataset or DatasetDict, train first."""
    from datasets import Dataset

    if isinstance(loaded, Dataset):
        return [loaded]
    names = sorted(loaded, key=lambda n: (n != "train", n))
    return [loaded[n] for n in names]


def _load_local(path: Path) -> list[Any]:
    import datasets

    try:
        if path.is_dir():
            if (path / "dataset_dict.json").exists() or (path / "state.json").exists():
                return _splits(datasets.load_from_disk(str(path)))
            return _splits(datasets.load_dataset(str(path)))
        builder = FILE_BUILDERS.get(path.suffix.lower())
        if builder is None:
            raise InvalidInput(f"{path} is not a dataset file: give a .json, .jsonl, .parquet, "
                               ".csv or .arrow file, or a folder")
        return _splits(datasets.load_dataset(builder, data_files=str(path)))
    except LyricError:
        raise
    except Exception as exc:  # pyarrow, json and datasets raise many kinds for a bad file
        raise InvalidInput(f"{path} cannot be read as a dataset ({type(exc).__name__}: "
                           f"{_first_line(exc)})") from None


def _load_hub(repo_id: str) -> list[Any]:
    import datasets

    if not bases.hub_unreachable():
        try:
            return _splits(datasets.load_dataset(repo_id))
        except Exception as exc:
            raise LyricError(f"the dataset {repo_id!r} could not be loaded from the Hugging "
                             f"Face hub ({type(exc).__name__}: {_first_line(exc)})") from None
    from huggingface_hub import snapshot_download

    with _hub_offline():
        try:  # files fetched earlier (hf download, snapshot_download, an online load_dataset)
            folder = snapshot_download(repo_id, repo_type="dataset", local_files_only=True)
        except Exception:
            folder = None
        if folder is not None:
            return _load_local(Path(folder))
        try:  # the prepared copy an earlier load_dataset left in the datasets cache
            return _splits(datasets.load_dataset(repo_id))
        except Exception:
            pass
    raise NotFound(f"the dataset {repo_id!r} is not in the local Hugging Face cache and the hub "
                   "is offline: connect once and run the same command (it downloads and caches "
                   "it), or give a local folder or file")


def load_splits(source: str) -> list[Any]:
    """The splits of a dataset named by a local path or a hub id."""
    source = (source or "").strip()
    if not source:
        raise InvalidInput("the dataset is empty: give a hub id such as huggingartists/ARTIST, "
                           "a folder or a file")
    path = Path(source).expanduser()
    if path.exists():
        with _quiet():
            return _load_local(path)
    if source.startswith((".", "/", "~")) or source.count("/") > 1 or "\\" in source:
        raise InvalidInput(f"no dataset at {source}: the path does not exist")
    with _quiet():
        return _load_hub(source)


def _column(split: Any, name: str) -> list[Any] | None:
    return split[name] if name in split.column_names else None


def _title(text: str, fallback: str) -> str:
    """The song's first lyric line, cut at a word, as its title."""
    first = next(iter(lyrics.lyric_lines(text)), "").strip().rstrip(",;:.!?-'\"")
    if len(first) > 60:
        first = first[:60].rsplit(" ", 1)[0] + "..."
    return first or fallback


def _meta(values: list[Any] | None, index: int) -> str | None:
    if values is None or values[index] is None:
        return None
    return one_line(str(values[index]))[:200] or None


def rows_to_songs(splits: list[Any], column: str, source: str,
                  report: DatasetImport) -> Iterator[NewSong]:
    """The songs of the dataset's rows, cleaned, with a reason when one is to be skipped."""
    for split in splits:
        texts = _column(split, column)
        if texts is None:
            continue
        titles = _column(split, "title")
        albums = _column(split, "album")
        dates = _column(split, "release_date") or _column(split, "year")
        for i, raw in enumerate(texts):
            report.rows += 1
            if not isinstance(raw, str):
                report.not_text += 1
                continue
            given = titles[i] if titles is not None and isinstance(titles[i], str) else None
            clean = lyrics.clean_lyrics(raw, title=given)
            title = one_line(given or "")[:200] or _title(clean, f"{source} #{report.rows}")
            key = "dataset:" + hashlib.sha256(f"{title}\n{content_hash(clean)}".encode(
                "utf-8", "surrogateescape")).hexdigest()[:40]
            yield NewSong(title, clean, source_key=key, skipped_reason=lyrics.empty_reason(clean),
                          album=_meta(albums, i), released=_meta(dates, i))


def import_dataset(library: Library, name: str, source: str, *, column: str = DEFAULT_COLUMN,
                   on_batch: Callable[[DatasetImport], None] | None = None) -> DatasetImport:
    """Import every row of a dataset as a song of artist `name` (created if new, with source
    "imported"). A dataset without `column`, or with no lyrics in it, stores nothing."""
    name = clean_name(name)
    column = (column or "").strip() or DEFAULT_COLUMN
    splits = load_splits(source)
    if not any(column in s.column_names for s in splits):
        columns = sorted({c for s in splits for c in s.column_names})
        shown = ", ".join(columns[:12]) or "none"
        raise InvalidInput(f"the dataset {source} has no {column!r} column (its columns: "
                           f"{shown}): choose the lyrics column with --column")
    report = DatasetImport(artist=name, source=source)
    songs = list(rows_to_songs(splits, column, source, report))
    if not any(s.skipped_reason is None for s in songs):
        raise InvalidInput(f"no lyrics in the {column!r} column of {source} "
                           f"({report.rows} rows): nothing imported")
    artist = library.get_or_create_artist(name, "imported")
    report.artist = artist.name
    for start in range(0, len(songs), BATCH):
        for row in library.add_songs(artist.id, songs[start:start + BATCH]):
            if row is None:
                report.already += 1
            elif row.skipped_reason is None:
                report.added += 1
            elif row.skipped_reason.startswith("duplicate of"):
                report.duplicates += 1
            else:
                report.skipped += 1
        if on_batch is not None:
            on_batch(report)
    return report


def export_dataset(songs: list[Song], output: Path) -> Path:
    """Write songs as a `save_to_disk` dataset at `output` (a new or empty folder)."""
    from datasets import Dataset, Features, Value

    output = output.expanduser()
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise InvalidInput(f"{output} already exists and is not an empty folder: choose a new "
                           "folder for the dataset")
    if not output.parent.is_dir():
        raise InvalidInput(f"{output.parent} is not a folder: create it first or choose another "
                           "path")
    data = {"title": [one_line(s.title) for s in songs], "text": [s.lyrics for s in songs],
            "album": [s.album for s in songs], "release_date": [s.released for s in songs]}
    features = Features({c: Value("string") for c in EXPORT_COLUMNS})
    tmp = output.with_name(f".{output.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        with _quiet():
            Dataset.from_dict(data, features=features).save_to_disk(str(tmp))
        if output.exists():
            output.rmdir()  # empty, checked above
        os.replace(tmp, output)
    except OSError as exc:
        raise LyricError(f"cannot write the dataset to {output}: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return output
