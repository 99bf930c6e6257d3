"""The bundled GPT-2 tokenizer files are the real ones (tests and the starter depend on it)."""

from __future__ import annotations

import filecmp
from pathlib import Path

from lyrictui.core.paths import starter_dir

TESTS_DATA = Path(__file__).resolve().parents[1] / "data" / "gpt2-tokenizer"


def test_fixture_tokenizer_is_gpt2(gpt2_tokenizer) -> None:
    assert len(gpt2_tokenizer) == 50257
    assert gpt2_tokenizer.encode("Hello world") == [15496, 995]
    assert gpt2_tokenizer.eos_token_id == 50256


def test_starter_ships_the_same_tokenizer_files() -> None:
    for name in ("vocab.json", "merges.txt"):
        assert filecmp.cmp(TESTS_DATA / name, starter_dir() / name, shallow=False)
