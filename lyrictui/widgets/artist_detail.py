"""ArtistDetail: the selected artist's songs (skipped ones with their reason), runs and models."""

from __future__ import annotations

from dataclasses import dataclass

from rich.markup import escape
from textual import work
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static

from lyrictui.core import paths
from lyrictui.core.records import Artist, Model, Run, Song

MAX_SONGS_SHOWN = 200


class ArtistDetail(Static):
    """Read-only detail pane; set `artist_id` and it loads what it shows in a thread."""

    artist_id: reactive[int | None] = reactive(None)

    @dataclass
    class Loaded(Message):
        artist: Artist | None
        songs: list[Song]
        runs: list[Run]
        models: list[Model]

    def watch_artist_id(self, artist_id: int | None) -> None:
        if artist_id is None:
            self.update("")
            return
        self.load(artist_id)

    @work(thread=True, exclusive=True, group="artist-detail", exit_on_error=False,
          description="Reading an artist")
    def load(self, artist_id: int) -> None:
        library = self.app.library  # type: ignore[attr-defined]
        try:
            artist = library.artist_by_id(artist_id)
        except Exception:  # deleted meanwhile
            self.post_message(self.Loaded(None, [], [], []))
            return
        self.post_message(
            self.Loaded(
                artist,
                library.songs(artist_id, include_skipped=True),
                library.list_runs(artist_id),
                library.list_models(artist_id),
            )
        )

    def on_artist_detail_loaded(self, message: Loaded) -> None:
        message.stop()
        if message.artist is None or message.artist.id != self.artist_id:
            return
        self.update(render_detail(message.artist, message.songs, message.runs, message.models))


def render_detail(artist: Artist, songs: list[Song], runs: list[Run], models: list[Model]) -> str:
    """Console markup for one artist (user text escaped)."""
    kept = [s for s in songs if not s.skipped]
    skipped = [s for s in songs if s.skipped]
    lines = [f"[b]{escape(artist.name)}[/b]  [dim]{artist.source}[/dim]", ""]
    lines.append(f"[b]Models[/b] ({len(models)})")
    for m in models:
        ppl = f"ppl {m.perplexity:.1f}" if m.perplexity else "no validation"
        lines.append(f"  {escape(m.id)}  {m.method} on {escape(m.base)}, {ppl}, "
                     f"{paths.human_size(m.size_bytes)}")
    lines.append(f"[b]Runs[/b] ({len(runs)})")
    for r in runs[:10]:
        lines.append(f"  {escape(r.id)}  {r.status}  step {r.step}/{r.total_steps or '?'}")
    lines.append(f"[b]Songs[/b] ({len(kept)})")
    for s in kept[:MAX_SONGS_SHOWN]:
        lines.append(f"  {escape(s.title)}")
    if len(kept) > MAX_SONGS_SHOWN:
        lines.append(f"  … and {len(kept) - MAX_SONGS_SHOWN} more")
    if skipped:
        lines.append(f"[b]Skipped[/b] ({len(skipped)})")
        for s in skipped[:MAX_SONGS_SHOWN]:
            lines.append(f"  {escape(s.title)}  [dim]{escape(s.skipped_reason or '')}[/dim]")
    return "\n".join(lines)
