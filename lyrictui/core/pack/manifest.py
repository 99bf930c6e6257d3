"""What a finished pack is: its manifest (pack.json) and the stats it records, and the temporary
name a pack is written under before it is renamed into place (see core/pack/packing.py)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

FORMAT_VERSION = 1
MANIFEST = "pack.json"
TMP_PREFIX = ".tmp-"

ProgressFn = Callable[[str, float], None]
"""on_progress(stage, fraction done); raising from it (e.g. Cancelled) stops the pack cleanly."""


@dataclass(frozen=True)
class PackStats:
    """What a pack holds; stored in pack.json beside the data."""

    train_songs: int
    val_songs: int
    tokens: int  # every song's tokens, EOS included, before blocks are cut
    train_tokens: int
    val_tokens: int
    train_blocks: int
    val_blocks: int
    dropped_tokens: int
    block_size: int
    validation_song_ids: tuple[int, ...]

    @property
    def tokens_per_song(self) -> float:
        return self.tokens / max(self.train_songs + self.val_songs, 1)


def read_manifest(folder: Path) -> PackStats | None:
    """The stats of a complete pack at `folder`, or None (absent or broken: repack)."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        if data.get("format") != FORMAT_VERSION or not (folder / "dataset_dict.json").exists():
            raise ValueError("incomplete")
        fields = {k: data[k] for k in PackStats.__dataclass_fields__}
        fields["validation_song_ids"] = tuple(fields["validation_song_ids"])
        return PackStats(**fields)
    except (OSError, ValueError, KeyError, TypeError):
        # Packs are renamed into place complete, pack.json included: anything else at this
        # name is damage, and packing again replaces it.
        shutil.rmtree(folder, ignore_errors=True)
        return None


def temp_name(key: str) -> str:
    return f"{TMP_PREFIX}{key}-{os.getpid()}"
