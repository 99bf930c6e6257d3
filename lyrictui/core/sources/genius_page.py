"""A Genius song page (HTML) to raw lyrics text, with a real HTML parser (selectolax/lexbor).

Modern pages split one song over several `div[data-lyrics-container="true"]`; older ones hold it
in `div.lyrics`. Cleaning the text is core/sources/lyrics.py's job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

CONTAINER = 'div[data-lyrics-container="true"]'
LEGACY_CONTAINER = "div.lyrics"
# Parts of a container that are not lyrics even when Genius forgets to mark them excluded.
_JUNK_CLASS_PREFIXES = (
    "LyricsHeader__", "LyricsFooter__", "RightSidebar__", "InreadAd__", "SidebarLyrics__",
)
_SKIP_TAGS = {"script", "style", "noscript", "template", "button", "svg", "iframe", "img", "form"}
_BLOCK_TAGS = {
    "div", "p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "section", "blockquote",
    "pre", "table", "tr", "header", "footer",
}
_SPACES = re.compile(r"[ \t\r\n\f]+")  # HTML whitespace; NBSP is text, handled by the cleaner
_CHALLENGE_TITLES = ("just a moment", "attention required", "access denied", "please wait")


@dataclass(frozen=True)
class PageLyrics:
    """What a song page holds: raw text, or a placeholder saying why there is none."""

    text: str
    found: bool  # a lyrics container was on the page
    placeholder: str | None = None  # "instrumental" or "unreleased"


def parse(html: str) -> Any:
    from selectolax.lexbor import LexborHTMLParser

    return LexborHTMLParser(html)


def extract(html: str) -> PageLyrics:
    """Raw lyrics of a song page: every container in document order, `<br>` as newlines,
    annotation link text kept, excluded elements and the lyrics header dropped."""
    tree = parse(html)
    placeholder = _placeholder(tree)
    containers = tree.css(CONTAINER) or tree.css(LEGACY_CONTAINER)
    if not containers:
        return PageLyrics("", False, placeholder)
    parts: list[str] = []
    for node in containers:  # a container boundary is a line break, not a new stanza
        _walk(node, parts)
        parts.append("\n")
    return PageLyrics("".join(parts), True, placeholder)


def _excluded(node: Any) -> bool:
    attrs = node.attributes
    if attrs.get("data-exclude-from-selection") == "true":
        return True
    classes = (attrs.get("class") or "").split()
    return any(c.startswith(_JUNK_CLASS_PREFIXES) for c in classes)


def _walk(node: Any, out: list[str]) -> None:
    """The text under `node`, in document order, with an explicit stack: a page nested
    60,000 levels deep is walked like any other (a recursive walk ran out of stack)."""
    levels: list[tuple[Any, bool]] = [(node.iter(include_text=True), False)]
    while levels:
        children, block = levels[-1]
        child = next(children, None)
        if child is None:
            levels.pop()
            if block:
                out.append("\n")
            continue
        if child.is_text_node:
            out.append(_SPACES.sub(" ", child.text(deep=False)))
            continue
        tag = child.tag
        if tag == "br":
            out.append("\n")
        elif not child.is_element_node or tag in _SKIP_TAGS or _excluded(child):
            continue
        else:
            if tag in _BLOCK_TAGS:
                out.append("\n")
            levels.append((child.iter(include_text=True), tag in _BLOCK_TAGS))


def _placeholder(tree: Any) -> str | None:
    """"instrumental" or "unreleased" when the page says so instead of showing lyrics."""
    for node in tree.css('[class*="LyricsPlaceholder__Message"]'):
        message = " ".join(node.text(deep=True).split()).casefold()
        if "instrumental" in message:
            return "instrumental"
        if "yet to be released" in message or "unreleased" in message:
            return "unreleased"
    return None


def looks_like_challenge(html: str, headers: Any = None) -> bool:
    """A Cloudflare (or similar) challenge or block page instead of the page asked for."""
    if headers is not None and str(headers.get("cf-mitigated", "")).lower() == "challenge":
        return True
    if not html:
        return False
    tree = parse(html)
    title = tree.css_first("title")
    if title is not None:
        text = " ".join(title.text(deep=True).split()).casefold()
        if text.startswith(_CHALLENGE_TITLES) or "cloudflare" in text:
            return True
    if tree.css_first("#challenge-running, #challenge-form, #cf-wrapper, #cf-error-details"):
        return True
    return bool(tree.script_srcs_contain(("/cdn-cgi/challenge-platform/",)))
