"""The library: artists, songs, datasets, runs, models and drafts in one SQLite file.

Safe to use from the app, a scrape and a training process at the same moment (see core/store/db.py).
"""

from __future__ import annotations

import difflib
import hashlib
import os
import shutil
import sqlite3
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from lyrictui.core import paths
from lyrictui.core.errors import InvalidInput, NotFound
from lyrictui.core.names import clean_name, fold, name_key, slugify
from lyrictui.core.procs import pid_alive
from lyrictui.core.store.db import Database
from lyrictui.core.store.records import (
    SOURCES,
    Artist,
    ArtistSummary,
    DatasetRecord,
    Draft,
    Model,
    NewSong,
    Run,
    Song,
)


def content_hash(lyrics: str) -> str:
    """Hash of the normalized text: case and whitespace do not make a song new."""
    normalized = " ".join(lyrics.casefold().split())
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()


class Library:
    """Typed access to the library file. Cheap to create; connects on first use."""

    def __init__(self, path: Path | None = None) -> None:
        self.db = Database(path or paths.library_path())

    def close(self) -> None:
        self.db.close()

    def data_version(self) -> int:
        """A number that changes when another connection (another process, or another of this
        process's threads) commits to the library: one cheap query, for noticing changes."""
        return int(self.db.conn.execute("PRAGMA data_version").fetchone()[0])

    # -- artists -------------------------------------------------------------------------

    def add_artist(self, name: str, source: str, genius_id: int | None = None) -> Artist:
        """Create an artist; its slug is unique and safe as a folder name."""
        name = clean_name(name)
        if source not in SOURCES:
            raise InvalidInput(f"unknown source {source!r}: use one of {', '.join(SOURCES)}")
        with self.db.write() as conn:
            if self._row_by_name(conn, name) is not None:
                raise InvalidInput(f'an artist named "{name}" already exists')
            base = slugify(name)
            slug, n = base, 2
            while conn.execute("SELECT 1 FROM artists WHERE slug = ?", (slug,)).fetchone():
                slug, n = f"{base}-{n}", n + 1
            cur = conn.execute(
                "INSERT INTO artists (name, name_key, slug, source, genius_id, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (name, name_key(name), slug, source, genius_id, time.time()),
            )
            row = conn.execute("SELECT * FROM artists WHERE id = ?", (cur.lastrowid,)).fetchone()
        return Artist(**row)

    def get_or_create_artist(
        self, name: str, source: str, genius_id: int | None = None
    ) -> Artist:
        """The artist with this name, created if missing. Another process creating it at the
        same moment is no error: the one that loses the race gets the winner's row."""
        found = self.find_artist(name)
        if found is not None:
            return found
        try:
            return self.add_artist(name, source, genius_id)
        except InvalidInput:
            found = self.find_artist(name)
            if found is None:  # a bad name or source, not a race
                raise
            return found

    @staticmethod
    def _row_by_name(conn: sqlite3.Connection, name: str) -> sqlite3.Row | None:
        return conn.execute(
            "SELECT * FROM artists WHERE name_key = ? OR name = ? COLLATE NOCASE OR slug = ?"
            " ORDER BY id", (name_key(name), name, name)
        ).fetchone()

    def find_artist(self, name: str) -> Artist | None:
        """The artist with this name (any case) or slug, or None."""
        row = self._row_by_name(self.db.conn, " ".join(name.split()))
        return Artist(**row) if row else None

    def get_artist(self, name: str) -> Artist:
        """Like find_artist, but an unknown name raises NotFound naming the closest ones."""
        name = clean_name(name)
        found = self.find_artist(name)
        if found is not None:
            return found
        names = [a.name for a in self.list_artists()]
        by_fold = {fold(n): n for n in names}
        close = difflib.get_close_matches(fold(name), list(by_fold), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(by_fold[c] for c in close)}?" if close else ""
        more = "" if hint else "; `lyrictui artists` lists them"
        raise NotFound(f'no artist named "{name}" in the library{hint}{more}')

    def artist_by_id(self, artist_id: int) -> Artist:
        row = self.db.conn.execute("SELECT * FROM artists WHERE id = ?", (artist_id,)).fetchone()
        if row is None:
            raise NotFound(f"no artist with id {artist_id}")
        return Artist(**row)

    def list_artists(self) -> list[Artist]:
        rows = self.db.conn.execute("SELECT * FROM artists ORDER BY name COLLATE NOCASE")
        return [Artist(**row) for row in rows]

    def rename_artist(self, artist_id: int, new_name: str) -> Artist:
        """Change the display name; the slug (and so the folder) stays."""
        new_name = clean_name(new_name)
        with self.db.write() as conn:
            other = self._row_by_name(conn, new_name)
            if other is not None and other["id"] != artist_id:
                raise InvalidInput(f'an artist named "{new_name}" already exists')
            conn.execute("UPDATE artists SET name = ?, name_key = ? WHERE id = ?",
                         (new_name, name_key(new_name), artist_id))
        return self.artist_by_id(artist_id)

    def training_runs(self, artist_id: int) -> list[Run]:
        """The artist's runs whose process is alive now: a fresh heartbeat, a live pid on an
        active row, or a run folder whose lock some process holds (a worker stopped with
        SIGSTOP, or one marked interrupted while it still lives)."""
        alive = []
        for run in self.list_runs(artist_id):
            active = run.status in ACTIVE_RUNS and (
                time.time() - (run.heartbeat_at or run.started_at) <= _heartbeat_timeout()
                or (run.pid is not None and run.pid != os.getpid() and pid_alive(run.pid)))
            if active or _run_lock_held(run):
                alive.append(run)
        return alive

    def delete_artist(self, artist_id: int) -> int:
        """Delete the artist's rows, then its folder; returns the bytes freed on disk.

        Refused while one of the artist's runs trains: its process would go on writing into
        the deleted folder, vanish from `runs` and `cancel`, and hand its model to the next
        artist given the same name (same slug, and SQLite may reuse the id)."""
        artist = self.artist_by_id(artist_id)
        busy = self.training_runs(artist_id)
        if busy:
            run = busy[0]
            raise InvalidInput(
                f'"{artist.name}" is training (run {run.id}, pid {run.pid or "starting"}): '
                f"stop it first with `lyrictui cancel {run.id}`, then remove the artist")
        folder = paths.artist_dir(artist.slug)
        freed = paths.dir_size(folder)
        with self.db.write() as conn:
            conn.execute("DELETE FROM artists WHERE id = ?", (artist_id,))
            if artist.source == "demo":
                conn.execute(
                    "INSERT OR REPLACE INTO settings (key, value) VALUES ('demo_removed', '1')"
                )
        shutil.rmtree(folder, ignore_errors=True)
        return freed

    # -- settings ------------------------------------------------------------------------

    def get_setting(self, key: str) -> str | None:
        row = self.db.conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return row["value"] if row else None

    def set_setting(self, key: str, value: str | None) -> None:
        with self.db.write() as conn:
            if value is None:
                conn.execute("DELETE FROM settings WHERE key = ?", (key,))
            else:
                conn.execute(
                    "INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", (key, value)
                )

    # -- songs ---------------------------------------------------------------------------

    def add_song(
        self,
        artist_id: int,
        title: str,
        lyrics: str,
        *,
        source_key: str | None = None,
        genius_id: int | None = None,
        url: str | None = None,
        skipped_reason: str | None = None,
    ) -> Song | None:
        """Store one song in its own transaction; returns None if `source_key` is stored already.

        A kept song whose normalized text matches a kept song of the same artist is stored as
        skipped ("duplicate of ..."), so a rerun never doubles a song and nothing is silently lost.
        """
        song = NewSong(title, lyrics, source_key=source_key, genius_id=genius_id, url=url,
                       skipped_reason=skipped_reason)
        return self.add_songs(artist_id, [song])[0]

    def songs(self, artist_id: int, *, include_skipped: bool = False) -> list[Song]:
        """An artist's songs in the order they were stored."""
        sql = "SELECT * FROM songs WHERE artist_id = ?"
        if not include_skipped:
            sql += " AND skipped_reason IS NULL"
        rows = self.db.conn.execute(sql + " ORDER BY id", (artist_id,))
        return [Song(**row) for row in rows]

    def source_keys(self, artist_id: int) -> set[str]:
        """Keys of every stored song (kept or skipped): what a rerun must not fetch again."""
        rows = self.db.conn.execute(
            "SELECT source_key FROM songs WHERE artist_id = ? AND source_key IS NOT NULL",
            (artist_id,),
        )
        return {row[0] for row in rows}

    def song_counts(self, artist_id: int) -> tuple[int, int]:
        """(kept, skipped) songs of an artist."""
        row = self.db.conn.execute(
            "SELECT COUNT(*) - COUNT(skipped_reason), COUNT(skipped_reason) FROM songs"
            " WHERE artist_id = ?",
            (artist_id,),
        ).fetchone()
        return int(row[0]), int(row[1])

    # -- datasets ------------------------------------------------------------------------

    def record_dataset(self, artist_id: int, **fields: Any) -> DatasetRecord:
        """Store (or refresh) the stats of a packed dataset, keyed by its content key."""
        fields.setdefault("created_at", time.time())
        cols = ", ".join(fields)
        marks = ", ".join("?" for _ in fields)
        with self.db.write() as conn:
            conn.execute(
                f"INSERT OR REPLACE INTO datasets (artist_id, {cols}) VALUES (?, {marks})",
                (artist_id, *fields.values()),
            )
            row = conn.execute(
                "SELECT * FROM datasets WHERE artist_id = ? AND key = ?",
                (artist_id, fields["key"]),
            ).fetchone()
        return DatasetRecord(**row)

    def latest_dataset(self, artist_id: int) -> DatasetRecord | None:
        row = self.db.conn.execute(
            "SELECT * FROM datasets WHERE artist_id = ? ORDER BY created_at DESC, id DESC LIMIT 1",
            (artist_id,),
        ).fetchone()
        return DatasetRecord(**row) if row else None

    def forget_datasets(self, artist_id: int, keep: int) -> list[DatasetRecord]:
        """Drop the rows of all but the artist's `keep` newest datasets; returns the dropped
        rows (their folders are the caller's to delete, after this commits)."""
        with self.db.write() as conn:
            rows = conn.execute(
                "SELECT * FROM datasets WHERE artist_id = ? ORDER BY created_at DESC, id DESC"
                " LIMIT -1 OFFSET ?", (artist_id, keep)).fetchall()
            conn.executemany("DELETE FROM datasets WHERE id = ?", [(r["id"],) for r in rows])
        return [DatasetRecord(**row) for row in rows]

    # -- runs ----------------------------------------------------------------------------

    def create_run(self, run_id: str, artist_id: int, **fields: Any) -> Run:
        fields.setdefault("status", "queued")
        fields.setdefault("started_at", time.time())
        cols = ", ".join(fields)
        marks = ", ".join("?" for _ in fields)
        with self.db.write() as conn:
            conn.execute(
                f"INSERT INTO runs (id, artist_id, {cols}) VALUES (?, ?, {marks})",
                (run_id, artist_id, *fields.values()),
            )
        return self.get_run(run_id)

    def update_run(self, run_id: str, **fields: Any) -> None:
        assignments = ", ".join(f"{col} = ?" for col in fields)
        with self.db.write() as conn:
            conn.execute(f"UPDATE runs SET {assignments} WHERE id = ?", (*fields.values(), run_id))

    def get_run(self, run_id: str) -> Run:
        row = self.db.conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise NotFound(f"no training run {run_id!r}: `lyrictui runs` lists them")
        return Run(**row)

    def list_runs(self, artist_id: int | None = None) -> list[Run]:
        """Runs, newest first."""
        if artist_id is None:
            rows = self.db.conn.execute("SELECT * FROM runs ORDER BY started_at DESC")
        else:
            rows = self.db.conn.execute(
                "SELECT * FROM runs WHERE artist_id = ? ORDER BY started_at DESC", (artist_id,)
            )
        return [Run(**row) for row in rows]

    # -- models --------------------------------------------------------------------------

    def add_model(self, model_id: str, artist_id: int, **fields: Any) -> Model:
        fields.setdefault("created_at", time.time())
        cols = ", ".join(fields)
        marks = ", ".join("?" for _ in fields)
        with self.db.write() as conn:
            conn.execute(
                f"INSERT OR REPLACE INTO models (id, artist_id, {cols}) VALUES (?, ?, {marks})",
                (model_id, artist_id, *fields.values()),
            )
        return self.get_model(model_id)

    def get_model(self, model_id: str) -> Model:
        row = self.db.conn.execute("SELECT * FROM models WHERE id = ?", (model_id,)).fetchone()
        if row is None:
            raise NotFound(f"no model {model_id!r}: `lyrictui models` lists them")
        return Model(**row)

    def list_models(self, artist_id: int | None = None) -> list[Model]:
        """Models, best validation loss first within an artist, newest first otherwise."""
        if artist_id is None:
            rows = self.db.conn.execute("SELECT * FROM models ORDER BY created_at DESC")
        else:
            rows = self.db.conn.execute(
                "SELECT * FROM models WHERE artist_id = ?"
                " ORDER BY val_loss IS NULL, val_loss, created_at DESC",
                (artist_id,),
            )
        return [Model(**row) for row in rows]

    def delete_model(self, model_id: str) -> int:
        """Delete a model's row and folder; returns the bytes freed.

        A folder outside the data home (the bundled starter, registered as the demo's model)
        is not the library's to delete: only the row goes, and 0 bytes are freed.
        """
        model = self.get_model(model_id)
        try:
            folder: Path | None = paths.inside_home(Path(model.path))
        except InvalidInput:
            folder = None
        freed = paths.dir_size(folder) if folder is not None else 0
        with self.db.write() as conn:
            conn.execute("DELETE FROM models WHERE id = ?", (model_id,))
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        return freed

    # -- drafts --------------------------------------------------------------------------

    def save_draft(
        self,
        draft_id: int | None,
        *,
        title: str,
        text: str,
        artist_id: int | None = None,
        model_id: str | None = None,
    ) -> Draft:
        """Insert a draft (draft_id None) or overwrite one, in one transaction."""
        now = time.time()
        with self.db.write() as conn:
            if draft_id is None:
                cur = conn.execute(
                    "INSERT INTO drafts (artist_id, model_id, title, text, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (artist_id, model_id, title, text, now, now),
                )
                draft_id = int(cur.lastrowid or 0)
            else:
                conn.execute(
                    "UPDATE drafts SET artist_id = ?, model_id = ?, title = ?, text = ?,"
                    " updated_at = ? WHERE id = ?",
                    (artist_id, model_id, title, text, now, draft_id),
                )
        return self.get_draft(draft_id)

    def get_draft(self, draft_id: int) -> Draft:
        row = self.db.conn.execute("SELECT * FROM drafts WHERE id = ?", (draft_id,)).fetchone()
        if row is None:
            raise NotFound(f"no draft {draft_id}")
        return Draft(**row)

    def list_drafts(self) -> list[Draft]:
        rows = self.db.conn.execute("SELECT * FROM drafts ORDER BY updated_at DESC")
        return [Draft(**row) for row in rows]

    def delete_draft(self, draft_id: int) -> None:
        with self.db.write() as conn:
            conn.execute("DELETE FROM drafts WHERE id = ?", (draft_id,))

    # -- summaries -----------------------------------------------------------------------

    def summaries(self) -> list[ArtistSummary]:
        """Everything the library table shows, one entry per artist."""
        result = []
        for artist in self.list_artists():
            kept, skipped = self.song_counts(artist.id)
            dataset = self.latest_dataset(artist.id)
            runs = self.list_runs(artist.id)
            models = self.list_models(artist.id)
            result.append(
                ArtistSummary(
                    artist=artist,
                    songs=kept,
                    skipped=skipped,
                    tokens=dataset.tokens if dataset else None,
                    dataset=dataset,
                    latest_run=runs[0] if runs else None,
                    best_model=models[0] if models else None,
                    songs_fingerprint=self.songs_fingerprint(artist.id),
                )
            )
        return result

    # -- songs in bulk (import, re-scrape) -------------------------------------------------

    def add_songs(self, artist_id: int, songs: Sequence[NewSong]) -> list[Song | None]:
        """Store several songs in ONE transaction: all of them or, on any error, none.

        Same rules as `add_song` per song (None for a stored `source_key`, duplicates of kept
        songs, including earlier ones of the same batch, stored as skipped).
        """
        stored: list[Song | None] = []
        with self.db.write() as conn:
            for song in songs:
                digest = content_hash(song.lyrics)
                if song.source_key is not None and conn.execute(
                    "SELECT 1 FROM songs WHERE artist_id = ? AND source_key = ?",
                    (artist_id, song.source_key),
                ).fetchone():
                    stored.append(None)
                    continue
                reason = song.skipped_reason
                if reason is None:
                    twin = conn.execute(
                        "SELECT title FROM songs WHERE artist_id = ? AND content_hash = ?"
                        " AND skipped_reason IS NULL LIMIT 1",
                        (artist_id, digest),
                    ).fetchone()
                    if twin is not None:
                        reason = f'duplicate of "{twin["title"]}"'
                cur = conn.execute(
                    "INSERT INTO songs (artist_id, title, lyrics, content_hash, source_key,"
                    " genius_id, url, skipped_reason, fetched_at, album, released)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (artist_id, song.title, song.lyrics, digest, song.source_key,
                     song.genius_id, song.url, reason, time.time(), song.album, song.released),
                )
                row = conn.execute("SELECT * FROM songs WHERE id = ?", (cur.lastrowid,)).fetchone()
                stored.append(Song(**row))
        return stored

    def forget_songs(self, artist_id: int, *, skipped_reason: str) -> list[str]:
        """Delete the artist's songs skipped for exactly this reason; returns their source keys
        (e.g. features skipped earlier, fetched again by `scrape --include-features`)."""
        with self.db.write() as conn:
            rows = conn.execute(
                "SELECT source_key FROM songs WHERE artist_id = ? AND skipped_reason = ?",
                (artist_id, skipped_reason),
            ).fetchall()
            conn.execute(
                "DELETE FROM songs WHERE artist_id = ? AND skipped_reason = ?",
                (artist_id, skipped_reason),
            )
        return [row[0] for row in rows if row[0] is not None]

    # -- model location (the demo's bundled starter moves when the package is reinstalled) --

    def set_model_path(self, model_id: str, path: str, size_bytes: int) -> None:
        """Point a model's row at a new folder (keeps its id, so drafts still name it)."""
        with self.db.write() as conn:
            conn.execute(
                "UPDATE models SET path = ?, size_bytes = ? WHERE id = ?",
                (path, size_bytes, model_id),
            )

    # -- packed datasets: staleness ----------------------------------------------------------

    def songs_fingerprint(self, artist_id: int) -> str:
        """Fingerprint of the artist's kept songs in stored order (see `fingerprint_songs`)."""
        rows = self.db.conn.execute(
            "SELECT content_hash FROM songs WHERE artist_id = ? AND skipped_reason IS NULL"
            " ORDER BY id",
            (artist_id,),
        )
        return fingerprint_songs(row[0] for row in rows)


KEY_SONGS_DIGITS = 16  # leading hex digits of a dataset key taken from its songs' fingerprint


def fingerprint_songs(content_hashes: Iterable[str]) -> str:
    """sha256 of the songs' content hashes in order: a packed dataset's key starts with its
    first 16 hex digits, so staleness is one query, with no tokenizer loaded."""
    digest = hashlib.sha256()
    for value in content_hashes:
        digest.update(value.encode("ascii") + b"\n")
    return digest.hexdigest()


ACTIVE_RUNS = ("queued", "running")


def _heartbeat_timeout() -> float:
    from lyrictui.core.store.status import heartbeat_timeout  # status imports this module

    return heartbeat_timeout()


def _run_lock_held(run: Run) -> bool:
    """Whether a live process holds the run folder's lock (the worker keeps it for its life;
    the same probe as core/train/runs.lock_held, which this layer cannot import)."""
    try:
        lock = paths.inside_home(Path(run.dir)) / ".lock"
    except InvalidInput:
        return False
    if not lock.is_file():
        return False
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: the pid and heartbeat tell
        return False
    try:
        fh = open(lock, "a+")  # noqa: SIM115 - closed below
    except OSError:
        return False
    with fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
    return False
