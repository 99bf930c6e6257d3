"""LyricsGenius exports (`Lyrics_<Artist>.json`, and the per-song files) -> songs to store.

Layouts it has written, all recognised:

- artist file, 2.x/3.x: the Genius artist object (`name`, `id`, `url`, ...) plus `songs`, each
  the Genius song object (`title`, `id`, `url`, `album` {name}, `release_date`, `lyrics_state`,
  `primary_artist`, ...) with `artist` and `lyrics` added;
- artist or song file, 1.x: `{"artist": NAME, "songs": [{"title", "album", "year", "lyrics",
  "image", "artist", "json": <the song object>}]}`;
- song file, 2.x/3.x: one Genius song object with `lyrics`.

The lyrics go through the scrape's cleaning contract (core/sources/lyrics.py): older versions
leave the page header ("<Title> Lyrics", contributors) and a trailing "<n>Embed" in the text.
A song with a Genius id is keyed `genius:<id>`, as a scrape keys it, so importing an export
and scraping the same artist never store a song twice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from lyrictui.core.names import one_line
from lyrictui.core.sources import lyrics
from lyrictui.core.store.library import content_hash
from lyrictui.core.store.records import NewSong

MAX_TITLE = 200


class NotAnExport(ValueError):
    """The JSON is not a LyricsGenius export; the message says what is missing."""


def looks_like_export(data: Any) -> bool:
    """Whether parsed JSON has one of the layouts above (cheap, nothing is cleaned)."""
    try:
        return bool(song_objects(data))
    except NotAnExport:
        return False


def song_objects(data: Any) -> list[dict[str, Any]]:
    """The song objects of an export (artist or song file), or NotAnExport."""
    if isinstance(data, dict) and "songs" in data:
        songs = data["songs"]
        if not isinstance(songs, list):
            raise NotAnExport('its "songs" is not a list of songs')
        found = [s for s in songs if _is_song(s)]
        if songs and not found:
            raise NotAnExport('its "songs" hold no song with a "title" and "lyrics"')
        if not found:
            raise NotAnExport("a LyricsGenius export with no songs in it")
        return found
    if _is_song(data):
        return [data]
    raise NotAnExport('not a LyricsGenius export: it has neither a "songs" list nor a '
                      '"title" with "lyrics"')


def _is_song(item: Any) -> bool:
    return (isinstance(item, dict) and isinstance(item.get("title"), str)
            and "lyrics" in item and isinstance(item["lyrics"], (str, type(None))))


def _body(song: dict[str, Any]) -> dict[str, Any]:
    """The Genius song object: the song itself (2.x/3.x) or its `json` (1.x)."""
    inner = song.get("json")
    return inner if isinstance(inner, dict) else song


def _text(value: Any) -> str | None:
    """A short one-line string from a JSON value (numbers too: a 1.x `year`), or None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    return one_line(value)[:200] or None


def album_of(song: dict[str, Any]) -> str | None:
    for value in (song.get("album"), _body(song).get("album")):
        if isinstance(value, dict):
            value = value.get("name")
        if (found := _text(value)) is not None:
            return found
    return None


def released_of(song: dict[str, Any]) -> str | None:
    """The release date as written ("2016-05-06"), else built from its components, else the
    display form ("May 6, 2016") or the 1.x `year`."""
    body = _body(song)
    if (found := _text(body.get("release_date") or song.get("release_date"))) is not None:
        return found
    parts = body.get("release_date_components")
    if isinstance(parts, dict) and isinstance(parts.get("year"), int):
        date = f"{parts['year']:04d}"
        for key in ("month", "day"):
            if not isinstance(parts.get(key), int):
                break
            date += f"-{parts[key]:02d}"
        return date
    return _text(body.get("release_date_for_display")) or _text(song.get("year"))


def _genius_id(song: dict[str, Any]) -> int | None:
    value = _body(song).get("id")
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _primary_artist(song: dict[str, Any]) -> str | None:
    artist = _body(song).get("primary_artist")
    if isinstance(artist, dict) and isinstance(artist.get("name"), str):
        return one_line(artist["name"])
    return _text(song.get("artist"))


def skip_reason(song: dict[str, Any], clean: str, variant_words: Iterable[str]) -> str | None:
    """Why the scrape would have skipped this song, or None."""
    body = _body(song)
    state = body.get("lyrics_state")
    if isinstance(state, str) and state and state != "complete":
        return lyrics.UNRELEASED
    if body.get("instrumental") is True:
        return lyrics.INSTRUMENTAL
    word = lyrics.title_variant(str(song["title"]), variant_words)
    if word:
        return f"title variant ({word})"
    return lyrics.empty_reason(clean)


def to_new_song(song: dict[str, Any], variant_words: Iterable[str]) -> NewSong:
    """One export song, cleaned like a scraped one, with its skip reason and metadata."""
    title = one_line(str(song["title"]))[:MAX_TITLE] or "untitled"
    raw = song.get("lyrics") or ""
    clean = lyrics.clean_lyrics(raw, title=title, artist=_primary_artist(song))
    reason = skip_reason(song, clean, variant_words)
    genius_id = _genius_id(song)
    if genius_id is not None:
        key = f"genius:{genius_id}"
    else:
        key = "lyricsgenius:" + hashlib.sha256(
            f"{title}\n{content_hash(clean)}".encode("utf-8", "surrogateescape")).hexdigest()[:40]
    url = _body(song).get("url")
    return NewSong(title, clean, source_key=key, genius_id=genius_id,
                   url=url if isinstance(url, str) and url.startswith("https://") else None,
                   skipped_reason=reason, album=album_of(song), released=released_of(song))


def read_export(text: str, variant_words: Iterable[str] = ()) -> list[NewSong]:
    """The songs of an export's JSON text, cleaned, or NotAnExport saying why it is not one."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise NotAnExport(f"not valid JSON ({exc})") from None
    words = list(variant_words)
    return [to_new_song(song, words) for song in song_objects(data)]
