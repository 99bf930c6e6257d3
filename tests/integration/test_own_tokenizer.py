"""A base with its own tokenizer (not GPT-2's): packing, training and suggestions are keyed by the
base's tokenizer, end to end.

The base is a tiny GPT-2 whose byte-level BPE is trained in the test (at most 600 tokens, so each
word of the songs is one token, as common words are in a vocabulary trained on real text; the
end-of-text token at id 0 instead of GPT-2's 50256), saved the way `tokenizers` saves it
(tokenizer.json only), as `scripts/train_starter.py --tokenizer bpe` trains one.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lyrictui.core.train import runs, training

EOS = "<|endoftext|>"


def own_tokenizer(folder: Path, texts: list[str], vocab_size: int = 600):
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    bpe = ByteLevelBPETokenizer(add_prefix_space=False)
    bpe.train_from_iterator(texts, vocab_size=vocab_size, min_frequency=2, special_tokens=[EOS],
                            show_progress=False)
    folder.mkdir(parents=True, exist_ok=True)
    bpe.save(str(folder / "tokenizer.json"))
    return PreTrainedTokenizerFast(tokenizer_file=str(folder / "tokenizer.json"), eos_token=EOS,
                                   bos_token=EOS, unk_token=EOS)


def own_base(folder: Path, texts: list[str]) -> Path:
    """A tiny randomly initialised GPT-2 over a BPE trained on `texts`, saved to `folder`."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    tokenizer = own_tokenizer(folder, texts)
    assert tokenizer.eos_token_id == 0 and len(tokenizer) < 1000
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=64, n_embd=32, n_layer=2, n_head=2,
                        bos_token_id=0, eos_token_id=0)
    GPT2LMHeadModel(config).save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture
def band(library, add_corpus):
    return add_corpus(library, "Own Words", songs=14)


@pytest.fixture
def base(tmp_path: Path, library, band) -> Path:
    texts = [s.lyrics for s in library.songs(band.id)]
    return own_base(tmp_path / "own-base", texts)


def test_packing_uses_the_bases_own_tokenizer_and_end_token(library, band, base, gpt2_tokenizer):
    from lyrictui.core.engine import bases
    from lyrictui.core.pack.packing import load_packed, pack

    tokenizer = bases.load_tokenizer(str(base))
    assert tokenizer.eos_token_id == 0
    result = pack(library, band, base=str(base), block_size=32, val_fraction=0.2)
    data = load_packed(result.path)
    ids = [i for block in data["train"]["input_ids"] for i in block]
    assert max(ids) < len(tokenizer) and 0 in ids and 50256 not in ids
    songs = [s.lyrics for s in library.songs(band.id)]
    assert result.stats.tokens == sum(len(tokenizer(t)["input_ids"]) + 1 for t in songs)
    assert result.stats.tokens != sum(len(gpt2_tokenizer(t)["input_ids"]) + 1 for t in songs)
    text = tokenizer.decode(ids)
    assert any(s.splitlines()[0] in text for s in songs)
    # A GPT-2 pack of the same songs is another dataset (the key holds the tokenizer).
    assert pack(library, band, base="starter", block_size=32, val_fraction=0.2).path != result.path


def test_fine_tune_and_suggest_with_the_bases_own_tokenizer(library, band, base, tiny_config,
                                                            read_events):
    from lyrictui.core.engine.suggest import Suggester

    config = tiny_config(base, epochs=12, batch_size=4, lr=1e-2, patience=0)
    run = runs.create_run(library, band, config)
    outcome = training.execute_run(library, run.id)
    assert outcome.status == "completed", read_events(runs.run_dir(run))[-1]
    events = read_events(runs.run_dir(run))
    losses = [e["loss"] for e in events if e["type"] == "step"]
    assert sum(losses[-3:]) < sum(losses[:3]) - 3  # it learnt the songs' words
    samples = [line for e in events if e["type"] == "sample" for line in e["lines"]]
    assert samples and all(isinstance(line, str) for line in samples)

    folder = Path(library.get_model(outcome.model_id).path)
    saved = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    base_tokens = json.loads((base / "tokenizer.json").read_text(encoding="utf-8"))
    tokens = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
    assert tokens["model"]["vocab"] == base_tokens["model"]["vocab"]
    assert saved["vocab_size"] == len(base_tokens["model"]["vocab"]) and saved["eos_token_id"] == 0

    suggester = Suggester.load(str(folder), device="cpu")
    song = "love night fire heart rain\nmoney dream city baby\n"
    lines = suggester.suggest(song, n=3, seed=3)
    assert lines and all(c.text.strip() and "\n" not in c.text for c in lines)
    words = set(" ".join(s.lyrics for s in library.songs(band.id)).split())
    said = [w for c in lines for w in c.text.split()]
    assert sum(w in words for w in said) >= 0.8 * len(said), [c.text for c in lines]
    # Planned endings encode their words with this tokenizer: every line ends on a rhyme.
    rhymed = suggester.suggest(song, n=3, seed=3, rhyme_with="night")
    assert rhymed, "no line could end on a rhyme of night"
    from lyrictui.core import prosody

    key = prosody.rhyme_key("night")
    assert all(prosody.rhyme_key(prosody.words(c.text)[-1]) == key for c in rhymed), \
        [c.text for c in rhymed]
