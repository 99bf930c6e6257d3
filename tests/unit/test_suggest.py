"""The next-line engine on tiny real GPT-2 models with the real GPT-2 tokenizer.

A random tiny model writes junk, which is enough for the mechanics (seeds, one line each,
cancellation, cache reuse). For the constraints, `controlled_model` builds a tiny GPT-2 whose
next-token distribution ignores the context and is spread over a handful of chosen words, so
what the engine should return is known without trusting its own output.
"""

from __future__ import annotations

import pickle
import threading
from pathlib import Path

import pytest

from lyrictui.core.engine.hfcompat import quiet_peft
from lyrictui.core.engine.suggest import Suggester
from lyrictui.core.errors import Cancelled, InvalidInput, LyricError, NotFound

SONG = "[Verse 1]\nI walk along the road all day\nI never wanna stay away\n"
WORDS = [" day", " way", " say", " night", " light", " I", " run", " go", " we"]


@pytest.fixture(scope="module")
def tokenizer(gpt2_tokenizer):
    return gpt2_tokenizer


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory, tiny_gpt2) -> Path:
    return tiny_gpt2(tmp_path_factory.mktemp("m") / "tiny")


def controlled_model(folder: Path, tiny_gpt2, tokenizer, logits: dict[str, float]) -> Path:
    """A tiny GPT-2 whose next-token logits are `logits` (text -> logit, 0 elsewhere), always."""
    import torch
    from transformers import GPT2LMHeadModel

    tiny_gpt2(folder, seed=1)
    model = GPT2LMHeadModel.from_pretrained(folder)
    with torch.no_grad():
        # ln_f outputs its bias e0 whatever the input, so logits = column 0 of the tied embedding.
        model.transformer.ln_f.weight.zero_()
        model.transformer.ln_f.bias.zero_()
        model.transformer.ln_f.bias[0] = 1.0
        model.transformer.wte.weight[:, 0] = 0.0
        for text, value in logits.items():
            (token,) = tokenizer.encode(text)
            model.transformer.wte.weight[token, 0] = value
    model.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def words_dir(tmp_path_factory, tiny_gpt2, tokenizer) -> Path:
    logits = {w: 20.0 for w in WORDS} | {"\n": 21.0}
    return controlled_model(tmp_path_factory.mktemp("w") / "words", tiny_gpt2, tokenizer, logits)


@pytest.fixture(scope="module")
def engine(tiny_dir) -> Suggester:
    return Suggester.load(str(tiny_dir))


@pytest.fixture(scope="module")
def words_engine(words_dir) -> Suggester:
    return Suggester.load(str(words_dir))


def texts(candidates) -> list[str]:
    return [c.text for c in candidates]


# -- basics ---------------------------------------------------------------------------------


def test_candidates_are_distinct_single_nonempty_lines(engine):
    found = engine.suggest(SONG, 5, seed=3)
    assert len(found) == 5
    for c in found:
        assert c.text and c.text == c.text.strip() and "\n" not in c.text
        assert c.syllables >= 1 and c.rhyme_key
    assert len({c.text.casefold() for c in found}) == 5
    assert engine.stats.decode_steps <= engine.sampling.max_tokens * engine.stats.rounds


def test_seed_makes_requests_reproducible(tiny_dir, engine):
    first = texts(engine.suggest(SONG, 5, seed=11))
    again = texts(Suggester.load(str(tiny_dir)).suggest(SONG, 5, seed=11))
    other = texts(engine.suggest(SONG, 5, seed=12))
    assert first == again
    assert first != other


def test_empty_song_gets_opening_lines(engine):
    found = engine.suggest("  \n", 3, seed=1)
    assert len(found) == 3 and all(c.text for c in found)
    assert engine.stats.context_tokens == 1  # only the EOS a song starts after


def test_bad_request_values(engine):
    with pytest.raises(InvalidInput):
        engine.suggest(SONG, 0)
    with pytest.raises(InvalidInput):
        engine.suggest(SONG, 3, temperature=0)
    with pytest.raises(InvalidInput):
        engine.suggest(SONG, 3, rhyme_with=9)
    with pytest.raises(InvalidInput):
        engine.suggest(SONG, 3, rhyme_with=1)  # line 1 is a header


def test_song_longer_than_the_window_is_trimmed_and_stays_warm(tiny_dir, engine):
    long_song = "".join(f"line number {i} of a song that goes on\n" for i in range(120))
    assert len(engine.loaded.tokenizer.encode(long_song)) > 3 * engine.window
    found = engine.suggest(long_song, 3, seed=5)
    assert len(found) == 3
    budget = engine.window - engine.sampling.max_tokens
    assert engine.stats.context_tokens <= budget
    longer = long_song + "and one more line\n"
    warm = texts(engine.suggest(longer, 3, seed=5))
    assert engine.stats.reused_tokens > budget // 2  # the cut point did not move
    assert warm == texts(Suggester.load(str(tiny_dir)).suggest(longer, 3, seed=5))


# -- cache reuse ----------------------------------------------------------------------------


def test_incremental_context_gives_the_same_logits_as_a_full_recompute(tiny_dir):
    import torch

    warm = Suggester.load(str(tiny_dir), dtype="float32")
    cold = Suggester.load(str(tiny_dir), dtype="float32")
    ids = [warm.decoder.eos] + warm.loaded.tokenizer.encode(SONG + "The sun will rise again\n")
    warm.decoder.prepare(ids[:12], lambda: False)
    incremental = warm.decoder.prepare(ids, lambda: False)
    assert warm.stats.reused_tokens == 12
    full = cold.decoder.prepare(ids, lambda: False)
    assert cold.stats.reused_tokens == 0
    plain = cold.loaded.model(torch.tensor([ids])).logits[0, -1]
    assert torch.allclose(incremental, full, atol=1e-4)
    assert torch.allclose(full, plain, atol=1e-4)
    edited = ids[:5] + [ids[5] + 1] + ids[6:]  # an edit in the middle: only the head is reused
    warm.decoder.prepare(edited, lambda: False)
    assert warm.stats.reused_tokens == 5


def test_shared_prefix_decoding_matches_the_plain_model(tiny_dir):
    import torch

    engine = Suggester.load(str(tiny_dir), dtype="float32")
    ids = [engine.decoder.eos] + engine.loaded.tokenizer.encode(SONG)
    engine.decoder.prepare(ids, lambda: False)
    cache = engine.decoder._rows_cache(3, 8)
    steps = torch.tensor([[11, 12, 13], [21, 22, 23]])
    for t, step in enumerate(steps):
        got = engine.decoder._step(cache, step)
        for row in range(3):
            seq = torch.tensor([ids + steps[: t + 1, row].tolist()])
            want = engine.loaded.model(seq).logits[0, -1]
            assert torch.allclose(got[row], want, atol=1e-4)


def test_appending_reuses_the_cache_and_changes_nothing(tiny_dir):
    warm = Suggester.load(str(tiny_dir), dtype="float32")
    warm.suggest(SONG, 5, seed=2)
    longer = SONG + "The sun will rise again\n"
    got = texts(warm.suggest(longer, 5, seed=2))
    assert warm.stats.reused_tokens >= len(warm.loaded.tokenizer.encode(SONG))
    fresh = Suggester.load(str(tiny_dir), dtype="float32")
    assert got == texts(fresh.suggest(longer, 5, seed=2))
    assert fresh.stats.reused_tokens == 0


# -- cancellation ---------------------------------------------------------------------------


def test_cancel_stops_within_one_decode_step(tiny_dir, engine):
    engine.suggest(SONG, 5, seed=4)
    assert engine.stats.decode_steps > 3  # so the limit below is a real cut
    checks = 0

    def cancel() -> bool:
        nonlocal checks
        checks += 1
        return checks > 3

    with pytest.raises(Cancelled):
        engine.suggest(SONG + "new line\n", 5, seed=4, cancel=cancel)
    assert engine.stats.decode_steps <= 3
    event = threading.Event()
    event.set()
    with pytest.raises(Cancelled):
        engine.suggest(SONG, 5, seed=4, cancel=event)
    assert engine.stats.decode_steps == 0
    # A cancelled request leaves the engine consistent.
    after = texts(engine.suggest(SONG + "new line\n", 5, seed=4))
    assert after == texts(Suggester.load(str(tiny_dir)).suggest(SONG + "new line\n", 5, seed=4))


def test_concurrent_callers_are_serialized(tiny_dir, engine):
    songs = [SONG, SONG + "The sun will rise again\n", "A different song\n"]
    # One request after the other, on a second engine of the same model: what each caller
    # must get when the three ask the shared engine at once.
    reference = Suggester.load(str(tiny_dir))
    serial = [texts(reference.suggest(s, 3, seed=i)) for i, s in enumerate(songs)]
    results: dict[int, list[str]] = {}

    def call(i: int) -> None:
        results[i] = texts(engine.suggest(songs[i], 3, seed=i))

    threads = [threading.Thread(target=call, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [results[i] for i in range(3)] == serial


# -- constraints, words, verbatim -----------------------------------------------------------


def last_word(text: str) -> str:
    return text.split()[-1].lower()


def test_rhyme_with_a_word_returns_rhyming_lines(words_engine):
    free = words_engine.suggest(SONG, 5, seed=7)
    assert any(last_word(c.text) not in {"day", "way", "say"} for c in free)
    found = words_engine.suggest(SONG, 3, seed=7, rhyme_with="play")
    assert len(found) == 3
    for c in found:
        assert last_word(c.text) in {"day", "way", "say"}
        assert c.rhyme == "perfect" and c.fits is True and c.rhyme_key == "EY"


def test_rhyme_with_a_line_number_prefers_other_words(words_engine):
    song = "We run all night\n"
    found = words_engine.suggest(song, 2, seed=8, rhyme_with=1)
    ends = [last_word(c.text) for c in found]
    # The model's own rhyme first; the second line may not end on it again, nor on "night".
    assert ends[0] == "light" and ends[1] not in {"light", "night"}
    assert all(c.fits and c.rhyme == "perfect" for c in found)


def test_syllable_target(words_engine):
    found = words_engine.suggest(SONG, 3, seed=9, syllables=3, tolerance=0)
    assert len(found) == 3
    for c in found:
        assert len(c.text.split()) == 3 and c.syllables == 3 and c.fits


def test_next_words_with_probabilities(words_engine):
    for text in ("I walk", "I walk\n"):
        choices = words_engine.next_words(text, 5)
        assert len(choices) == 5
        assert {c.word for c in choices} <= {w.strip() for w in WORDS}
        probs = [c.probability for c in choices]
        assert probs == sorted(probs, reverse=True)
        # Each word holds e^20 / (9 e^20 + e^21 + ~50k e^0) of the mass.
        assert all(0.07 < p < 0.1 for p in probs)


def test_next_word_spans_several_tokens_and_the_artists_words_count(tmp_path, tiny_gpt2,
                                                                     tokenizer):
    pieces = tokenizer.encode(" Drizzy")
    assert len(pieces) >= 2
    first, rest = tokenizer.decode(pieces[:1]), tokenizer.decode(pieces[1:2])
    folder = controlled_model(tmp_path / "m", tiny_gpt2, tokenizer, {first: 20.0, rest: 21.0})
    engine = Suggester.load(str(folder))
    # Not a dictionary word: shown only once the artist's own lyrics use it.
    assert all("Drizzy" not in c.word for c in engine.next_words("I call", 3))
    # The controlled model always prefers the second piece, so the greedy word repeats it.
    spelt = tokenizer.decode(pieces[:1] + pieces[1:2] * 3).strip()
    engine.set_reference_lyrics([f"They call me {spelt}"])
    choices = engine.next_words("I call", 3)
    assert choices[0].word.startswith((first + rest).strip())


def test_next_words_are_words_not_punctuation(tmp_path, tiny_gpt2, tokenizer):
    folder = controlled_model(tmp_path / "p", tiny_gpt2, tokenizer,
                              {",": 25.0, ".": 24.0, " night": 20.0, " day": 19.0})
    words = [c.word for c in Suggester.load(str(folder)).next_words("I walk all", 4)]
    assert words[:2] == ["night", "day"] and not {",", "."} & set(words)


def test_verbatim_flag_marks_lines_from_the_lyrics(words_engine):
    short = [a + b + c for a in WORDS for b in WORDS for c in WORDS]  # every line of 3 words
    words_engine.set_reference_lyrics(["\n".join(s.strip().upper() + "!" for s in short)])
    try:
        found = words_engine.suggest(SONG, 20, seed=10)
    finally:
        words_engine._reference = None
    flags = {c.text: c.verbatim for c in found}
    assert True in flags.values() and False in flags.values()
    for text, flag in flags.items():
        assert flag == (len(text.split()) == 3)
    assert all(c.verbatim is None for c in words_engine.suggest(SONG, 2, seed=10))


# -- loading --------------------------------------------------------------------------------


def copy_model(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst)
    return dst


def test_missing_and_damaged_models_fail_with_one_line(tmp_path, tiny_dir):
    with pytest.raises(NotFound, match="no model folder"):
        Suggester.load(str(tmp_path / "nope"))
    with pytest.raises(InvalidInput, match="not a model folder"):
        Suggester.load(str(tiny_dir / "config.json"))
    garbage = copy_model(tiny_dir, tmp_path / "garbage")
    (garbage / "model.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(LyricError, match="corrupt or incomplete"):
        Suggester.load(str(garbage))
    cut = copy_model(tiny_dir, tmp_path / "cut")
    data = (cut / "model.safetensors").read_bytes()
    (cut / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(LyricError, match="corrupt or incomplete"):
        Suggester.load(str(cut))
    partial = copy_model(tiny_dir, tmp_path / "partial")
    (partial / "card.json").write_text('{"files": {"model.safetensors": 123}}')
    with pytest.raises(LyricError, match="incomplete"):
        Suggester.load(str(partial))
    no_config = copy_model(tiny_dir, tmp_path / "noconfig")
    (no_config / "config.json").unlink()
    with pytest.raises(LyricError, match="config.json"):
        Suggester.load(str(no_config))


class _Trap:
    """Unpickling this runs code: it creates the file named by `marker`."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickle_only_models_are_refused_unopened(tmp_path, tiny_dir):
    for name in ("pytorch_model.bin", "adapter_model.bin"):
        folder = copy_model(tiny_dir, tmp_path / name)
        (folder / "model.safetensors").unlink()
        if name.startswith("adapter"):
            (folder / "adapter_config.json").write_text('{"base_model_name_or_path": "gpt2"}')
        marker = tmp_path / f"{name}.opened"
        (folder / name).write_bytes(pickle.dumps(_Trap(str(marker))))
        with pytest.raises(InvalidInput, match="pickle"):
            Suggester.load(str(folder))
        assert not marker.exists()


def test_lora_adapter_loads_over_its_base(tmp_path, tiny_dir, tokenizer):
    import json

    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import GPT2LMHeadModel

    torch.manual_seed(0)
    base = GPT2LMHeadModel.from_pretrained(tiny_dir)
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["c_attn"], fan_in_fan_out=True,
                        init_lora_weights=False)
    with quiet_peft():  # peft's deprecated question to transformers, as the app asks it
        peft_model = get_peft_model(base, config).eval()
    folder = tmp_path / "lora"
    peft_model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    (folder / "card.json").write_text(json.dumps({"base": str(tiny_dir), "method": "lora"}))
    assert (folder / "adapter_model.safetensors").exists()

    engine = Suggester.load(str(folder), dtype="float32")
    assert engine.loaded.method == "lora"
    ids = [tokenizer.eos_token_id] + tokenizer.encode(SONG)
    got = engine.decoder.prepare(ids, lambda: False)
    with torch.no_grad():
        want = peft_model(torch.tensor([ids])).logits[0, -1]
        plain = GPT2LMHeadModel.from_pretrained(tiny_dir)(torch.tensor([ids])).logits[0, -1]
    assert torch.allclose(got, want, atol=1e-4)
    assert not torch.allclose(got, plain, atol=1e-2)
    assert len(engine.suggest(SONG, 2, seed=1)) == 2


def test_artist_lookup(library, tiny_dir, tmp_path):
    with pytest.raises(NotFound, match="no artist"):
        Suggester.for_artist(library, "Nobody")
    artist = library.add_artist("Someone", "imported")
    library.add_song(artist.id, "One", "I walk along the road all day\nNo way\n")
    with pytest.raises(NotFound, match="no trained model"):
        Suggester.for_artist(library, "Someone")
    worse = copy_model(tiny_dir, tmp_path / "worse")
    library.add_model("m-worse", artist.id, base="starter", method="full", path=str(worse),
                      val_loss=3.0, perplexity=20.0, size_bytes=1)
    library.add_model("m-best", artist.id, base="starter", method="full", path=str(tiny_dir),
                      val_loss=2.0, perplexity=7.4, size_bytes=1)
    engine = Suggester.for_artist(library, "someone")
    assert engine.loaded.source == str(tiny_dir)
    assert engine._reference == {"i walk along the road all day", "no way"}
    chosen = Suggester.for_artist(library, "Someone", model="m-worse")
    assert chosen.loaded.source == str(worse)


# -- CLI ------------------------------------------------------------------------------------


def test_cli_suggest_scan_and_rhymes(tmp_path, words_dir, library):
    import json

    from click.testing import CliRunner

    from lyrictui.cli import cli

    runner = CliRunner()
    args = ["suggest", "--model", str(words_dir), "-n", "3", "--seed", "1", "--json",
            "--rhyme-with", "play"]
    result = runner.invoke(cli, args, input=SONG)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert len(rows) == 3 and all(r["rhyme"] == "perfect" for r in rows)
    assert runner.invoke(cli, args, input=SONG).output == result.output

    words = runner.invoke(cli, ["suggest", "--model", str(words_dir), "--words", "3"], input="I")
    assert words.exit_code == 0 and len(words.output.splitlines()) == 3

    library.add_artist("Untrained", "imported")
    missing = runner.invoke(cli, ["suggest", "Untrained"], input=SONG)
    assert missing.exit_code == 2 and "no trained model" in missing.output
    assert "Traceback" not in missing.output
    unknown = runner.invoke(cli, ["suggest", "Nobody At All"], input=SONG)
    assert unknown.exit_code == 2 and "no artist" in unknown.output

    song = tmp_path / "song.txt"
    song.write_text("Roses are red\nViolets are blue\nI'm in my bed\nThinking of you\n")
    scanned = runner.invoke(cli, ["scan", str(song), "--json"])
    assert [r["letter"] for r in json.loads(scanned.output)] == ["A", "B", "A", "B"]
    rhymed = runner.invoke(cli, ["rhymes", "night"])
    assert rhymed.exit_code == 0 and "light" in rhymed.output.split(", ")


def test_requests_use_the_installed_transformers_names_without_deprecation_warnings(tiny_dir):
    """The cache argument was renamed in transformers 5.24; the old name warns on stderr,
    which the CLI's one-line errors and the app's screen must not show."""
    import warnings

    fresh = Suggester.load(str(tiny_dir), device="cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        assert fresh.suggest("the night is cold\n", n=3, seed=1)  # prefill + decode steps
        assert fresh.suggest("the night is cold\nand I am here\n", n=3, seed=2)  # warm
        assert fresh.next_words("the night is", k=3)


def test_thread_policy_sets_the_engines_torch_threads_per_request(tiny_dir, monkeypatch):
    """Issue 16 item 6: while a CPU training run is active the engine runs on one core fewer
    (the policy says how many), and goes back to the process's own count after it."""
    import torch

    import lyrictui.core.engine.suggest as suggest_module

    monkeypatch.setattr(suggest_module, "THREADS_RECHECK_S", 0.0)
    own = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        engine = Suggester.load(str(tiny_dir), device="cpu")
        wanted: list[int | None] = [1]
        engine.thread_policy = lambda: wanted[0]
        assert engine.suggest(SONG, 2, seed=1)
        assert torch.get_num_threads() == 1
        engine.next_words("I walk", 3)
        assert torch.get_num_threads() == 1
        wanted[0] = None  # the run ended
        engine.suggest(SONG, 2, seed=1)
        assert torch.get_num_threads() == 2

        def broken() -> int | None:
            raise OSError("library unreadable")

        engine.thread_policy = broken  # a library that cannot be read changes nothing
        engine.suggest(SONG, 2, seed=1)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(own)


def test_engines_in_the_app_follow_suggest_threads_of_its_library(library, tiny_dir, monkeypatch):
    import lyrictui.core.train.runs as runs
    from lyrictui.services import Services

    services = Services(library=library)
    engine = Suggester.load(str(tiny_dir), device="cpu")
    services.engines.put("tiny", engine)
    assert engine.thread_policy is not None
    assert engine.thread_policy() is None  # no run is training
    seen = []
    monkeypatch.setattr(runs, "suggest_threads", lambda lib: seen.append(lib) or 1)
    assert engine.thread_policy() == 1 and seen == [library]
