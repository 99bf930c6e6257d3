"""DraftSlot: the composer's saves, from thread workers, into one draft (real SQLite)."""

from __future__ import annotations

import threading

from lyrictui.core.compose.draft_slot import DraftSlot
from lyrictui.core.store.library import Library


def test_first_save_creates_the_draft_and_later_ones_update_it(library: Library) -> None:
    slot = DraftSlot()
    assert slot.save(library, "   \n") is None  # nothing written yet, nothing to write
    first = slot.save(library, "The night is long\n")
    assert first is not None and slot.id == first.id and first.title == "The night is long"
    assert slot.save(library, "The night is long\n") is None  # unchanged
    second = slot.save(library, "The night is long\nand so am I\n")
    assert second is not None and second.id == first.id
    assert [d.text for d in library.list_drafts()] == ["The night is long\nand so am I\n"]
    other = DraftSlot()  # a new draft is a new slot
    third = other.save(library, "Another song\n")
    assert third is not None and third.id != first.id and len(library.list_drafts()) == 2


def test_saves_racing_into_an_empty_slot_make_one_draft(library: Library) -> None:
    slot = DraftSlot()
    start = threading.Barrier(8)

    def save(n: int) -> None:
        start.wait()
        slot.save(library, f"line {n}\n")

    threads = [threading.Thread(target=save, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    drafts = library.list_drafts()
    assert len(drafts) == 1 and drafts[0].id == slot.id and drafts[0].text == slot.saved_text
