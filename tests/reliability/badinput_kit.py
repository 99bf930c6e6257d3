"""Helpers shared by test_bad_input.py and test_security.py: run the CLI (in-process or as a real
process), snapshot everything stored, build small libraries, models and hostile files."""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from lyrictui.core import paths
from lyrictui.core.store.library import Library

# C0 and C1 controls, DEL, and the invisible formatting characters strip_control removes;
# newline and tab are the only controls allowed in what lyrictui shows or stores.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")

SONG_A = "Hold the line until the morning\nEvery window burning gold"
SONG_B = "Rain on the river, rain on the road\nCarry me home with a heavier load"
SONG_C = "Count the stars above the harbor\nNone of them are counting back"


@dataclass
class Outcome:
    """What a user saw: exit code, stdout and stderr (text)."""

    code: int
    stdout: str
    stderr: str
    exception: BaseException | None = None

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


def cli(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Outcome:
    """Run `lyrictui ARGS` in this process through click's runner (the real command group)."""
    from lyrictui.cli import cli as group

    runner = CliRunner()
    result = runner.invoke(group, list(args), input=input, env=env, prog_name="lyrictui")
    exception = result.exception
    if isinstance(exception, SystemExit):
        exception = None
    return Outcome(result.exit_code, result.stdout, result.stderr, exception)


def real_cli(*args: str, input: str | None = None, env: dict[str, str] | None = None,
             timeout: float = 120) -> Outcome:
    """Run `python -m lyrictui ARGS` as a real process, as a user's terminal would."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run([sys.executable, "-m", "lyrictui", *args], capture_output=True,
                          text=True, input=input, env=full_env, timeout=timeout)
    return Outcome(proc.returncode, proc.stdout, proc.stderr)


def snapshot(home: Path) -> dict[str, object]:
    """Everything stored under `home`: every row of every library table, read with plain
    sqlite3, and every file with its size and content hash (SQLite's own files aside)."""
    rows: dict[str, list[tuple]] = {}
    db = home / "library.sqlite3"
    if db.exists():
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            tables = [r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
            for table in tables:
                rows[table] = sorted(conn.execute(f'SELECT * FROM "{table}"'), key=repr)
        finally:
            conn.close()
    files = {}
    for path in sorted(home.rglob("*")):
        if path.is_file() and not path.name.startswith("library.sqlite3"):
            files[str(path.relative_to(home))] = (path.stat().st_size,
                                                  hashlib.sha256(path.read_bytes()).hexdigest())
        elif path.is_dir():
            files[str(path.relative_to(home)) + "/"] = None
    return {"rows": rows, "files": files}


def stock_library(home: Path) -> Library:
    """An artist with three songs ("AC/DC"), one with none ("Empty One"), one whose only song
    was skipped ("Skipped Only")."""
    lib = Library()
    acdc = lib.add_artist("AC/DC", "imported")
    for n, text in enumerate((SONG_A, SONG_B, SONG_C), 1):
        lib.add_song(acdc.id, f"Song {n}", text, source_key=f"k{n}")
    lib.add_artist("Empty One", "imported")
    skipped = lib.add_artist("Skipped Only", "imported")
    lib.add_song(skipped.id, "Intro", "", source_key="s1", skipped_reason="instrumental")
    return lib


class PickleTrap:
    """Unpickling this creates `marker` (open(marker, "w")): proof that a pickle was opened."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def pickle_only_model(folder: Path, tokenizer, marker: Path) -> Path:
    """A model folder like an old `save_pretrained(safe_serialization=False)` one: config,
    tokenizer and a pytorch_model.bin pickle whose unpickling would create `marker`."""
    import torch
    from transformers import GPT2Config

    folder.mkdir(parents=True, exist_ok=True)
    GPT2Config(vocab_size=len(tokenizer), n_positions=64, n_embd=32, n_layer=1,
               n_head=2).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    torch.save({"transformer.wte.weight": torch.zeros(2, 2), "trap": PickleTrap(marker)},
               folder / "pytorch_model.bin")
    return folder


def trap_is_live(tmp: Path) -> bool:
    """The trap really fires when a pickle is opened (so its marker staying absent means
    something): unpickle a second trap with plain pickle and look for its marker."""
    marker = tmp / "control-marker"
    pickle.loads(pickle.dumps(PickleTrap(marker))).close()
    return marker.exists()


def artist_folder(slug: str) -> Path:
    return paths.artist_dir(slug)
