"""Errors that reach the user as one clear line (CLI exit code 2, a notification in the app)."""

from __future__ import annotations


class LyricError(Exception):
    """An expected failure with a one-line message saying what happened and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidInput(LyricError):
    """The user gave something we cannot use (a bad name, path, option value or file)."""


class NotFound(LyricError):
    """An artist, run, model or draft that does not exist."""


class Cancelled(LyricError):
    """Work stopped because the user asked for it."""
