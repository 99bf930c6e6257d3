"""Train the bundled offline starter model (a small GPT-2) on the public-domain verse corpus.

Reproducible from the repo: fixed seed, a documented data slice, every hyper-parameter an
argument whose default is the shipped value. Plain torch loop on the CPU (one thread by default).

Data slice: data/verse/verse.txt.gz is split into blocks at blank lines (7,850 blocks); block
number i (0-based, file order) goes to validation when i % VAL_EVERY == 0 (every 20th block,
393 blocks), all other blocks to training. Each block is encoded with the tokenizer and
followed by <|endoftext|>, like the packer separates songs. The training stream is cut into
non-overlapping windows of n_ctx tokens, shuffled each epoch with the seed.

Tokenizer (--tokenizer): `gpt2` is GPT-2's own 50,257-token vocabulary (tests/data/gpt2-tokenizer);
`bpe` trains a byte-level BPE of --vocab-size tokens on the training blocks with the `tokenizers`
library (GPT-2's pre-tokenizer and byte alphabet, <|endoftext|> = id 0), so a small model spends its
parameters on layers instead of a 50,257-row embedding table. The app keys packing, training and
suggestions by the base's own tokenizer, so either works as the starter.

Comparing tokenizers fairly: --score FOLDER (and the end of every run) reads each held-out block
whole after <|endoftext|> and reports the total nats per UTF-8 byte (bits per byte) and per GPT-2
token of the same text (its perplexity is comparable across vocabularies).

Size (chosen by tokens/s measured with --bench on a 2-core CPU, one thread). Context 512 = the
default block size of `lyrictui pack` / `lyrictui train`.

Length (--schedule wsd): warm-up, a constant rate, then a linear decay over the last --decay-frac
of --steps. While a run is still in its constant part its length can be changed: stop it (touch
STOP in --work: it checkpoints and writes the model), then rerun with another --steps: the same
as having started with it. A run finished with the STOP file records --stop-at in its command.

Output: the full-model folder format (config.json, model.safetensors in float16,
generation_config.json, tokenizer files, card.json, README.md), written to a temporary folder
beside the target and moved into lyrictui/assets/starter/ when complete.

    python scripts/train_starter.py                 # the shipped run (see the card's command)
    python scripts/train_starter.py --score lyrictui/assets/starter   # held-out figures, JSON
    python scripts/train_starter.py --bench 30      # tokens/s of this size for 30 s, no output
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "data" / "verse" / "verse.txt.gz"
STARTER = REPO / "lyrictui" / "assets" / "starter"
GPT2_TOKENIZER = REPO / "tests" / "data" / "gpt2-tokenizer"
EOS_TOKEN = "<|endoftext|>"
VAL_EVERY = 20
SAMPLE_PROMPTS = [
    "The moon was rising over the hill,\n",
    "O my love, my love, why art thou gone?\n",
    "I wandered by the river in the night,\n",
]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--data", type=Path, default=DATA)
    p.add_argument("--out", type=Path, default=STARTER)
    p.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "lyrictui-starter",
                   help="checkpoints and the token cache (outside the repo)")
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--val-every", type=int, default=VAL_EVERY)
    p.add_argument("--tokenizer", choices=("bpe", "gpt2"), default="gpt2",
                   help="bpe: a byte-level BPE trained on the training blocks (--vocab-size); "
                        "gpt2: GPT-2's own 50,257-token vocabulary")
    p.add_argument("--vocab-size", type=int, default=12000)
    p.add_argument("--gpt2-tokenizer", type=Path, default=GPT2_TOKENIZER,
                   help="GPT-2's vocab.json and merges.txt (the fair comparison counts its tokens)")
    p.add_argument("--score", type=Path, default=None,
                   help="score this model folder on the held-out blocks (bits per byte, "
                        "perplexity per GPT-2 token), print JSON, exit")
    p.add_argument("--n-embd", type=int, default=256)
    p.add_argument("--n-layer", type=int, default=4)
    p.add_argument("--n-head", type=int, default=4)
    p.add_argument("--n-ctx", type=int, default=512)
    p.add_argument("--batch-size", type=int, default=2)
    p.add_argument("--steps", type=int, default=4800,
                   help="the length the learning-rate schedule is planned for")
    p.add_argument("--stop-at", type=int, default=None,
                   help="stop after this many steps (a run stopped early through the STOP file "
                        "in --work is reproduced with it)")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--min-lr-ratio", type=float, default=0.1)
    p.add_argument("--schedule", choices=("cosine", "wsd"), default="cosine",
                   help="cosine: warm-up, then cosine decay over all steps; wsd: warm-up, a "
                        "constant rate, then a linear decay over the last --decay-frac of the "
                        "steps (the run's length can be chosen while it is in its constant part: "
                        "resuming with another --steps is the same as having started with it)")
    p.add_argument("--decay-frac", type=float, default=0.2)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--grad-clip", type=float, default=1.0)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=True,
                   help="bfloat16 autocast for the matmuls (fp32 master weights)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--eval-every", type=int, default=600)
    p.add_argument("--eval-windows", type=int, default=50,
                   help="validation windows scored at each periodic eval (all at the end)")
    p.add_argument("--checkpoint-every", type=int, default=200)
    p.add_argument("--bench", type=float, default=0.0,
                   help="measure tokens/s for this many seconds, write nothing, exit")
    return p.parse_args(argv)


def read_blocks(path: Path) -> list[str]:
    """The corpus blocks in file order (blank-line separated)."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        text = fh.read()
    return [b.strip("\n") for b in text.split("\n\n") if b.strip()]


def split_blocks(blocks: list[str], val_every: int) -> tuple[list[str], list[str]]:
    """(train, validation): block i is validation when i % val_every == 0."""
    train = [b for i, b in enumerate(blocks) if i % val_every]
    val = [b for i, b in enumerate(blocks) if i % val_every == 0]
    return train, val


def gpt2_tokenizer(folder: Path):
    """GPT-2's own tokenizer from its vocab.json and merges.txt."""
    from transformers import GPT2TokenizerFast  # type: ignore[attr-defined]

    tok = GPT2TokenizerFast(str(folder / "vocab.json"), str(folder / "merges.txt"))
    tok.pad_token = tok.eos_token
    return tok


def train_bpe(blocks: list[str], vocab_size: int, folder: Path):
    """A byte-level BPE (GPT-2's pre-tokenizer and byte alphabet) trained on `blocks`, with
    <|endoftext|> as its only special token (id 0), saved in `folder` and loaded as a
    transformers tokenizer. Deterministic for the same blocks and size."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import GPT2TokenizerFast  # type: ignore[attr-defined]

    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "tokenizer.json").exists():
        bpe = ByteLevelBPETokenizer(add_prefix_space=False)
        bpe.train_from_iterator(blocks, vocab_size=vocab_size, min_frequency=2,
                                special_tokens=[EOS_TOKEN], show_progress=False)
        bpe.save(str(folder / "tokenizer.json"))
        bpe.save_model(str(folder))  # vocab.json and merges.txt
    # GPT-2's tokenizer class over the new vocabulary: the same byte-level pre-tokenizer and
    # decoding as `gpt2`, so the app treats both alike (tokenizer_config names GPT2Tokenizer).
    tok = GPT2TokenizerFast(str(folder / "vocab.json"), str(folder / "merges.txt"))
    assert tok.eos_token == EOS_TOKEN and tok.eos_token_id == 0
    tok.pad_token = tok.eos_token
    return tok


def load_tokenizer(args: argparse.Namespace, train_blocks: list[str]):
    if args.tokenizer == "gpt2":
        return gpt2_tokenizer(args.gpt2_tokenizer)
    return train_bpe(train_blocks, args.vocab_size,
                     args.work / f"bpe-{args.vocab_size}-v{args.val_every}")


def encode(tok, blocks: list[str]):
    import torch

    ids: list[int] = []
    for enc in tok(blocks)["input_ids"]:
        ids.extend(enc)
        ids.append(tok.eos_token_id)
    return torch.tensor(ids, dtype=torch.long)


def tokenizer_key(args: argparse.Namespace) -> str:
    return "gpt2" if args.tokenizer == "gpt2" else f"bpe{args.vocab_size}"


def token_streams(args: argparse.Namespace, tok, train_b: list[str], val_b: list[str]):
    """(train ids, val ids), cached in the work folder keyed by the data slice and tokenizer."""
    import torch

    cache = args.work / f"tokens-{tokenizer_key(args)}-v{args.val_every}.pt"
    if cache.exists():
        saved = torch.load(cache, weights_only=True)
        return saved["train"], saved["val"]
    streams = {"train": encode(tok, train_b), "val": encode(tok, val_b)}
    torch.save(streams, cache)
    return streams["train"], streams["val"]


def score_blocks(model, tok, blocks: list[str], n_ctx: int, gpt2_tok) -> dict:
    """The tokenizer-fair score of `model` on `blocks`: each block is read as
    <|endoftext|> + block + <|endoftext|> and every token after the first is predicted (a block
    longer than the window is read in windows that overlap by half, each token scored once).
    Total nats over the UTF-8 bytes of the blocks -> bits per byte; over the GPT-2 tokens of the
    same text (each block's tokens plus its end marker) -> perplexity per GPT-2 token."""
    import torch

    model.eval()
    eos = tok.eos_token_id
    total_nats, scored = 0.0, 0
    stride = n_ctx // 2
    with torch.no_grad():
        for block in blocks:
            ids = [eos, *tok(block)["input_ids"], eos]
            done = 1  # ids[0] is context only
            start = 0
            while done < len(ids):
                window = ids[start : start + n_ctx]
                x = torch.tensor([window])
                logits = model(input_ids=x).logits[0, :-1].float()
                logp = torch.log_softmax(logits, dim=-1)
                targets = torch.tensor(window[1:])
                nll = -logp[torch.arange(len(targets)), targets]
                first_new = done - start - 1  # index into nll of the first unscored target
                total_nats += nll[first_new:].sum().item()
                scored += len(targets) - first_new
                done = start + len(window)
                start += stride
    model.train()
    n_bytes = sum(len(b.encode("utf-8")) for b in blocks)
    n_gpt2 = sum(len(ids) + 1 for ids in gpt2_tok(blocks)["input_ids"])
    return {"blocks": len(blocks), "bytes": n_bytes, "tokens": scored, "gpt2_tokens": n_gpt2,
            "nats": round(total_nats, 1),
            "loss_per_token": round(total_nats / scored, 4),
            "bits_per_byte": round(total_nats / math.log(2) / n_bytes, 4),
            "loss_per_gpt2_token": round(total_nats / n_gpt2, 4),
            "ppl_per_gpt2_token": round(math.exp(total_nats / n_gpt2), 1)}


def score_folder(args: argparse.Namespace) -> None:
    """Score a saved model folder (e.g. today's starter) on the held-out blocks."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(args.threads)
    _, val_b = split_blocks(read_blocks(args.data), args.val_every)
    model = AutoModelForCausalLM.from_pretrained(str(args.score), dtype=torch.float32)
    try:
        tok = AutoTokenizer.from_pretrained(str(args.score))
    except (OSError, ValueError):
        tok = gpt2_tokenizer(args.score)
    started = time.time()
    result = score_blocks(model, tok, val_b, model.config.n_positions,
                          gpt2_tokenizer(args.gpt2_tokenizer))
    result["vocab_size"] = model.config.vocab_size
    result["seconds"] = round(time.time() - started)
    print(json.dumps(result))


def windows(ids, n_ctx: int):
    """Non-overlapping windows of n_ctx tokens (the tail shorter than one window is dropped)."""
    n = len(ids) // n_ctx
    return ids[: n * n_ctx].view(n, n_ctx)


def build_model(args: argparse.Namespace, tok):
    from transformers import GPT2Config, GPT2LMHeadModel

    eos = tok.eos_token_id
    config = GPT2Config(
        vocab_size=len(tok), n_positions=args.n_ctx, n_embd=args.n_embd, n_layer=args.n_layer,
        n_head=args.n_head, resid_pdrop=args.dropout, embd_pdrop=args.dropout,
        attn_pdrop=args.dropout, bos_token_id=eos, eos_token_id=eos, tie_word_embeddings=True,
    )  # no pad_token_id: songs start after EOS, and a pad id equal to EOS makes every
    # forward pass warn about a missing attention mask (generation_config carries the pad id)
    return GPT2LMHeadModel(config)


def lr_at(step: int, args: argparse.Namespace) -> float:
    """Linear warm-up, then cosine decay to min_lr_ratio * lr (or constant, then a linear
    decay to it over the last decay_frac of the steps: wsd)."""
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    floor = args.min_lr_ratio
    if args.schedule == "wsd":
        decay_start = args.steps * (1 - args.decay_frac)
        if step < decay_start:
            return args.lr
        progress = (step - decay_start) / max(1.0, args.steps - decay_start)
        return args.lr * (1 - (1 - floor) * min(1.0, progress))
    progress = (step - args.warmup) / max(1, args.steps - args.warmup)
    return args.lr * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def evaluate(model, val_windows, batch_size: int, bf16: bool, limit: int | None = None) -> float:
    """Mean next-token loss over the validation windows (first `limit` of them)."""
    import torch

    model.eval()
    data = val_windows if limit is None else val_windows[:limit]
    total, count = 0.0, 0
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        for i in range(0, len(data), batch_size):
            batch = data[i : i + batch_size]
            out = model(input_ids=batch, labels=batch)
            n = batch.numel() - batch.shape[0]  # one fewer target per row
            total += out.loss.float().item() * n
            count += n
    model.train()
    return total / count


def sample_lines(model, tok, seed: int) -> list[dict]:
    """A few continuations from fixed prompts (for the card and the log)."""
    import torch

    model.eval()
    torch.manual_seed(seed)
    out = []
    for prompt in SAMPLE_PROMPTS:
        ids = tok(prompt, return_tensors="pt")["input_ids"]
        with torch.no_grad():
            gen = model.generate(ids, do_sample=True, top_p=0.9, temperature=0.9,
                                 max_new_tokens=48, pad_token_id=tok.eos_token_id)
        text = tok.decode(gen[0, ids.shape[1]:], skip_special_tokens=True)
        lines = [ln for ln in text.split("\n") if ln.strip()][:3]
        out.append({"prompt": prompt.rstrip("\n"), "lines": lines})
    model.train()
    return out


def save_checkpoint(path: Path, model, opt, step: int, seconds: float) -> None:
    import torch

    tmp = path.with_suffix(".tmp")
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step,
                "seconds": seconds}, tmp)
    tmp.replace(path)


def log(msg: str) -> None:
    print(time.strftime("%H:%M:%S"), msg, flush=True)


def keep_freed_memory() -> None:
    """Stop glibc from returning the big logits buffers to the OS after every step.

    Each step allocates and frees a few hundred MB (logits over 50,257 tokens); with glibc's
    default mmap threshold every one is a fresh mmap with page faults, which halved the
    throughput on the reference machine. Same effect as MALLOC_MMAP_MAX_=0.
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if sys.platform.startswith("linux") and name:
        libc = ctypes.CDLL(name)
        libc.mallopt(-4, 0)  # M_MMAP_MAX: no mmap'd chunks, reuse the heap
        libc.mallopt(-1, 2**30)  # M_TRIM_THRESHOLD: keep up to 1 GiB of freed heap


def train(args: argparse.Namespace) -> None:
    import torch

    keep_freed_memory()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    args.work.mkdir(parents=True, exist_ok=True)
    train_b, val_b = split_blocks(read_blocks(args.data), args.val_every)
    tok = load_tokenizer(args, train_b)
    train_ids, val_ids = token_streams(args, tok, train_b, val_b)
    train_w, val_w = windows(train_ids, args.n_ctx), windows(val_ids, args.n_ctx)
    log(f"train {len(train_ids)} tokens ({len(train_w)} windows), val {len(val_ids)} tokens "
        f"({len(val_w)} windows)")

    model = build_model(args, tok)
    n_params = sum(p.numel() for p in model.parameters())
    log(f"model {n_params} parameters")
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8)

    ckpt = args.work / (f"ckpt-{tokenizer_key(args)}-{args.n_embd}x{args.n_layer}-{args.n_ctx}"
                        f"-s{args.seed}.pt")
    step = 0
    before = 0.0  # training seconds of the run before this process (a resume)
    if ckpt.exists() and not args.bench:
        state = torch.load(ckpt, weights_only=True)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        step = state["step"]
        before = float(state.get("seconds", 0.0))
        log(f"resumed from {ckpt} at step {step} ({before / 60:.0f} minutes trained)")

    # Epoch e visits the windows in the order randperm(seed + e): a resume re-derives it.
    per_epoch = len(train_w) // args.batch_size
    epoch_order = {}

    def order_of(epoch: int):
        if epoch not in epoch_order:
            gen = torch.Generator().manual_seed(args.seed + epoch)
            epoch_order.clear()
            epoch_order[epoch] = torch.randperm(len(train_w), generator=gen)
        return epoch_order[epoch]

    model.train()
    started = time.time()
    tokens_done = 0
    ema_loss = None
    stop_at = min(args.steps, args.stop_at or args.steps)
    stop_file = args.work / "STOP"
    while step < stop_at:
        if stop_file.exists() and not args.bench:
            save_checkpoint(ckpt, model, opt, step, before + time.time() - started)
            stop_file.unlink()
            args.stop_at = step
            log(f"stopped early at step {step} (STOP file); finish with --stop-at {step}")
            break
        epoch, pos = divmod(step, per_epoch)
        idx = order_of(epoch)[pos * args.batch_size : (pos + 1) * args.batch_size]
        batch = train_w[idx]
        for group in opt.param_groups:
            group["lr"] = lr_at(step, args)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            loss = model(input_ids=batch, labels=batch).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), args.grad_clip)
        opt.step()
        step += 1
        tokens_done += batch.numel()
        value = loss.item()
        ema_loss = value if ema_loss is None else 0.95 * ema_loss + 0.05 * value
        elapsed = time.time() - started
        if args.bench:
            if elapsed >= args.bench:
                print(json.dumps({"n_embd": args.n_embd, "n_layer": args.n_layer,
                                  "n_ctx": args.n_ctx, "bf16": args.bf16, "params": n_params,
                                  "steps": step, "tokens_per_s": round(tokens_done / elapsed),
                                  "loss": round(ema_loss, 3)}))
                return
            continue
        if step % 10 == 0:
            log(f"step {step}/{args.steps} epoch {epoch} loss {value:.3f} ema {ema_loss:.3f} "
                f"lr {lr_at(step, args):.2e} tok/s {tokens_done / elapsed:.0f}")
        if step % args.checkpoint_every == 0 or step == stop_at:
            save_checkpoint(ckpt, model, opt, step, before + time.time() - started)
        if step % args.eval_every == 0 and step < stop_at:
            val = evaluate(model, val_w, args.batch_size, args.bf16, args.eval_windows)
            log(f"eval step {step} val_loss {val:.4f} ppl {math.exp(val):.1f}")
    seconds = before + time.time() - started
    finish(args, model, tok, val_b, val_w, n_params, seconds, len(train_ids))


def finish(args, model, tok, val_b: list[str], val_w, n_params: int, seconds: float,
           train_tokens: int) -> None:
    """Cast to float16, score the shipped weights on the held-out blocks (all validation
    windows, and the tokenizer-fair score), write the folder."""

    model.half().float()  # round-trip: the scored weights are exactly the shipped ones
    val = evaluate(model, val_w, args.batch_size, bf16=False)
    log(f"final val_loss {val:.4f} ppl {math.exp(val):.2f} (all {len(val_w)} windows, fp32 of fp16)")
    fair = score_blocks(model, tok, val_b, args.n_ctx, gpt2_tokenizer(args.gpt2_tokenizer))
    log(f"held-out blocks {json.dumps(fair)}")
    samples = sample_lines(model, tok, args.seed)
    for s in samples:
        log(f"sample {s}")
    eos = tok.eos_token_id
    model.generation_config.update(do_sample=True, top_p=0.9, temperature=0.9, max_new_tokens=24,
                                   bos_token_id=eos, eos_token_id=eos, pad_token_id=eos)
    model.half()

    tmp = args.out.parent / f".{args.out.name}.tmp-{int(time.time())}"
    tmp.mkdir(parents=True)
    model.save_pretrained(tmp, safe_serialization=True)
    tok.save_pretrained(tmp)
    # The BPE files ride along (save_pretrained writes only tokenizer.json in transformers 5),
    # so the folder stays complete and card.json lists all.
    source = args.gpt2_tokenizer if args.tokenizer == "gpt2" else (
        args.work / f"bpe-{args.vocab_size}-v{args.val_every}")
    for name in ("vocab.json", "merges.txt"):
        shutil.copy2(source / name, tmp / name)
    write_tokenizer_note(tmp, args)
    stats = {"source": "data/verse/verse.txt.gz", "train_tokens": train_tokens,
             "val_windows": len(val_w), "val_every": args.val_every, "n_ctx": args.n_ctx,
             "tokenizer": tokenizer_key(args)}
    command = "python scripts/train_starter.py" + "".join(f" {a}" for a in shipped_argv(args))
    write_readme(tmp, args, n_params, val, fair, seconds, samples, command)
    files = {p.name: p.stat().st_size for p in sorted(tmp.iterdir()) if p.name != "card.json"}
    card = {"name": "starter", "base": "starter", "method": "full", "run_id": None,
            "artist": None, "dataset": stats, "val_loss": round(val, 4),
            "perplexity": round(math.exp(val), 2), "heldout": fair, "params": n_params,
            "dtype": "float16", "train_seconds": round(seconds), "created_at": time.time(),
            "files": files}
    (tmp / "card.json").write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    for path in tmp.iterdir():  # package data: readable by every user (safetensors writes 0600)
        path.chmod(0o644)
    # Swap whole folders: nothing of the previous model (another tokenizer's files) stays.
    old = args.out.parent / f".{args.out.name}.old-{int(time.time())}"
    if args.out.exists():
        args.out.replace(old)
    tmp.replace(args.out)
    if old.exists():
        shutil.rmtree(old)
    log(f"wrote {args.out}")


def shipped_argv(args: argparse.Namespace) -> list[str]:
    """The command-line arguments that decide the weights (paths of this machine left out),
    with --stop-at when the run was stopped early through the STOP file."""
    argv, skip = [], False
    for a in sys.argv[1:]:
        if skip:
            skip = False
            continue
        if a in ("--work", "--out", "--data", "--gpt2-tokenizer", "--stop-at"):
            skip = True
            continue
        if a.startswith(("--work=", "--out=", "--data=", "--gpt2-tokenizer=", "--stop-at=")):
            continue
        argv.append(a)
    if args.stop_at is not None and args.stop_at < args.steps:
        argv += ["--stop-at", str(args.stop_at)]
    return argv


def write_tokenizer_note(folder: Path, args: argparse.Namespace) -> None:
    if args.tokenizer == "gpt2":
        shutil.copy2(args.gpt2_tokenizer / "NOTE.md", folder / "TOKENIZER_NOTE.md")
        return
    text = f"""# The starter's tokenizer

`tokenizer.json`, `vocab.json` and `merges.txt`: a byte-level BPE vocabulary of
{args.vocab_size:,} tokens trained by `scripts/train_starter.py` with the Hugging Face `tokenizers`
library (`ByteLevelBPETokenizer`, GPT-2's pre-tokenizer and byte alphabet, minimum pair frequency 2)
on the training blocks of the public-domain verse corpus (`data/verse/verse.txt.gz`; every block i
with i % {args.val_every} != 0, so none of the held-out blocks). Its one special token is
`<|endoftext|>` (id 0), the end of a song and the start of generation, like GPT-2's id 50256.
Loaded as `GPT2Tokenizer` over these files, so it splits and decodes text exactly as GPT-2's
tokenizer does, only with another vocabulary: a dataset packed for `gpt2` must be packed again for
the starter (packing is keyed by the base's tokenizer).

Derived from public-domain texts; released with lyrictui under the same terms as the weights.
"""
    (folder / "TOKENIZER_NOTE.md").write_text(text, encoding="utf-8")


def write_readme(folder: Path, args, n_params: int, val: float, fair: dict, seconds: float,
                 samples: list[dict], command: str) -> None:
    size = (folder / "model.safetensors").stat().st_size
    sample_md = "\n\n".join(
        "> " + s["prompt"] + "\n>\n" + "\n".join(f"> *{ln}*" for ln in s["lines"])
        for s in samples
    )
    if args.tokenizer == "gpt2":
        tokenizer = "GPT-2's own byte-level BPE (50,257 tokens; see TOKENIZER_NOTE.md)"
        license_line = "the tokenizer files are OpenAI's GPT-2\nvocabulary (MIT license)"
    else:
        tokenizer = (f"its own byte-level BPE, {args.vocab_size:,} tokens trained on the verse "
                     "corpus (see TOKENIZER_NOTE.md)")
        license_line = "the tokenizer was trained on them"
    steps = args.stop_at if args.stop_at is not None and args.stop_at < args.steps else args.steps
    if args.schedule == "wsd":
        schedule = (f"warm-up {args.warmup}, constant, then linear to {args.min_lr_ratio}x over "
                    f"the last {args.decay_frac:.0%} of {args.steps} steps")
    else:
        schedule = f"warm-up {args.warmup}, cosine to {args.min_lr_ratio}x over {args.steps} steps"
    text = f"""# lyrictui starter model

A **small demo model** bundled with lyrictui so the app works offline out of the box. It writes
lines that read like 19th-century English verse; it knows nothing about any artist. Real quality
comes from fine-tuning `gpt2` (or a larger GPT-2) on an artist's lyrics, ideally on a GPU.

| | |
|---|---|
| Architecture | GPT2LMHeadModel, {args.n_layer} layers, {args.n_head} heads, width {args.n_embd}, context {args.n_ctx} tokens, tied input/output embeddings |
| Parameters | {n_params:,} |
| Weights | `model.safetensors`, float16, {size / 1e6:.1f} MB |
| Tokenizer | {tokenizer} |
| Validation loss | {val:.4f} nats/token (perplexity {math.exp(val):.1f}) on the held-out blocks, in windows of {args.n_ctx} of its own tokens |
| Held-out verse, any tokenizer | {fair['bits_per_byte']:.4f} bits per byte; {fair['loss_per_gpt2_token']:.4f} nats per GPT-2 token of the same text (perplexity {fair['ppl_per_gpt2_token']:.1f}); each of the {fair['blocks']} held-out blocks read whole after an end-of-text token |
| Training | {steps} steps x {args.batch_size} x {args.n_ctx} tokens, AdamW lr {args.lr} ({schedule}), weight decay {args.weight_decay}, seed {args.seed}, {"bf16 autocast, " if args.bf16 else ""}{args.threads} CPU thread(s), {seconds / 60:.0f} minutes |

## Data

The public-domain verse corpus in `data/verse/verse.txt.gz` (lines of poetry from public-domain
Project Gutenberg books, via the Gutenberg Poetry Corpus; see data/verse/NOTE.md). Blocks are
separated by blank lines; block i (0-based) is held out for validation when i % {args.val_every} == 0,
all others are used for training. Each block ends with `<|endoftext|>`.

License: the training texts are in the public domain; {license_line}. The weights are released
with lyrictui under the same terms.

## Training command

    {command}

## Sample output

Sampled with top-p 0.9, temperature 0.9, seed {args.seed} (prompt, then the model's lines):

{sample_md}
"""
    (folder / "README.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    parsed = parse_args()
    if parsed.score is not None:
        score_folder(parsed)
    else:
        train(parsed)
