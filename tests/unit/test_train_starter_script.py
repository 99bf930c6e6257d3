"""scripts/train_starter.py: the parts that keep a starter run reproducible and its comparison
fair (the run itself takes most of an hour; see docs/benchmarks.md)."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "train_starter.py"


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("train_starter", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_wsd_run_may_change_its_length_while_the_rate_is_constant(script) -> None:
    short = script.parse_args(["--schedule", "wsd", "--steps", "1000", "--warmup", "100"])
    long = script.parse_args(["--schedule", "wsd", "--steps", "3000", "--warmup", "100"])
    # Up to the short run's decay both runs are the same run...
    assert all(script.lr_at(s, short) == script.lr_at(s, long) for s in range(800))
    # ...then each decays linearly to min_lr_ratio over its last 20 %.
    assert script.lr_at(799, short) == short.lr
    assert math.isclose(script.lr_at(900, short), short.lr * 0.55)
    assert math.isclose(script.lr_at(1000, short), short.lr * short.min_lr_ratio)
    cosine = script.parse_args(["--schedule", "cosine", "--steps", "1000"])
    assert script.lr_at(500, cosine) < cosine.lr  # the default keeps the shipped run's cosine


def test_the_recorded_command_leaves_out_this_machines_paths(script, monkeypatch) -> None:
    argv = ["train_starter.py", "--work", "/somewhere/work", "--out=/somewhere/out",
            "--tokenizer", "bpe", "--vocab-size", "12000", "--steps", "2000", "--stop-at", "50"]
    monkeypatch.setattr(sys, "argv", argv)
    args = script.parse_args(argv[1:])
    args.stop_at = 1234  # stopped early through the STOP file
    assert script.shipped_argv(args) == ["--tokenizer", "bpe", "--vocab-size", "12000",
                                         "--steps", "2000", "--stop-at", "1234"]


def test_the_fair_score_counts_nats_per_byte_and_per_gpt2_token(script, gpt2_tokenizer) -> None:
    """A model that gives every token the same probability 1/V scores ln V nats per token of
    its own; the fair figures divide the same total by the text's bytes and GPT-2 tokens."""
    import torch

    vocab = len(gpt2_tokenizer)

    class Uniform(torch.nn.Module):
        def forward(self, input_ids):
            return type("Out", (), {"logits": torch.zeros(*input_ids.shape, vocab)})()

    blocks = ["The wind was cold upon the moor,\nThe stars were pale above the sea,",
              "And all the night I heard thee call"]
    result = script.score_blocks(Uniform(), gpt2_tokenizer, blocks, n_ctx=8,
                                 gpt2_tok=gpt2_tokenizer)
    tokens = sum(len(gpt2_tokenizer(b)["input_ids"]) + 1 for b in blocks)
    assert result["tokens"] == result["gpt2_tokens"] == tokens  # windows overlap, none twice
    assert math.isclose(result["loss_per_token"], math.log(vocab), rel_tol=1e-4)
    n_bytes = sum(len(b.encode()) for b in blocks)
    assert result["bytes"] == n_bytes
    assert math.isclose(result["bits_per_byte"], tokens * math.log2(vocab) / n_bytes, rel_tol=1e-3)
    assert math.isclose(result["ppl_per_gpt2_token"], vocab, rel_tol=1e-3)
