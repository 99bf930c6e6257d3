"""Train the bundled offline starter model (a small GPT-2) on the public-domain verse corpus.

Reproducible from the repo: fixed seed, a documented data slice, every hyper-parameter an
argument whose default is the shipped value. Plain torch loop on the CPU (one thread by default).

Data slice: data/verse/verse.txt.gz is split into blocks at blank lines (7,850 blocks); block
number i (0-based, file order) goes to validation when i % VAL_EVERY == 0 (every 20th block,
393 blocks), all other blocks to training. Each block is encoded with GPT-2's tokenizer and
followed by <|endoftext|>, like the packer separates songs. The training stream is cut into
non-overlapping windows of n_ctx tokens, shuffled each epoch with the seed.

Size (chosen by tokens/s measured on a 2-core CPU, one thread, ~45 minutes of training): width
256, 4 layers, so the 50,257 x 256 tied embedding dominates (16.2M parameters, 32 MB in float16).
Context 512 = the default block size of `lyrictui pack` / `lyrictui train`, so datasets packed
for `gpt2` fine-tune the starter as they are.

Output: the full-model folder format (config.json, model.safetensors in float16,
generation_config.json, tokenizer files, card.json, README.md), written to a temporary folder
beside the target and moved into lyrictui/assets/starter/ when complete.

    python scripts/train_starter.py                 # the shipped run
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
EOS = 50256
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
    p.add_argument("--n-embd", type=int, default=256)
    p.add_argument("--n-layer", type=int, default=4)
    p.add_argument("--n-head", type=int, default=4)
    p.add_argument("--n-ctx", type=int, default=512)
    p.add_argument("--batch-size", type=int, default=2)
    p.add_argument("--steps", type=int, default=4800)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--min-lr-ratio", type=float, default=0.1)
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


def load_tokenizer():
    from transformers import GPT2TokenizerFast

    tok = GPT2TokenizerFast(vocab=str(STARTER / "vocab.json"), merges=str(STARTER / "merges.txt"))
    tok.pad_token = tok.eos_token
    return tok


def encode(tok, blocks: list[str]):
    import torch

    ids: list[int] = []
    for enc in tok(blocks)["input_ids"]:
        ids.extend(enc)
        ids.append(EOS)
    return torch.tensor(ids, dtype=torch.long)


def token_streams(args: argparse.Namespace, tok):
    """(train ids, val ids), cached in the work folder keyed by the data slice."""
    import torch

    cache = args.work / f"tokens-v{args.val_every}.pt"
    if cache.exists():
        saved = torch.load(cache, weights_only=True)
        return saved["train"], saved["val"]
    train_b, val_b = split_blocks(read_blocks(args.data), args.val_every)
    streams = {"train": encode(tok, train_b), "val": encode(tok, val_b)}
    torch.save(streams, cache)
    return streams["train"], streams["val"]


def windows(ids, n_ctx: int):
    """Non-overlapping windows of n_ctx tokens (the tail shorter than one window is dropped)."""
    n = len(ids) // n_ctx
    return ids[: n * n_ctx].view(n, n_ctx)


def build_model(args: argparse.Namespace):
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(
        vocab_size=50257, n_positions=args.n_ctx, n_embd=args.n_embd, n_layer=args.n_layer,
        n_head=args.n_head, resid_pdrop=args.dropout, embd_pdrop=args.dropout,
        attn_pdrop=args.dropout, bos_token_id=EOS, eos_token_id=EOS, tie_word_embeddings=True,
    )  # no pad_token_id: songs start after EOS, and a pad id equal to EOS makes every
    # forward pass warn about a missing attention mask (generation_config carries the pad id)
    return GPT2LMHeadModel(config)


def lr_at(step: int, args: argparse.Namespace) -> float:
    """Linear warm-up, then cosine decay to min_lr_ratio * lr."""
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    progress = (step - args.warmup) / max(1, args.steps - args.warmup)
    floor = args.min_lr_ratio
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
                                 max_new_tokens=48, pad_token_id=EOS)
        text = tok.decode(gen[0, ids.shape[1]:], skip_special_tokens=True)
        lines = [ln for ln in text.split("\n") if ln.strip()][:3]
        out.append({"prompt": prompt.rstrip("\n"), "lines": lines})
    model.train()
    return out


def save_checkpoint(path: Path, model, opt, step: int) -> None:
    import torch

    tmp = path.with_suffix(".tmp")
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step}, tmp)
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
    tok = load_tokenizer()
    train_ids, val_ids = token_streams(args, tok)
    train_w, val_w = windows(train_ids, args.n_ctx), windows(val_ids, args.n_ctx)
    log(f"train {len(train_ids)} tokens ({len(train_w)} windows), val {len(val_ids)} tokens "
        f"({len(val_w)} windows)")

    model = build_model(args)
    n_params = sum(p.numel() for p in model.parameters())
    log(f"model {n_params} parameters")
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8)

    ckpt = args.work / f"ckpt-{args.n_embd}x{args.n_layer}-{args.n_ctx}.pt"
    step = 0
    if ckpt.exists() and not args.bench:
        state = torch.load(ckpt, weights_only=True)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        step = state["step"]
        log(f"resumed from {ckpt} at step {step}")

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
    while step < args.steps:
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
        if step % args.checkpoint_every == 0 or step == args.steps:
            save_checkpoint(ckpt, model, opt, step)
        if step % args.eval_every == 0 and step < args.steps:
            val = evaluate(model, val_w, args.batch_size, args.bf16, args.eval_windows)
            log(f"eval step {step} val_loss {val:.4f} ppl {math.exp(val):.1f}")
    finish(args, model, tok, val_w, n_params, time.time() - started, len(train_ids))


def finish(args, model, tok, val_w, n_params: int, seconds: float, train_tokens: int) -> None:
    """Cast to float16, score the shipped weights on all validation windows, write the folder."""

    model.half().float()  # round-trip: the scored weights are exactly the shipped ones
    val = evaluate(model, val_w, args.batch_size, bf16=False)
    log(f"final val_loss {val:.4f} ppl {math.exp(val):.2f} (all {len(val_w)} windows, fp32 of fp16)")
    samples = sample_lines(model, tok, args.seed)
    for s in samples:
        log(f"sample {s}")
    model.generation_config.update(do_sample=True, top_p=0.9, temperature=0.9, max_new_tokens=24,
                                   bos_token_id=EOS, eos_token_id=EOS, pad_token_id=EOS)
    model.half()

    tmp = args.out.parent / f".{args.out.name}.tmp-{int(time.time())}"
    tmp.mkdir(parents=True)
    model.save_pretrained(tmp, safe_serialization=True)
    tok.save_pretrained(tmp)
    stats = {"source": "data/verse/verse.txt.gz", "train_tokens": train_tokens,
             "val_windows": len(val_w), "val_every": args.val_every, "n_ctx": args.n_ctx}
    argv = " ".join(sys.argv[1:])
    command = "python scripts/train_starter.py" + (f" {argv}" if argv else "")
    write_readme(tmp, args, n_params, val, seconds, samples, command)
    # The original BPE files and their origin note ride along (save_pretrained writes only
    # tokenizer.json in transformers 5), so the folder stays complete and card.json lists all.
    for name in ("vocab.json", "merges.txt", "TOKENIZER_NOTE.md"):
        if (STARTER / name).exists() and not (tmp / name).exists():
            shutil.copy2(STARTER / name, tmp / name)
    files = {p.name: p.stat().st_size for p in sorted(tmp.iterdir()) if p.name != "card.json"}
    card = {"name": "starter", "base": "starter", "method": "full", "run_id": None,
            "artist": None, "dataset": stats, "val_loss": round(val, 4),
            "perplexity": round(math.exp(val), 2), "params": n_params, "dtype": "float16",
            "created_at": time.time(), "files": files}
    (tmp / "card.json").write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    args.out.mkdir(parents=True, exist_ok=True)
    for p in tmp.iterdir():
        p.replace(args.out / p.name)
    tmp.rmdir()
    log(f"wrote {args.out}")


def write_readme(folder: Path, args, n_params: int, val: float, seconds: float,
                 samples: list[dict], command: str) -> None:
    size = (folder / "model.safetensors").stat().st_size
    sample_md = "\n\n".join(
        "> " + s["prompt"] + "\n>\n" + "\n".join(f"> *{ln}*" for ln in s["lines"])
        for s in samples
    )
    text = f"""# lyrictui starter model

A **small demo model** bundled with lyrictui so the app works offline out of the box. It writes
lines that read like 19th-century English verse; it knows nothing about any artist. Real quality
comes from fine-tuning `gpt2` (or a larger GPT-2) on an artist's lyrics, ideally on a GPU.

| | |
|---|---|
| Architecture | GPT2LMHeadModel, {args.n_layer} layers, {args.n_head} heads, width {args.n_embd}, context {args.n_ctx} tokens, tied input/output embeddings |
| Parameters | {n_params:,} |
| Weights | `model.safetensors`, float16, {size / 1e6:.1f} MB |
| Tokenizer | GPT-2's own byte-level BPE (50,257 tokens; see TOKENIZER_NOTE.md) |
| Validation loss | {val:.4f} nats/token (perplexity {math.exp(val):.1f}) on the held-out blocks |
| Training | {args.steps} steps x {args.batch_size} x {args.n_ctx} tokens, AdamW lr {args.lr} (warm-up {args.warmup}, cosine to {args.min_lr_ratio}x), weight decay {args.weight_decay}, seed {args.seed}, {"bf16 autocast, " if args.bf16 else ""}{args.threads} CPU thread(s), {seconds / 60:.0f} minutes |

## Data

The public-domain verse corpus in `data/verse/verse.txt.gz` (lines of poetry from public-domain
Project Gutenberg books, via the Gutenberg Poetry Corpus; see data/verse/NOTE.md). Blocks are
separated by blank lines; block i (0-based) is held out for validation when i % {args.val_every} == 0,
all others are used for training. Each block ends with `<|endoftext|>`.

License: the training texts are in the public domain; the tokenizer files are OpenAI's GPT-2
vocabulary (MIT license). The weights are released with lyrictui under the same terms.

## Training command

    {command}

## Sample output

Sampled with top-p 0.9, temperature 0.9, seed {args.seed} (prompt, then the model's lines):

{sample_md}
"""
    (folder / "README.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    train(parse_args())
