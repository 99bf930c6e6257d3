"""Writing one pack: tokenize with `datasets.map`, concatenate per split, cut blocks, save under a
temporary name and rename into place. The rules are documented in core/pack/packing.py."""

from __future__ import annotations

import errno
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from lyrictui.core.errors import InvalidInput, LyricError
from lyrictui.core.pack.manifest import (
    FORMAT_VERSION,
    MANIFEST,
    PackStats,
    ProgressFn,
    read_manifest,
    temp_name,
)

TOKENIZE_BATCH = 256  # songs per map batch: also how often progress is reported


def write_pack(folder: Path, texts: Sequence[str], val: Sequence[bool], song_ids: Sequence[int],
               tokenizer: Any, block_size: int, artist_name: str,
               on_progress: ProgressFn | None) -> PackStats:
    """Tokenize `texts`, cut each split into blocks and store them at `folder` (see packing)."""
    import numpy as np
    from datasets import DatasetDict

    report: Callable[[str, float], None] = on_progress or (lambda stage, done: None)
    offsets, values = _tokenize(texts, tokenizer, folder.name, report)
    is_val = np.asarray(val, dtype=bool)
    train_ids = _gather(offsets, values, ~is_val)
    val_ids = _gather(offsets, values, is_val)
    if len(train_ids) < block_size:
        fits = 1 << max(len(train_ids).bit_length() - 1, 1)
        raise InvalidInput(
            f'the training songs of "{artist_name}" make only {len(train_ids)} tokens, less than '
            f"one block of {block_size}: add songs or pack with --block-size {fits} or less")
    train_blocks = _cut(train_ids, block_size, keep_short=False)
    val_blocks = _cut(val_ids, block_size, keep_short=True)
    kept = sum(len(b) for b in train_blocks) + sum(len(b) for b in val_blocks)
    stats = PackStats(
        train_songs=int((~is_val).sum()), val_songs=int(is_val.sum()), tokens=len(values),
        train_tokens=len(train_ids), val_tokens=len(val_ids), train_blocks=len(train_blocks),
        val_blocks=len(val_blocks), dropped_tokens=len(values) - kept, block_size=block_size,
        validation_song_ids=tuple(int(i) for i, v in zip(song_ids, val, strict=True) if v))
    data = DatasetDict({"train": _dataset(train_blocks), "validation": _dataset(val_blocks)})

    tmp = folder.parent / temp_name(folder.name)
    try:
        report("saving", 0.0)
        folder.parent.mkdir(parents=True, exist_ok=True)
        with _quiet():
            data.save_to_disk(str(tmp))
        manifest = {"format": FORMAT_VERSION, "key": folder.name, "created_at": time.time(),
                    **asdict(stats)}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        try:
            os.rename(tmp, folder)
        except OSError:
            if read_manifest(folder) is None:
                raise
            # Another process packed the same data first: its folder holds identical blocks.
            shutil.rmtree(tmp, ignore_errors=True)
        report("saving", 1.0)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            raise LyricError(f"the disk is full (writing the dataset under {folder.parent}): "
                             "free some space and pack again") from None
        raise
    return stats


def _tokenize(texts: Sequence[str], tokenizer: Any, fingerprint: str,
              report: Callable[[str, float], None]) -> tuple[Any, Any]:
    """(offsets, values): song i's ids, EOS included, are values[offsets[i]:offsets[i + 1]]."""
    import numpy as np
    from datasets import Dataset

    eos = tokenizer.eos_token_id
    done = 0

    def encode(batch: dict[str, list[str]]) -> dict[str, list[list[int]]]:
        nonlocal done
        # split_special_tokens: lyrics that spell "<|endoftext|>" stay text, not a song break.
        ids = tokenizer(batch["text"], add_special_tokens=False, split_special_tokens=True,
                        return_attention_mask=False, verbose=False)["input_ids"]
        for row in ids:
            row.append(eos)
        done += len(ids)
        report("tokenizing", done / len(texts))
        return {"input_ids": ids}

    report("tokenizing", 0.0)
    with _quiet():
        # new_fingerprint: datasets would otherwise pickle the tokenizer just to name the result.
        tokenized = Dataset.from_dict({"text": list(texts)}).map(
            encode, batched=True, batch_size=TOKENIZE_BATCH, remove_columns=["text"],
            new_fingerprint=f"lyrictui-pack-{fingerprint}")
    column = tokenized.data.column("input_ids").combine_chunks()
    offsets = column.offsets.to_numpy(zero_copy_only=False).astype(np.int64)
    values = column.values.to_numpy(zero_copy_only=False).astype(np.int32)
    return offsets - offsets[0], values[offsets[0]: offsets[-1]]


def _gather(offsets: Any, values: Any, mask: Any) -> Any:
    """The songs selected by `mask`, concatenated in library order."""
    import numpy as np

    parts = [values[offsets[i]: offsets[i + 1]] for i in np.flatnonzero(mask)]
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.int32)


def _cut(ids: Any, block_size: int, *, keep_short: bool) -> list[Any]:
    """Full blocks, the remainder dropped; a split shorter than one block stays whole if
    `keep_short` (validation), so a small corpus still gets a validation loss."""
    full = len(ids) // block_size
    if full == 0:
        return [ids] if keep_short and len(ids) else []
    return list(ids[: full * block_size].reshape(full, block_size))


def _dataset(blocks: list[Any]) -> Any:
    """A Dataset with one column input_ids (lists of int32) built straight from the arrays."""
    import datasets
    import numpy as np
    import pyarrow as pa

    list_of = getattr(datasets, "List", None) or datasets.Sequence  # List: datasets >= 4

    lengths = np.fromiter((len(b) for b in blocks), dtype=np.int32, count=len(blocks))
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    flat = np.concatenate(blocks).astype(np.int32) if blocks else np.empty(0, dtype=np.int32)
    column = pa.ListArray.from_arrays(pa.array(offsets), pa.array(flat))
    features = datasets.Features({"input_ids": list_of(datasets.Value("int32"))})
    return datasets.Dataset.from_dict({"input_ids": column}, features=features)


@contextmanager
def _quiet() -> Iterator[None]:
    """No datasets progress bars on the user's terminal (ours report through on_progress)."""
    import datasets

    was_enabled = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    try:
        yield
    finally:
        if was_enabled:
            datasets.enable_progress_bars()
