"""`lyrictui doctor`: check the library file, put back its pre-upgrade copy, or rebuild it.

Everything here opens the file with plain sqlite3 (no migration, no demo), so a damaged library
can be looked at without a command touching it first. A file that is replaced is never deleted:
it is moved aside as `library.sqlite3.damaged-<time>` (with its -wal and -shm).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from lyrictui.core.errors import LyricError
from lyrictui.core.names import name_key
from lyrictui.core.store.db import BACKUP_SUFFIX, SCHEMA_VERSION, migrate

MAX_PROBLEMS = 100
TABLES = ("artists", "songs", "datasets", "runs", "models", "drafts", "settings")
"""Parents before children, so a rebuilt child finds its parent."""
CHILDREN = {"songs": "artist_id", "datasets": "artist_id", "runs": "artist_id",
            "models": "artist_id"}
MIN_ROWID = -(1 << 63)


def _open(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise LyricError(f"no library at {path}: nothing to check")
    uri = f"file:{quote(str(path))}"
    conn = sqlite3.connect(uri, uri=True, timeout=60, isolation_level=None)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError:
        # A read-only home: look without writing (as Database does).
        conn.close()
        conn = sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, isolation_level=None)
    except sqlite3.DatabaseError:
        pass  # damaged: check() says how
    conn.create_function("lyrictui_name_key", 1, name_key, deterministic=True)
    return conn


def check(path: Path) -> list[str]:
    """Every problem `PRAGMA integrity_check` and `foreign_key_check` find, one line each (at
    most MAX_PROBLEMS); an empty list when the library is whole."""
    conn = _open(path)
    problems: list[str] = []
    try:
        try:
            found = [str(row[0]) for row in
                     conn.execute(f"PRAGMA integrity_check({MAX_PROBLEMS})").fetchall()]
        except sqlite3.DatabaseError as exc:
            return [f"the file cannot be read as a library ({exc})"]
        if found != ["ok"]:
            problems += [" ".join(line.split()) for line in found]
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                problems.append(f"written by a newer lyrictui (schema {version}, this one "
                                f"knows {SCHEMA_VERSION})")
            for table, rowid, parent, _ in conn.execute("PRAGMA foreign_key_check"):
                problems.append(f"{table} row {rowid} points at a missing {parent} row")
        except sqlite3.DatabaseError as exc:
            problems.append(f"foreign keys cannot be checked ({exc})")
    finally:
        conn.close()
    return problems[:MAX_PROBLEMS]


def backups(path: Path) -> list[Path]:
    """Copies made before a migration (`library.sqlite3.vN.bak`), newest schema first."""
    found = []
    for candidate in path.parent.glob(f"{path.name}.v*{BACKUP_SUFFIX}"):
        version = candidate.name[len(path.name) + 2:-len(BACKUP_SUFFIX)]
        if version.isdigit() and candidate.is_file():
            found.append((int(version), candidate))
    return [p for _, p in sorted(found, reverse=True)]


def _move_aside(path: Path) -> Path:
    """Move the library (and its -wal, -shm) to `library.sqlite3.damaged-<time>`."""
    aside = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{path}{suffix}")
        if source.exists():
            os.replace(source, Path(f"{aside}{suffix}"))
    return aside


def restore(path: Path) -> tuple[Path, Path]:
    """Put the newest pre-migration copy in the library's place; returns (copy, moved aside).
    The copy itself stays, so a restore can be repeated."""
    found = backups(path)
    if not found:
        raise LyricError(f"no copy of the library to restore: lyrictui makes one "
                         f"({path.name}.vN{BACKUP_SUFFIX}) only before upgrading a library; "
                         "`lyrictui doctor --rebuild` keeps what can still be read")
    source = found[0]
    tmp = path.with_name(f".{path.name}.restore.tmp")
    shutil.copyfile(source, tmp)
    aside = _move_aside(path)
    os.replace(tmp, path)
    return source, aside


@dataclass
class Rebuilt:
    kept: dict[str, int] = field(default_factory=dict)
    """Rows copied per table."""
    unreadable: int = 0
    """Reads that failed and were skipped past (each loses the rows it covered)."""
    dropped: int = 0
    """Rows whose artist was not readable (removed: they belong to no one)."""
    aside: Path | None = None


def _copy_table(old: sqlite3.Connection, new: sqlite3.Connection, table: str,
                result: Rebuilt) -> None:
    try:
        have = [r[1] for r in old.execute(f"PRAGMA table_info({table})")]
    except sqlite3.DatabaseError:
        result.unreadable += 1
        return
    wanted = {r[1] for r in new.execute(f"PRAGMA table_info({table})")}
    columns = [c for c in have if c in wanted]
    if not columns:
        return
    names = ", ".join(columns)
    insert = (f"INSERT OR IGNORE INTO {table} ({names}) "
              f"VALUES ({', '.join('?' for _ in columns)})")
    last, jump, kept = MIN_ROWID, 1, 0
    while True:
        try:
            cursor = old.execute(f"SELECT rowid, {names} FROM {table} WHERE rowid > ? "
                                 "ORDER BY rowid", (last,))
            for row in cursor:
                new.execute(insert, row[1:])
                last, jump, kept = row[0], 1, kept + 1
            break
        except sqlite3.DatabaseError:
            # A page that cannot be read: skip past it, further each time it fails again.
            result.unreadable += 1
            if last > (1 << 63) - 1 - jump:
                break
            last += jump
            jump *= 2
    result.kept[table] = kept


def rebuild(path: Path) -> Rebuilt:
    """Copy every row that can still be read into a new library, which takes the damaged
    one's place (moved aside). Rows of an artist that is lost go with it."""
    old = _open(path)
    tmp = path.with_name(f".{path.name}.rebuild.tmp")
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{tmp}{suffix}").unlink(missing_ok=True)
    new = sqlite3.connect(tmp, isolation_level=None)
    new.create_function("lyrictui_name_key", 1, name_key, deterministic=True)
    result = Rebuilt()
    try:
        migrate(new)
        new.execute("BEGIN")
        for table in TABLES:
            _copy_table(old, new, table, result)
        new.execute("UPDATE artists SET name_key = lyrictui_name_key(name) "
                    "WHERE name_key IS NULL")
        for table, column in CHILDREN.items():
            result.dropped += new.execute(
                f"DELETE FROM {table} WHERE {column} NOT IN (SELECT id FROM artists)").rowcount
        new.execute("UPDATE drafts SET artist_id = NULL "
                    "WHERE artist_id NOT IN (SELECT id FROM artists)")
        new.execute("COMMIT")
        if new.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise LyricError("the rebuilt library did not pass its own check; nothing replaced")
    except BaseException:
        new.close()
        old.close()
        tmp.unlink(missing_ok=True)
        raise
    new.close()
    old.close()
    if not result.kept.get("artists") and result.unreadable:
        tmp.unlink(missing_ok=True)
        raise LyricError(f"nothing of the library at {path} could be read; it is left as it "
                         "was (move it aside to start a new one)")
    result.aside = _move_aside(path)
    os.replace(tmp, path)
    return result
