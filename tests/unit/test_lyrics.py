"""The cleaning contract (core/sources/lyrics.py) and page extraction (core/sources/genius_page.py)."""

from __future__ import annotations

import pytest

from lyrictui.core.config import DEFAULT_TITLE_VARIANTS
from lyrictui.core.sources.genius_page import extract, looks_like_challenge
from lyrictui.core.sources.lyrics import (
    EMPTY,
    INSTRUMENTAL,
    clean_lyrics,
    empty_reason,
    lyric_lines,
    normalize_chars,
    title_variant,
)

# -- text cleaning -----------------------------------------------------------------------


def test_headers_are_normalized_and_stand_on_their_own_line() -> None:
    raw = "[Verse 1: Someone & Other]\nfirst line\nsecond line[Chorus]\nla la\n[Bridge]more"
    assert clean_lyrics(raw) == (
        "[Verse 1]\nfirst line\nsecond line\n\n[Chorus]\nla la\n\n[Bridge]\nmore"
    )


def test_unknown_words_in_brackets_stay_inside_the_line() -> None:
    assert clean_lyrics("I said [?] and left") == "I said [?] and left"


def test_exactly_one_blank_line_between_stanzas_and_none_after_a_header() -> None:
    raw = "\n\n[Intro]\n\n\nfirst\n\n\n\nsecond\n[Outro]\n\nlast\n\n\n"
    assert clean_lyrics(raw) == "[Intro]\nfirst\n\nsecond\n\n[Outro]\nlast"


def test_apostrophes_kept_quotes_straightened_invisible_characters_dropped() -> None:
    raw = "Don\u2019t  say \u201cnever\u201d\u00a0again   \nI\u2019m\u200b here\u00ad\ufeff  \t"
    assert clean_lyrics(raw) == "Don't say \"never\" again\nI'm here"


def test_normalize_chars_keeps_words_and_newlines() -> None:
    assert normalize_chars("caf\u0065\u0301\r\nd\u00e9j\u00e0 vu\u200d") == "caf\u00e9\ndéjà vu"


def test_glued_genius_header_junk_is_removed() -> None:
    raw = (
        "62 ContributorsTranslationsEspañolDeutschPaper Moon Lyrics\u201cPaper Moon\u201d is the "
        "second single, written on a train. Read More \n[Verse 1]\nHold the paper moon"
    )
    assert clean_lyrics(raw, title="Paper Moon") == "[Verse 1]\nHold the paper moon"


def test_header_junk_one_item_per_line_without_a_title() -> None:
    raw = "3 Contributors\nTranslations\nEspañol\nDeutsch\nSome Song Lyrics\n[Intro]\nhey"
    assert clean_lyrics(raw) == "[Intro]\nhey"


def test_a_line_that_merely_mentions_read_more_is_kept_without_a_header() -> None:
    assert clean_lyrics("Read More books\nthey said") == "Read More books\nthey said"


def test_you_might_also_like_and_ticket_ads_are_removed_wherever_they_sit() -> None:
    raw = (
        "first line\nYou might also like[Chorus]\nsecond line\nYou might also like\n"
        "third lineYou might also like\nSee The Band LiveGet tickets as low as $45\n"
        "Get tickets as low as $12\nSee The Band Live\nfourth line"
    )
    assert clean_lyrics(raw, artist="The Band") == (
        "first line\n\n[Chorus]\nsecond line\nthird line\nfourth line"
    )


def test_a_lyric_that_starts_like_the_ad_is_kept() -> None:
    assert clean_lyrics("You might also like me") == "You might also like me"


@pytest.mark.parametrize("tail", ["Embed", "5Embed", "\n12Embed", "\nEmbed\n", "3 Embed"])
def test_trailing_embed_is_removed(tail: str) -> None:
    assert clean_lyrics("last line" + tail) == "last line"


def test_embed_inside_the_song_is_kept() -> None:
    assert clean_lyrics("Embed the memory\nlast") == "Embed the memory\nlast"


def test_lyric_lines_and_empty_reasons() -> None:
    song = "[Verse]\none\n\n[Chorus]\ntwo"
    assert lyric_lines(song) == ["one", "two"]
    assert empty_reason(song) is None
    assert empty_reason("") == EMPTY
    assert empty_reason("[Verse]\n\n[Chorus]") == EMPTY
    assert empty_reason("[Instrumental]") == INSTRUMENTAL


# -- title variants ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "word"),
    [
        ("Harbor Lights (Remix)", "remix"),
        ("Harbor Lights (Live at the Pier)", "live"),
        ("Harbor Lights - Radio Edit", "edit"),
        ("Harbor Lights [Demo]", "demo"),
        ("Harbor Lights (Acoustic Version) [feat. Nina]", "version"),
        ("Skit", "skit"),
        ("Harbor Lights (Traducción / Translation)", "translation"),
        ("Live Forever", None),
        ("Relive (Remixed)", None),
        ("Demons", None),
        ("Editorial", None),
        ("Harbor Lights", None),
    ],
)
def test_title_variants_match_whole_words_where_versions_are_named(
    title: str, word: str | None
) -> None:
    assert title_variant(title, DEFAULT_TITLE_VARIANTS) == word


def test_title_variant_words_are_configurable_and_may_be_phrases() -> None:
    assert title_variant("Song (Radio Edit)", ["radio edit"]) == "radio edit"
    assert title_variant("Song (Edit)", ["radio edit"]) is None
    assert title_variant("Song (Remix)", ["rem.x"]) is None  # words, never a regex
    assert title_variant("Song (Remix)", []) is None


# -- page extraction ---------------------------------------------------------------------

MODERN = (
    '<html><body><div id="lyrics-root">'
    '<div data-lyrics-container="true" class="Lyrics__Container-sc-1">'
    '<div data-exclude-from-selection="true" class="LyricsHeader__Container-sc-2">'
    "<span>4 Contributors</span><h2>Song Lyrics</h2></div>"
    "[Verse 1]<br/>\n   <a href=\"/1\" class=\"ReferentFragmentdesktop__ClickTarget\"><span>"
    "annotated <i>line</i></span></a><br/>plain line<br/><br/>[Chorus]<br/>hook</div>"
    '<div class="RightSidebar__Container-sc-3">You might also like</div>'
    '<div data-lyrics-container="true" class="Lyrics__Container-sc-1">second <b>part</b><br/>'
    '<div class="InreadAd__Container">Advertisement</div>end<script>var x = "<br>";</script>'
    "</div></div></body></html>"
)


def test_modern_page_joins_every_container_and_drops_the_junk() -> None:
    page = extract(MODERN)
    assert page.found and page.placeholder is None
    assert clean_lyrics(page.text) == (
        "[Verse 1]\nannotated line\nplain line\n\n[Chorus]\nhook\nsecond part\nend"
    )


def test_legacy_page_still_works() -> None:
    html = (
        '<div class="song_body-lyrics"><h2>Song lyrics</h2><div class="lyrics"><!--sse-->'
        '<p>[Hook]<br>\n<a href="/2" class="referent"><i>old style</i></a><br>\nline two</p>'
        "<!--/sse--></div></div>"
    )
    page = extract(html)
    assert page.found
    assert clean_lyrics(page.text) == "[Hook]\nold style\nline two"


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("This song is an instrumental", "instrumental"),
        ("Lyrics for this song have yet to be released. Please check back once the song has "
         "been released.", "unreleased"),
    ],
)
def test_placeholders_are_recognized(message: str, kind: str) -> None:
    html = (f'<div id="lyrics-root"><div class="LyricsPlaceholder__Container-sc-1"><div '
            f'class="LyricsPlaceholder__Message-sc-2">{message}</div></div></div>')
    page = extract(html)
    assert (page.found, page.placeholder) == (False, kind)


def test_page_without_lyrics_is_not_found() -> None:
    assert extract("<html><body><p>Page not found</p></body></html>").found is False


def test_challenge_pages_are_recognized_and_lyrics_pages_are_not() -> None:
    cloudflare = ("<html><head><title>Just a moment...</title></head><body><div id="
                  '"challenge-running"></div></body></html>')
    assert looks_like_challenge(cloudflare)
    assert looks_like_challenge("<html><head><title>Attention Required! | Cloudflare</title>")
    assert looks_like_challenge("", {"cf-mitigated": "challenge"})
    assert not looks_like_challenge(MODERN)
    assert not looks_like_challenge("")
