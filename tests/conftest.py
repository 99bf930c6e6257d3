"""Fixtures shared by every test: a private LYRICTUI_HOME, no network, the real GPT-2 tokenizer,
tiny GPT-2 models, a small lyric corpus and short training configs.

No test reads the user's real config or library, and none touches the internet: the hub is
offline, Genius is a local fake (tests/fakes/), models are tiny GPT-2 configs built here.
Helpers are handed out as fixtures (`tiny_gpt2`, `add_corpus`, `tiny_config`, `read_events`,
`lyrictui`, `wait_until`, `wait_for_workers`; tests/integration/conftest.py and
tests/reliability/conftest.py add their own), never imported from a conftest.py: pytest loads
each under its own rules, and every one of them is a module named `conftest`.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from textual.app import App

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


@pytest.fixture(scope="session")
def tiny_gpt2(gpt2_tokenizer) -> Callable[..., Path]:
    """`tiny_gpt2(folder, n_layer=2, n_embd=64, n_positions=256, seed=0)`: save a tiny GPT-2
    with the real GPT-2 tokenizer (or `tokenizer=` another) to `folder` and return it."""
    def build(folder: Path, tokenizer: Any = None, **shape: int) -> Path:
        return build_tiny_gpt2(folder, tokenizer or gpt2_tokenizer, **shape)
    return build


@pytest.fixture
def tiny_model_dir(tmp_path: Path, tiny_gpt2) -> Path:
    """A tiny GPT-2 model folder (safetensors + config + tokenizer), usable as a base."""
    return tiny_gpt2(tmp_path / "tiny-gpt2")


# -- training: a corpus, short runs, their events ------------------------------------------------

WORDS = ("love night fire heart rain money dream city baby time road light cold gold run away "
         "tonight forever never know feel fall call alone again home stone young wild").split()


def _add_corpus(library, name: str = "Test Band", songs: int = 14, seed: int = 0):
    rng = random.Random(seed)
    artist = library.add_artist(name, "imported")
    for i in range(songs):
        hook = " ".join(rng.choice(WORDS) for _ in range(4))
        lines = [" ".join(rng.choice(WORDS) for _ in range(5)) for _ in range(3)]
        text = "\n".join([lines[0], hook, lines[1], hook, lines[2], hook])
        library.add_song(artist.id, f"song {i}", text)
    return artist


@pytest.fixture(scope="session")
def add_corpus() -> Callable[..., Any]:
    """`add_corpus(library, name="Test Band", songs=14, seed=0)`: an artist with short songs
    built from a small vocabulary with a repeated hook, so a tiny model has something
    learnable. Returns the artist."""
    return _add_corpus


def _tiny_config(base: Path, **overrides: Any):
    from lyrictui.core.train.config import TrainConfig

    values: dict[str, Any] = dict(base=str(base), block_size=32, batch_size=2, epochs=2,
                                  lr=5e-3, device="cpu", sample_tokens=8, log_every=1)
    values.update(overrides)
    return TrainConfig(**values)


@pytest.fixture(scope="session")
def tiny_config() -> Callable[..., Any]:
    """`tiny_config(base, **overrides)`: a TrainConfig for a run that takes a few seconds on a
    CPU (short blocks, small batches, short samples)."""
    return _tiny_config


def _read_events(run_dir: Path) -> list[dict[str, Any]]:
    lines = (Path(run_dir) / "events.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


@pytest.fixture(scope="session")
def read_events() -> Callable[[Path], list[dict[str, Any]]]:
    """`read_events(run_dir)`: every event a run wrote, read independently of lyrictui."""
    return _read_events


# -- the CLI in its own process -----------------------------------------------------------------

def _lyrictui(*args: str, stdin: str | None = None, env: dict[str, str] | None = None,
              timeout: float = 300, **more_env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lyrictui", *args], capture_output=True,
                          text=True, input=stdin, env={**(env or os.environ), **more_env},
                          timeout=timeout)


@pytest.fixture(scope="session")
def lyrictui() -> Callable[..., subprocess.CompletedProcess[str]]:
    """`lyrictui(*args, stdin=None, env=None, timeout=300, **more_env)`: run the real command
    to its end in its own process, as a user would from a shell (text output captured). Its
    environment is `env` (this process's by default) with `more_env` added."""
    return _lyrictui


# -- the app under Pilot: wait on what it shows or on its workers, never for a fixed time ----
# (harlequin's functional_tests/conftest.py is the model)

# Generous: a loaded 2-core CI machine runs two test processes, each a model load or a
# training process beside it. A condition that never comes still fails, with what was awaited.
DEADLINE_S = 120.0


async def _wait_until(pilot, condition: Callable[[], object], what: str,
                      timeout: float = DEADLINE_S) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, f"no {what} within {timeout:.0f} s"
        await pilot.pause(0.05)


@pytest.fixture(scope="session")
def wait_until() -> Callable[..., Awaitable[None]]:
    """`await wait_until(pilot, condition, what, timeout=120)`: pause the pilot until
    `condition()` holds; fail naming `what` at the deadline."""
    return _wait_until


async def _wait_for_workers(app: App, pilot, timeout: float = DEADLINE_S) -> None:
    await pilot.pause()
    try:
        await asyncio.wait_for(app.workers.wait_for_complete(), timeout)
    except asyncio.TimeoutError:
        running = [f"{w.group}/{w.description or w.name} ({w.state.name})" for w in app.workers
                   if not w.is_finished]
        raise AssertionError(f"workers still running after {timeout:.0f} s: {running}") from None
    await pilot.pause()


@pytest.fixture(scope="session")
def wait_for_workers() -> Callable[..., Awaitable[None]]:
    """`await wait_for_workers(app, pilot, timeout=120)`: let posted messages land, wait for
    every worker of the app to finish (failing with the ones still running at the deadline),
    then let their messages land."""
    return _wait_for_workers


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    # addopts runs the suite in xdist workers, whose output never reaches the terminal: with
    # -s (to read a test's JSON figures, see docs/reliability.md) or --pdb, run in this process.
    if config.pluginmanager.hasplugin("xdist") and (
            config.getoption("capture") == "no" or config.getoption("usepdb")):
        config.option.numprocesses = 0


def pytest_configure(config: pytest.Config) -> None:
    # Before any test imports huggingface_hub, which reads these once at import.
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
