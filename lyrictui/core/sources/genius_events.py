"""What a scrape reports: typed events in time-batched lists (a UI is never flooded) and the
final summary."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ArtistFound:
    name: str
    genius_id: int


@dataclass(frozen=True)
class SongsFound:
    """The listing so far: songs considered, and how many of them still need fetching."""

    listed: int
    to_fetch: int


@dataclass(frozen=True)
class SongFetched:
    title: str
    genius_id: int


@dataclass(frozen=True)
class SongSkipped:
    title: str
    genius_id: int
    reason: str


@dataclass(frozen=True)
class SongFailed:
    """Not stored (a rerun tries it again)."""

    title: str
    genius_id: int
    reason: str


@dataclass(frozen=True)
class ScrapeProgress:
    """Closes every batch. `total` grows until `listing_done`."""

    done: int
    total: int
    kept: int
    skipped: int
    failed: int
    requests: int
    requests_per_s: float
    elapsed: float
    listing_done: bool


@dataclass(frozen=True)
class RequestNote:
    """A request that is retried or slow (a server trickling bytes): said, never silent."""

    text: str


ScrapeEvent = (
    ArtistFound | SongsFound | SongFetched | SongSkipped | SongFailed | RequestNote
    | ScrapeProgress
)


class EventBatcher:
    """Collects events and hands them over every `interval` seconds, progress last."""

    def __init__(self, on_event: Callable[[list[ScrapeEvent]], None] | None, interval: float,
                 progress: Callable[[], dict[str, Any]]) -> None:
        self.on_event, self.interval, self.progress = on_event, interval, progress
        self.pending: list[ScrapeEvent] = []
        self.closed = False
        self._last = time.monotonic()

    def add(self, event: ScrapeEvent) -> None:
        if self.on_event is not None and not self.closed:
            self.pending.append(event)

    def flush(self) -> None:
        if self.on_event is None or self.closed:
            return
        batch, self.pending = self.pending, []
        batch.append(ScrapeProgress(**self.progress()))
        self._last = time.monotonic()
        self.on_event(batch)

    async def tick(self) -> None:
        """Flush on a timer, so progress (requests/s) moves even while waiting on retries."""
        while True:
            await asyncio.sleep(max(0.0, self._last + self.interval - time.monotonic()))
            if time.monotonic() - self._last >= self.interval:
                self.flush()

    def close(self) -> None:
        """The final batch."""
        self.flush()
        self.closed = True


@dataclass
class ScrapeSummary:
    """What a scrape did; `failed` songs were not stored, so a rerun tries them again."""

    artist: str
    genius_id: int
    listed: int = 0
    already_stored: int = 0
    kept: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # reason kind -> count
    failed: list[tuple[str, str]] = field(default_factory=list)  # (title, reason)
    requests: int = 0
    elapsed: float = 0.0
    cancelled: bool = False

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.elapsed if self.elapsed > 0 else 0.0


def reason_kind(reason: str) -> str:
    """Group reasons for counting: 'duplicate of "X"' -> 'duplicate'."""
    return reason.split(" of ", 1)[0] if reason.startswith("duplicate") else reason.split(" (")[0]
