"""A polite, retrying HTTP client over aiohttp: bounded concurrency, timeouts, backoff.

Retries 429, 5xx, timeouts, resets and truncated bodies with exponential backoff and full
jitter, honoring Retry-After; caps response size; turns a 403 or a challenge page into
`Blocked` at once (retrying a block only digs the hole deeper).
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from lyrictui import __version__
from lyrictui.core.errors import LyricError
from lyrictui.core.sources.genius_page import looks_like_challenge

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524})


@dataclass(frozen=True)
class HttpOptions:
    """Knobs of the client; tests shrink the delays, users change concurrency and proxy."""

    concurrency: int = 8
    connect_timeout: float = 10.0
    read_timeout: float = 30.0  # between two reads
    total_timeout: float = 120.0  # one whole request, so a page that trickles still ends
    max_attempts: int = 6
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    retry_after_cap: float = 120.0
    slow_note_s: float = 10.0  # a request still running this long is said (then as often)
    max_body_bytes: int = 10 * 1024 * 1024
    proxy: str | None = None
    user_agent: str = f"lyrictui/{__version__}"


class HttpError(LyricError):
    """A request that failed for good (after retries, or with a status not worth retrying)."""

    def __init__(self, message: str, *, url: str, status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


class Blocked(HttpError):
    """The server refused us as a client (403 or a Cloudflare-style challenge)."""


@dataclass(frozen=True)
class Response:
    status: int
    url: str
    headers: dict[str, str]  # names in lower case
    body: bytes

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except (ValueError, RecursionError):  # not JSON, or nested past the parser's stack
            raise HttpError(f"{self.url} did not answer JSON", url=self.url,
                            status=self.status) from None


class _Retry(Exception):
    def __init__(self, reason: str, wait: float | None = None, *, tries: int = 0) -> None:
        self.reason, self.wait, self.tries = reason, wait, tries  # tries: 0 = max_attempts


class HttpClient:
    """Use as `async with HttpClient(options) as client: await client.get(url)`."""

    def __init__(self, options: HttpOptions | None = None, *,
                 rng: random.Random | None = None) -> None:
        self.options = options or HttpOptions()
        self.requests = 0  # attempts sent, retries included
        self.retries = 0
        self._rng = rng or random.Random()
        self._session: Any = None
        self._gate = asyncio.Semaphore(self.options.concurrency)
        self.on_note: Callable[[str], None] | None = None
        """Told, in one line each, of a retry and of a request that is slow (a server that
        trickles a byte at a time), so a long wait is never silent."""

    def _note(self, text: str) -> None:
        if self.on_note is not None:
            self.on_note(text)

    async def __aenter__(self) -> HttpClient:
        import aiohttp

        o = self.options
        connector = aiohttp.TCPConnector(limit=o.concurrency, limit_per_host=o.concurrency)
        timeout = aiohttp.ClientTimeout(total=o.total_timeout, connect=o.connect_timeout,
                                        sock_connect=o.connect_timeout, sock_read=o.read_timeout)
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=timeout, trust_env=False,
            headers={"User-Agent": o.user_agent},
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._session.close()

    async def get(self, url: str, *, headers: dict[str, str] | None = None,
                  params: dict[str, Any] | None = None) -> Response:
        """GET with retries; raises Blocked, HttpError, or returns a 2xx/3xx Response."""
        o = self.options
        for attempt in range(1, o.max_attempts + 1):
            try:
                return await self._once(url, headers, params)
            except _Retry as retry:
                if attempt >= (retry.tries or o.max_attempts):
                    raise HttpError(f"gave up on {url} after {attempt} attempts "
                                    f"({retry.reason})", url=url) from None
                if retry.wait is not None and retry.wait > o.retry_after_cap:
                    raise HttpError(f"{url} asks to wait {retry.wait:.0f} s (Retry-After): "
                                    "try again later", url=url, status=429) from None
                backoff = self._rng.uniform(0, min(o.backoff_cap, o.backoff_base * 2 ** attempt))
                self.retries += 1
                self._note(f"{shown_url(url)}: {retry.reason}; trying again "
                           f"({attempt + 1} of {retry.tries or o.max_attempts})")
                await asyncio.sleep(max(retry.wait or 0.0, backoff))
        raise AssertionError("unreachable")

    async def _once(self, url: str, headers: dict[str, str] | None,
                    params: dict[str, Any] | None) -> Response:
        import aiohttp

        async with self._gate:
            self.requests += 1
            try:
                async with self._session.get(url, headers=headers, params=params,
                                             proxy=self.options.proxy) as resp:
                    body = await self._read(resp, url)
                    lowered = {k.lower(): v for k, v in resp.headers.items()}
                    response = Response(resp.status, str(resp.url), lowered, body)
            except (asyncio.TimeoutError, aiohttp.ServerTimeoutError):
                raise _Retry("timed out") from None
            except aiohttp.ClientPayloadError:
                raise _Retry("truncated response") from None
            except aiohttp.ClientProxyConnectionError:
                raise HttpError(f"cannot connect to the proxy {self.options.proxy}: check the "
                                "genius_proxy setting (`lyrictui config show`)", url=url) from None
            except aiohttp.ClientConnectorError as exc:
                # No connection at all (no network, wrong host): a few tries, not a minute's.
                raise _Retry(f"cannot connect to {exc.host}:{exc.port}: check your network",
                             tries=3) from None
            except aiohttp.ClientConnectionError as exc:
                raise _Retry(f"connection lost: {type(exc).__name__}") from None
            except aiohttp.InvalidURL:
                raise HttpError(f"invalid URL {url}", url=url) from None
            except aiohttp.ClientError as exc:  # redirect loops, bad responses: not retried
                raise HttpError(f"request to {url} failed: {type(exc).__name__}", url=url) \
                    from None
        return self._check(response)

    async def _read(self, resp: Any, url: str) -> bytes:
        cap = self.options.max_body_bytes
        if resp.content_length is not None and resp.content_length > cap:
            raise HttpError(f"{url} is {resp.content_length:,} bytes, over the "
                            f"{cap:,}-byte limit", url=url, status=resp.status)
        chunks, size = [], 0
        started = time.monotonic()
        said = started
        async for chunk in resp.content.iter_chunked(64 * 1024):
            size += len(chunk)
            now = time.monotonic()
            if now - said >= self.options.slow_note_s:
                said = now
                self._note(f"{shown_url(url)} is slow: {size:,} bytes in {now - started:.0f} s "
                           f"(given up at {self.options.total_timeout:.0f} s)")
            if size > cap:
                raise HttpError(f"{url} is over the {cap:,}-byte limit", url=url,
                                status=resp.status)
            chunks.append(chunk)
        return b"".join(chunks)

    def _check(self, r: Response) -> Response:
        html = r.text() if "html" in r.headers.get("content-type", "") else ""
        suspicious = r.status >= 400 or "cf-mitigated" in r.headers
        if r.status == 403 or (suspicious and looks_like_challenge(html, r.headers)):
            raise Blocked(f"{r.url} refused us ({r.status})", url=r.url, status=r.status)
        if r.status in RETRY_STATUSES:
            raise _Retry(f"HTTP {r.status}", retry_after(r.headers.get("retry-after")))
        if r.status >= 400:
            raise HttpError(f"{r.url} answered HTTP {r.status}", url=r.url, status=r.status)
        return r


def shown_url(url: str) -> str:
    """A URL as said to the user: host and path, never a query (it could hold a token)."""
    parts = urlsplit(url)
    return f"{parts.netloc}{parts.path}" if parts.netloc else url.split("?")[0]


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
