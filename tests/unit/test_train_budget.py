"""The training budget without a run: steps, blocks, passes and the validation share fitted to
the size of the data (core/train/budget.py)."""

from __future__ import annotations

import hashlib

from lyrictui.core.pack.packing import assign_validation, split_score
from lyrictui.core.train import budget
from lyrictui.core.train.budget import DataSize


def size(train_tokens: int, songs: int = 100) -> DataSize:
    return DataSize(songs=songs, train_songs=songs - 10, val_songs=10,
                    tokens=train_tokens + train_tokens // 9, train_tokens=train_tokens,
                    val_tokens=train_tokens // 9, val_fraction=0.1)


def test_a_small_set_gets_smaller_blocks_many_passes_and_enough_steps() -> None:
    # The 30 songs of 2,335 tokens: at 512-token blocks they made 4 blocks and 2 steps.
    plan = budget.plan(size(2_100, songs=30), batch_blocks=8, largest_block=512)
    assert plan.block_size < 512
    assert plan.max_steps >= budget.MIN_STEPS
    assert plan.epochs <= budget.MAX_EPOCHS
    assert 1 <= plan.eval_every <= plan.max_steps // 3  # several evaluations to stop early on
    assert plan.patience >= 2


def test_a_large_set_is_not_over_trained() -> None:
    plan = budget.plan(size(5_000_000), batch_blocks=8, largest_block=512)
    assert plan.block_size == 512
    assert 1.0 <= plan.epochs <= 1.2  # one pass over five million tokens
    huge = budget.plan(size(500_000_000), batch_blocks=8, largest_block=512)
    assert huge.max_steps * 8 * 512 <= budget.MAX_TOKENS_SEEN
    # Passes fall as the set grows, and the steps never shrink with more data.
    sizes = [5_000, 50_000, 500_000, 5_000_000]
    plans = [budget.plan(size(n), batch_blocks=8, largest_block=512) for n in sizes]
    assert [p.epochs for p in plans] == sorted((p.epochs for p in plans), reverse=True)
    steps = [p.max_steps for p in plans]
    assert steps == sorted(steps)


def test_a_block_size_the_user_gives_is_kept() -> None:
    plan = budget.plan(size(2_100, songs=30), batch_blocks=8, largest_block=512, block_size=256)
    assert plan.block_size == 256 and plan.max_steps >= 1


def test_validation_holds_out_at_least_three_whole_songs_of_thirty() -> None:
    # Find 30 songs of which fewer than 3 fall under the default share (as a real set may).
    hashes: list[str] = []
    i = 0
    while len(hashes) < 30:
        h = hashlib.sha256(f"song {i}".encode()).hexdigest()
        i += 1
        if split_score(h) < 0.1 and sum(split_score(x) < 0.1 for x in hashes) >= 1:
            continue
        hashes.append(h)
    assert sum(assign_validation(hashes, 0.1)) < 3
    fraction = budget.auto_val_fraction(hashes)
    held = sum(assign_validation(hashes, fraction))
    assert held >= budget.MIN_VAL_SONGS and held <= 5
    # A set with enough validation songs keeps the default share.
    many = [hashlib.sha256(f"x{i}".encode()).hexdigest() for i in range(400)]
    assert budget.auto_val_fraction(many) == budget.DEFAULT_VAL_FRACTION


def test_too_small_to_learn_a_style_names_what_it_needs() -> None:
    small = DataSize(12, 10, 2, 1_500, 1_300, 200, 0.1)
    message = budget.too_small(small)
    assert message is not None
    assert "12 songs" in message and str(budget.MIN_SONGS_FOR_STYLE) in message
    assert "1,500 tokens" in message and f"{budget.MIN_TOKENS_FOR_STYLE:,}" in message
    assert budget.too_small(size(40_000, songs=60)) is None
