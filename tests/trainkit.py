"""Helpers shared by the training tests: a small lyric corpus in the library, tiny bases, configs."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

WORDS = ("love night fire heart rain money dream city baby time road light cold gold run away "
         "tonight forever never know feel fall call alone again home stone young wild").split()


def add_corpus(library, name: str = "Test Band", songs: int = 14, seed: int = 0):
    """An artist with `songs` short songs built from a small vocabulary with a repeated hook,
    so a tiny model has something learnable."""
    rng = random.Random(seed)
    artist = library.add_artist(name, "imported")
    for i in range(songs):
        hook = " ".join(rng.choice(WORDS) for _ in range(4))
        lines = [" ".join(rng.choice(WORDS) for _ in range(5)) for _ in range(3)]
        text = "\n".join([lines[0], hook, lines[1], hook, lines[2], hook])
        library.add_song(artist.id, f"song {i}", text)
    return artist


def read_events(run_dir: Path) -> list[dict[str, Any]]:
    lines = (Path(run_dir) / "events.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def tiny_config(base: Path, **overrides: Any):
    """A run that takes a few seconds on a CPU: short blocks, small batches, short samples."""
    from lyrictui.core.train.config import TrainConfig

    values: dict[str, Any] = dict(base=str(base), block_size=32, batch_size=2, epochs=2,
                                  lr=5e-3, device="cpu", sample_tokens=8, log_every=1)
    values.update(overrides)
    return TrainConfig(**values)
