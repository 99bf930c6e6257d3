"""What the app shares with its screens, dialogs and widgets: the library and warm engines.

Screens, dialogs and widgets may not import `lyrictui.app` (an import-linter layer contract,
which counts imports under TYPE_CHECKING too), so they reach the app through `lyric_app()`,
typed by the `LyricAppServices` protocol that `LyricApp` satisfies.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, cast

from lyrictui.core.store.library import Library

if TYPE_CHECKING:
    from textual.message_pump import MessagePump

    from lyrictui.core.engine.suggest import Suggester


class EngineCache:
    """Suggestion engines by model folder, loaded once and kept warm across screens.

    Thread-safe: engines are loaded in thread workers and dropped from the event loop.
    """

    def __init__(self) -> None:
        self._engines: dict[str, Suggester] = {}
        self._lock = threading.Lock()
        self.thread_policy: Callable[[], int | None] | None = None
        """Given to every engine put here (Suggester.thread_policy): its torch threads."""

    def get(self, path: str) -> Suggester | None:
        """The engine loaded from `path`, or None."""
        with self._lock:
            return self._engines.get(path)

    def __getitem__(self, path: str) -> Suggester:
        with self._lock:
            return self._engines[path]

    def put(self, path: str, engine: Suggester) -> None:
        """Keep `engine` as the one for `path` (it follows this cache's thread policy)."""
        if self.thread_policy is not None and engine.thread_policy is None:
            engine.thread_policy = self.thread_policy
        with self._lock:
            self._engines[path] = engine

    def drop(self, path: str) -> None:
        """Forget the engine for `path` (its model was deleted); nothing if there is none."""
        with self._lock:
            self._engines.pop(path, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._engines)


@dataclass
class Services:
    """What the app works with; tests hand in their own (a library in a temp home, fakes)."""

    library: Library = field(default_factory=Library)
    engines: EngineCache = field(default_factory=EngineCache)
    """Suggestion engines by model folder, loaded once and kept warm across screens."""

    def __post_init__(self) -> None:
        if self.engines.thread_policy is None:
            library = self.library
            self.engines.thread_policy = lambda: suggest_threads(library)


def suggest_threads(library: Library) -> int | None:
    """The torch threads a suggestion engine should use now: one core fewer while a CPU
    training run of `library` is active, else None (core/train/runs.py)."""
    from lyrictui.core.train.runs import suggest_threads as threads_for

    return threads_for(library)


class LyricAppServices(Protocol):
    """The part of `LyricApp` that screens, dialogs and widgets use."""

    services: Services

    @property
    def library(self) -> Library: ...


def lyric_app(node: MessagePump) -> LyricAppServices:
    """The running app of `node` (a screen, dialog or widget), typed as lyrictui's app."""
    return cast("LyricAppServices", node.app)
