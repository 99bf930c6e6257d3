"""The demo artist: public-domain verse with the bundled starter as its ready model.

On first start the library gets "Public-domain verse (demo)" so the composer works at once,
offline. Deleting it records `demo_removed` (Library.delete_artist) and it stays gone until
`restore_demo` (the `lyrictui demo` command). The songs are 200 verse blocks the starter never
trained on (lyrictui/assets/demo/NOTE.md); the model row points at the starter folder inside
the package, which the library never deletes (Library.delete_model spares folders outside
the data home).
"""

from __future__ import annotations

import gzip
import json
import os
from importlib import resources
from pathlib import Path

from lyrictui.core import paths
from lyrictui.core.engine import bases
from lyrictui.core.errors import InvalidInput, LyricError
from lyrictui.core.store.library import Library
from lyrictui.core.store.records import Artist, NewSong

DEMO_NAME = "Public-domain verse (demo)"
DEMO_SOURCE = "demo"
DEMO_MODEL_ID = "demo-starter"
NO_DEMO_ENV = "LYRICTUI_NO_DEMO"
REMOVED = "demo_removed"  # set by Library.delete_artist for a demo artist
COMPLETE = "demo_complete"  # set once the artist, its songs and its model are all stored
MAX_TITLE = 60


def demo_corpus() -> Path:
    """The gzip file of the demo's songs (blocks separated by one blank line)."""
    return Path(str(resources.files("lyrictui") / "assets" / "demo" / "verse-demo.txt.gz"))


def _title(block: str) -> str:
    """The block's first line, without trailing punctuation, cut at a word if long."""
    first = block.strip().splitlines()[0].strip().rstrip(",;:.!?-'\"")
    if len(first) > MAX_TITLE:
        first = first[:MAX_TITLE].rsplit(" ", 1)[0] + "..."
    return first or "Untitled"


def demo_songs() -> list[NewSong]:
    """The demo's songs, one per corpus block, keyed `demo-NNN` so a refill never doubles one."""
    try:
        with gzip.open(demo_corpus(), "rt", encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, EOFError) as exc:
        raise LyricError(f"the demo's songs ({demo_corpus().name}) are missing or damaged "
                         f"({type(exc).__name__}): reinstall lyrictui") from None
    blocks = [b.strip("\n") for b in text.split("\n\n") if b.strip()]
    return [NewSong(title=_title(b), lyrics=b, source_key=f"demo-{i:03d}")
            for i, b in enumerate(blocks)]


def _starter_card(folder: Path) -> dict:
    try:
        data = json.loads((folder / "card.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _demo_artist(library: Library) -> Artist | None:
    """The demo artist, found by its source: the user may have renamed it."""
    found = library.find_artist(DEMO_NAME)
    if found is not None and found.source == DEMO_SOURCE:
        return found
    return next((a for a in library.list_artists() if a.source == DEMO_SOURCE), None)


def _register_starter(library: Library, artist: Artist, *, add: bool) -> None:
    """Make the bundled starter the demo's model (`add`), or point its row at where the
    package now lives (a reinstall moves it); a model the user removed stays removed."""
    folder = paths.starter_dir()
    if not (folder / "model.safetensors").exists():
        return  # a source checkout without the weights: the demo still shows its songs
    size = paths.dir_size(folder)
    current = next((m for m in library.list_models(artist.id) if m.id == DEMO_MODEL_ID), None)
    if current is None and add:
        card = _starter_card(folder)
        library.add_model(DEMO_MODEL_ID, artist.id, run_id=None, base=bases.STARTER,
                          method="full", path=str(folder), val_loss=card.get("val_loss"),
                          perplexity=card.get("perplexity"), size_bytes=size)
    elif current is not None and Path(current.path) != folder:
        library.set_model_path(DEMO_MODEL_ID, str(folder), size)


def _build(library: Library) -> Artist:
    """Create (or finish creating) the demo: artist, songs in one transaction, model."""
    artist = _demo_artist(library)
    if artist is None:
        library.set_setting(COMPLETE, None)
        try:
            artist = library.add_artist(DEMO_NAME, DEMO_SOURCE)
        except InvalidInput:
            # Another process (the app beside the CLI) created it a moment ago, or the user
            # has an artist of their own with this name.
            artist = _demo_artist(library)
            if artist is None:
                raise InvalidInput(f'an artist of yours is named "{DEMO_NAME}": rename it '
                                   "to bring the demo back") from None
    if library.get_setting(COMPLETE) != "1":
        library.add_songs(artist.id, demo_songs())
        _register_starter(library, artist, add=True)
        library.set_setting(COMPLETE, "1")
    else:
        _register_starter(library, artist, add=False)
    return artist


def demo_disabled() -> bool:
    """Whether LYRICTUI_NO_DEMO asks for no demo (the tests set it)."""
    return os.environ.get(NO_DEMO_ENV, "").strip().lower() not in ("", "0", "false", "no")


def ensure_demo(library: Library) -> Artist | None:
    """The demo artist, created on first start; None once the user deleted it (or when
    LYRICTUI_NO_DEMO is set, or when a user's own artist holds the demo's name)."""
    if demo_disabled() or library.get_setting(REMOVED) == "1":
        return None
    try:
        return _build(library)
    except InvalidInput:
        return None


def restore_demo(library: Library) -> Artist:
    """Bring the demo back on request (even after a delete, and whatever LYRICTUI_NO_DEMO says)."""
    library.set_setting(REMOVED, None)
    library.set_setting(COMPLETE, None)  # refill what is missing: songs, the starter's row
    return _build(library)
