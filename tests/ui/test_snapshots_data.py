"""Snapshots of the Training and Composer screens with data, at 100x30 and 80x24."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lyrictui.app import Services, make_app
from lyrictui.core import paths
from lyrictui.core.store.library import Library

SIZES = [(100, 30), (80, 24)]
SONG = "[Verse]\nThe moon was rising over the hill\nAnd all the evening air was still\nI walked"


def finished_run(lib: Library) -> None:
    """A completed run with its events, written in the events.jsonl schema a run writes."""
    artist = lib.add_artist("Test Band", "imported")
    folder = paths.runs_dir(artist.slug) / "test-band-run"
    folder.mkdir(parents=True)
    events = [{"type": "start", "time": 1.0, "config": {}, "total_steps": 40, "epochs": 2}]
    for step in range(1, 41):
        events.append({"type": "step", "time": 1.0 + step, "step": step, "epoch": step / 20,
                       "loss": 6.0 - step * 0.08, "lr": 5e-5, "tokens_per_s": 1234.0,
                       "grad_norm": 1.0, "gpu_mem": None})
        if step % 20 == 0:
            events.append({"type": "eval", "time": 1.0 + step, "step": step,
                           "epoch": step / 20, "val_loss": 5.0 - step * 0.02,
                           "perplexity": 2.718 ** (5.0 - step * 0.02)})
    events.append({"type": "sample", "time": 42.0, "step": 40,
                   "lines": ["love the night away", "fire in the rain"]})
    events.append({"type": "end", "time": 43.0, "status": "completed", "model_id": None,
                   "best_val_loss": 4.2})
    (folder / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events),
                                         encoding="utf-8")
    lib.create_run("test-band-run", artist.id, base="gpt2", method="full", dir=str(folder),
                   status="completed", step=40, total_steps=40, best_val_loss=4.2,
                   started_at=1.0)


@pytest.mark.parametrize("size", SIZES, ids=["100x30", "80x24"])
def test_snapshot_training_monitor(snap_compare, lyrictui_home: Path, size) -> None:
    lib = Library()
    finished_run(lib)

    async def followed(pilot) -> None:
        await pilot.press("f3")
        screen = pilot.app.screen
        for _ in range(200):
            followed = getattr(screen, "followed", None)
            if followed is not None and followed.state.finished:
                break
            await pilot.pause(0.05)
        await pilot.pause()

    assert snap_compare(make_app(Services(library=lib)), terminal_size=size,
                        run_before=followed)


@pytest.mark.parametrize("size", SIZES, ids=["100x30", "80x24"])
def test_snapshot_composer_with_a_draft(snap_compare, lyrictui_home: Path, size,
                                        wait_for_workers) -> None:
    lib = Library()
    lib.save_draft(None, title="The moon was rising over the hill", text=SONG)

    async def draft_open(pilot) -> None:
        await pilot.press("f4")
        for _ in range(600):  # the starter loads in a thread
            if getattr(pilot.app.screen, "engine", None) is not None:
                break
            await pilot.pause(0.05)
        await wait_for_workers(pilot.app, pilot)
        await pilot.press("ctrl+o")
        await pilot.pause()
        await pilot.press("enter")  # the draft ends mid-line: no suggestion is requested
        await wait_for_workers(pilot.app, pilot)
        editor = pilot.app.screen.query_one("#song")
        editor.cursor_blink = False
        # Whether the cursor cell is drawn at capture time is not stable across runs: freeze
        # the editor (read-only, no cursor) for the picture; the text and gutter are the subject.
        editor.read_only = True
        editor.show_cursor = False
        editor.focus()
        for _ in range(200):  # the dialog has closed, the text is in, the editor has focus
            if (editor.text == SONG and editor.has_focus
                    and editor.cursor_location == editor.document.end):
                break
            await pilot.pause(0.05)
        await pilot.pause()
        await pilot.pause()

    assert snap_compare(make_app(Services(library=lib)), terminal_size=size,
                        run_before=draft_open)
