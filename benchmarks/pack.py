"""Packing a 2-million-token corpus: lyrictui's `pack` vs HuggingArtists' way, in one run.

Corpus: the first blocks of data/verse/verse.txt.gz (public-domain verse; each blank-line
separated block is one song) until the GPT-2 token count reaches --tokens.

- ours: `lyrictui.core.pack.packing.pack(..., base="starter", block_size=512)` on a library holding
  those songs (tokenize with datasets.map, EOS after each song, split by song, cut blocks,
  save_to_disk), then the same call again (unchanged data: the cache hit), then the cache hit
  as a user sees it: a fresh `lyrictui pack` process (Python start and imports included).
- baseline: run_clm-style, as HuggingArtists trained: the songs as a `load_dataset("json")`
  text column, `tokenizer(examples["text"])` mapped in batches, `group_texts` (concatenate
  everything, no separator, cut blocks of 512, labels copied) mapped in batches, with datasets'
  own fingerprint cache; run twice (the second run is datasets' cache, if it hits).

One repetition each (CPU-heavy), num_proc unset; the GPT-2 tokenizer's own batch threads are
capped by --threads. Prints one JSON object per line.

    python benchmarks/pack.py
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VERSE = ROOT / "data" / "verse" / "verse.txt.gz"
BLOCK = 512


WALLS: dict[str, float] = {}


def emit(**data: object) -> None:
    if "engine" in data and isinstance(data.get("wall_s"), float):
        WALLS[str(data["engine"])] = float(data["wall_s"])  # type: ignore[arg-type]
    print(json.dumps(data), flush=True)


def read_songs(limit_tokens: int) -> tuple[list[str], int]:
    """Verse blocks until `limit_tokens` GPT-2 tokens (counted with a throwaway tokenizer)."""
    from lyrictui.core.engine.bases import load_tokenizer

    counter = load_tokenizer("starter")
    with gzip.open(VERSE, "rt", encoding="utf-8") as fh:
        blocks = [b.strip() for b in fh.read().split("\n\n") if b.strip()]
    songs: list[str] = []
    total = 0
    for start in range(0, len(blocks), 500):
        chunk = blocks[start:start + 500]
        lengths = [len(ids) for ids in counter(chunk, verbose=False)["input_ids"]]
        for song, n in zip(chunk, lengths, strict=True):
            if total >= limit_tokens:
                return songs, total
            songs.append(song)
            total += n
    return songs, total


def run_ours(songs: list[str], home: Path) -> None:
    from lyrictui.core.pack.packing import pack
    from lyrictui.core.paths import dir_size
    from lyrictui.core.store.library import Library
    from lyrictui.core.store.records import NewSong

    lib = Library()
    artist = lib.add_artist("Verse", "imported")
    lib.add_songs(artist.id, [NewSong(f"Song {i}", s, source_key=str(i))
                              for i, s in enumerate(songs)])
    for label in ("ours_first", "ours_cached"):
        t0 = time.perf_counter()
        result = pack(lib, artist, base="starter", block_size=BLOCK)
        wall = time.perf_counter() - t0
        s = result.stats
        emit(engine=label, cached=result.cached, wall_s=round(wall, 3),
             disk_bytes=dir_size(result.path),
             tokens_per_s=round(s.tokens / wall), tokens=s.tokens, train_blocks=s.train_blocks,
             val_blocks=s.val_blocks, train_songs=s.train_songs, val_songs=s.val_songs,
             dropped_tokens=s.dropped_tokens)
    lib.close()
    env = {**os.environ, "LYRICTUI_HOME": str(home)}
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "lyrictui", "pack", "Verse", "--base", "starter",
                           "--block-size", str(BLOCK)], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    emit(engine="ours_cached_cli", wall_s=round(wall, 3), rc=proc.returncode,
         already_packed=proc.stdout.startswith("Already packed"))


def run_baseline(songs: list[str], work: Path) -> None:
    """run_clm.py's tokenize_function + group_texts over the same songs (no separator)."""
    data_file = work / "songs.jsonl"
    with data_file.open("w", encoding="utf-8") as fh:
        for song in songs:
            fh.write(json.dumps({"text": song}) + "\n")
    for label in ("baseline_first", "baseline_second"):
        baseline_once(label, data_file, work / "hf-cache")


def baseline_once(label: str, data_file: Path, cache_dir: Path) -> None:
    from itertools import chain

    from datasets import load_dataset

    from lyrictui.core.engine.bases import load_tokenizer

    t0 = time.perf_counter()
    tokenizer = load_tokenizer("starter")
    raw = load_dataset("json", data_files=str(data_file), cache_dir=str(cache_dir),
                       split="train")

    def tokenize_function(examples):
        return tokenizer(examples["text"])

    def group_texts(examples):
        concatenated = {k: list(chain(*examples[k])) for k in examples.keys()}
        total_length = len(concatenated[list(examples.keys())[0]])
        total_length = (total_length // BLOCK) * BLOCK
        result = {k: [t[i:i + BLOCK] for i in range(0, total_length, BLOCK)]
                  for k, t in concatenated.items()}
        result["labels"] = result["input_ids"].copy()
        return result

    tokenized = raw.map(tokenize_function, batched=True, remove_columns=["text"])
    grouped = tokenized.map(group_texts, batched=True)
    wall = time.perf_counter() - t0
    tokens = sum(len(ids) for ids in tokenized["input_ids"])
    size = sum(Path(f["filename"]).stat().st_size for f in grouped.cache_files)
    emit(engine=label, wall_s=round(wall, 3), tokens_per_s=round(tokens / wall), tokens=tokens,
         blocks=len(grouped), columns=grouped.column_names, disk_bytes=size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=2_000_000)
    parser.add_argument("--threads", type=int, default=2,
                        help="tokenizer batch threads (RAYON_NUM_THREADS), same for both sides")
    args = parser.parse_args()
    os.environ["RAYON_NUM_THREADS"] = str(args.threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ["LYRICTUI_NO_DEMO"] = "1"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        home = work / "home"
        os.environ["LYRICTUI_HOME"] = str(home)
        os.environ["HF_DATASETS_CACHE"] = str(work / "hf-cache")
        t0 = time.perf_counter()
        import datasets
        import transformers

        transformers.logging.set_verbosity_error()  # run_clm's long-sequence warnings
        datasets.disable_progress_bars()
        emit(stage="imports", wall_s=round(time.perf_counter() - t0, 3))
        songs, tokens = read_songs(args.tokens)
        emit(stage="corpus", songs=len(songs), tokens_without_eos=tokens,
             chars=sum(len(s) for s in songs), block_size=BLOCK, threads=args.threads)
        run_ours(songs, home)
        run_baseline(songs, work)
        emit(ratio="baseline wall / ours wall",
             first=round(WALLS["baseline_first"] / WALLS["ours_first"], 2),
             cached=round(WALLS["baseline_second"] / WALLS["ours_cached"], 2))


if __name__ == "__main__":
    main()
