"""SQLite connection handling and forward migrations for the library.

WAL lets the app read while a scrape and a training process write; every write is a short
`BEGIN IMMEDIATE` transaction so writers queue on the busy timeout instead of failing with
"database is locked" when a reader tries to upgrade its lock.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from lyrictui.core.errors import LyricError
from lyrictui.core.names import name_key

BUSY_TIMEOUT_MS = 60_000

# Each entry moves the schema from version i to i + 1. Never edit a shipped step; append one.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE artists (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        slug TEXT NOT NULL UNIQUE,
        source TEXT NOT NULL CHECK (source IN ('genius', 'imported', 'demo')),
        genius_id INTEGER,
        created_at REAL NOT NULL
    );
    CREATE UNIQUE INDEX artists_name_nocase ON artists (name COLLATE NOCASE);
    CREATE TABLE songs (
        id INTEGER PRIMARY KEY,
        artist_id INTEGER NOT NULL REFERENCES artists (id) ON DELETE CASCADE,
        title TEXT NOT NULL,
        lyrics TEXT NOT NULL DEFAULT '',
        content_hash TEXT NOT NULL,
        source_key TEXT,
        genius_id INTEGER,
        url TEXT,
        skipped_reason TEXT,
        fetched_at REAL NOT NULL
    );
    CREATE UNIQUE INDEX songs_source_key ON songs (artist_id, source_key);
    CREATE INDEX songs_hash ON songs (artist_id, content_hash);
    CREATE TABLE datasets (
        id INTEGER PRIMARY KEY,
        artist_id INTEGER NOT NULL REFERENCES artists (id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        path TEXT NOT NULL,
        base TEXT NOT NULL,
        block_size INTEGER NOT NULL,
        val_fraction REAL NOT NULL,
        train_songs INTEGER NOT NULL,
        val_songs INTEGER NOT NULL,
        tokens INTEGER NOT NULL,
        train_blocks INTEGER NOT NULL,
        val_blocks INTEGER NOT NULL,
        created_at REAL NOT NULL,
        UNIQUE (artist_id, key)
    );
    CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        artist_id INTEGER NOT NULL REFERENCES artists (id) ON DELETE CASCADE,
        status TEXT NOT NULL,
        base TEXT NOT NULL,
        method TEXT NOT NULL,
        dir TEXT NOT NULL,
        config_json TEXT NOT NULL DEFAULT '{}',
        pid INTEGER,
        heartbeat_at REAL,
        step INTEGER NOT NULL DEFAULT 0,
        total_steps INTEGER NOT NULL DEFAULT 0,
        best_val_loss REAL,
        model_id TEXT,
        error TEXT,
        started_at REAL NOT NULL,
        ended_at REAL
    );
    CREATE TABLE models (
        id TEXT PRIMARY KEY,
        artist_id INTEGER NOT NULL REFERENCES artists (id) ON DELETE CASCADE,
        run_id TEXT,
        base TEXT NOT NULL,
        method TEXT NOT NULL,
        path TEXT NOT NULL,
        val_loss REAL,
        perplexity REAL,
        size_bytes INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL
    );
    CREATE TABLE drafts (
        id INTEGER PRIMARY KEY,
        artist_id INTEGER REFERENCES artists (id) ON DELETE SET NULL,
        model_id TEXT,
        title TEXT NOT NULL,
        text TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
    # 2: what a LyricsGenius export or a dataset knows of a song (album, release date as given).
    """
    ALTER TABLE songs ADD COLUMN album TEXT;
    ALTER TABLE songs ADD COLUMN released TEXT;
    """,
    # 3: artist identity beyond ASCII. NOCASE folds A-Z only, so "BEYONCÉ", and "Beyoncé"
    # composed or decomposed, were three artists; name_key (names.name_key: NFC, case-folded)
    # is what names are matched on. Not UNIQUE: a library may already hold such twins, which
    # stay (each reachable by its slug) until one is renamed or removed.
    """
    ALTER TABLE artists ADD COLUMN name_key TEXT;
    UPDATE artists SET name_key = lyrictui_name_key(name);
    CREATE INDEX artists_name_key ON artists (name_key);
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)


class Database:
    """One connection per thread to the library file, opened on first use."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._migrated = False
        self._identity: tuple[int, int] | None = None
        self.read_only = False
        """True when the file could be opened for reading only (a read-only home)."""

    def _connect(self) -> sqlite3.Connection:
        import os

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise LyricError(f"the lyrictui home {self.path.parent} is not a folder (a file is "
                             "in its place): move that file, or point LYRICTUI_HOME elsewhere"
                             ) from None
        except OSError as exc:
            raise LyricError(f"cannot create the lyrictui home {self.path.parent}: "
                             f"{exc.strerror or exc}") from None
        try:
            conn = self._open(f"file:{quote(str(self.path))}")
        except sqlite3.DatabaseError as exc:
            if (detail := damage(exc)) is not None:
                raise LyricError(damaged_message(self.path, detail)) from exc
            if not (self.path.is_file() and not (os.access(self.path, os.W_OK)
                                                 and os.access(self.path.parent, os.W_OK))):
                raise LyricError(f"the library at {self.path} cannot be opened ({exc})"
                                 ) from exc
            # A read-only home (a read-only mount, a backup): reads still work. mode=ro needs
            # the WAL's -shm file; where it cannot exist, nothing can write the file either.
            try:
                conn = self._open(f"file:{quote(str(self.path))}?mode=ro", wal=False)
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            except sqlite3.DatabaseError:
                conn = self._open(f"file:{quote(str(self.path))}?mode=ro&immutable=1",
                                  wal=False)
            self.read_only = True
        if self._identity is None:
            self._identity = self._stat_identity()
        return conn

    def _stat_identity(self) -> tuple[int, int] | None:
        import os

        try:
            info = os.stat(self.path)
        except OSError:
            return None
        return info.st_dev, info.st_ino

    def check_in_place(self) -> None:
        """Refuse to write when the library file this process opened was deleted or replaced
        under it (the home removed while the app ran): SQLite would go on writing into the
        deleted file, and every "saved" would be a lie."""
        if self._identity is not None and self._stat_identity() != self._identity:
            raise LyricError(f"the library at {self.path} was deleted or replaced while "
                             "lyrictui was running: nothing more is saved to it; restart "
                             "lyrictui (copy any text you need first)")

    @staticmethod
    def _open(uri: str, wal: bool = True) -> sqlite3.Connection:
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000,
                               isolation_level=None)
        try:
            conn.row_factory = sqlite3.Row
            conn.create_function("lyrictui_name_key", 1, name_key, deterministic=True)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if wal:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
        except BaseException:
            conn.close()
            raise
        return conn

    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
            if self.read_only:
                found = conn.execute("PRAGMA user_version").fetchone()[0]
                if found != SCHEMA_VERSION:
                    conn.close()
                    self._local.conn = None
                    raise LyricError(self._read_only_message(
                        f"it needs an upgrade (schema {found} to {SCHEMA_VERSION})"))
            elif not self._migrated:
                backup_before_migration(conn, self.path)
                migrate(conn)
                self._migrated = True
        return conn

    def _read_only_message(self, why: str = "") -> str:
        return (f"the library at {self.path} is read-only{': ' + why if why else ''}: it can be "
                "listed and read, but changes need a writable home (LYRICTUI_HOME)")

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A short write transaction, taken with the write lock up front."""
        conn = self.conn
        if self.read_only:
            raise LyricError(self._read_only_message())
        self.check_in_place()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


BACKUP_SUFFIX = ".bak"


def backup_path(path: Path, version: int) -> Path:
    """Where the copy of a version-`version` library is kept before it is migrated."""
    return path.with_name(f"{path.name}.v{version}{BACKUP_SUFFIX}")


def backup_before_migration(conn: sqlite3.Connection, path: Path) -> Path | None:
    """Copy an older library aside (SQLite's online backup: a consistent copy even while
    another process writes) before `migrate` changes its schema; `lyrictui doctor --restore`
    puts it back. A new, empty or current library is not copied."""
    import os

    found = conn.execute("PRAGMA user_version").fetchone()[0]
    if not 0 < found < SCHEMA_VERSION:
        return None
    target = backup_path(path, found)
    if target.exists():
        return target
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    copy = sqlite3.connect(tmp)
    try:
        conn.backup(copy)
    finally:
        copy.close()
    os.replace(tmp, target)
    return target


def damage(exc: BaseException) -> str | None:
    """What SQLite said when `exc` means the library file is damaged (a malformed page, not a
    database at all), else None. Locks, a full disk or a constraint are not damage."""
    if type(exc) is sqlite3.DatabaseError:
        return str(exc)
    text = str(exc).lower()
    if isinstance(exc, sqlite3.DatabaseError) and ("malformed" in text
                                                   or "not a database" in text):
        return str(exc)
    return None


def damaged_message(path: Path, detail: str) -> str:
    return (f"the library at {path} is damaged ({detail}): `lyrictui doctor` checks it, "
            "`lyrictui doctor --restore` puts back the copy made before its last upgrade, "
            "`lyrictui doctor --rebuild` keeps every row that can still be read")


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema up to SCHEMA_VERSION; returns the version found before."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        found = conn.execute("PRAGMA user_version").fetchone()[0]
        if found > SCHEMA_VERSION:
            raise LyricError(
                f"the library was written by a newer lyrictui (schema {found}, this one knows "
                f"{SCHEMA_VERSION}): upgrade lyrictui"
            )
        for version in range(found, SCHEMA_VERSION):
            for statement in MIGRATIONS[version].split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return found
