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
    python benchmarks/finetune.py --disk           # what four small starter runs leave on disk

--disk: four short runs of the starter on the same songs (`--max-steps 8 --save-every 2`): one
completed, one cancelled (`lyrictui cancel`) and one killed (SIGKILL) after their first
checkpoint, one more completed; then the bytes under the artist's runs/ and models/ folders,
before and after `lyrictui runs --prune`, and whether the two stopped runs still resume.

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


def disk(env: dict, files: list[str]) -> None:
    import signal

    from lyrictui.core import paths
    from lyrictui.core.store.library import Library
    from lyrictui.core.train import runs

    lyrictui = [sys.executable, "-m", "lyrictui"]
    subprocess.run([*lyrictui, "import", ARTIST, *files], env=env, check=True,
                   capture_output=True)
    short = ["--base", "starter", "--device", "cpu", "--max-steps", "8", "--save-every", "2"]
    library = Library()

    def detached_until_checkpoint() -> str:
        out = subprocess.run([*lyrictui, "train", ARTIST, *short, "--detach"], env=env,
                             check=True, capture_output=True, text=True)
        run_id = out.stdout.strip().splitlines()[-1]
        folder = runs.run_dir(library.get_run(run_id))
        while not any(e["type"] == "checkpoint" for e in runs.read_events(folder, 0)[0]):
            time.sleep(0.5)
        return run_id

    def settle(run_id: str) -> None:
        while runs.artist_lock_holder(library.get_artist(ARTIST)) is not None:
            time.sleep(0.5)
        runs.mark_stale_runs(library)

    subprocess.run([*lyrictui, "train", ARTIST, *short], env=env, check=True, capture_output=True)
    cancelled = detached_until_checkpoint()
    subprocess.run([*lyrictui, "cancel", cancelled], env=env, check=True, capture_output=True)
    settle(cancelled)
    killed = detached_until_checkpoint()
    os.kill(library.get_run(killed).pid, signal.SIGKILL)
    settle(killed)
    subprocess.run([*lyrictui, "train", ARTIST, *short], env=env, check=True, capture_output=True)
    slug = library.get_artist(ARTIST).slug

    def sizes() -> dict:
        run_bytes = paths.dir_size(paths.runs_dir(slug))
        model_bytes = paths.dir_size(paths.models_dir(slug))
        return {"runs_mb": round(run_bytes / 2**20, 1), "models_mb": round(model_bytes / 2**20, 1),
                "total_mb": round((run_bytes + model_bytes) / 2**20, 1)}

    statuses = {r.id: r.status for r in library.list_runs()}
    print(json.dumps({"bench": "finetune-disk", "runs": statuses, **sizes()}))
    pruned = subprocess.run([*lyrictui, "runs", "--prune"], env=env, capture_output=True,
                            text=True)
    print(json.dumps({"bench": "finetune-disk", "after": "runs --prune",
                      "said": pruned.stdout.splitlines()[0], **sizes()}))
    for run_id in (cancelled, killed):
        done = subprocess.run([*lyrictui, "resume", run_id], env=env, capture_output=True,
                              text=True)
        print(json.dumps({"bench": "finetune-disk", "resume": run_id, "rc": done.returncode,
                          "status": library.get_run(run_id).status}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2, help="torch threads for scoring")
    parser.add_argument("--keep", action="store_true", help="keep the temporary home")
    parser.add_argument("--disk", action="store_true", help="measure what four short runs "
                        "leave on disk instead")
    parser.add_argument("train_args", nargs="*", help="extra `lyrictui train` options (after --)")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="lyrictui-finetune-"))
    env = dict(os.environ, LYRICTUI_HOME=str(home), LYRICTUI_NO_DEMO="1",
               HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    try:
        files = sorted(str(p) for p in SONGS.glob("*.txt"))
        if args.disk:
            disk(env, files)
            return
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
