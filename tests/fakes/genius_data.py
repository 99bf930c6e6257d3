"""The fake Genius's catalogs: a hand-made one with every kind of junk, and a synthetic one."""

from __future__ import annotations

from fakes.genius_catalog import FakeArtist, FakeSong

LANTERNS, NINA, LANTERN, ECHO_ACCENT, ECHO = 101, 102, 103, 104, 105

_ANNOTATED = (
    '<a href="/1001001/The-paper-lanterns-harbor-lights/The-harbor-lights" class="Referent'
    'Fragmentdesktop__ClickTarget-sc-110r0d9-0 cesxpW"><span class="ReferentFragmentdesktop__'
    'Highlight-sc-110r0d9-1 jAzSMw">The harbor lights are burning low<br/>I don&#x27;t know '
    "where the ferries go</span></a>"
)

HARBOR_LIGHTS = [
    "[Verse 1: Mara Quinn]<br/>\n" + _ANNOTATED + "<br/>\n"
    "We said &#x201C;forever&#x201D; on the pier<br/>\n"
    "And every&#xA0;gull could&#x200B; hear   <br/><br/>\n"
    "[Chorus]<br/>\nOh, harbor lights, don&#x2019;t fade on me<br/>\n"
    "Keep one lamp lit out on the sea",
    "[Verse 2]<br/>\nSalt on the window, <i>rust</i> on the gate<br/>\n"
    "You&#x2019;re never early, I&#x2019;m never late<br/><br/>\n"
    "[Chorus]<br/>\nOh, harbor lights, don&#x2019;t fade on me<br/>\n"
    "Keep one lamp lit out on the sea",
]

# An older page: the header junk, the ad and the trailing "NEmbed" sit in the lyrics text.
PAPER_CROWN = [
    "23 ContributorsTranslationsFrançaisPaper Crown Lyrics&#x201C;Paper Crown&#x201D; was "
    "written in a single night. Read More <br/>\n[Intro]<br/>\nOoh, ooh<br/><br/>\n"
    "[Verse 1: Mara Quinn &amp; Nina Brandt]<br/>\n"
    "I made a crown from yesterday&#x27;s news<br/>\n"
    "Wore it to the party with my brother&#x2019;s shoes<br/>\n"
    "You might also like[Chorus]<br/>\nPaper crown, paper crown<br/>\n"
    "Rain&#x27;s gonna wash it down<br/>\n"
    "See The Paper Lanterns LiveGet tickets as low as $38<br/>\n"
    "[Outro]<br/>\nPaper crown<br/>\n7Embed"
]

TIN_CAN_LEGACY = (
    "[Verse 1]<br>\n"
    '<a href="/2001/Tin-can" data-id="2001" class="referent" classification="accepted">'
    "<i>Two tin cans and a kite string line</i></a><br>\n"
    "Your voice comes through like it&#39;s nineteen-ninety-nine<br>\n<br>\n"
    "[Chorus]<br>\nHello, hello, can you hear me now?<br>\n"
    "The string goes slack, I don&#8217;t know how"
)

NORTHBOUND = [
    "[Verse]<br/>\nTaillights fold into the snow<br/>\nNorthbound, northbound, here we go"
]


def _plain(*stanzas: str) -> list[str]:
    return ["<br/><br/>".join(s.replace("\n", "<br/>\n") for s in stanzas)]


def standard_catalog() -> tuple[list[FakeArtist], list[FakeSong]]:
    """Artists and songs for the end-to-end tests (most popular first)."""
    artists = [
        FakeArtist(LANTERNS, "The Paper Lanterns"), FakeArtist(NINA, "Nina Brandt"),
        FakeArtist(LANTERN, "Paper Lantern"), FakeArtist(ECHO_ACCENT, "Écho"),
        FakeArtist(ECHO, "Echo"),
    ]
    songs = [
        FakeSong(1001, "Harbor Lights", LANTERNS, HARBOR_LIGHTS),
        FakeSong(1002, "Paper Crown", LANTERNS, PAPER_CROWN, header=False),
        FakeSong(1003, "Tin Can Telephone", LANTERNS, legacy=TIN_CAN_LEGACY),
        FakeSong(1004, "Undertow", LANTERNS, placeholder="This song is an instrumental"),
        FakeSong(1005, "Glass Orchard", LANTERNS, lyrics_state="unreleased",
                 placeholder="Lyrics for this song have yet to be released. Please check "
                 "back once the song has been released."),
        FakeSong(1006, "Harbor Lights (Remix)", LANTERNS, HARBOR_LIGHTS),
        FakeSong(1007, "Harbor Lights (Live at the Pier)", LANTERNS, HARBOR_LIGHTS),
        FakeSong(1008, "Northbound", LANTERNS, NORTHBOUND),
        FakeSong(1009, "North Bound", LANTERNS, NORTHBOUND),
        FakeSong(1010, "Borrowed Summer", NINA, _plain(
            "[Verse 1: Nina Brandt]\nBorrowed summer, given back in June",
            "[Verse 2: The Paper Lanterns]\nWe kept the sand inside our shoes"),
            featured=(LANTERNS,)),
        FakeSong(1011, "Silent Verse", LANTERNS, [""]),
        FakeSong(1012, "Skit", LANTERNS, _plain("Hey, is this thing on?")),
        FakeSong(1013, "Lanternfish", LANTERNS, _plain(
            "[Verse]\nDown where the daylight never goes\nA little lantern glows")),
        FakeSong(1014, "Quiet Engine", LANTERNS, _plain(
            "[Verse]\nThe quiet engine hums all night\nIt never asks for more than light")),
        FakeSong(1015, "Copper Rain", LANTERNS, _plain(
            "[Verse]\nCopper rain on a tin roof town\nPennies falling, falling down")),
        FakeSong(1016, "Static Bloom", LANTERNS, instrumental=True),
        FakeSong(1017, "Low Tide", LANTERNS, ["[Instrumental]"]),
        FakeSong(1101, "Candle Math", LANTERN, _plain("One wick, two wicks, count them down")),
        FakeSong(1201, "Reverb", ECHO_ACCENT, _plain("Say it once, hear it twice")),
        FakeSong(1202, "Delay", ECHO, _plain("Say it now, hear it later")),
    ]
    return artists, songs


SYNTH_ARTIST = 900
CHOIR = "Synthetic Choir"  # the synthetic catalog's artist
FIRST_ID = SYNTH_ARTIST * 10_000 + 1  # its songs' Genius ids: FIRST_ID .. FIRST_ID + count - 1


def synthetic_song_text(index: int) -> str:
    """The clean lyrics the synthetic song `index` must end up with."""
    verse = "\n".join(f"Verse line {n} of song {index}, the {word} keeps turning"
                      for n, word in enumerate(("wheel", "tide", "road", "year"), 1))
    chorus = f"Chorus of song {index}, sing it back to me\nSong {index} is all I need"
    return f"[Verse 1]\n{verse}\n\n[Chorus]\n{chorus}"


def expected_choir(count: int) -> dict[int, str]:
    """Genius id -> the clean lyrics each synthetic song must end up with (from the catalog's
    own source text, not from anything the scraper produced)."""
    return {FIRST_ID + i: synthetic_song_text(i + 1) for i in range(count)}


def synthetic_catalog(count: int, name: str = CHOIR) -> tuple[list[FakeArtist],
                                                                         list[FakeSong]]:
    """`count` distinct, complete songs by one artist, each split over two containers."""
    songs = []
    for index in range(1, count + 1):
        verse, chorus = synthetic_song_text(index).split("\n\n")
        containers = [verse.replace("\n", "<br/>\n"), chorus.replace("\n", "<br/>\n")]
        songs.append(FakeSong(SYNTH_ARTIST * 10_000 + index, f"Song {index:04d}", SYNTH_ARTIST,
                              containers))
    return [FakeArtist(SYNTH_ARTIST, name)], songs
