"""Does fine-tuning learn a songwriter's own songs? The bundled starter, the default budget, a CPU.

1. A fresh LYRICTUI_HOME; the 32 original songs of tests/data/original-songs (written for
   lyrictui, MIT; see its NOTE.md) imported with `lyrictui import NAME FILES`.
2. `lyrictui train NAME --base starter --device cpu` with no other option (the budget of
   core/train/budget.py decides steps, block size and validation share), timed from the
   command's start to its end (measuring, packing, training, evaluations and saving included).
3. Held-out perplexity, before (the starter) and after (the fine-tuned model): the songs the run
   held out for validation (whole songs, `validation_song_ids` of its pack), each scored as its
   own sequence (EOS, the song's tokens, EOS) by the same code in float32; perplexity =
   exp(total nats / total predicted tokens).
4. Own vocabulary: the corpus's own words are the words (lowercased runs of letters and
   apostrophes) of its training songs that never occur in the starter's training verse
   (data/verse/verse.txt.gz). For every held-out song, each model (through the composer's
   engine, `Suggester`, float32 on the CPU, fixed seeds) suggests 5 next lines after the song's
   first 4, 8 and 12 lines; the figure is the share of suggested lines holding at least one own
   word, and the share of all suggested words that are own words.

    python benchmarks/finetune.py                  # the defaults
    python benchmarks/finetune.py -- --max-steps 60    # anything after -- goes to lyrictui train

Prints one JSON object per result. Goal: held-out perplexity at least 40 % lower than the
starter's, within 5 minutes on a 2-core CPU.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SONGS = ROOT / "tests" / "data" / "original-songs"
VERSE = ROOT / "data" / "verse" / "verse.txt.gz"
ARTIST = "Original Songs"
WORD = re.compile(r"[a-z']+")
PROMPT_LINES = (4, 8, 12)


def words(text: str) -> list[str]:
    return [w.strip("'") for w in WORD.findall(text.lower()) if w.strip("'")]


def held_out_perplexity(folder: str, texts: list[str]) -> float:
    """exp(total nats / total predicted tokens) over `texts`, each scored as its own sequence."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32,
                                                 use_safetensors=True).eval()
    nats, count = 0.0, 0
    with torch.no_grad():
        for text in texts:
            ids = torch.tensor([[tok.eos_token_id, *tok.encode(text), tok.eos_token_id]])
            n = ids.shape[1] - 1
            nats += model(input_ids=ids, labels=ids).loss.item() * n
            count += n
    return math.exp(nats / count)


def own_vocabulary(train_texts: list[str]) -> set[str]:
    with gzip.open(VERSE, "rt", encoding="utf-8") as fh:
        verse = set(words(fh.read()))
    return {w for text in train_texts for w in words(text)} - verse


def vocabulary_use(source: str, texts: list[str], own: set[str]) -> dict:
    from lyrictui.core.engine.suggest import Suggester

    engine = Suggester.load(source, device="cpu", dtype="float32")
    lines = hits = total_words = own_words = 0
    samples: list[str] = []
    for i, text in enumerate(texts):
        song = text.splitlines()
        for k in PROMPT_LINES:
            if len(song) <= k:
                continue
            got = engine.suggest("\n".join(song[:k]) + "\n", n=5, seed=i * 100 + k)
            for cand in got:
                found = words(cand.text)
                lines += 1
                hits += any(w in own for w in found)
                total_words += len(found)
                own_words += sum(w in own for w in found)
                if len(samples) < 6:
                    samples.append(cand.text)
    return {"suggested_lines": lines, "lines_with_own_words": round(hits / max(lines, 1), 3),
            "own_word_share": round(own_words / max(total_words, 1), 4), "sample": samples}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2, help="torch threads for scoring")
    parser.add_argument("--keep", action="store_true", help="keep the temporary home")
    parser.add_argument("train_args", nargs="*", help="extra `lyrictui train` options (after --)")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="lyrictui-finetune-"))
    env = dict(os.environ, LYRICTUI_HOME=str(home), LYRICTUI_NO_DEMO="1",
               HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    try:
        files = sorted(str(p) for p in SONGS.glob("*.txt"))
        subprocess.run([sys.executable, "-m", "lyrictui", "import", ARTIST, *files], env=env,
                       check=True, capture_output=True, text=True)
        command = [sys.executable, "-m", "lyrictui", "train", ARTIST, "--base", "starter",
                   "--device", "cpu", *args.train_args]
        start = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if done.returncode:
            sys.exit(f"lyrictui train failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
        plan = [line for line in done.stdout.splitlines()[:4] if not line.startswith("run ")]
        print(json.dumps({"bench": "finetune", "command": " ".join(command[1:]), "plan": plan}))

        import torch

        torch.set_num_threads(args.threads)
        from lyrictui.core import paths
        from lyrictui.core.pack.manifest import read_manifest
        from lyrictui.core.pack.packing import song_text
        from lyrictui.core.store.library import Library
        from lyrictui.core.train import runs

        library = Library()
        artist = library.get_artist(ARTIST)
        run = library.list_runs(artist.id)[0]
        events = runs.read_events(runs.run_dir(run), 0)[0]
        start_event = next(e for e in events if e["type"] == "start")
        stats = read_manifest(Path(start_event["dataset"]["path"]))
        assert stats is not None, "the run's pack is gone"
        held = set(stats.validation_song_ids)
        songs = library.songs(artist.id)
        val_texts = [song_text(s.lyrics) for s in songs if s.id in held]
        train_texts = [song_text(s.lyrics) for s in songs if s.id not in held]
        model = library.get_model(run.model_id)
        before = held_out_perplexity(str(paths.starter_dir()), val_texts)
        after = held_out_perplexity(model.path, val_texts)
        steps = [e for e in events if e["type"] == "step"]
        print(json.dumps({
            "bench": "finetune", "status": run.status, "wall_s": round(wall, 1),
            "steps": run.step, "total_steps": run.total_steps,
            "songs": len(songs), "held_out_songs": len(val_texts),
            "block_size": start_event["config"]["block_size"],
            "val_fraction": start_event["config"]["val_fraction"],
            "tokens_per_s_median": round(sorted(e["tokens_per_s"] for e in steps)[len(steps) // 2])
            if steps else None,
            "held_out_ppl_starter": round(before, 1), "held_out_ppl_finetuned": round(after, 1),
            "reduction": round(1 - after / before, 3)}))
        own = own_vocabulary(train_texts)
        print(json.dumps({"bench": "finetune-vocabulary", "own_words": sorted(own)}))
        for name, source in (("starter", "starter"), ("finetuned", model.path)):
            print(json.dumps({"bench": "finetune-vocabulary", "model": name,
                              "own_words": len(own), **vocabulary_use(source, val_texts, own)}))
    finally:
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
