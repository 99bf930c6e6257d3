"""config.toml: user settings, including the Genius token (file mode 0600, never printed)."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lyrictui.core import paths
from lyrictui.core.errors import InvalidInput, LyricError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DEFAULT_TITLE_VARIANTS = (
    "remix", "live", "edit", "version", "demo", "instrumental", "translation", "skit",
)


@dataclass(frozen=True)
class Setting:
    """One key users may set with `lyrictui config set KEY VALUE`."""

    key: str
    kind: type
    default: Any
    help: str
    secret: bool = False


SETTINGS: dict[str, Setting] = {
    s.key: s
    for s in (
        Setting("genius_token", str, "", "Genius API access token (or GENIUS_ACCESS_TOKEN)", True),
        Setting("genius_concurrency", int, 8, "concurrent requests while scraping"),
        Setting("genius_proxy", str, "", "HTTP proxy for Genius requests, e.g. http://host:3128"),
        Setting("genius_timeout", int, 30,
                "seconds a Genius request may wait for data before it is retried"),
        Setting("title_variant_words", list, list(DEFAULT_TITLE_VARIANTS),
                "title words that mark a song as a variant to skip (comma-separated)"),
        Setting("device", str, "auto", "device for training and suggestions: auto, cuda, mps, cpu"),
        Setting("heartbeat_timeout", int, 60,
                "seconds without a heartbeat before a training run counts as interrupted"),
    )
}


def mask(secret: str) -> str:
    """Show that a secret is set without showing it: the last 4 characters at most."""
    if not secret:
        return "(not set)"
    tail = secret[-4:] if len(secret) >= 16 else ""
    return f"****{tail} ({len(secret)} characters)"


MAX_CONFIG_BYTES = 1 << 20
"""config.toml is a few lines; anything larger is not one."""


def _read_raw(path: Path) -> dict[str, Any] | None:
    """The parsed file, or None when there is none. A FIFO, device or folder is refused
    without blocking on it (opened non-blocking, checked before it is read)."""
    import stat

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise LyricError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise LyricError(f"{path} is not a regular file: replace it with a config file, "
                             "or delete it to start from defaults")
        if info.st_size > MAX_CONFIG_BYTES:
            raise LyricError(f"{path} is {info.st_size:,} bytes, more than a config file holds: "
                             "fix it, or delete it to start from defaults")
        with os.fdopen(os.dup(fd), "rb") as fh:
            raw = fh.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise LyricError(f"cannot read {path}: {exc.strerror}") from exc
    finally:
        os.close(fd)
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError) as exc:
        detail = str(exc).split("\n")[0]
        raise LyricError(
            f"{path} is not valid TOML ({detail}): fix it, or delete it to start from defaults"
        ) from None


def _check(key: str, value: Any) -> str | None:
    """Why `value` cannot be setting `key` (None when it can)."""
    setting = SETTINGS[key]
    if setting.kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"a whole number, not {_toml_kind(value)}"
        if value < 1:
            return f"at least 1, not {value}"
    elif setting.kind is list:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return f"a list of strings, not {_toml_kind(value)}"
    elif not isinstance(value, str):
        return f"a string, not {_toml_kind(value)}"
    elif key == "device" and value not in {"auto", "cuda", "mps", "cpu"}:
        return "one of auto, cuda, mps, cpu"
    return None


def _toml_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, list):
        inner = {_toml_kind(v) for v in value} - {"a string"}
        return f"a list holding {sorted(inner)[0]}" if inner else "a list"
    kinds = {int: "a number", float: "a number", str: "a string", dict: "a table"}
    return next((name for kind, name in kinds.items() if isinstance(value, kind)), "a date")


def _validated(data: dict[str, Any], path: Path, skip: str = "") -> dict[str, Any]:
    """Known keys of `data`, each checked; a wrong type is one error naming the key.
    Unknown keys are ignored (a newer lyrictui may have written them)."""
    values = {}
    for key, value in data.items():
        if key not in SETTINGS or key == skip:
            continue
        problem = _check(key, value)
        if problem is not None:
            raise LyricError(f"{path}: {key} must be {problem}: fix it with "
                             f"`lyrictui config set {key} VALUE`, or delete the line")
        values[key] = value
    return values


def load() -> dict[str, Any]:
    """Settings from config.toml over the defaults; a broken file, or a setting of the wrong
    type, is one clear error naming the key."""
    values = {key: s.default for key, s in SETTINGS.items()}
    path = paths.config_path()
    data = _read_raw(path)
    if data is not None:
        values.update(_validated(data, path))
    return values


def get(key: str) -> Any:
    return load()[key]


def genius_token() -> str:
    """The token from GENIUS_ACCESS_TOKEN, else config.toml; empty when neither has one."""
    token = os.environ.get("GENIUS_ACCESS_TOKEN", "").strip()
    where = "GENIUS_ACCESS_TOKEN"
    if not token:
        token, where = str(get("genius_token")).strip(), "the genius_token setting"
    if not all(33 <= ord(ch) < 127 for ch in token):
        # A pasted line break (CRLF) or space inside would go into an HTTP header: aiohttp
        # refuses it with a ValueError, and it must never forge a header either.
        raise LyricError(f"{where} holds a line break, space or other character no token "
                         "has: set it to the token alone (the token is not shown)")
    return token


def parse_value(key: str, text: str) -> Any:
    setting = SETTINGS.get(key)
    if setting is None:
        raise InvalidInput(f"unknown setting {key!r}: known settings are {', '.join(SETTINGS)}")
    if setting.kind is int:
        try:
            value = int(text)
        except ValueError:
            raise InvalidInput(f"{key} must be a whole number, not {text[:40]!r}") from None
        if value < 1:
            raise InvalidInput(f"{key} must be at least 1")
        return value
    if setting.kind is list:
        return [part.strip() for part in text.split(",") if part.strip()]
    if "\n" in text or "\x00" in text:
        raise InvalidInput(f"{key} must be one line of text")
    if key == "genius_token" and not all(33 <= ord(ch) < 127 for ch in text.strip()):
        raise InvalidInput("genius_token must be the token alone: no spaces, line breaks or "
                           "other characters a token does not have")
    if key == "device" and text not in {"auto", "cuda", "mps", "cpu"}:
        raise InvalidInput("device must be one of auto, cuda, mps, cpu")
    return text.strip()


def set_value(key: str, text: str) -> None:
    """Validate and store one setting; the file is rewritten atomically with mode 0600."""
    value = parse_value(key, text)
    path = paths.config_path()
    # Every other setting is checked before anything is written; the one being set may be
    # wrong in the file (this is how it gets fixed).
    data = _read_raw(path) or {}
    current = {k: v for k, v in _validated(data, path, skip=key).items()
               if v != SETTINGS[k].default}
    current[key] = value
    _write(path, current)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def _write(path: Path, values: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(f"{key} = {_toml_value(value)}\n" for key, value in sorted(values.items()))
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def shown() -> dict[str, str]:
    """Every setting as text for display, with secrets masked."""
    values = load()
    token_env = os.environ.get("GENIUS_ACCESS_TOKEN", "").strip()
    out = {}
    for key, setting in SETTINGS.items():
        value = values[key]
        if setting.secret:
            source = " from GENIUS_ACCESS_TOKEN" if token_env else ""
            out[key] = mask(token_env or str(value)) + source
        elif isinstance(value, list):
            out[key] = ", ".join(value)
        else:
            out[key] = str(value)
    return out
