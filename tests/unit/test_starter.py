"""The bundled starter model: complete, honest card, a tokenizer that fits it, works offline.

The weights ship in the repository (lyrictui/assets/starter/model.safetensors): these tests fail,
rather than skip, when they are missing (`python scripts/train_starter.py` writes them).
"""

from __future__ import annotations

import gzip
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lyrictui.core import paths
from lyrictui.core.engine import bases

STARTER = paths.starter_dir()
CORPUS = Path(__file__).resolve().parents[2] / "data" / "verse" / "verse.txt.gz"
PROMPT = ("The wind was cold upon the moor,\n"
          "The stars were pale above the sea,\n"
          "And all the night I heard thee call\n")
CARD_KEYS = {"name", "base", "method", "run_id", "artist", "dataset", "val_loss", "perplexity",
             "params", "dtype", "created_at", "files"}


def _card() -> dict:
    return json.loads((STARTER / "card.json").read_text(encoding="utf-8"))


def test_the_weights_ship_with_the_package() -> None:
    weights = STARTER / "model.safetensors"
    assert weights.is_file(), "the starter's weights are missing: run scripts/train_starter.py"
    assert weights.stat().st_size <= 40 * 1024 * 1024  # the budget: 40 MB in 16-bit


def test_card_matches_its_files() -> None:
    from safetensors import safe_open

    card = _card()
    assert CARD_KEYS <= set(card)
    assert card["method"] == "full" and card["dtype"] == "float16" and card["base"] == "starter"
    on_disk = {p.name: p.stat().st_size for p in STARTER.iterdir()
               if p.is_file() and p.name != "card.json"}
    assert card["files"] == on_disk
    with safe_open(str(STARTER / "model.safetensors"), framework="pt") as fh:
        tensors = {key: fh.get_tensor(key) for key in fh.keys()}
    assert {str(t.dtype) for t in tensors.values()} == {"torch.float16"}
    assert sum(t.numel() for t in tensors.values()) == card["params"]
    assert math.isclose(card["perplexity"], math.exp(card["val_loss"]), rel_tol=1e-3)
    config = json.loads((STARTER / "config.json").read_text(encoding="utf-8"))
    assert config["model_type"] == "gpt2" and config["architectures"] == ["GPT2LMHeadModel"]
    assert config["vocab_size"] == len(bases.load_tokenizer("starter"))
    readme = (STARTER / "README.md").read_text(encoding="utf-8")
    for needed in ("python scripts/train_starter.py", f"{card['params']:,}", "public domain",
                   f"perplexity {card['perplexity']:.1f}", "Sample output", "demo model"):
        assert needed in readme, needed


def test_the_loaded_model_has_the_cards_parameters() -> None:
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(STARTER), use_safetensors=True)
    assert model.num_parameters() == _card()["params"]
    assert bases.model_window("starter") == model.config.n_positions >= 512  # = packing's default


def test_its_tokenizer_reads_any_text_and_fits_its_weights() -> None:
    """Byte-level BPE: any text (verse, modern words, emoji) encodes and decodes back exactly;
    its end-of-text token is the model's, and every id has a row in the embedding table."""
    config = json.loads((STARTER / "config.json").read_text(encoding="utf-8"))
    tokenizer = bases.load_tokenizer("starter")
    text = ("O wild West Wind, thou breath of Autumn's being,\n"
            "Left on read, my phone at 3% \u2014 caf\u00e9 lights \U0001f319\n")
    ids = tokenizer(text)["input_ids"]
    assert tokenizer.decode(ids) == text
    assert max(ids) < config["vocab_size"] == len(tokenizer)
    assert tokenizer.eos_token == "<|endoftext|>"
    assert tokenizer.eos_token_id == config["eos_token_id"] == config["bos_token_id"]


def test_it_suggests_five_verse_lines_offline_with_an_empty_cache(tmp_path: Path) -> None:
    # A fresh process with no network and no Hugging Face cache at all: everything it needs
    # must come from the package.
    script = (
        "import json, sys\n"
        "from lyrictui.core.engine.suggest import Suggester\n"
        "s = Suggester.load('starter', device='cpu')\n"
        "lines = [c.text for c in s.suggest(sys.stdin.read(), n=5, seed=7)]\n"
        "print(json.dumps(lines))\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "HF_HOME": str(tmp_path / "hf"), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", script], input=PROMPT, env=env,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(lines) == 5 and len(set(lines)) == 5
    assert all(line.strip() and "\n" not in line for line in lines)

    # They read as English: nearly every word is in the CMU pronouncing dictionary (a model
    # that had not learnt English emits word pieces and names that are not).
    import pronouncing

    words = [w.strip(".,;:!?\"'()-").lower() for line in lines for w in line.split()]
    words = [w for w in words if w.isalpha()]
    known = sum(1 for w in words if pronouncing.phones_for_word(w))
    assert len(words) >= 10 and known / len(words) >= 0.85, lines


@pytest.mark.slow
def test_the_cards_validation_loss_is_reproducible() -> None:
    """Score the shipped weights on the held-out blocks again (about a minute on one core)."""
    import torch
    from transformers import AutoModelForCausalLM

    card = _card()
    n_ctx = card["dataset"]["n_ctx"]
    with gzip.open(CORPUS, "rt", encoding="utf-8") as fh:
        blocks = [b.strip("\n") for b in fh.read().split("\n\n") if b.strip()]
    held_out = [b for i, b in enumerate(blocks) if i % card["dataset"]["val_every"] == 0]
    tokenizer = bases.load_tokenizer("starter")
    ids: list[int] = []
    for enc in tokenizer(held_out)["input_ids"]:
        ids += enc + [tokenizer.eos_token_id]
    windows = torch.tensor(ids[: len(ids) // n_ctx * n_ctx]).view(-1, n_ctx)
    assert len(windows) == card["dataset"]["val_windows"]
    model = AutoModelForCausalLM.from_pretrained(str(STARTER), dtype=torch.float32).eval()
    total = 0.0
    with torch.no_grad():
        for i in range(0, len(windows), 8):
            batch = windows[i : i + 8]
            total += model(input_ids=batch, labels=batch).loss.item() * (batch.numel() - len(batch))
    loss = total / (windows.numel() - len(windows))
    assert abs(loss - card["val_loss"]) < 0.01


def test_a_fine_tune_of_the_starter_keeps_its_tokenizer(library, add_corpus, tiny_config) -> None:
    """Training from `starter` packs with the starter's own tokenizer, and the fine-tuned model
    ships that tokenizer: it encodes like the starter and its vocabulary fits the weights."""
    from transformers import AutoConfig

    from lyrictui.core.engine.modelload import load
    from lyrictui.core.pack.packing import load_packed
    from lyrictui.core.train import runs, training

    artist = add_corpus(library, "Starter Band", songs=14)
    config = tiny_config("starter", epochs=None, max_steps=2, block_size=32, lr=1e-3)
    run = runs.create_run(library, artist, config)
    outcome = training.execute_run(library, run.id)
    assert outcome.status == "completed"
    starter = bases.load_tokenizer("starter")
    dataset = library.latest_dataset(artist.id)
    assert dataset is not None
    ids = [i for block in load_packed(dataset.path)["train"]["input_ids"] for i in block]
    assert starter.eos_token_id in ids and max(ids) < len(starter)
    folder = Path(library.get_model(outcome.model_id).path)
    loaded = load(str(folder), device="cpu", dtype="float32")
    assert loaded.tokenizer(PROMPT)["input_ids"] == starter(PROMPT)["input_ids"]
    assert loaded.tokenizer.eos_token_id == starter.eos_token_id
    vocab = AutoConfig.from_pretrained(str(folder)).vocab_size
    assert vocab == AutoConfig.from_pretrained(str(STARTER)).vocab_size == len(starter)
