"""Latency of a 5-candidate next-line request: lyrictui's engine vs Hugging Face `generate`.

A GPT-2 124M-shaped model (GPT2Config() defaults, random weights, GPT-2's real tokenizer) gets a
256-token song as context and must return 5 candidate lines of at most 20 tokens each.

- ours: `Suggester.suggest(song, n=5, max_tokens=20)` (context once at batch 1, shared-prefix
  decoding, warm cache between requests, default sampling knobs including its penalties).
- baseline: `model.generate(ids, do_sample=True, num_return_sequences=5, max_new_tokens=20,
  eos_token_id=[every newline token, EOS], temperature/top-k/top-p as ours)`.

cold: a context never seen before. warm: the previous context plus one appended line.
A random model rarely samples a newline, so both sides nearly always run the full 20 tokens.
Prints one JSON object per line: per-engine p50/p95 in ms, then the ratios.

    python benchmarks/suggest.py                      # CPU
    python benchmarks/suggest.py --device cuda        # GPU (16-bit on both sides)
    python benchmarks/suggest.py --device cuda --no-graphs   # ours without CUDA graphs
    python benchmarks/suggest.py --background-training        # ours idle, then during a run
    python benchmarks/suggest.py --background-training --model starter   # the offline model

--background-training: ours only, in the engine's own dtype (or --dtypes), first idle, then
while a real training run trains in the background: `lyrictui train NAME --base starter
--device cpu --detach` on the 32 original songs of tests/data/original-songs in a temporary
LYRICTUI_HOME (the same detached `run-worker` process the app starts: niced, one core left
free), measured once its first step event is written; the run is cancelled afterwards. Prints
both p50s and their ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS = ("love night fire heart rain money dream city baby time road light cold gold run "
         "away tonight forever never know feel fall call alone again home stone young wild "
         "I you we they my your the a in on down up with all just like no yeah oh").split()


def make_line(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 9))).capitalize()


def make_song(tokenizer, rng: random.Random, tokens: int) -> str:
    """Lines of lyric-like words until the song is `tokens` long (EOS included), cut exactly."""
    lines: list[str] = []
    while len(tokenizer.encode("\n".join(lines) + "\n")) < tokens:
        lines.append(make_line(rng))
    ids = tokenizer.encode("\n".join(lines) + "\n")[: tokens - 1]
    return tokenizer.decode(ids)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def run_ours(args, folder: Path, dtype: str, songs, extra, timed, thread_policy=None):
    """Cold: the engine's cache is reset first. Warm: the same song plus one line.
    `thread_policy`: the engine's (Suggester.thread_policy), as the app gives it."""
    from lyrictui.core.engine.suggest import Suggester

    engine = Suggester.load(str(folder), device=args.device, dtype=dtype)
    engine.thread_policy = thread_policy
    lean = engine.decoder.lean
    if args.no_graphs and lean is not None:
        lean.graphs = None  # CUDA: every decode step eager, to see what the graphs bring
    engine.suggest(songs[-1], n=args.n, seed=0, max_tokens=args.max_tokens)  # warm-up
    cold, warm, steps, reused = [], [], [], []
    for i, song in enumerate(songs[: args.reps]):
        engine.reset()
        for text, times in ((song, cold), (song + extra[i], warm)):
            times.append(timed(lambda t=text, i=i: engine.suggest(
                t, n=args.n, seed=i, max_tokens=args.max_tokens)))
            steps.append(engine.stats.decode_steps)
            reused.append(engine.stats.reused_tokens)
    graphs = engine.decoder.lean.graphs if engine.decoder.lean is not None else None
    kept = 0 if graphs is None else sum(r is not None for per in graphs.replays.values()
                                        for r in per.values())
    print(json.dumps({"bench": "suggest", "engine": "ours", "dtype": dtype,
                      "decode_steps": steps, "reused_tokens": reused,
                      "cuda_graphs_kept": kept}), flush=True)
    return cold, warm


def run_baseline(args, folder: Path, dtype: str, songs, extra, timed, tokenizer, stop_ids):
    """`generate` has no cache across calls: warm costs what cold costs."""
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(folder, dtype=getattr(torch, dtype),
                                                 use_safetensors=True).to(args.device).eval()

    def generate(text: str) -> None:
        ids = torch.tensor([[tokenizer.eos_token_id] + tokenizer.encode(text)], device=args.device)
        with torch.inference_mode():
            model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=True,
                           num_return_sequences=args.n, max_new_tokens=args.max_tokens,
                           eos_token_id=stop_ids, pad_token_id=tokenizer.eos_token_id,
                           temperature=0.9, top_k=50, top_p=0.95)

    generate(songs[-1])  # warm-up
    cold = [timed(lambda s=s: generate(s)) for s in songs[: args.reps]]
    warm = [timed(lambda s=s, e=e: generate(s + e))
            for s, e in zip(songs[: args.reps], extra, strict=False)]
    return cold, warm


def background_run() -> tuple[dict, str, Path]:
    """Start a detached starter run on the original songs in a temporary home; returns its
    environment, run id and folder once it has taken its first optimizer step."""
    home = Path(tempfile.mkdtemp(prefix="lyrictui-bench-train-"))
    env = dict(os.environ, LYRICTUI_HOME=str(home), LYRICTUI_NO_DEMO="1", HF_HUB_OFFLINE="1",
               TRANSFORMERS_OFFLINE="1")
    files = sorted(str(p) for p in (ROOT / "tests" / "data" / "original-songs").glob("*.txt"))
    lyrictui = [sys.executable, "-m", "lyrictui"]
    subprocess.run([*lyrictui, "import", "Background", *files], env=env, check=True,
                   capture_output=True)
    out = subprocess.run([*lyrictui, "train", "Background", "--base", "starter", "--device",
                          "cpu", "--max-steps", "100000", "--patience", "0", "--detach"],
                         env=env, check=True, capture_output=True, text=True)
    run_id = out.stdout.strip().splitlines()[-1]
    events = home / "artists" / "background" / "runs" / run_id / "events.jsonl"
    deadline = time.monotonic() + 600
    while not (events.exists() and '"type": "step"' in events.read_text(encoding="utf-8")):
        if time.monotonic() > deadline:
            sys.exit(f"the background run never trained: see {events.parent / 'train.log'}")
        time.sleep(0.5)
    return env, run_id, events


def with_background_training(args, folder: Path, dtypes: list[str], songs, extra, timed) -> None:
    for dtype in dtypes:
        idle_cold, idle_warm = run_ours(args, folder, dtype, songs, extra, timed)
        env, run_id, events = background_run()
        import torch

        policy = None
        if args.busy_threads:
            torch.set_num_threads(args.busy_threads)
        else:  # the app's policy, reading the library the run trains in
            from lyrictui.core.store.library import Library
            from lyrictui.core.train.runs import suggest_threads

            os.environ["LYRICTUI_HOME"] = env["LYRICTUI_HOME"]
            library = Library()

            def policy(library: Library = library) -> int | None:
                return suggest_threads(library)
        try:
            busy_cold, busy_warm = run_ours(args, folder, dtype, songs, extra, timed, policy)
            busy_threads = torch.get_num_threads()
            start = next(json.loads(line) for line in events.read_text().splitlines()
                         if '"type": "start"' in line)
            steps = [json.loads(line) for line in events.read_text().splitlines()
                     if '"type": "step"' in line]
        finally:
            torch.set_num_threads(args.threads)
            # `cancel` waits for the run to stop; then its temporary home can go.
            subprocess.run([sys.executable, "-m", "lyrictui", "cancel", run_id], env=env,
                           capture_output=True)
            shutil.rmtree(env["LYRICTUI_HOME"], ignore_errors=True)
        for phase, idle, busy in (("cold", idle_cold, busy_cold), ("warm", idle_warm, busy_warm)):
            print(json.dumps({
                "bench": "suggest-while-training", "dtype": dtype, "phase": phase,
                "threads": args.threads, "threads_while_training": busy_threads,
                "reps": len(idle),
                "idle_p50_ms": round(statistics.median(idle), 1),
                "training_p50_ms": round(statistics.median(busy), 1),
                "ratio_p50": round(statistics.median(busy) / statistics.median(idle), 2),
                "trainer_threads": start.get("threads"), "trainer_background":
                start.get("background"), "trainer_steps_meanwhile": len(steps)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--reps", type=int, default=5, help="timed requests per phase")
    parser.add_argument("--threads", type=int, default=2, help="torch threads on CPU")
    parser.add_argument("--context", type=int, default=256)
    parser.add_argument("--n", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=20)
    parser.add_argument("--no-graphs", action="store_true",
                        help="CUDA: run our decode steps eagerly instead of from CUDA graphs")
    parser.add_argument("--model", help="a model folder or `starter` instead of the random "
                        "GPT-2 124M")
    parser.add_argument("--background-training", action="store_true",
                        help="ours idle, then while a real CPU training run is active")
    parser.add_argument("--busy-threads", type=int,
                        help="--background-training: force the engine's torch threads while "
                             "the run trains [the app's policy: suggest_threads]")
    parser.add_argument("--dtypes", default="auto",
                        help="comma list of dtypes to run both engines in (auto: cpu -> "
                             "float32 and the engine's own pick; cuda -> float16)")
    args = parser.parse_args()

    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, GPT2TokenizerFast
    from transformers.utils import logging as hf_logging

    from lyrictui.core.engine.modelload import pick_dtype
    from lyrictui.core.paths import starter_dir

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    if args.device == "cpu":
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.model:
        from transformers import AutoTokenizer

        folder = starter_dir() if args.model == "starter" else Path(args.model)
        tokenizer = AutoTokenizer.from_pretrained(str(folder))  # the model's own vocabulary
    else:
        gpt2 = ROOT / "tests" / "data" / "gpt2-tokenizer"  # GPT-2's own (see its NOTE.md)
        tokenizer = GPT2TokenizerFast(vocab=str(gpt2 / "vocab.json"), merges=str(gpt2 / "merges.txt"))
        folder = Path(tempfile.mkdtemp(prefix="lyrictui-bench-")) / "gpt2-124m-random"
        GPT2LMHeadModel(GPT2Config()).half().save_pretrained(folder, safe_serialization=True)
        tokenizer.save_pretrained(folder)
    tokenizer.model_max_length = 1 << 30

    if args.dtypes == "auto":
        own = str(pick_dtype(args.device)).replace("torch.", "")
        dtypes = ["float16"] if args.device != "cpu" else list(dict.fromkeys(["float32", own]))
    else:
        dtypes = args.dtypes.split(",")
    texts = tokenizer.batch_decode([[i] for i in range(len(tokenizer))])
    stop_ids = sorted({i for i, t in enumerate(texts) if "\n" in t} | {tokenizer.eos_token_id})
    rng = random.Random(0)
    songs = [make_song(tokenizer, rng, args.context) for _ in range(args.reps + 1)]
    extra = [make_line(rng) + "\n" for _ in range(args.reps + 1)]
    sync = torch.cuda.synchronize if args.device.startswith("cuda") else (lambda: None)

    def timed(fn) -> float:
        sync()
        start = time.perf_counter()
        fn()
        sync()
        return (time.perf_counter() - start) * 1000

    if args.background_training:
        if args.dtypes == "auto":
            dtypes = [str(pick_dtype(args.device)).replace("torch.", "")]
        with_background_training(args, folder, dtypes, songs, extra, timed)
        return
    results: dict[tuple[str, str, str], list[float]] = {}
    for dtype in dtypes:
        cold, warm = run_ours(args, folder, dtype, songs, extra, timed)
        results[("ours", dtype, "cold")], results[("ours", dtype, "warm")] = cold, warm
        cold, warm = run_baseline(args, folder, dtype, songs, extra, timed, tokenizer, stop_ids)
        results[("hf_generate", dtype, "cold")], results[("hf_generate", dtype, "warm")] = cold, warm

    device = args.device if args.device != "cpu" else f"cpu ({args.threads} threads)"
    for (engine_name, dtype, phase), times in results.items():
        print(json.dumps({"bench": "suggest", "engine": engine_name, "dtype": dtype, "phase": phase,
                          "device": device, "context_tokens": args.context, "n": args.n,
                          "max_tokens": args.max_tokens, "reps": len(times),
                          "p50_ms": round(statistics.median(times), 1),
                          "p95_ms": round(percentile(times, 0.95), 1)}))
    for base_dtype in dtypes:
        for our_dtype in dtypes:
            for phase in ("cold", "warm"):
                hf = statistics.median(results[("hf_generate", base_dtype, phase)])
                us = statistics.median(results[("ours", our_dtype, phase)])
                print(json.dumps({"bench": "suggest", "ratio": f"hf_generate[{base_dtype}] / "
                                  f"ours[{our_dtype}]", "phase": phase,
                                  "speedup_p50": round(hf / us, 2)}))


if __name__ == "__main__":
    main()
