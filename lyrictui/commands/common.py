"""Helpers shared by the CLI subcommands."""

from __future__ import annotations

import json
from typing import Any

import click

from lyrictui.core.library import Library
from lyrictui.core.names import strip_control


def open_library() -> Library:
    return Library()


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def safe(text: str) -> str:
    """User or network text made safe to print: no terminal escape or control characters."""
    return strip_control(text)
