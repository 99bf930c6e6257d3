"""Pack an artist's songs into a training dataset: tokens, EOS after every song, split by song,
fixed blocks, cached on disk.

- Each song is its lyrics (line endings normalized, outer blank space stripped) followed by the
  tokenizer's EOS. Text that merely spells a special token ("<|endoftext|>") is encoded as text.
- A song's side depends only on its content hash (see `split_score`), so songs added later never
  move an old validation song into training. One exception keeps tiny corpora usable: when no
  song's score falls under the fraction, the lowest-scoring song validates until one does.
- Each split is concatenated in library order and cut into `block_size` blocks. The remainder
  (fewer than `block_size` tokens at the end of a split) is dropped, so every block is full;
  a validation split shorter than one block is kept whole as one shorter block instead.
- Folder: datasets_dir(slug)/<key>, a DatasetDict (train, validation; column input_ids) plus
  pack.json. key = 16 hex digits of the songs' fingerprint (Library.songs_fingerprint, so the
  library can tell a stale dataset with one query) + 16 of everything else that changes the
  bytes: exact texts, tokenizer, block size, validation fraction, format. A new pack deletes
  all but the artist's KEEP_PACKS newest, rows first and folders after.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from lyrictui.core import paths
from lyrictui.core.engine import bases
from lyrictui.core.errors import InvalidInput, LyricError, NotFound
from lyrictui.core.pack.manifest import (
    FORMAT_VERSION,
    TMP_PREFIX,
    PackStats,
    ProgressFn,
    read_manifest,
)
from lyrictui.core.pack.packwrite import write_pack
from lyrictui.core.procs import pid_alive
from lyrictui.core.store.library import KEY_SONGS_DIGITS, Library, fingerprint_songs
from lyrictui.core.store.records import Artist, DatasetRecord, Song

KEEP_PACKS = 3  # per artist: the current pack and two before it
MIN_BLOCK_SIZE = 2  # a block needs two tokens to predict one
MAX_VAL_FRACTION = 0.5





@dataclass(frozen=True)
class PackResult:
    path: Path
    record: DatasetRecord
    cached: bool
    stats: PackStats
    seconds: float

    def summary(self) -> dict[str, Any]:
        """Stats as one flat dict (for --json, events and cards)."""
        data = asdict(self.stats)
        data.pop("validation_song_ids")
        return {"key": self.record.key, "path": str(self.path), "base": self.record.base,
                "cached": self.cached, "tokens_per_song": round(self.stats.tokens_per_song, 1),
                "val_fraction": self.record.val_fraction, "seconds": round(self.seconds, 3),
                **data}


def song_text(lyrics: str) -> str:
    """The exact text packed for a song."""
    return lyrics.replace("\r\n", "\n").replace("\r", "\n").strip()


def split_score(content_hash: str) -> float:
    """Where a song falls in [0, 1): below the validation fraction means validation."""
    digest = hashlib.sha256(b"lyrictui-split:" + content_hash.encode("ascii")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def assign_validation(content_hashes: Sequence[str], val_fraction: float) -> list[bool]:
    """Per song, True for validation; at least one song on each side (needs two songs)."""
    scores = [split_score(h) for h in content_hashes]
    val = [s < val_fraction for s in scores]
    if not any(val):
        val[scores.index(min(scores))] = True
    if all(val):
        val[scores.index(max(scores))] = False
    return val


def tokenizer_identity(tokenizer: Any) -> str:
    """A digest of everything that decides how text becomes ids."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    spec = backend.to_str() if backend is not None else json.dumps(
        sorted(tokenizer.get_vocab().items()))
    extra = f"{type(tokenizer).__name__}|{tokenizer.eos_token_id}|"
    return hashlib.sha256(extra.encode("utf-8") + spec.encode("utf-8")).hexdigest()


def load_packed(path: Path | str) -> Any:
    """The DatasetDict stored by `pack` (splits train and validation, column input_ids)."""
    from datasets import load_from_disk

    try:
        return load_from_disk(str(path))
    except (OSError, ValueError) as exc:
        raise LyricError(f"the packed dataset at {path} is unreadable ({type(exc).__name__}): "
                         "delete that folder and pack again") from None


def _check_options(block_size: int, val_fraction: float) -> None:
    if block_size < MIN_BLOCK_SIZE:
        raise InvalidInput(f"--block-size {block_size} is too small: use at least "
                           f"{MIN_BLOCK_SIZE} tokens (512 is the default)")
    if not 0.0 < val_fraction <= MAX_VAL_FRACTION:
        raise InvalidInput(f"--val-fraction {val_fraction:g} is out of range: use a fraction "
                           f"above 0 and at most {MAX_VAL_FRACTION:g} (0.1 is the default)")


def _songs(library: Library, artist: Artist) -> tuple[list[Song], list[Song]]:
    """(kept songs, those of them with lyrics to pack)."""
    kept = library.songs(artist.id)
    usable = [s for s in kept if song_text(s.lyrics)]
    if len(usable) >= 2:
        return kept, usable
    total = len(library.songs(artist.id, include_skipped=True))
    if total == 0:
        raise NotFound(f'"{artist.name}" has no songs: scrape or import lyrics first')
    if not usable:
        raise InvalidInput(f'all {total} songs of "{artist.name}" were skipped or empty: '
                           "nothing to pack; scrape or import more lyrics")
    raise InvalidInput(f'"{artist.name}" has only one song with lyrics: packing needs at least '
                       "two (one trains, one validates); add songs first")


def _load_base(base: str, block_size: int) -> Any:
    tokenizer = bases.load_tokenizer(base)
    if tokenizer.eos_token_id is None:
        raise InvalidInput(f"the tokenizer of {base!r} has no end-of-text token to separate "
                           "songs: choose a causal language model as the base")
    window = bases.model_window(base)
    if block_size > window:
        raise InvalidInput(f"--block-size {block_size} is above the window of {base!r} "
                           f"({window} tokens): use at most {window}")
    return tokenizer


def _key(kept: Sequence[Song], texts: Sequence[str], identity: str, block_size: int,
         val_fraction: float) -> str:
    rest = hashlib.sha256(f"{FORMAT_VERSION}|{identity}|{block_size}|{val_fraction!r}".encode())
    for text in texts:
        rest.update(hashlib.sha256(text.encode("utf-8")).digest())
    # Every kept song, empty ones included, as Library.songs_fingerprint counts them.
    songs_part = fingerprint_songs(s.content_hash for s in kept)[:KEY_SONGS_DIGITS]
    return songs_part + rest.hexdigest()[:16]


def pack(library: Library, artist: Artist, *, base: str = bases.DEFAULT_BASE, block_size: int = 512,
         val_fraction: float = 0.1, on_progress: ProgressFn | None = None) -> PackResult:
    """Pack `artist`'s kept songs with the tokenizer of `base` (see the module doc).

    Unchanged data returns the stored folder at once with `cached=True` (nothing tokenized).
    Every expected failure raises a LyricError with one line saying what to do.
    """
    started = time.perf_counter()
    _check_options(block_size, val_fraction)
    kept, songs = _songs(library, artist)
    tokenizer = _load_base(base, block_size)
    texts = [song_text(s.lyrics) for s in songs]
    key = _key(kept, texts, tokenizer_identity(tokenizer), block_size, val_fraction)
    parent = paths.datasets_dir(artist.slug)
    folder = parent / key
    name = base.strip()
    stored_base = name if name == bases.STARTER else bases.resolve(name)  # folders: absolute

    stats = read_manifest(folder)
    cached = stats is not None
    if stats is None:
        _clean_stale_temps(parent)
        val = assign_validation([s.content_hash for s in songs], val_fraction)
        stats = write_pack(folder, texts, val, [s.id for s in songs], tokenizer, block_size,
                           artist.name, on_progress)
    record = library.record_dataset(
        artist.id, key=key, path=str(folder), base=stored_base, block_size=block_size,
        val_fraction=val_fraction, train_songs=stats.train_songs, val_songs=stats.val_songs,
        tokens=stats.tokens, train_blocks=stats.train_blocks, val_blocks=stats.val_blocks)
    if not cached:
        _prune(library, artist, parent)
    return PackResult(folder, record, cached, stats, time.perf_counter() - started)




def _prune(library: Library, artist: Artist, parent: Path) -> None:
    """Delete all but the artist's KEEP_PACKS newest packs: every change to the songs makes a
    new one, and they would pile up. The row goes first, so no dataset row ever names a
    half-deleted folder; a run that already loaded an old pack keeps reading it (its files stay
    open until it ends), and one that starts later packs again."""
    for record in library.forget_datasets(artist.id, KEEP_PACKS):
        folder = Path(record.path)
        if folder.parent == parent and folder.name == record.key:  # never outside its home
            shutil.rmtree(folder, ignore_errors=True)


def _clean_stale_temps(parent: Path) -> None:
    """Remove folders left by packs that were killed (their process is gone)."""
    if not parent.is_dir():
        return
    for entry in parent.iterdir():
        if entry.name.startswith(TMP_PREFIX):
            pid = entry.name.rsplit("-", 1)[-1]
            if not (pid.isdigit() and pid_alive(int(pid))):
                shutil.rmtree(entry, ignore_errors=True)


