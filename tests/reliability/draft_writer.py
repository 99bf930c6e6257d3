"""A stand-in for the composer that autosaves a growing draft until it is killed.

Run as `python draft_writer.py ARTIST_ID`: it saves through `DraftSlot.save` itself (what the
composer's autosave worker calls), so the code path is the app's own; only the editor, the timer
and the thread worker are left out.
After each save returns it prints `ACK <version> <draft id>`. Version v of the draft is
`version_text(v)`; a writer started on a library that already holds the draft reopens it, as
the composer's Open draft does, and goes on from the version it finds.
"""

from __future__ import annotations

import sys

WINDOW = 60
LINE_WORDS = ("love", "night", "fire", "heart", "rain", "money", "dream", "city", "road")


def version_text(version: int) -> str:
    """Draft version `version`: a new last line each version, the song growing to WINDOW lines
    (then its first line goes, so a long test keeps writing song-sized texts)."""
    lines = [f"{LINE_WORDS[i % len(LINE_WORDS)]} line {i} of the song, take {i * 7 % 13}"
             for i in range(max(0, version - WINDOW + 1), version + 1)]
    return "\n".join(lines)


def version_of(text: str) -> int:
    """The version a stored text is (raises ValueError if it is none of them)."""
    try:
        version = int(text.rsplit("\n", 1)[-1].split(" line ", 1)[1].split(" ", 1)[0])
    except (IndexError, ValueError):
        version = -1
    if version < 0 or text != version_text(version):
        raise ValueError(f"not a version this writer writes: {text[:60]!r}")
    return version


def main(artist_id: int) -> None:
    from lyrictui.core.compose.draft_slot import DraftSlot
    from lyrictui.core.store.library import Library

    library = Library()
    drafts = library.list_drafts()
    slot = DraftSlot()
    version = 0
    if drafts:  # reopen it, as action_open_draft does
        slot = DraftSlot(drafts[0].id, drafts[0].text)
        version = version_of(drafts[0].text) + 1
    while True:
        slot.save(library, version_text(version), artist_id=artist_id, model_id="a-model-id")
        print(f"ACK {version} {slot.id}", flush=True)
        version += 1


if __name__ == "__main__":
    main(int(sys.argv[1]))
