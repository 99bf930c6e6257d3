"""SIGKILL real `lyrictui scrape` and `lyrictui pack` processes at seeded random moments, then run
the same command again: it completes, the library passes `PRAGMA integrity_check`, every song is
stored exactly once with its lyrics, and no half-written dataset is ever registered or used.

Kill moments are seeded and spread uniformly over the measured length of an uninterrupted run
(one in each of N equal slices). Saving a pack lasts milliseconds, so the pack test adds kills
timed from the moment its temporary folder appears (uniform over the time the reference run
took from there to the final folder): those are the ones that catch a folder half-written.
Figures print as JSON lines with `-s`.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import random
import signal
from collections import Counter
from collections.abc import Callable
from itertools import chain
from pathlib import Path

import pytest
from fakes import FakeGenius
from fakes.genius_data import CHOIR, synthetic_catalog

from lyrictui.core import paths
from lyrictui.core.pack.manifest import MANIFEST, TMP_PREFIX
from lyrictui.core.pack.packing import load_packed
from lyrictui.core.store.library import Library
from lyrictui.core.store.records import NewSong

SEED = 20
VERSE = Path(__file__).resolve().parents[2] / "data" / "verse" / "verse.txt.gz"
BLOCK = 128


def fresh_home(tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch,
               env: dict[str, str]) -> dict[str, str]:
    """A new empty LYRICTUI_HOME for one run (ours and the subprocess's)."""
    home = tmp_path / name
    home.mkdir()
    monkeypatch.setenv("LYRICTUI_HOME", str(home))
    return {**env, "LYRICTUI_HOME": str(home)}


def tally(codes: list[int]) -> dict[str, int]:
    named = {-signal.SIGKILL: "killed", 0: "finished_first"}
    return dict(Counter(named.get(code, f"exit {code}") for code in codes))


# -- scrape -----------------------------------------------------------------------------------

SCRAPE_CASES = [
    # songs in the catalog, kill points
    pytest.param(30, 4, id="4-kills"),
    pytest.param(100, 20, id="20-kills", marks=pytest.mark.slow),
]


@pytest.mark.parametrize(("count", "kills"), SCRAPE_CASES)
def test_sigkill_during_scrape_then_rerun_stores_every_song_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, count: int, kills: int, lyrictui_argv,
    figures, run, choir_problems, kill_moments, library_file, run_and_kill, song_count, integrity
) -> None:
    artists, songs = synthetic_catalog(count)
    command = lyrictui_argv("scrape", CHOIR, "--concurrency", "2")
    with FakeGenius(artists, songs, latency=0.1).in_thread() as fake:
        env = {**os.environ, **fake.env()}
        reference = run(command, fresh_home(tmp_path, "reference", monkeypatch, env))
        assert reference.code == 0, reference.err
        assert choir_problems(library_file(), count) == []

        codes, at_kill = [], []
        for point, delay in enumerate(kill_moments(SEED, kills, reference.seconds)):
            point_env = fresh_home(tmp_path, f"kill-{point}", monkeypatch, env)
            codes.append(run_and_kill(command, point_env, delay))
            db = library_file()
            at_kill.append(song_count(db))
            if db.exists():
                assert integrity(db) == "ok"
            again = run(command, point_env)
            assert again.code == 0, again.err
            assert f"{at_kill[-1]} already in the library" in again.out or at_kill[-1] == 0
            assert integrity(db) == "ok"
            assert choir_problems(db, count) == []

    assert set(codes) <= {-signal.SIGKILL, 0}
    assert codes.count(-signal.SIGKILL) > kills / 2  # most kills landed while it ran
    mid_scrape = [n for n, code in zip(at_kill, codes, strict=True)
                  if code == -signal.SIGKILL and 0 < n < count]
    assert mid_scrape  # and some with part of the songs stored
    figures("kill_scrape", songs=count, points=kills, outcomes=tally(codes),
            killed_with_part_stored=len(mid_scrape), stored_at_kill=at_kill,
            uninterrupted_s=round(reference.seconds, 2))


# -- pack -------------------------------------------------------------------------------------

PACK_CASES = [
    # verse blocks as songs, kills uniform over the run, kills timed from the temporary folder
    pytest.param(1000, 2, 2, id="4-kills"),
    pytest.param(7850, 14, 10, id="24-kills", marks=pytest.mark.slow),
]


def verse_songs(count: int) -> list[NewSong]:
    """The first `count` blocks of the repo's public-domain verse corpus, as songs."""
    songs: list[NewSong] = []
    lines: list[str] = []
    with gzip.open(VERSE, "rt", encoding="utf-8") as fh:
        for line in chain(fh, ["\n"]):  # a blank line closes the last block too
            if line.strip():
                lines.append(line.rstrip("\n"))
            elif lines:
                songs.append(NewSong(f"Verse {len(songs)}", "\n".join(lines),
                                     source_key=f"verse-{len(songs)}"))
                lines = []
                if len(songs) == count:
                    break
    return songs


def split_digests(path: str | Path) -> dict[str, tuple[int, str]]:
    """Per split: (blocks, sha256 of every token id in order, block lengths included)."""
    packed = load_packed(path)
    out = {}
    for split in ("train", "validation"):
        column = packed[split].data.column("input_ids").combine_chunks()
        digest = hashlib.sha256(column.offsets.to_numpy().tobytes())
        digest.update(column.values.to_numpy().tobytes())
        out[split] = (len(packed[split]), digest.hexdigest())
    return out


def seen_in(datasets: Path, *, temp: bool) -> Callable[[], bool]:
    """Whether `datasets` holds a temporary (or a final) folder now."""
    def seen() -> bool:
        try:
            return any(n.startswith(TMP_PREFIX) == temp for n in os.listdir(datasets))
        except FileNotFoundError:
            return False
    return seen


def dataset_state(datasets: Path, db: Path, query) -> tuple[str, list[str]]:
    """What a (killed) pack left: its state's name and the problems seen, if any."""
    rows = query(db, "SELECT path, train_blocks, val_blocks FROM datasets")
    problems = []
    for path, train_blocks, val_blocks in rows:  # every registered dataset is whole
        if TMP_PREFIX in path:
            problems.append(f"a temporary folder is registered: {path}")
            continue
        digests = split_digests(path)
        if (digests["train"][0], digests["validation"][0]) != (train_blocks, val_blocks):
            problems.append(f"{path} does not hold the blocks its row says")
    names = sorted(p.name for p in datasets.iterdir()) if datasets.is_dir() else []
    temps = [n for n in names if n.startswith(TMP_PREFIX)]
    for name in set(names) - set(temps):  # and so is every folder under a final name
        if not (datasets / name / MANIFEST).exists():
            problems.append(f"{name} sits under its final name without {MANIFEST}")
        else:
            split_digests(datasets / name)
    if rows:
        state = "registered"
    elif len(names) > len(temps):
        state = "complete_unregistered"
    elif temps:
        state = "half_written_temp"
    else:
        state = "nothing_on_disk"
    return state, problems


@pytest.mark.parametrize(("count", "uniform", "timed"), PACK_CASES)
def test_sigkill_during_pack_never_registers_a_half_written_dataset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_model_dir: Path, count: int,
    uniform: int, timed: int, library_file, lyrictui_argv, watch, figures, run, query,
    kill_moments, run_and_kill, integrity
) -> None:
    monkeypatch.setenv("LYRICTUI_HOME", str(tmp_path / "template"))
    template = Library()
    artist = template.add_artist("Verse", "imported")
    stored = template.add_songs(artist.id, verse_songs(count))
    kept = sum(1 for song in stored if song is not None and song.skipped_reason is None)
    template.close()
    template_db = library_file()
    command = lyrictui_argv("pack", "Verse", "--base", str(tiny_model_dir), "--block-size",
                            str(BLOCK))

    def home(name: str) -> tuple[dict[str, str], Path, Path]:
        env = fresh_home(tmp_path, name, monkeypatch, dict(os.environ))
        db = library_file()
        db.write_bytes(template_db.read_bytes())
        return env, db, paths.datasets_dir(artist.slug)

    env, db, datasets = home("reference")
    code, duration, seen = watch(command, env, {"temp": seen_in(datasets, temp=True),
                                                "final": seen_in(datasets, temp=False)})
    assert code == 0 and set(seen) == {"temp", "final"}
    (key,) = os.listdir(datasets)
    reference = split_digests(datasets / key)
    assert reference["train"][0] > 0 and dataset_state(datasets, db, query) == ("registered", [])

    # Timed kills: from the moment the temporary folder shows, within the time it took to
    # become the final folder, so most land while it is being written.
    saving = seen["final"] - seen["temp"]
    rng = random.Random(SEED)
    plan = [(d, False) for d in kill_moments(SEED, uniform, duration)]
    plan += [(rng.uniform(0.0, saving), True) for _ in range(timed)]
    codes, states, reruns = [], [], Counter()
    for point, (delay, from_temp) in enumerate(plan):
        env, db, datasets = home(f"kill-{point}")
        trigger = seen_in(datasets, temp=True) if from_temp else None
        codes.append(run_and_kill(command, env, delay, trigger))
        state, problems = dataset_state(datasets, db, query)
        assert problems == [], f"after the kill at point {point}"
        assert integrity(db) == "ok"
        states.append(state)

        again = run(command, env)
        assert again.code == 0, again.err
        reruns["cached" if again.out.startswith("Already packed") else "packed"] += 1
        assert integrity(db) == "ok"
        assert os.listdir(datasets) == [key]  # the same dataset, no temporary left behind
        assert dataset_state(datasets, db, query) == ("registered", [])
        assert split_digests(datasets / key) == reference  # same tokens as an unbroken pack
        rows = query(db, "SELECT key, train_blocks, val_blocks FROM datasets")
        assert rows == [(key, reference["train"][0], reference["validation"][0])]

    assert set(codes) <= {-signal.SIGKILL, 0}
    # A run may beat the reference's time and finish before a late kill: counted, not failed,
    # as long as most kills landed while it ran.
    assert codes.count(-signal.SIGKILL) > len(plan) / 2
    assert -signal.SIGKILL in codes[:uniform]
    killed_states = [s for s, c in zip(states, codes, strict=True) if c == -signal.SIGKILL]
    assert set(killed_states) - {"registered"}  # some kills caught the pack unfinished
    if timed >= 10:  # enough timed kills that some must catch the folder being written
        assert "half_written_temp" in killed_states
    figures("kill_pack", songs=len(stored), kept=kept, points=len(plan), outcomes=tally(codes),
            killed_in_state=dict(Counter(killed_states)), reruns=dict(reruns),
            uninterrupted_s=round(duration, 2), temp_folder_after_s=round(seen["temp"], 2),
            saving_s=round(saving, 3),
            train_blocks=reference["train"][0], val_blocks=reference["validation"][0])
