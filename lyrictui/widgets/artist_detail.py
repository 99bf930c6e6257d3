"""ArtistDetail: the selected artist's songs (skipped ones with their reason), runs and models."""

from __future__ import annotations

from dataclasses import dataclass

from textual import work
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static

from lyrictui.core import paths
from lyrictui.core.names import strip_control
from lyrictui.core.store.records import Artist, Model, Run, Song
from lyrictui.services import lyric_app

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
        request: int = 0

    _requests = 0  # numbers each read; only the newest one's result is shown

    def watch_artist_id(self, artist_id: int | None) -> None:
        if artist_id is None:
            self.update("")
            return
        self.reload()

    def reload(self) -> None:
        """Read the shown artist again (the library changed under it)."""
        if self.artist_id is not None:
            self._requests += 1
            self.load(self.artist_id, self._requests)

    @work(thread=True, exclusive=True, group="artist-detail", exit_on_error=False,
          description="Reading an artist")
    def load(self, artist_id: int, request: int) -> None:
        library = lyric_app(self).library
        try:
            artist = library.artist_by_id(artist_id)
        except Exception:  # deleted meanwhile
            self.post_message(self.Loaded(None, [], [], [], request))
            return
        self.post_message(
            self.Loaded(
                artist,
                library.songs(artist_id, include_skipped=True),
                library.list_runs(artist_id),
                library.list_models(artist_id),
                request,
            )
        )

    def on_artist_detail_loaded(self, message: Loaded) -> None:
        message.stop()
        # A thread worker cannot be stopped: an older read may end after a newer one.
        if message.request != self._requests or message.artist is None \
                or message.artist.id != self.artist_id:
            return
        self.update(render_detail(message.artist, message.songs, message.runs, message.models))


def render_detail(artist: Artist, songs: list[Song], runs: list[Run],
                  models: list[Model]) -> Content:
    """One artist's text. Names, titles and reasons are never parsed as markup (Textual's
    parser takes "Song [Live at X]" for a tag) and never carry control characters."""
    kept = [s for s in songs if not s.skipped]
    skipped = [s for s in songs if s.skipped]
    lines: list[list[str | tuple[str, str]]] = [
        [(_plain(artist.name), "bold"), "  ", (artist.source, "dim")], []]
    lines.append([("Models", "bold"), f" ({len(models)})"])
    for m in models:
        ppl = f"ppl {m.perplexity:.1f}" if m.perplexity else "no validation"
        lines.append([f"  {_plain(m.id)}  {m.method} on {_plain(m.base)}, {ppl}, "
                      f"{paths.human_size(m.size_bytes)}"])
    lines.append([("Runs", "bold"), f" ({len(runs)})"])
    for r in runs[:10]:
        lines.append([f"  {_plain(r.id)}  {r.status}  step {r.step}/{r.total_steps or '?'}"])
    lines.append([("Songs", "bold"), f" ({len(kept)})"])
    for s in kept[:MAX_SONGS_SHOWN]:
        lines.append([f"  {_plain(s.title)}"])
    if len(kept) > MAX_SONGS_SHOWN:
        lines.append([f"  … and {len(kept) - MAX_SONGS_SHOWN} more"])
    if skipped:
        lines.append([("Skipped", "bold"), f" ({len(skipped)})"])
        for s in skipped[:MAX_SONGS_SHOWN]:
            lines.append([f"  {_plain(s.title)}  ", (_plain(s.skipped_reason or ""), "dim")])
    parts: list[str | tuple[str, str]] = []
    for index, line in enumerate(lines):
        parts.extend(line)
        if index < len(lines) - 1:
            parts.append("\n")
    return Content.assemble(*parts)


def _plain(text: str) -> str:
    """User or network text without terminal control or escape characters."""
    return strip_control(text)
