"""Fixtures shared by every test: a private LYRICTUI_HOME, no network, the real GPT-2 tokenizer.

No test reads the user's real config or library, and none touches the internet: the hub is
offline, Genius is a local fake (tests/fakes/), models are tiny GPT-2 configs built here.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
TOKENIZER_DIR = DATA / "gpt2-tokenizer"


@pytest.fixture(autouse=True)
def lyrictui_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every location lyrictui uses at a fresh temporary folder."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("LYRICTUI_HOME", str(home))
    monkeypatch.delenv("GENIUS_ACCESS_TOKEN", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("LYRICTUI_NO_DEMO", "1")
    return home


@pytest.fixture
def library(lyrictui_home: Path):
    from lyrictui.core.store.library import Library

    lib = Library()
    yield lib
    lib.close()


@pytest.fixture(scope="session")
def gpt2_tokenizer():
    """The real GPT-2 BPE tokenizer (tests/data/gpt2-tokenizer, see its NOTE.md)."""
    from transformers import GPT2TokenizerFast

    tok = GPT2TokenizerFast(
        vocab=str(TOKENIZER_DIR / "vocab.json"), merges=str(TOKENIZER_DIR / "merges.txt")
    )
    tok.pad_token = tok.eos_token
    return tok


def build_tiny_gpt2(folder: Path, tokenizer, *, n_layer: int = 2, n_embd: int = 64,
                    n_positions: int = 256, seed: int = 0) -> Path:
    """Save a tiny randomly initialised GPT2LMHeadModel with the real tokenizer to `folder`."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(seed)
    config = GPT2Config(
        vocab_size=len(tokenizer), n_positions=n_positions, n_embd=n_embd, n_layer=n_layer,
        n_head=2, bos_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id,
    )
    model = GPT2LMHeadModel(config)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture
def tiny_model_dir(tmp_path: Path, gpt2_tokenizer) -> Path:
    """A tiny GPT-2 model folder (safetensors + config + tokenizer), usable as a base."""
    return build_tiny_gpt2(tmp_path / "tiny-gpt2", gpt2_tokenizer)


def pytest_configure(config: pytest.Config) -> None:
    # Before any test imports huggingface_hub, which reads these once at import.
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
