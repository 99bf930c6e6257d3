"""The bundled starter on a CPU: suggestion latency, and fine-tuning it on a 200-song import.

latency: `Suggester.load("starter")` (what the composer runs offline) asked for 5 next lines
after the first 12 lines of a demo song. cold: the engine's cache reset first; warm: the same
song plus one line. The baseline is Hugging Face `generate` on the same weights
(num_return_sequences=5, max_new_tokens = the engine's default, stop at newline tokens).

finetune: a fresh LYRICTUI_HOME, 200 text files (the demo's 200 verse blocks, which the starter
never trained on) imported with `lyrictui import`, then `lyrictui train NAME --base starter
--device cpu` with its defaults, timed from the command's start to its end (packing included).
The starter and the fine-tuned model are then scored with the same code on the same packed
validation blocks (the songs training held out).

    python benchmarks/starter.py latency --threads 2 --reps 15
    python benchmarks/starter.py finetune
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def summary(engine: str, phase: str, times: list[float], **extra) -> dict:
    return {"bench": "starter-latency", "engine": engine, "phase": phase, "reps": len(times),
            "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(percentile(times, 0.95), 1), **extra}


def latency(args: argparse.Namespace) -> None:
    import torch
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as hf_logging

    from lyrictui.core import paths
    from lyrictui.core.engine.sampling import SamplingConfig
    from lyrictui.core.engine.suggest import Suggester
    from lyrictui.core.sources import demo

    hf_logging.set_verbosity_error()
    torch.set_num_threads(args.threads)
    songs = ["\n".join(s.lyrics.splitlines()[:12]) + "\n" for s in demo.demo_songs()]
    extra = [s.lyrics.splitlines()[12] + "\n" for s in demo.demo_songs()]
    engine = Suggester.load("starter", device="cpu")
    dtype = str(engine.loaded.dtype).replace("torch.", "")
    max_tokens = SamplingConfig().max_tokens
    engine.suggest(songs[-1], n=5, seed=0)  # warm-up
    cold, warm, lines = [], [], []
    for i in range(args.reps):
        engine.reset()
        for text, times in ((songs[i], cold), (songs[i] + extra[i], warm)):
            start = time.perf_counter()
            got = engine.suggest(text, n=5, seed=i)
            times.append((time.perf_counter() - start) * 1000)
            lines.append(len(got))
    print(json.dumps({"bench": "starter-latency", "sample": [c.text for c in got],
                      "candidates_per_request": sorted(set(lines))}))

    tok = engine.loaded.tokenizer
    model = AutoModelForCausalLM.from_pretrained(str(paths.starter_dir()), dtype=engine.loaded.dtype,
                                                 use_safetensors=True).eval()
    stop_ids = sorted({i for t, i in tok.get_vocab().items() if "\u010a" in t} | {tok.eos_token_id})

    def generate(text: str) -> None:
        ids = torch.tensor([[tok.eos_token_id] + tok.encode(text)])
        with torch.inference_mode():
            model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=True,
                           num_return_sequences=5, max_new_tokens=max_tokens,
                           eos_token_id=stop_ids, pad_token_id=tok.eos_token_id,
                           temperature=0.9, top_k=50, top_p=0.95)

    generate(songs[-1])
    base_cold, base_warm = [], []
    for i in range(args.reps):
        for text, times in ((songs[i], base_cold), (songs[i] + extra[i], base_warm)):
            start = time.perf_counter()
            generate(text)
            times.append((time.perf_counter() - start) * 1000)
    common = {"dtype": dtype, "threads": args.threads, "max_tokens": max_tokens}
    for engine_name, phase, times in (("ours", "cold", cold), ("ours", "warm", warm),
                                      ("hf_generate", "cold", base_cold),
                                      ("hf_generate", "warm", base_warm)):
        print(json.dumps(summary(engine_name, phase, times, **common)))
    for phase, ours, base in (("cold", cold, base_cold), ("warm", warm, base_warm)):
        print(json.dumps({"bench": "starter-latency", "phase": phase,
                          "speedup_p50": round(statistics.median(base) / statistics.median(ours), 2)}))


def score(folder: str, blocks) -> float:
    """Mean next-token loss of the model in `folder` over the validation blocks (float32)."""
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32,
                                                 use_safetensors=True).eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for ids in blocks:
            batch = torch.tensor([ids])
            n = batch.numel() - 1
            total += model(input_ids=batch, labels=batch).loss.item() * n
            count += n
    return total / count


def finetune(args: argparse.Namespace) -> None:
    import torch

    from lyrictui.core.sources import demo

    torch.set_num_threads(args.threads)
    work = Path(tempfile.mkdtemp(prefix="lyrictui-bench-ft-"))
    home, files = work / "home", work / "lyrics"
    files.mkdir(parents=True)
    songs = demo.demo_songs()[: args.songs]
    for i, song in enumerate(songs):
        (files / f"poem-{i:03d}.txt").write_text(song.lyrics + "\n", encoding="utf-8")
    env = {**os.environ, "LYRICTUI_HOME": str(home), "LYRICTUI_NO_DEMO": "1",
           "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": str(args.threads)}
    cli = [sys.executable, "-m", "lyrictui"]
    name = "Imported verse"
    subprocess.run([*cli, "import", name, str(files), "--separator", "none"], env=env,
                   check=True, capture_output=True)
    start = time.perf_counter()
    done = subprocess.run([*cli, "train", name, "--base", "starter", "--device", "cpu",
                           *args.train_args], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        print(json.dumps({"bench": "starter-finetune", "error": done.stderr[-1500:]}))
        sys.exit(1)
    evals = [ln for ln in done.stdout.splitlines() if ln.startswith(("eval", "training", "run"))]

    os.environ["LYRICTUI_HOME"] = str(home)
    from lyrictui.core.pack import packing
    from lyrictui.core.paths import starter_dir
    from lyrictui.core.store.library import Library

    lib = Library()
    artist = lib.get_artist(name)
    dataset = lib.latest_dataset(artist.id)
    model = lib.list_models(artist.id)[0]
    val = packing.load_packed(Path(dataset.path))["validation"]["input_ids"]
    before = score(str(starter_dir()), val)
    after = score(model.path, val)
    print(json.dumps({"bench": "starter-finetune", "songs": len(songs), "threads": args.threads,
                      "train_args": args.train_args, "wall_s": round(wall, 1),
                      "train_blocks": dataset.train_blocks, "val_blocks": dataset.val_blocks,
                      "block_size": dataset.block_size, "tokens": dataset.tokens,
                      "val_loss_starter": round(before, 4), "val_loss_finetuned": round(after, 4),
                      "run_best_val_loss": model.val_loss, "log": evals}))
    lib.close()
    shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    lat = sub.add_parser("latency")
    lat.add_argument("--threads", type=int, default=2)
    lat.add_argument("--reps", type=int, default=15)
    ft = sub.add_parser("finetune")
    ft.add_argument("--threads", type=int, default=2)
    ft.add_argument("--songs", type=int, default=200)
    ft.add_argument("train_args", nargs="*", help="extra `lyrictui train` options (after --)")
    args = parser.parse_args()
    if args.what == "latency":
        latency(args)
    else:
        finetune(args)


if __name__ == "__main__":
    main()
