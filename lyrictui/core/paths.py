"""Every location lyrictui uses, derived lazily from LYRICTUI_HOME or platformdirs.

Nothing here runs at import: each function reads the environment when it is called, so tests
(and users) can point LYRICTUI_HOME somewhere else at any time.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from lyrictui.core.errors import InvalidInput

APP_NAME = "lyrictui"


def _override() -> Path | None:
    value = os.environ.get("LYRICTUI_HOME", "").strip()
    return Path(value).expanduser().absolute() if value else None


def data_home() -> Path:
    """Root of the library, artists' folders, runs and models."""
    if (home := _override()) is not None:
        return home
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME))


def config_dir() -> Path:
    """Folder holding config.toml (LYRICTUI_HOME itself when that is set)."""
    if (home := _override()) is not None:
        return home
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME))


def cache_dir() -> Path:
    """Disposable files (e.g. compiled kernels); never user data."""
    if (home := _override()) is not None:
        return home / "cache"
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME))


def config_path() -> Path:
    return config_dir() / "config.toml"


def library_path() -> Path:
    return data_home() / "library.sqlite3"


def inside_home(path: Path) -> Path:
    """Return `path` resolved, refusing anything that escapes the data home."""
    root = data_home().resolve()
    resolved = path.resolve()
    if resolved != root and root not in resolved.parents:
        raise InvalidInput(f"refusing to use {path}: it is outside the lyrictui data home")
    return resolved


def artist_dir(slug: str) -> Path:
    """Folder of one artist; `slug` must come from the library's sanitizer."""
    if not slug or "/" in slug or "\\" in slug or slug in {".", ".."} or "\x00" in slug:
        raise InvalidInput(f"invalid artist folder name {slug!r}")
    return inside_home(data_home() / "artists" / slug)


def datasets_dir(slug: str) -> Path:
    return artist_dir(slug) / "datasets"


def runs_dir(slug: str) -> Path:
    return artist_dir(slug) / "runs"


def models_dir(slug: str) -> Path:
    return artist_dir(slug) / "models"


def dir_size(path: Path) -> int:
    """Bytes used by the files under `path` (0 if it does not exist)."""
    if not path.exists():
        return 0
    if path.is_file():
        return path.stat().st_size
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                pass
    return total


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def starter_dir() -> Path:
    """The bundled offline starter model (a small GPT-2 with its own byte-level BPE)."""
    return Path(str(resources.files("lyrictui") / "assets" / "starter"))
