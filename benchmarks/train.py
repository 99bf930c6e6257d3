"""Training throughput and end-to-end time: lyrictui's loop vs Hugging Face Trainer defaults.

1. Throughput (tokens/s and MFU) of a GPT-2 124M config (GPT2Config() defaults, random init) at
   block 1024 on the same random-token batches:
   - ours: one optimizer step of lyrictui's loop (core/train/loop.py) as a run would take it on
     this device: bf16 autocast (fp16 + loss scaling without bf16), SDPA, fused AdamW, TF32 on
     CUDA; fp32 on a CPU. Measured without and with torch.compile (CUDA, or --compile).
   - baseline: `transformers.Trainer` with its defaults (fp32, no compile, its default
     optimizer) and the same per-device batch; only output_dir, max_steps, save_strategy="no"
     and report_to="none" are set. Steps are timed by a callback (device synchronized).
   MFU = tokens/s x (6 N + 12 L d T) / peak, N = parameters without position embeddings (as
   nanoGPT counts); peak = a large matmul measured here in the loop's dtype (and, on CUDA, the
   790 TFLOP/s bf16 measured on an H100 of this workplace).
2. End to end: a 1M-token, 3-epoch fine-tune from a saved base folder to a registered model
   (lyrictui.core.train.training.execute_run with default settings: model load, training, an
   evaluation + sample + checkpoint per epoch, best weights kept, float16 model written and
   registered), in a temporary LYRICTUI_HOME. The data are random tokens given as tensors: the
   pack step (tokenizing songs; its own benchmark) is not part of this figure.

No `datasets` or `textual` import on this path. Prints one JSON object per line.

    python benchmarks/train.py                         # CUDA when present, full sizes
    python benchmarks/train.py --device cpu --threads 2 --block 256 --batch 2 --steps 4 \
        --e2e-tokens 100000 --e2e-layers 2 --e2e-embd 128 --e2e-block 128   # reduced CPU run
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TOKENIZER = ROOT / "tests" / "data" / "gpt2-tokenizer"
H100_BF16_PEAK = 790e12


def emit(**fields) -> None:
    print(json.dumps({"bench": "train", **fields}), flush=True)


def sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_peak(device, dtype) -> float:
    """FLOP/s of a large square matmul in `dtype` on `device` (median of a few)."""
    import torch

    n = 8192 if device.type == "cuda" else 1024
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    for _ in range(3):
        a @ b
    times = []
    for _ in range(10 if device.type == "cuda" else 5):
        sync(device)
        t = time.perf_counter()
        a @ b
        sync(device)
        times.append(time.perf_counter() - t)
    return 2 * n**3 / statistics.median(times)


def flops_per_token(config, params_no_pos: int, block: int) -> float:
    return 6 * params_no_pos + 12 * config.n_layer * config.n_embd * block


def make_model(layers: int | None, embd: int | None, block: int):
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    kwargs = {"n_positions": max(1024, block), "attn_implementation": "sdpa"}
    if layers:
        kwargs["n_layer"] = layers
    if embd:
        kwargs.update(n_embd=embd, n_head=max(1, embd // 64))
    return GPT2LMHeadModel(GPT2Config(**kwargs))


def bench_ours(args, device, data, compiled: bool) -> list[float]:
    """Seconds per optimizer step of lyrictui's loop."""
    import torch

    from lyrictui.core.train.config import TrainConfig
    from lyrictui.core.train.distributed import SINGLE
    from lyrictui.core.train.events import EventLog
    from lyrictui.core.train.loop import Loop, make_plan
    from lyrictui.core.train.setup import (
        TrainData,
        configure_backend,
        make_optimizer,
        pick_precision,
    )

    configure_backend(device)
    if device.type == "cpu":
        torch.set_num_threads(args.threads)
    precision = pick_precision(device)
    model = make_model(args.layers, args.embd, args.block).to(device)
    config = TrainConfig(batch_size=args.batch, block_size=args.block, epochs=1000,
                         device=device.type)
    optimizer = make_optimizer(model, config, device)
    scaler = torch.amp.GradScaler("cuda") if precision.scaler else None
    plan = make_plan(data.shape[0], args.block, config)
    train_model = torch.compile(model) if compiled else model
    loop = Loop(model=train_model, raw=model, tokenizer=None, optimizer=optimizer, scaler=scaler,
                data=TrainData(train=data, val=[], stats={}), config=config, plan=plan,
                device=device, precision=precision, dist=SINGLE, events=EventLog(None),
                run_dir=None, stop=lambda: False, progress=lambda step: None,
                save_best=lambda step, loss: None)
    model.train()
    started = time.perf_counter()
    for step in range(args.warmup):
        loop._step(step)
    sync(device)
    emit(phase="warmup", engine="ours", compiled=compiled, seconds=round(
        time.perf_counter() - started, 2), precision=precision.name)
    times = []
    for step in range(args.warmup, args.warmup + args.steps):
        t = time.perf_counter()
        loss, _ = loop._step(step)
        float(loss)  # the step is done when its loss is
        times.append(time.perf_counter() - t)
    del loop, model, optimizer
    return times


def bench_trainer(args, device, data) -> list[float]:
    """Seconds per step of transformers.Trainer with its defaults."""
    import torch
    from transformers import Trainer, TrainerCallback, TrainingArguments

    class Blocks(torch.utils.data.Dataset):
        def __len__(self) -> int:
            return data.shape[0]

        def __getitem__(self, i: int) -> dict:
            return {"input_ids": data[i], "labels": data[i]}

    times: list[float] = []

    class Clock(TrainerCallback):
        def on_step_begin(self, *a, **k):
            sync(device)
            self.t = time.perf_counter()

        def on_step_end(self, *a, **k):
            sync(device)
            times.append(time.perf_counter() - self.t)

    if device.type == "cpu":
        torch.set_num_threads(args.threads)
    # Ours switched TF32 on for this process; the baseline gets torch's defaults back.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    model = make_model(args.layers, args.embd, args.block)
    with tempfile.TemporaryDirectory() as out:
        targs = TrainingArguments(output_dir=out, per_device_train_batch_size=args.batch,
                                  max_steps=args.warmup + args.steps, save_strategy="no",
                                  report_to="none", disable_tqdm=True, use_cpu=device.type == "cpu")
        emit(phase="baseline-settings", optim=str(targs.optim), bf16=targs.bf16, fp16=targs.fp16,
             torch_compile=targs.torch_compile, lr_scheduler=str(targs.lr_scheduler_type))
        Trainer(model=model, args=targs, train_dataset=Blocks(), callbacks=[Clock()]).train()
    return times[args.warmup:]


def throughput(args, device) -> None:
    import torch

    model = make_model(args.layers, args.embd, args.block)
    cfg = model.config
    params = sum(p.numel() for p in model.parameters())
    no_pos = params - model.transformer.wpe.weight.numel()
    del model
    fpt = flops_per_token(cfg, no_pos, args.block)
    tokens = args.batch * args.block
    blocks = args.batch * (args.warmup + args.steps)
    data = torch.randint(0, cfg.vocab_size, (blocks, args.block), generator=torch.Generator()
                         .manual_seed(1))
    from lyrictui.core.train.setup import pick_precision

    precision = pick_precision(device)
    peak_dtype = precision.autocast or torch.float32
    peak = matmul_peak(device, peak_dtype)
    emit(phase="setup", device=str(device), params=params, block=args.block, batch=args.batch,
         steps=args.steps, warmup=args.warmup, flops_per_token=fpt,
         measured_peak_tflops=round(peak / 1e12, 2), peak_dtype=str(peak_dtype))
    results = {}
    engines = [("ours", False)]
    if device.type == "cuda" or args.compile:
        engines.append(("ours+compile", True))
    for name, compiled in engines:
        results[name] = bench_ours(args, device, data, compiled)
    if not args.skip_trainer:
        try:
            results["hf_trainer_defaults"] = bench_trainer(args, device, data)
        except ImportError as exc:
            emit(phase="baseline", error=f"Trainer unavailable: {exc}")
    for name, times in results.items():
        step = statistics.median(times)
        tps = tokens / step
        row = {"engine": name, "median_step_s": round(step, 4), "tokens_per_s": round(tps),
               "mfu_vs_measured_peak": round(tps * fpt / peak, 4)}
        if device.type == "cuda":
            row["mfu_vs_790tflops"] = round(tps * fpt / H100_BF16_PEAK, 4)
        emit(phase="throughput", **row)
    if "hf_trainer_defaults" in results:
        base = statistics.median(results["hf_trainer_defaults"])
        for name in results:
            if name != "hf_trainer_defaults":
                emit(phase="ratio", ratio=f"{name} / hf_trainer_defaults (tokens/s)",
                     value=round(base / statistics.median(results[name]), 2))


def end_to_end(args, device) -> None:
    import torch
    from transformers import GPT2TokenizerFast

    home = Path(tempfile.mkdtemp(prefix="lyrictui-bench-"))
    os.environ["LYRICTUI_HOME"] = str(home)
    from lyrictui.core.store.library import Library
    from lyrictui.core.train import runs, training
    from lyrictui.core.train.config import TrainConfig
    from lyrictui.core.train.setup import TrainData

    if device.type == "cpu":
        torch.set_num_threads(args.threads)
    tokenizer = GPT2TokenizerFast(vocab=str(TOKENIZER / "vocab.json"),
                                  merges=str(TOKENIZER / "merges.txt"))
    base = home / "base"
    make_model(args.e2e_layers, args.e2e_embd, args.e2e_block).save_pretrained(base)
    tokenizer.save_pretrained(base)
    block = args.e2e_block
    n_train = args.e2e_tokens // block
    gen = torch.Generator().manual_seed(2)
    data = TrainData(train=torch.randint(0, 50257, (n_train, block), generator=gen),
                     val=[torch.randint(0, 50257, (max(1, n_train // 10), block), generator=gen)],
                     stats={"tokens": n_train * block, "note": "random tokens"})
    library = Library()
    artist = library.add_artist("Benchmark", "imported")
    config = TrainConfig(base=str(base), epochs=3, block_size=block, device=device.type,
                         batch_size=args.e2e_batch)
    run = runs.create_run(library, artist, config)
    started = time.perf_counter()
    outcome = training.execute_run(library, run.id, data=data)
    wall = time.perf_counter() - started
    events = runs.read_events(runs.run_dir(run), 0)[0]
    start = next(e for e in events if e["type"] == "start")
    steps = [e for e in events if e["type"] == "step"]
    emit(phase="end_to_end", wall_s=round(wall, 2), status=outcome.status,
         train_tokens=n_train * block, epochs=3, block=block, batch=args.e2e_batch,
         total_steps=start["total_steps"], compiled=start["compiled"],
         precision=start["precision"], params=start["params"],
         last_tokens_per_s=round(steps[-1]["tokens_per_s"]) if steps else None,
         model_bytes=library.get_model(outcome.model_id).size_bytes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=2, help="torch threads on CPU")
    parser.add_argument("--block", type=int, default=1024)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=30, help="timed steps per engine")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--layers", type=int, help="override n_layer (reduced runs)")
    parser.add_argument("--embd", type=int, help="override n_embd (reduced runs)")
    parser.add_argument("--compile", action="store_true", help="also time ours compiled on CPU")
    parser.add_argument("--skip-trainer", action="store_true")
    parser.add_argument("--skip-e2e", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--e2e-tokens", type=int, default=1_000_000)
    parser.add_argument("--e2e-block", type=int, default=512)
    parser.add_argument("--e2e-batch", type=int, default=8)
    parser.add_argument("--e2e-layers", type=int)
    parser.add_argument("--e2e-embd", type=int)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from lyrictui.core.train.setup import pick_device

    device = pick_device(args.device)
    if not args.skip_throughput:
        throughput(args, device)
    if not args.skip_e2e:
        end_to_end(args, device)


if __name__ == "__main__":
    main()
