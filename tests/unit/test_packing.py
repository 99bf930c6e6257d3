"""Packing songs into training blocks, with the starter's real tokenizer and real datasets on disk."""

from __future__ import annotations

import gzip
import json
import os
from functools import cache
from pathlib import Path

import pytest
from click.testing import CliRunner

from lyrictui.core import paths
from lyrictui.core.engine.bases import model_window
from lyrictui.core.errors import Cancelled, InvalidInput, LyricError, NotFound
from lyrictui.core.pack.packing import load_packed, pack, song_text
from lyrictui.core.store.library import Library
from lyrictui.core.store.records import Artist
from lyrictui.core.store.status import dataset_status

# huggingface_hub reads HF_HUB_OFFLINE once, when it is imported; the session-scoped tokenizer
# fixture can import it before the autouse fixture sets the variable, and then `--base gpt2`
# would try the network (and back off for a minute) instead of failing at once. Set it from
# collection on.
os.environ["HF_HUB_OFFLINE"] = "1"

VERSE = Path(__file__).resolve().parents[2] / "data" / "verse" / "verse.txt.gz"


@pytest.fixture(scope="module")
def starter_tokenizer():
    """The starter's BPE read straight from its vocab.json and merges.txt (not through the
    code under test): what a pack for `--base starter` must decode with."""
    from transformers import GPT2TokenizerFast

    folder = paths.starter_dir()
    tok = GPT2TokenizerFast(str(folder / "vocab.json"), str(folder / "merges.txt"))
    assert tok.eos_token == "<|endoftext|>"
    return tok

# Texts a byte-level BPE must give back exactly; the last one must not become a song break.
HARD = [
    "Oh " * 1500 + "a line far longer than any block, " * 40,
    "Fire 🔥🔥 and family 👩‍👩‍👧‍👦, flags 🇯🇵🇧🇷, skin 👍🏽\nzero\u200dwidth and e\u0301 combining",
    "夜空に星が光る\n사랑해요 오늘 밤\nالحب في الليل\nरात का सपना\nΚαλημέρα κόσμε\nПривет, мир",
    "tabs\tand  double  spaces   kept\n\n\nblank lines kept\n  indented line",
    "a song that spells <|endoftext|> inside its lyrics, which stays text",
]


@cache
def verse_blocks(count: int) -> tuple[str, ...]:
    """The first `count` blocks of the repo's public-domain verse corpus, as songs."""
    blocks: list[str] = []
    lines: list[str] = []
    with gzip.open(VERSE, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                lines.append(line.rstrip("\n"))
            elif lines:
                blocks.append("\n".join(lines))
                lines = []
                if len(blocks) == count:
                    break
    return tuple(blocks)


def add_songs(library: Library, artist: Artist, texts: list[str] | tuple[str, ...],
              start: int = 0) -> None:
    for i, text in enumerate(texts, start):
        library.add_song(artist.id, f"Song {i}", text, source_key=f"key-{i}")


def sides(path: Path, tokenizer) -> dict[str, dict[str, list]]:
    """Per split: the ids concatenated, and the songs read back from them (EOS-terminated
    pieces as text; the piece after the last EOS is a song cut by the dropped remainder)."""
    packed = load_packed(path)
    out = {}
    for split in ("train", "validation"):
        ids = [t for block in packed[split]["input_ids"] for t in block]
        pieces, current = [], []
        for t in ids:
            if t == tokenizer.eos_token_id:
                pieces.append(current)
                current = []
            else:
                current.append(t)
        out[split] = {"ids": ids, "songs": [tokenizer.decode(p) for p in pieces], "tail": current}
    return out


@pytest.fixture
def poet(library: Library) -> Artist:
    artist = library.add_artist("Poet", "imported")
    add_songs(library, artist, HARD + list(verse_blocks(40)))
    return artist


def test_songs_come_back_exactly_with_eos_after_each(library, poet, starter_tokenizer) -> None:
    result = pack(library, poet, base="starter", block_size=64, val_fraction=0.3)
    songs = library.songs(poet.id)
    val_ids = set(result.stats.validation_song_ids)
    expected = {
        "train": [song_text(s.lyrics) for s in songs if s.id not in val_ids],
        "validation": [song_text(s.lyrics) for s in songs if s.id in val_ids],
    }
    data = sides(result.path, starter_tokenizer)
    for split, want in expected.items():
        got = data[split]["songs"]
        # Every song, in library order, separated by EOS, text identical after decode; only the
        # last one may be cut short by the dropped remainder.
        assert got == want[: len(got)]
        assert len(got) >= len(want) - 1
        if len(got) < len(want):
            assert starter_tokenizer.encode(want[-1])[: len(data[split]["tail"])] == data[split]["tail"]
    complete = set(data["train"]["songs"]) | set(data["validation"]["songs"])
    assert {song_text(t) for t in HARD} <= complete
    assert not set(data["train"]["songs"]) & set(data["validation"]["songs"])
    # The "<|endoftext|>" spelled in lyrics stayed text: EOS count is the song count exactly.
    eos_total = sum(d["ids"].count(starter_tokenizer.eos_token_id) for d in data.values())
    assert eos_total == len(complete)
    assert result.stats.train_songs + result.stats.val_songs == len(songs)


def test_blocks_have_the_stated_size_and_stats_add_up(library, poet) -> None:
    for block_size in (32, 100):
        result = pack(library, poet, base="starter", block_size=block_size)
        packed = load_packed(result.path)
        assert set(packed) == {"train", "validation"}
        assert packed["train"].column_names == ["input_ids"]
        lengths = {len(b) for split in packed.values() for b in split["input_ids"]}
        assert lengths == {block_size}
        s = result.stats
        assert (s.train_blocks, s.val_blocks) == (len(packed["train"]), len(packed["validation"]))
        assert s.tokens == s.train_tokens + s.val_tokens
        assert s.dropped_tokens == s.tokens - block_size * (s.train_blocks + s.val_blocks)
        assert 0 <= s.dropped_tokens < 2 * block_size
        record = library.latest_dataset(poet.id)
        assert (record.key, record.block_size, record.tokens) == (result.record.key, block_size,
                                                                  s.tokens)


def test_short_validation_split_is_kept_as_one_shorter_block(library, starter_tokenizer) -> None:
    artist = library.add_artist("Small", "imported")
    add_songs(library, artist, verse_blocks(12))
    block = model_window("starter")  # the largest block the starter accepts
    result = pack(library, artist, base="starter", block_size=block, val_fraction=0.05)
    packed = load_packed(result.path)
    assert result.stats.val_tokens < block
    assert [len(b) for b in packed["validation"]["input_ids"]] == [result.stats.val_tokens]
    assert {len(b) for b in packed["train"]["input_ids"]} == {block}
    assert packed["validation"]["input_ids"][0][-1] == starter_tokenizer.eos_token_id


def test_split_is_unchanged_when_songs_are_added(library, starter_tokenizer) -> None:
    artist = library.add_artist("Growing", "imported")
    corpus = verse_blocks(90)
    add_songs(library, artist, corpus[:45])
    library.add_song(artist.id, "Untitled", "  \n ")  # kept but empty: counted, not packed
    first = pack(library, artist, base="starter", block_size=64)
    before = sides(first.path, starter_tokenizer)
    assert library.summaries()[0].songs_fingerprint and dataset_status(
        library.summaries()[0]) == "packed"

    add_songs(library, artist, corpus[45:], start=45)
    assert dataset_status(library.summaries()[0]) == "stale"
    second = pack(library, artist, base="starter", block_size=64)
    after = sides(second.path, starter_tokenizer)
    assert second.record.key != first.record.key and not second.cached
    assert dataset_status(library.summaries()[0]) == "packed"

    old_val = set(first.stats.validation_song_ids)
    assert old_val and len(old_val) < 45
    ids_by_key = {s.source_key: s.id for s in library.songs(artist.id)}
    old_ids = {ids_by_key[f"key-{i}"] for i in range(45)}
    assert set(second.stats.validation_song_ids) & old_ids == old_val
    assert set(second.stats.validation_song_ids) - old_ids  # some new songs validate too
    # The same, read from the stored tokens: no old song changed sides.
    for split, other in (("train", "validation"), ("validation", "train")):
        old_texts = set(before[split]["songs"])
        assert not old_texts & set(after[other]["songs"])
        assert old_texts <= set(after[split]["songs"])


def test_second_pack_is_a_cache_hit_without_tokenizing(library, poet) -> None:
    stages: list[str] = []
    first = pack(library, poet, base="starter", block_size=128,
                 on_progress=lambda stage, done: stages.append(stage))
    assert not first.cached and "tokenizing" in stages
    stamp = (first.path / "dataset_dict.json").stat().st_mtime_ns
    stages.clear()
    second = pack(library, poet, base="starter", block_size=128,
                  on_progress=lambda stage, done: stages.append(stage))
    assert second.cached and stages == []
    assert second.path == first.path and second.stats == first.stats
    assert (first.path / "dataset_dict.json").stat().st_mtime_ns == stamp
    # Another block size or fraction is another dataset; a deleted folder is packed again.
    assert not pack(library, poet, base="starter", block_size=64).cached
    assert not pack(library, poet, base="starter", block_size=128, val_fraction=0.2).cached
    import shutil

    shutil.rmtree(first.path)
    again = pack(library, poet, base="starter", block_size=128)
    assert not again.cached and again.path == first.path and again.stats == first.stats


def test_a_model_folder_with_the_same_tokenizer_shares_the_dataset(
        library, poet, tmp_path, tiny_gpt2, starter_tokenizer, tiny_model_dir) -> None:
    first = pack(library, poet, base="starter", block_size=128)
    same = tiny_gpt2(tmp_path / "starter-vocab", tokenizer=starter_tokenizer)
    shared = pack(library, poet, base=str(same), block_size=128)
    assert shared.cached and shared.path == first.path
    assert shared.record.base == str(same.absolute())
    other = pack(library, poet, base=str(tiny_model_dir), block_size=128)  # GPT-2's vocabulary
    assert not other.cached and other.path != first.path


def test_bad_inputs_each_get_one_clear_line(library, poet, tiny_model_dir) -> None:
    empty = library.add_artist("Empty", "imported")
    with pytest.raises(NotFound, match="no songs"):
        pack(library, empty, base="starter")
    skipped = library.add_artist("Skipped", "imported")
    library.add_song(skipped.id, "Intro", "", skipped_reason="no lyrics")
    library.add_song(skipped.id, "Skit", "talking", skipped_reason="instrumental")
    with pytest.raises(InvalidInput, match="all 2 songs .* were skipped"):
        pack(library, skipped, base="starter")
    lonely = library.add_artist("Lonely", "imported")
    library.add_song(lonely.id, "Only", "one song\nis all there is")
    with pytest.raises(InvalidInput, match="at least two"):
        pack(library, lonely, base="starter")
    tiny = library.add_artist("Tiny", "imported")
    add_songs(library, tiny, ["la la la\nla la", "short one", "another short one"])
    with pytest.raises(InvalidInput, match="less than one block of 512.*--block-size"):
        pack(library, tiny, base="starter", block_size=512)
    with pytest.raises(LyricError, match="'gpt2' is not available.*--base starter"):
        pack(library, poet, base="gpt2")
    with pytest.raises(LyricError, match="not available"):
        pack(library, poet, base="no-such-model-anywhere")
    with pytest.raises(InvalidInput, match="no model folder"):
        pack(library, poet, base="./no/such/folder")
    with pytest.raises(InvalidInput, match="--block-size 0 is too small"):
        pack(library, poet, base="starter", block_size=0)
    window = model_window("starter")
    with pytest.raises(InvalidInput, match=f"above the window of 'starter' \\({window}"):
        pack(library, poet, base="starter", block_size=window + 1)
    with pytest.raises(InvalidInput, match="window .* \\(256 tokens\\)"):
        pack(library, poet, base=str(tiny_model_dir), block_size=512)
    for fraction in (0.0, 0.8, -0.1):
        with pytest.raises(InvalidInput, match="--val-fraction"):
            pack(library, poet, base="starter", val_fraction=fraction)
    # Nothing half-written anywhere, nothing recorded.
    for artist in (empty, skipped, lonely, tiny, poet):
        folder = paths.datasets_dir(artist.slug)
        assert not folder.exists() or not any(folder.iterdir())
        assert library.latest_dataset(artist.id) is None


def test_cancel_or_crash_leaves_no_folder_and_stale_temps_are_cleaned(library, poet) -> None:
    parent = paths.datasets_dir(poet.slug)
    parent.mkdir(parents=True)
    leftover = parent / ".tmp-0123456789abcdef0123456789abcdef-999999999"
    (leftover / "train").mkdir(parents=True)

    def cancel(stage: str, done: float) -> None:
        if stage == "saving":
            raise Cancelled("packing cancelled")

    with pytest.raises(Cancelled):
        pack(library, poet, base="starter", block_size=64, on_progress=cancel)
    assert list(parent.iterdir()) == []
    assert library.latest_dataset(poet.id) is None
    result = pack(library, poet, base="starter", block_size=64)
    assert [p.name for p in parent.iterdir()] == [result.path.name]


def test_broken_folder_is_packed_again(library, poet) -> None:
    first = pack(library, poet, base="starter", block_size=64)
    (first.path / "pack.json").write_text("{not json", encoding="utf-8")
    again = pack(library, poet, base="starter", block_size=64)
    assert not again.cached and json.loads((again.path / "pack.json").read_text())["key"]
    with pytest.raises(LyricError, match="unreadable"):
        load_packed(again.path / "train" / "missing")


def test_cli_packs_then_says_already_packed(library, poet) -> None:
    from lyrictui.cli import cli

    runner = CliRunner()
    first = runner.invoke(cli, ["pack", "poet", "--base", "starter", "--block-size", "64"])
    assert first.exit_code == 0, first.output
    assert first.output.startswith('Packed "Poet" for starter: 45 songs')
    second = runner.invoke(cli, ["pack", "Poet", "--base", "starter", "--block-size", "64",
                                 "--json"])
    data = json.loads(second.output)
    assert data["cached"] is True and data["train_songs"] + data["val_songs"] == 45
    third = runner.invoke(cli, ["pack", "Poet", "--base", "starter", "--block-size", "64"])
    assert third.output.startswith('Already packed "Poet"')
    # Offline with gpt2 not downloaded, the default base is the one a run would use: starter.
    default = runner.invoke(cli, ["pack", "Poet"])
    assert default.exit_code == 0, default.output
    assert default.output.startswith('Packed "Poet" for starter'), default.output
    offline = runner.invoke(cli, ["pack", "Poet", "--base", "gpt2"])
    assert offline.exit_code == 2
    lines = offline.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "--base starter" in lines[0]


def test_new_packs_replace_all_but_the_newest_few(library, starter_tokenizer) -> None:
    from lyrictui.core.pack.packing import KEEP_PACKS

    artist = library.add_artist("Prolific", "imported")
    corpus = verse_blocks(30)
    made = []
    for round_ in range(KEEP_PACKS + 2):  # each round adds songs, so each pack is new
        add_songs(library, artist, corpus[round_ * 5:(round_ + 1) * 5], start=round_ * 5)
        made.append(pack(library, artist, base="starter", block_size=64))
    assert len({p.record.key for p in made}) == len(made) and not any(p.cached for p in made)

    kept, dropped = made[-KEEP_PACKS:], made[:-KEEP_PACKS]
    rows = library.db.conn.execute("SELECT key, path FROM datasets WHERE artist_id = ?",
                                   (artist.id,)).fetchall()
    assert {r["key"] for r in rows} == {p.record.key for p in kept}
    on_disk = {d.name for d in paths.datasets_dir(artist.slug).iterdir()}
    assert on_disk == {p.record.key for p in kept}
    assert all(not p.path.exists() for p in dropped)
    assert library.latest_dataset(artist.id).key == made[-1].record.key
    assert sides(made[-1].path, starter_tokenizer)["train"]["ids"]  # the newest still loads

    # A cache hit on the newest prunes nothing; a new pack (another block size) makes room.
    assert pack(library, artist, base="starter", block_size=64).cached
    again = pack(library, artist, base="starter", block_size=32)
    assert not again.cached and again.path.exists() and kept[-1].path.exists()
    assert not kept[0].path.exists()  # the oldest kept one made room
