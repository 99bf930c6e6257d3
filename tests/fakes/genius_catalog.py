"""What the fake Genius serves: artists, songs, API JSON and song pages shaped like the real ones.

Song pages imitate genius.com's markup (styled-components class names, split
`data-lyrics-container` divs, a LyricsHeader marked `data-exclude-from-selection`, annotation
links, ad slots, placeholders) and its older `div.lyrics` layout. The lyrics are original text
written for these tests.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field


@dataclass
class FakeArtist:
    id: int
    name: str

    @property
    def slug(self) -> str:
        return re.sub(r"[^A-Za-z0-9]+", "-", self.name).strip("-").capitalize()


@dataclass
class FakeSong:
    """One song. `containers` are the inner HTML of each lyrics container (modern pages);
    `legacy` is the inner HTML of a `div.lyrics` page; `placeholder` a LyricsPlaceholder text."""

    id: int
    title: str
    artist_id: int
    containers: list[str] = field(default_factory=list)
    legacy: str | None = None
    placeholder: str | None = None
    lyrics_state: str = "complete"
    instrumental: bool = False
    featured: tuple[int, ...] = ()
    header: bool = True  # the marked LyricsHeader (contributors, translations, bio)

    def path(self, artist: FakeArtist) -> str:
        words = re.sub(r"[^A-Za-z0-9]+", "-", f"{artist.name} {self.title}").strip("-")
        return "/" + (words.capitalize() + "-lyrics")


def song_json(song: FakeSong, artists: dict[int, FakeArtist], web_url: str) -> dict:
    """A song as GET /artists/{id}/songs lists it (the fields the real API sends, abridged)."""
    artist = artists[song.artist_id]
    featured = [artist_json(artists[i], web_url) for i in song.featured]
    return {
        "annotation_count": 2, "api_path": f"/songs/{song.id}", "artist_names": artist.name,
        "full_title": f"{song.title} by {artist.name}",
        "header_image_thumbnail_url": f"{web_url}/images/{song.id}.300x300x1.jpg",
        "id": song.id, "instrumental": song.instrumental, "lyrics_owner_id": 7,
        "lyrics_state": song.lyrics_state, "lyrics_updated_at": 1_700_000_000,
        "path": song.path(artist), "primary_artist_names": artist.name, "pyongs_count": 3,
        "release_date_for_display": "March 3, 2021",
        "stats": {"unreviewed_annotations": 0, "hot": False, "pageviews": 12_000},
        "title": song.title, "title_with_featured": song.title,
        "url": web_url + song.path(artist), "featured_artists": featured,
        "primary_artist": artist_json(artist, web_url),
    }


def artist_json(artist: FakeArtist, web_url: str) -> dict:
    return {
        "api_path": f"/artists/{artist.id}", "id": artist.id, "name": artist.name,
        "header_image_url": f"{web_url}/images/a{artist.id}.jpg", "is_meme_verified": False,
        "is_verified": False, "url": f"{web_url}/artists/{artist.slug}",
    }


def _lyrics_header(song: FakeSong) -> str:
    title = html.escape(song.title)
    return (
        '<div data-exclude-from-selection="true" class="LyricsHeader__Container-sc-5e4b7146-1 '
        'hFsUgX"><div class="ContributorsCreditSong__Container-sc-12hq27v-0"><span '
        'class="ContributorsCreditSong__Label-sc-12hq27v-1">12 Contributors</span></div>'
        '<div class="LyricsHeader__TranslationsContainer-sc-5e4b7146-7"><span>Translations'
        '</span><ul><li><a href="/Genius-traducciones-x">Español</a></li><li><a href="/x-de">'
        f'Deutsch</a></li></ul></div><h2 class="LyricsHeader__Title-sc-5e4b7146-8">{title} '
        'Lyrics</h2><div class="SongBioPreview__Container-sc-d13d64be-0"><div class='
        f'"SongBioPreview__Text-sc-d13d64be-2">&#x201C;{title}&#x201D; came out of a night '
        'drive along the coast.</div><span class="SongBioPreview__ReadMore">Read More</span>'
        '</div></div>'
    )


_AD = (
    '<div class="RightSidebar__Container-sc-1s9ad39-0 jLLQrL"><div class="SidebarAd__Container">'
    '<div class="PrimisPlayer__Container">You might also like</div><ul><li>Other Song</li></ul>'
    '</div></div>'
)


def page_html(song: FakeSong, artist: FakeArtist, *, padding_kb: int = 0) -> str:
    """The full song page, with `padding_kb` of script payload like real pages carry."""
    title = html.escape(song.title)
    if song.placeholder is not None:
        body = ('<div class="LyricsPlaceholder__Container-sc-1b6dq8q-0"><div class='
                f'"LyricsPlaceholder__Message-sc-1b6dq8q-1">{song.placeholder}</div></div>')
    elif song.legacy is not None:
        body = (f'<div class="song_body-lyrics"><h2 class="text_label">{title} lyrics</h2>'
                f'<div class="lyrics">\n<!--sse-->\n<p>{song.legacy}</p>\n<!--/sse-->\n</div>'
                '</div>')
    else:
        parts = []
        for index, inner in enumerate(song.containers):
            header = _lyrics_header(song) if index == 0 and song.header else ""
            parts.append('<div data-lyrics-container="true" class="Lyrics__Container-sc-'
                         f'1ynbvzw-1 kUgSbL">{header}{inner}</div>')
        body = _AD.join(parts) + (
            '<div class="LyricsFooter__Container-sc-1pdsgtq-0"><div class="LyricsFooter__'
            'Embed">Embed</div><button>Cancel</button></div>')
    state = json.dumps({"songPage": {"song": song.id, "blob": "x" * (padding_kb * 1024)}})
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>'
        f"{html.escape(artist.name)} &#x2013; {title} Lyrics | Genius Lyrics</title>"
        f"<script>window.__PRELOADED_STATE__ = JSON.parse({json.dumps(state)});</script>"
        '</head><body><div id="application"><main class="SongPage__Container-sc-19xhmoi-0">'
        '<div class="SongHeader-desktop__Container"><h1 class="SongHeader-desktop__Title">'
        f'<span>{title}</span></h1><a href="/artists/{artist.slug}">{html.escape(artist.name)}'
        '</a></div><div id="lyrics-root-pin-spacer"><div id="lyrics-root" class="Lyrics__Root'
        f'-sc-1ynbvzw-0 iEyyHq">\n{body}\n</div></div><div class="SongDescription__Content">'
        "About this song: liner notes and comments.</div></main></div>"
        '<script src="/static/js/app.js"></script></body></html>'
    )


CHALLENGE_PAGE = (
    '<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title><meta http-equiv='
    '"refresh" content="390"><meta name="robots" content="noindex,nofollow"></head><body>'
    '<div class="main-wrapper" role="main"><div class="main-content"><h1 class="zone-name-'
    'title h1">genius.com</h1><h2 class="h2" id="challenge-running">Checking if the site '
    'connection is secure</h2><noscript><div id="challenge-error-title">Enable JavaScript and '
    'cookies to continue</div></noscript></div></div><script src="/cdn-cgi/challenge-platform/'
    'h/g/orchestrate/chl_page/v1?ray=7d1"></script></body></html>'
)
