"""The bundled GPT-2 tokenizer files are the real ones (tests depend on them), and the starter's
tokenizer files agree with each other."""

from __future__ import annotations

from pathlib import Path

from lyrictui.core.paths import starter_dir

TESTS_DATA = Path(__file__).resolve().parents[1] / "data" / "gpt2-tokenizer"


def test_fixture_tokenizer_is_gpt2(gpt2_tokenizer) -> None:
    assert len(gpt2_tokenizer) == 50257
    assert gpt2_tokenizer.encode("Hello world") == [15496, 995]
    assert gpt2_tokenizer.eos_token_id == 50256


def test_the_starters_tokenizer_files_agree() -> None:
    """The starter ships its BPE twice (tokenizer.json for transformers, vocab.json and
    merges.txt for anything that reads GPT-2's format): both encode alike, and a NOTE says
    where the vocabulary came from."""
    from transformers import AutoTokenizer, GPT2TokenizerFast

    folder = starter_dir()
    text = "O wild West Wind, thou breath of Autumn's being,\nmy phone's on 3% <|endoftext|>"
    fast = AutoTokenizer.from_pretrained(str(folder))
    plain = GPT2TokenizerFast(str(folder / "vocab.json"), str(folder / "merges.txt"))
    assert fast(text)["input_ids"] == plain(text)["input_ids"]
    assert fast.decode(fast(text)["input_ids"]) == text
    assert (folder / "TOKENIZER_NOTE.md").read_text(encoding="utf-8").strip()
