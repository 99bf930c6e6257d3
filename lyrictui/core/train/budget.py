"""How much a run trains when the user names neither `--epochs` nor `--max-steps`.

A fixed epoch count fits no corpus: 30 short songs (a few thousand tokens, a handful of blocks)
got 2 optimizer steps and learned nothing, while a 10,000-song scrape would be over-trained by
the same count. The budget is set in optimizer steps and tokens seen instead:

- the data are measured first (`measure`: the songs, their tokens with the base's tokenizer, and
  which songs hold out for validation, exactly as packing will split them);
- a small set gets smaller blocks (at least MIN_TRAIN_BLOCKS of them), many passes
  (SMALL_SET_EPOCHS, fewer as the set grows: the passes fall with the square root of its size)
  and at least MIN_STEPS optimizer steps, never more than MAX_EPOCHS passes; a large set gets
  one pass, and no run sees more than MAX_TOKENS_SEEN tokens;
- validation holds out whole songs, at least MIN_VAL_SONGS of them (the share grows for a small
  set), and is evaluated about EVALS_PER_RUN times; early stopping (`patience`) ends a run that
  starts memorising, and the best weights by validation loss become the model either way;
- below MIN_SONGS_FOR_STYLE songs or MIN_TOKENS_FOR_STYLE tokens the set is called too small to
  learn a style (the run may still start: the user is told, with the number it needs).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

MIN_SONGS_FOR_STYLE = 30
MIN_TOKENS_FOR_STYLE = 3_000
MIN_VAL_SONGS = 3
MAX_AUTO_VAL_FRACTION = 0.3
DEFAULT_VAL_FRACTION = 0.1
MIN_TRAIN_BLOCKS = 32
SMALLEST_AUTO_BLOCK = 64
SMALL_SET_TOKENS = 50_000
SMALL_SET_EPOCHS = 6
MAX_EPOCHS = 20
MIN_STEPS = 24
MAX_TOKENS_SEEN = 100_000_000
EVALS_PER_RUN = 6
AUTO_PATIENCE = 3


@dataclass(frozen=True)
class DataSize:
    """An artist's songs as a run will see them (before blocks are cut)."""

    songs: int
    train_songs: int
    val_songs: int
    tokens: int
    train_tokens: int
    val_tokens: int
    val_fraction: float


@dataclass(frozen=True)
class Budget:
    """What the budget decided: every value is stored in the run's TrainConfig."""

    block_size: int
    val_fraction: float
    max_steps: int
    eval_every: int
    patience: int
    epochs: float
    """Passes over the training blocks that max_steps amounts to."""


def auto_val_fraction(content_hashes: Sequence[str], wanted: float = DEFAULT_VAL_FRACTION) -> float:
    """The validation share that holds out at least MIN_VAL_SONGS whole songs (where the set has
    enough songs to spare them), by the same stable per-song score packing splits on."""
    from lyrictui.core.pack.packing import split_score

    scores = sorted(split_score(h) for h in content_hashes)
    need = min(MIN_VAL_SONGS, len(scores) // 4)
    if need < 1 or sum(s < wanted for s in scores) >= need:
        return wanted
    # Just above the need-th lowest score, rounded up to three decimals (a readable pack key).
    fraction = math.floor(scores[need - 1] * 1000 + 1) / 1000
    return min(max(fraction, wanted), MAX_AUTO_VAL_FRACTION)


def measure(texts: Sequence[str], content_hashes: Sequence[str], tokenizer: Any,
            val_fraction: float) -> DataSize:
    """Songs and tokens (EOS included, as packing counts them) on each side of the split."""
    from lyrictui.core.pack.packing import assign_validation

    if not texts:
        return DataSize(0, 0, 0, 0, 0, 0, val_fraction)
    ids = tokenizer(list(texts), add_special_tokens=False, split_special_tokens=True,
                    return_attention_mask=False, verbose=False)["input_ids"]
    counts = [len(row) + 1 for row in ids]
    if len(texts) < 2:
        return DataSize(len(texts), len(texts), 0, counts[0], counts[0], 0, val_fraction)
    val = assign_validation(content_hashes, val_fraction)
    val_tokens = sum(c for c, v in zip(counts, val, strict=True) if v)
    return DataSize(songs=len(texts), train_songs=len(texts) - sum(val), val_songs=sum(val),
                    tokens=sum(counts), train_tokens=sum(counts) - val_tokens,
                    val_tokens=val_tokens, val_fraction=val_fraction)


def auto_block_size(train_tokens: int, largest: int) -> int:
    """The largest power-of-two block (at most `largest`) that still cuts the training tokens
    into MIN_TRAIN_BLOCKS blocks, but never below SMALLEST_AUTO_BLOCK (a line of context)."""
    block = largest
    while block > SMALLEST_AUTO_BLOCK and train_tokens // block < MIN_TRAIN_BLOCKS:
        block = max(SMALLEST_AUTO_BLOCK, block // 2)
    return block


def auto_epochs(train_tokens: int) -> float:
    """Passes over the data: SMALL_SET_EPOCHS up to SMALL_SET_TOKENS, then falling with the
    square root of the size down to one."""
    if train_tokens <= 0:
        return float(SMALL_SET_EPOCHS)
    return max(1.0, min(SMALL_SET_EPOCHS, SMALL_SET_EPOCHS * math.sqrt(SMALL_SET_TOKENS /
                                                                      train_tokens)))


def steps_for(train_blocks: int, batch_blocks: int, block_size: int) -> tuple[int, float]:
    """(optimizer steps, the passes over the data they amount to) for `train_blocks` blocks in
    steps of `batch_blocks` blocks."""
    batch = max(1, min(batch_blocks, train_blocks))
    per_epoch = max(1, train_blocks // batch)
    epochs = auto_epochs(train_blocks * block_size)
    steps = math.ceil(epochs * per_epoch)
    steps = max(steps, min(MIN_STEPS, MAX_EPOCHS * per_epoch))
    steps = max(1, min(steps, MAX_TOKENS_SEEN // (batch * block_size)))
    return steps, steps / per_epoch


def plan(size: DataSize, *, batch_blocks: int, largest_block: int,
         block_size: int | None = None) -> Budget:
    """The budget for `size` (block size chosen unless the user gave one); `batch_blocks` is
    blocks per optimizer step (batch size x gradient accumulation x processes)."""
    block = block_size or auto_block_size(size.train_tokens, largest_block)
    blocks = size.train_tokens // block
    steps, epochs = steps_for(max(blocks, 1), batch_blocks, block)
    per_epoch = max(1, max(blocks, 1) // max(1, min(batch_blocks, max(blocks, 1))))
    eval_every = max(1, min(steps, max(per_epoch, math.ceil(steps / EVALS_PER_RUN))))
    return Budget(block_size=block, val_fraction=size.val_fraction, max_steps=steps,
                  eval_every=eval_every, patience=AUTO_PATIENCE, epochs=round(epochs, 2))


def too_small(size: DataSize) -> str | None:
    """One plain sentence when the set is too small to learn a style from, else None."""
    short = []
    if size.songs < MIN_SONGS_FOR_STYLE:
        short.append(f"{size.songs} songs (it needs at least {MIN_SONGS_FOR_STYLE})")
    if size.tokens < MIN_TOKENS_FOR_STYLE:
        short.append(f"{size.tokens:,} tokens (it needs at least {MIN_TOKENS_FOR_STYLE:,})")
    if not short:
        return None
    return ("Too little to learn a style from: " + " and ".join(short) +
            ". The model will mostly repeat these songs; add more before relying on it.")
