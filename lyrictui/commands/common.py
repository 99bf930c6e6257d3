"""Helpers shared by the CLI subcommands."""

from __future__ import annotations

import json
import re
from typing import Any

import click

from lyrictui.core.names import strip_control
from lyrictui.core.store.library import Library


def open_library() -> Library:
    """The library, with the demo artist made on first use (as the app does), so every command
    finds it on a fresh home; unless the user removed it or LYRICTUI_NO_DEMO is set."""
    from lyrictui.core.sources.demo import ensure_demo

    library = Library()
    ensure_demo(library)
    return library


# json.dumps escapes C0 controls but, with ensure_ascii=False, writes C1 ones (U+009B is CSI
# to some terminals) and line separators raw: escape those too (still valid JSON).
_RAW_IN_JSON = re.compile(r"[\x7f-\x9f\u2028\u2029]")


def echo_json(data: Any) -> None:
    text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    click.echo(_RAW_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text))


def safe(text: str) -> str:
    """User or network text made safe to print: no terminal escape or control characters."""
    return strip_control(text)


def safe_line(text: str) -> str:
    """Like `safe`, for text printed inside one output line (a file name): a newline or tab
    in it is shown as `\\n` / `\\t`, so it cannot forge a line of its own."""
    return safe(text).replace("\n", "\\n").replace("\t", "\\t")
