"""Typed records returned by the library (one row each)."""

from __future__ import annotations

from dataclasses import dataclass

SOURCES = ("genius", "imported", "demo")
RUN_STATUSES = ("queued", "running", "completed", "failed", "cancelled", "interrupted")


@dataclass(frozen=True)
class Artist:
    id: int
    name: str
    slug: str
    source: str
    genius_id: int | None
    created_at: float
    name_key: str | None = None  # names.name_key(name): what names are matched on


@dataclass(frozen=True)
class Song:
    id: int
    artist_id: int
    title: str
    lyrics: str
    content_hash: str
    source_key: str | None
    genius_id: int | None
    url: str | None
    skipped_reason: str | None
    fetched_at: float
    album: str | None = None
    released: str | None = None  # release date as the source wrote it (e.g. "2016-05-06")

    @property
    def skipped(self) -> bool:
        return self.skipped_reason is not None


@dataclass(frozen=True)
class DatasetRecord:
    id: int
    artist_id: int
    key: str
    path: str
    base: str
    block_size: int
    val_fraction: float
    train_songs: int
    val_songs: int
    tokens: int
    train_blocks: int
    val_blocks: int
    created_at: float


@dataclass(frozen=True)
class Run:
    id: str
    artist_id: int
    status: str
    base: str
    method: str
    dir: str
    config_json: str
    pid: int | None
    heartbeat_at: float | None
    step: int
    total_steps: int
    best_val_loss: float | None
    model_id: str | None
    error: str | None
    started_at: float
    ended_at: float | None


@dataclass(frozen=True)
class Model:
    id: str
    artist_id: int
    run_id: str | None
    base: str
    method: str
    path: str
    val_loss: float | None
    perplexity: float | None
    size_bytes: int
    created_at: float


@dataclass(frozen=True)
class Draft:
    id: int
    artist_id: int | None
    model_id: str | None
    title: str
    text: str
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class ArtistSummary:
    """One row of the library table: an artist and what it holds."""

    artist: Artist
    songs: int
    skipped: int
    tokens: int | None
    dataset: DatasetRecord | None
    latest_run: Run | None
    best_model: Model | None
    # Fingerprint of the kept songs (Library.songs_fingerprint): a dataset whose key does not
    # start with it was packed from other songs, so it is stale.
    songs_fingerprint: str | None = None


@dataclass(frozen=True)
class NewSong:
    """A song to store with `Library.add_songs` (same fields as `Library.add_song`)."""

    title: str
    lyrics: str
    source_key: str | None = None
    genius_id: int | None = None
    url: str | None = None
    skipped_reason: str | None = None
    album: str | None = None
    released: str | None = None
