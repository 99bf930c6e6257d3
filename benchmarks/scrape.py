"""Scraping an artist from Genius: lyrictui's scraper vs one request at a time (LyricsGenius).

The fake Genius of the tests (tests/fakes) serves one artist with N songs (default 200) from a
background thread, holding every request for a fixed latency (default 100 ms) to stand in for
the network, with song pages padded to a realistic size.

- baseline: what LyricsGenius does, one request after the other over keep-alive connections
  (like requests.Session): GET /search, every /artists/{id}/songs page (per_page=50), then every
  song page, each parsed and cleaned with the same code as ours.
- ours: `lyrictui.core.sources.genius.scrape()` into a fresh library (default concurrency 8), the same
  requests, each song committed to SQLite as it is parsed.

Prints one JSON object per line: each run, then medians, the ratio and lost songs.

    python benchmarks/scrape.py                     # 200 songs, 100 ms, 3 repetitions
    python benchmarks/scrape.py --songs 50 --reps 1 --concurrency 4 8 16
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fakes import FakeGenius  # noqa: E402
from fakes.genius_data import SYNTH_ARTIST, synthetic_catalog  # noqa: E402

ARTIST = "Synthetic Choir"


class Connections:
    """One persistent HTTP/1.1 connection per host, like a requests.Session."""

    def __init__(self) -> None:
        self.pool: dict[str, http.client.HTTPConnection] = {}
        self.requests = 0

    def get(self, url: str, headers: dict[str, str] | None = None) -> bytes:
        parts = urlsplit(url)
        conn = self.pool.get(parts.netloc)
        if conn is None:
            conn = self.pool[parts.netloc] = http.client.HTTPConnection(parts.netloc, timeout=30)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        body = resp.read()
        self.requests += 1
        if resp.status != 200:
            raise RuntimeError(f"{url}: HTTP {resp.status}")
        return body

    def close(self) -> None:
        for conn in self.pool.values():
            conn.close()


def baseline(fake: FakeGenius) -> dict:
    """Sequential: the same API pages and song pages, one request at a time."""
    from lyrictui.core.sources.genius_page import extract
    from lyrictui.core.sources.lyrics import clean_lyrics

    auth = {"Authorization": f"Bearer {fake.token}"}
    net = Connections()
    start = time.perf_counter()
    net.get(f"{fake.api_url}/search?{urlencode({'q': ARTIST, 'per_page': 20})}", auth)
    songs, page = [], 1
    while page:
        query = urlencode({"per_page": 50, "page": page, "sort": "popularity"})
        data = json.loads(net.get(f"{fake.api_url}/artists/{SYNTH_ARTIST}/songs?{query}", auth))
        songs += data["response"]["songs"]
        page = data["response"]["next_page"]
    lyrics = {}
    for song in songs:
        html = net.get(song["url"]).decode("utf-8")
        lyrics[song["id"]] = clean_lyrics(extract(html).text, title=song["title"])
    wall = time.perf_counter() - start
    net.close()
    kept = sum(1 for text in lyrics.values() if text)
    return {"engine": "baseline (one request at a time)", "wall_s": round(wall, 3),
            "requests": net.requests, "requests_per_s": round(net.requests / wall, 1),
            "songs": kept}


def ours(fake: FakeGenius, concurrency: int | None) -> dict:
    from lyrictui.core.sources.genius import scrape
    from lyrictui.core.store.library import Library

    with tempfile.TemporaryDirectory() as home:
        os.environ["LYRICTUI_HOME"] = home
        library = Library()
        start = time.perf_counter()
        summary = asyncio.run(scrape(library, ARTIST, concurrency=concurrency))
        wall = time.perf_counter() - start
        stored = len(library.songs(library.get_artist(ARTIST).id))
        library.close()
    return {"engine": f"ours (concurrency {concurrency or 8})", "concurrency": concurrency or 8,
            "wall_s": round(wall, 3), "requests": summary.requests,
            "requests_per_s": round(summary.requests / wall, 1), "songs": stored,
            "failed": len(summary.failed)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--songs", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per request")
    parser.add_argument("--page-kb", type=int, default=150, help="padding per song page")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8],
                        help="ours at these concurrencies (8 is the default setting)")
    args = parser.parse_args()

    os.environ.pop("LYRICTUI_GENIUS_PROXY", None)
    artists, songs = synthetic_catalog(args.songs, ARTIST)
    fake = FakeGenius(artists, songs, latency=args.latency, padding_kb=args.page_kb)
    runs: dict[str, list[dict]] = {}
    with fake.in_thread():
        os.environ.update(fake.env())
        for rep in range(args.reps):
            for engine in ["baseline"] + [f"ours-{c}" for c in args.concurrency]:
                row = baseline(fake) if engine == "baseline" else \
                    ours(fake, int(engine.split("-")[1]))
                row["rep"] = rep
                print(json.dumps(row), flush=True)
                runs.setdefault(engine, []).append(row)

    base = statistics.median(r["wall_s"] for r in runs["baseline"])
    for engine, rows in runs.items():
        wall = statistics.median(r["wall_s"] for r in rows)
        summary = {"summary": rows[0]["engine"], "songs_expected": args.songs,
                   "latency_ms": round(args.latency * 1000), "median_wall_s": wall,
                   "median_requests_per_s": statistics.median(r["requests_per_s"] for r in rows),
                   "lost_songs": max(args.songs - r["songs"] for r in rows)}
        if engine != "baseline":
            summary["speedup_vs_baseline"] = round(base / wall, 2)
        print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
