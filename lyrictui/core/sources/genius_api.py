"""The Genius API calls the scraper needs: resolve an artist, list their songs, fetch a page."""

from __future__ import annotations

import difflib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from lyrictui.core.errors import InvalidInput, LyricError, NotFound
from lyrictui.core.names import fold, one_line
from lyrictui.core.sources.http import Blocked, HttpClient, HttpError

DEFAULT_API_URL = "https://api.genius.com"
DEFAULT_WEB_URL = "https://genius.com"
PER_PAGE = 50
MAX_PAGES = 2_000  # 100,000 songs: past this a listing is a server that never says "last page"
TOKEN_HELP = (
    "create a token at https://genius.com/api-clients, then run "
    "`lyrictui config set genius_token TOKEN` (or set GENIUS_ACCESS_TOKEN)"
)


class BlockedError(LyricError):
    """Genius refused us as a client: a 403 or a Cloudflare challenge page."""


class AuthError(LyricError):
    """The token is missing or refused."""


def blocked_error(exc: Blocked) -> BlockedError:
    return BlockedError(
        f"Genius blocked the request (HTTP {exc.status}, {exc.url}): check your token, set a "
        "proxy (`lyrictui config set genius_proxy http://HOST:PORT`), lower the concurrency "
        "(--concurrency 2), or import your own files with `lyrictui import`; "
        "songs already stored are kept and a rerun resumes"
    )


def base_urls() -> tuple[str, str]:
    """(API base, web base) from LYRICTUI_GENIUS_API_URL / LYRICTUI_GENIUS_WEB_URL."""
    found = []
    for var, default in (("LYRICTUI_GENIUS_API_URL", DEFAULT_API_URL),
                         ("LYRICTUI_GENIUS_WEB_URL", DEFAULT_WEB_URL)):
        value = os.environ.get(var, "").strip() or default
        if urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).netloc:
            raise InvalidInput(f"{var} must be an http(s) URL such as {default}, not {value!r}")
        found.append(value.rstrip("/"))
    return found[0], found[1]


@dataclass(frozen=True)
class SongInfo:
    """One song as the API lists it."""

    id: int
    title: str
    url: str
    primary_artist_id: int
    primary_artist: str
    lyrics_state: str
    instrumental: bool

    @classmethod
    def from_api(cls, data: Any) -> SongInfo | None:
        """The song, or None when the entry is not a song object with a numeric id."""
        if not isinstance(data, dict) or (song_id := as_id(data.get("id"))) is None:
            return None
        artist = data.get("primary_artist")
        artist = artist if isinstance(artist, dict) else {}
        return cls(
            # Names and titles are shown in terminals: no control or escape characters.
            id=song_id,
            title=one_line(_text(data.get("title"))) or f"song {song_id}",
            url=_text(data.get("url")), primary_artist_id=as_id(artist.get("id")) or 0,
            primary_artist=one_line(_text(artist.get("name"))),
            lyrics_state=_text(data.get("lyrics_state")) or "complete",
            instrumental=data.get("instrumental") is True,
        )


def as_id(value: Any) -> int | None:
    """A Genius id: a positive whole number (as a number or digits in a string), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) < 19:
        value = int(value.strip())
    return value if isinstance(value, int) and 0 < value < 2**63 else None


def _text(value: Any) -> str:
    """A string field as Genius should send it; anything else (a list, an object) is absent."""
    return value if isinstance(value, str) else ""


def _unexpected(path: str, what: str) -> LyricError:
    return LyricError(f"Genius answered {path} with an unexpected shape ({what}): is "
                      "LYRICTUI_GENIUS_API_URL right?")


class GeniusApi:
    """Thin typed wrapper over the endpoints; the token goes to the API host only."""

    def __init__(self, client: HttpClient, token: str, api_url: str, web_url: str) -> None:
        self.client, self.api_url, self.web_url = client, api_url, web_url
        self._auth = {"Authorization": f"Bearer {token}"}

    async def _json(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            resp = await self.client.get(self.api_url + path, headers=self._auth, params=params)
        except Blocked as exc:
            raise blocked_error(exc) from None
        except HttpError as exc:
            if exc.status == 401:
                raise AuthError(f"Genius refused the token (HTTP 401): {TOKEN_HELP}") from None
            if exc.status == 404:
                raise NotFound(f"Genius has nothing at {path}") from None
            raise
        data = resp.json()
        response = data.get("response") if isinstance(data, dict) else None
        if not isinstance(response, dict):
            raise LyricError(f"Genius answered {path} with an unexpected shape: is "
                             "LYRICTUI_GENIUS_API_URL right?")
        return response

    async def resolve_artist(self, name: str) -> tuple[int, str]:
        """(id, name) of the artist best matching `name`, ignoring case, accents, punctuation."""
        hits = (await self._json("/search", {"q": name, "per_page": 20})).get("hits") or []
        if not isinstance(hits, list):
            raise _unexpected("/search", "hits is not a list")
        artists: dict[int, str] = {}
        for hit in hits:
            result = hit.get("result") if isinstance(hit, dict) else None
            artist = result.get("primary_artist") if isinstance(result, dict) else None
            if isinstance(artist, dict) and (artist_id := as_id(artist.get("id"))) is not None:
                artists.setdefault(artist_id, one_line(_text(artist.get("name"))))
        wanted = fold(name)
        exact = [(i, n) for i, n in artists.items() if fold(n) == wanted]
        if len(exact) == 1:
            return exact[0]
        if len(exact) > 1:
            listed = ", ".join(f"{n} (--genius-id {i})" for i, n in exact)
            raise InvalidInput(f'several Genius artists are named "{name}": {listed}; '
                               "pick one with --genius-id")
        by_fold = {fold(n): n for n in artists.values()}
        close = difflib.get_close_matches(wanted, list(by_fold), n=5, cutoff=0.5)
        hint = ("closest: " + ", ".join(by_fold[c] for c in close)) if close else \
            "check the spelling"
        raise NotFound(f'no Genius artist named "{name}": {hint}')

    async def artist(self, artist_id: int) -> tuple[int, str]:
        data = (await self._json(f"/artists/{artist_id}")).get("artist")
        if not isinstance(data, dict):
            raise _unexpected(f"/artists/{artist_id}", "no artist object")
        return as_id(data.get("id")) or artist_id, one_line(_text(data.get("name"))) or \
            str(artist_id)

    async def artist_songs(self, artist_id: int) -> AsyncIterator[list[SongInfo]]:
        """Pages of the artist's songs, most popular first, until next_page is null.

        A server that never ends the listing is stopped: at a next_page that does not move
        forward, at a page with no song not listed before, and after MAX_PAGES pages."""
        page: int | None = 1
        seen: set[int] = set()
        for _ in range(MAX_PAGES):
            if page is None:
                return
            path = f"/artists/{artist_id}/songs"
            response = await self._json(path, {"per_page": PER_PAGE, "page": page,
                                               "sort": "popularity"})
            listed = response.get("songs") or []
            if not isinstance(listed, list):
                raise _unexpected(path, "songs is not a list")
            songs = [info for s in listed if (info := SongInfo.from_api(s)) is not None]
            new = {s.id for s in songs} - seen
            seen |= new
            yield songs
            nxt = as_id(response.get("next_page"))
            page = nxt if nxt is not None and nxt > page and new else None

    def page_url(self, url: str) -> str:
        """The page URL to fetch: genius.com links move to the configured web base."""
        parts = urlsplit(url)
        if self.web_url != DEFAULT_WEB_URL and f"{parts.scheme}://{parts.netloc}" == \
                DEFAULT_WEB_URL:
            return self.web_url + parts.path + (f"?{parts.query}" if parts.query else "")
        return url

    async def song_page(self, url: str) -> str:
        """The HTML of a song page (no token sent: it is not the API)."""
        try:
            resp = await self.client.get(self.page_url(url))
        except Blocked as exc:
            raise blocked_error(exc) from None
        return resp.text()
