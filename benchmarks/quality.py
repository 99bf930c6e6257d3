"""Suggestion quality with the locks: ours against today's sample-and-rerank and HF `generate`.

    python benchmarks/quality.py --prompts 20             # a quick run
    nice python benchmarks/quality.py --prompts 80 --json out.json   # the recorded run

Prompts: three lines of context from songs of the demo artist (lyrictui/assets/demo), which are
blocks of the verse corpus held out of the bundled starter's training (block i with
i % 20 == 0, see lyrictui/assets/starter/README.md); prompt k is the first three lines of demo
song k. Rhyme lock: rhyme with the third line's last word; syllable lock: the third line's
syllables (4-12). Fixed seeds (one per prompt), the starter model, float32 on CPU.

Every check is independent of lyrictui's own prosody: rhymes and syllables with `pronouncing`
(a line's syllables count only when every word is in the CMU dictionary), words with a plain
regular expression over the CMU dictionary, wordfreq's list and the words of the demo artist's
own songs (issue 15's lexicon: the artist's slang and names are words); "junk %" counts a line
with any other token (a fragment such as "groan's" or "fell'd", a lone letter, a leading
punctuation mark), "dict-only junk %" the same check without the artist's words. Dashes written
"--" are punctuation, as in the corpus. "short %": lines of one or two words. The log-probability
of a shown line is re-scored by the Hugging Face model: mean over its tokens and the newline
after it; "d logprob" is a mode's mean minus plain's over the same prompts.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MODES = {"plain": {}, "rhyme": {"rhyme": True}, "syllables": {"syllables": True},
         "both": {"rhyme": True, "syllables": True}}
_TOKEN = re.compile(r"^[A-Za-z]+(?:['\u2019][A-Za-z]+)*['\u2019]?$")


def prompts(count: int) -> list[dict]:
    path = ROOT / "lyrictui/assets/demo/verse-demo.txt.gz"
    blocks = [b for b in gzip.open(path, "rt", encoding="utf-8").read().split("\n\n") if b.strip()]
    import pronouncing

    found = []
    for block in blocks:
        lines = [ln for ln in block.split("\n") if ln.strip()][:3]
        words = re.findall(r"[A-Za-z']+", lines[-1].lower()) if len(lines) == 3 else []
        if not words or not pronouncing.phones_for_word(words[-1]):
            continue  # the independent rhyme check needs the target in the dictionary
        from lyrictui.core import prosody

        found.append({"context": "\n".join(lines) + "\n", "target": words[-1],
                      "syllables": max(4, min(12, prosody.line_syllables(lines[-1])))})
        if len(found) == count:
            break
    return found


# -- independent checks -----------------------------------------------------------------------

def _known() -> set[str]:
    import pronouncing
    import wordfreq

    pronouncing.init_cmu()
    return set(pronouncing.lookup) | {w for w, f in wordfreq.get_frequency_dict("en").items()
                                      if f >= 1e-7}


def artist_words(songs: list[str]) -> set[str]:
    """Every word of the artist's songs, lower case, as the same regular expression splits them."""
    return {w.lower().replace("\u2019", "'").strip("'") for w in re.findall(r"[A-Za-z'\u2019]+", "\n".join(songs))}


def is_junk(line: str, known: set[str]) -> bool:
    text = line.strip()
    if not text or not (text[0].isalnum() or re.match(r"^['\u2019][A-Za-z]", text)):
        return True
    for token in re.split(r"\s+|--+|\u2014|\u2013", text):
        core = token.strip(",.;:!?\"\u201c\u201d()[]")
        for part in core.split("-") if core else []:
            low = part.lower().replace("\u2019", "'")
            if low.startswith("'") and (low in known or low.strip("'") in known):
                continue  # 'tis, 'twas, 'em
            if not _TOKEN.match(part):
                return True
            if len(low) == 1 and low not in "aio":
                return True
            if low not in known and low.rstrip("'") not in known and low.strip("'") not in known:
                return True
    return False


def perfect(line: str, target: str) -> bool:
    import pronouncing

    words = re.findall(r"[a-z']+", line.lower())
    if not words or words[-1].strip("'") == target:
        return False
    parts = {pronouncing.rhyming_part(p) for p in pronouncing.phones_for_word(target)}
    return any(pronouncing.rhyming_part(p) in parts
               for p in pronouncing.phones_for_word(words[-1].strip("'")))


def cmu_syllables(line: str) -> int | None:
    import pronouncing

    total = 0
    for word in re.findall(r"[a-z']+", line.lower()):
        phones = pronouncing.phones_for_word(word.strip("'"))
        if not phones:
            return None
        total += pronouncing.syllable_count(phones[0])
    return total


def rescore(model, tok, context: str, line: str) -> float:
    import torch

    ctx = [tok.eos_token_id] + tok.encode(context)
    ids = tok.encode(line + "\n")
    with torch.inference_mode():
        logits = model(torch.tensor([ctx + ids])).logits[0, len(ctx) - 1 : -1].float()
    lp = torch.log_softmax(logits, -1).gather(1, torch.tensor(ids)[:, None])
    return float(lp.mean())


# -- the two baselines ------------------------------------------------------------------------

def old_rerank(engine, song: str, n: int, seed: int, rhyme_with, syllables):
    """The sample-and-rerank lyrictui shipped before the locks (the engine no longer has it;
    this copy runs the engine's plain sampler): 4n rows (16-48) per round, 3 rounds, ranked by
    mean log-probability + 3 x rhyme fit + 2 x syllable fit (+/-1)."""
    import torch

    from lyrictui.core import prosody
    from lyrictui.core.engine.candidates import Constraints
    from lyrictui.core.engine.suggest import normalize_line

    fit = {"perfect": 1.0, "near": 0.5, "identical": 0.25, None: 0.0}
    cons = Constraints.build(song, rhyme_with, syllables, 1)
    gen = torch.Generator().manual_seed(seed)
    dec = engine.decoder
    ctx = engine._context(song, engine.sampling.max_tokens)
    logits = dec.prepare(ctx.ids, lambda: False)
    found: dict[str, tuple] = {}
    for round_no in range(3 if cons.active else 4):
        missing = n - (sum(1 for c in found.values() if c[2]) if cons.active else len(found))
        if missing <= 0:
            break
        rows = min(48, max(16, 4 * n)) if cons.active else (n if round_no == 0 else min(32, 2 * missing))
        for row in dec.sample_rows(logits, rows, engine.sampling, gen, lambda: False):
            line = engine.loaded.tokenizer.decode(row.tokens).replace("\ufffd", "").strip()
            key = normalize_line(line)
            if not key or key in found:
                continue
            score, fits = row.logprob / max(1, len(row.tokens)), None
            if cons.rhyme_key is not None:
                kind = prosody.rhyme_kind(cons.rhyme_key, prosody.line_rhyme_key(line))
                if prosody.words(line) and prosody.normalize_word(prosody.words(line)[-1]) == cons.rhyme_word:
                    kind = "identical"
                score += 3.0 * fit[kind]
                fits = kind == "perfect"
            if cons.syllables is not None:
                off = max(0, abs(prosody.line_syllables(line) - cons.syllables) - 1)
                score += 2.0 * max(0.0, 1.0 - off / 4)
                fits = (fits is not False) and off == 0
            found[key] = (line, score, fits)
    ranked = sorted(found.values(), key=lambda c: (c[2] is not True, -c[1]))[:n]
    return [c[0] for c in ranked]


def hf_generate(model, tok, song: str, n: int, seed: int) -> list[str]:
    import torch

    torch.manual_seed(seed)
    ids = torch.tensor([[tok.eos_token_id] + tok.encode(song)])
    with torch.inference_mode():
        out = model.generate(ids, do_sample=True, top_p=0.95, top_k=50, temperature=0.9,
                             max_new_tokens=24, num_return_sequences=n,
                             pad_token_id=tok.eos_token_id)
    lines = [tok.decode(o[ids.shape[1]:]).split("\n")[0].strip() for o in out]
    return [ln for ln in lines if ln]


# -- the run ----------------------------------------------------------------------------------

def _delta(mode: dict[int, list[float]], plain: dict[int, list[float]]) -> float:
    """Mean log-probability of a mode's lines minus plain's, over prompts both have lines for."""
    shared = [k for k in mode if plain.get(k)]
    if not shared:
        return float("nan")
    return (statistics.mean(v for k in shared for v in mode[k])
            - statistics.mean(v for k in shared for v in plain[k]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prompts", type=int, default=80)
    parser.add_argument("--seeds", type=int, default=1, help="Seeds per prompt (seed = prompt "
                        "number + 1000 x seed index).")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: on a shared "
                        "2-core machine two threads wait on each other's time slices)")
    parser.add_argument("--n", type=int, default=5)
    parser.add_argument("--baselines", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--show", type=int, default=2, help="Print this many requests per mode.")
    parser.add_argument("--json", type=Path, help="Write every figure and line here.")
    args = parser.parse_args()

    import gzip as _gz
    import os

    import torch

    from lyrictui.core.engine.suggest import Suggester

    torch.set_num_threads(args.threads)
    started = time.time()
    engine = Suggester.load("starter", device="cpu", dtype="float32")
    demo = _gz.open(ROOT / "lyrictui/assets/demo/verse-demo.txt.gz", "rt", encoding="utf-8").read()
    songs = demo.split("\n\n")
    engine.set_reference_lyrics(songs)  # the demo artist's own songs
    model, tok = engine.loaded.model, engine.loaded.tokenizer
    dictionaries = _known()
    known = dictionaries | artist_words(songs)
    cases = [dict(case, seed=k + 1000 * j) for j in range(args.seeds)
             for k, case in enumerate(prompts(args.prompts))]
    print(f"{len(cases)} requests per mode ({args.prompts} prompts x {args.seeds} seeds), "
          f"{args.threads} threads, load average {os.getloadavg()}", flush=True)
    for asks in ({"rhyme_with": 3}, {"syllables": 6}, {"rhyme_with": 3, "syllables": 6}):
        engine.suggest(cases[0]["context"], 2, seed=0, **asks)  # warm the word lists

    methods = ["ours"] + (["rerank", "generate"] if args.baselines else [])
    results: dict[str, dict[str, list]] = {}
    shown: dict[str, list] = {}
    # Prompt by prompt, every method and mode in turn (so a change in the machine's load
    # falls on all of them alike), each request cold: the engine's context cache is reset first.
    order = [(method, mode) for method in methods for mode in MODES
             if method != "generate" or mode == "plain"]
    for k, case in enumerate(cases):
        if k % 10 == 0:
            print(f"prompt {k}/{len(cases)}, load average {os.getloadavg()[0]:.1f}", flush=True)
        for method, mode in order:
            asks = MODES[mode]
            rows = results.setdefault(f"{method}/{mode}", {"lines": [], "latency": [], "distinct": []})
            rhyme = 3 if asks.get("rhyme") else None
            syl = case["syllables"] if asks.get("syllables") else None
            seed = case["seed"]
            engine.reset()
            start = time.perf_counter()
            if method == "ours":
                lines = [c.text for c in engine.suggest(case["context"], args.n, seed=seed,
                                                        rhyme_with=rhyme, syllables=syl)]
            elif method == "rerank":
                lines = old_rerank(engine, case["context"], args.n, seed, rhyme, syl)
            else:
                lines = hf_generate(model, tok, case["context"], args.n, seed)
            rows["latency"].append(time.perf_counter() - start)
            ends = [re.findall(r"[a-z']+", ln.lower())[-1:] for ln in lines]
            rows["distinct"].append(len({tuple(e) for e in ends}))
            for line in lines:
                rows["lines"].append({
                    "line": line, "prompt": k, "target": case["target"],
                    "junk": is_junk(line, known), "dict_junk": is_junk(line, dictionaries),
                    "short": len(line.split()) <= 2,
                    "perfect": perfect(line, case["target"]),
                    "syllables": cmu_syllables(line), "target_syllables": case["syllables"],
                    "logprob": rescore(model, tok, case["context"], line)})
            if method == "ours" and k < args.show:
                shown.setdefault(mode, []).append({"context": case["context"],
                                                   "target": case["target"],
                                                   "syllables": syl, "lines": lines})
    table = []
    plain_lp: dict[str, dict[int, list[float]]] = {}
    for name, rows in results.items():
        by_prompt: dict[int, list[float]] = {}
        for r in rows["lines"]:
            by_prompt.setdefault(r["prompt"], []).append(r["logprob"])
        plain_lp[name] = by_prompt
    for name, rows in results.items():
        lines = rows["lines"]
        counted = [r for r in lines if r["syllables"] is not None]
        exact = sum(r["syllables"] == r["target_syllables"] for r in counted)
        both = sum(r["perfect"] and r["syllables"] == r["target_syllables"] for r in counted)
        table.append({
            "method/mode": name, "lines": len(lines),
            "perfect %": 100 * sum(r["perfect"] for r in lines) / max(1, len(lines)),
            "exact syl %": 100 * exact / max(1, len(counted)),
            "both %": 100 * both / max(1, len(counted)),
            "junk %": 100 * sum(r["junk"] for r in lines) / max(1, len(lines)),
            "dict-only junk %": 100 * sum(r["dict_junk"] for r in lines) / max(1, len(lines)),
            "short %": 100 * sum(r["short"] for r in lines) / max(1, len(lines)),
            "distinct ends": statistics.mean(rows["distinct"]),
            "logprob": statistics.mean(r["logprob"] for r in lines) if lines else float("nan"),
            "d logprob": _delta(plain_lp[name], plain_lp[name.split("/")[0] + "/plain"]),
            "p50 s": statistics.median(rows["latency"]),
            "x plain p50": statistics.median(rows["latency"])
            / statistics.median(results[name.split("/")[0] + "/plain"]["latency"])})
    header = list(table[0])
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in table:
        print("| " + " | ".join(f"{v:.2f}" if isinstance(v, float) else str(v) for v in row.values()) + " |")
    for mode, requests in shown.items():
        print(f"\n{mode}:")
        for req in requests:
            ask = f"rhyme with '{req['target']}'" if mode in {"rhyme", "both"} else ""
            if req["syllables"]:
                ask += f" {req['syllables']} syllables"
            print(f"  context ends: {req['context'].splitlines()[-1]!r} {ask}")
            for line in req["lines"]:
                print(f"    {line}")
    print(f"\nwall {time.time() - started:.0f} s, load average at the end {os.getloadavg()}")
    if args.json:
        args.json.write_text(json.dumps({"table": table, "shown": shown, "results": results}, indent=1))


if __name__ == "__main__":
    main()
