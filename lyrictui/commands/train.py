"""Training commands: train, resume, cancel (and the hidden run-worker a detached run executes).

`runs`, `watch`, `models` and `rm-model` live in commands/trainview.py and are registered here.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from functools import partial
from typing import Any

import click

from lyrictui.commands.common import open_library, safe
from lyrictui.commands.trainview import VIEW_COMMANDS
from lyrictui.core.errors import InvalidInput, NotFound
from lyrictui.core.store.library import Library
from lyrictui.core.train import distributed, runs, start
from lyrictui.core.train.config import COMPILE_MODES, DEVICES, METHODS

CANCEL_WAIT_S = 60.0


def print_event(event: dict[str, Any]) -> None:
    """One plain line per event: readable in a terminal and in a detached run's train.log."""
    kind = event["type"]
    if kind == "start":
        again = f", resumed from step {event['resumed_from']}" if event.get("resumed_from") else ""
        cfg = event.get("config", {})
        click.echo(f"training {cfg.get('method')} on {cfg.get('base')}: {event['total_steps']} "
                   f"steps ({event['epochs']} epochs) on {event.get('device')} "
                   f"({event.get('precision')}){again}")
    elif kind == "step":
        click.echo(f"step {event['step']:>6}  epoch {event['epoch']:<6} loss {event['loss']:.4f}"
                   f"  lr {event['lr']:.2e}  {event['tokens_per_s']:,.0f} tok/s")
    elif kind == "eval":
        ppl = f" (perplexity {event['perplexity']:.2f})" if event.get("perplexity") else ""
        click.echo(f"eval at step {event['step']}: validation loss {event['val_loss']:.4f}{ppl}")
    elif kind == "sample":
        for line in event.get("lines", []):
            click.echo(f"    | {safe(line)}")
    elif kind == "checkpoint":
        click.echo(f"checkpoint at step {event['step']}")
    elif kind == "end":
        click.echo(f"run {event['status']}" + (f": model {event['model_id']}"
                                               if event.get("model_id") else ""))


def _say_stopping(run_id: str, signum: int) -> None:
    """Said the moment Ctrl-C (or SIGTERM) arrives: the step, evaluation and sample under way
    can take a while, and silence reads as a hang. Runs inside the signal handler, so it writes
    to the file descriptor: a buffered print could be in the middle of its own write."""
    what = "Ctrl-C" if signum == signal.SIGINT else "stop signal"
    text = (f"\n{what}: stopping after the current step, once a checkpoint is saved "
            f"(`lyrictui resume {run_id}` continues from it). Press Ctrl-C again to quit at "
            "once without saving this step.\n")
    with contextlib.suppress(OSError):
        os.write(sys.stderr.fileno(), text.encode("utf-8", "replace"))


def _foreground(library: Library, run_id: str, dist: distributed.DistInfo, *,
                background: bool = False) -> None:
    from lyrictui.core.train.training import execute_run

    if dist.main:
        click.echo(f"run {run_id} (Ctrl-C saves a checkpoint and stops; "
                   f"`lyrictui resume {run_id}` continues)")
    outcome = execute_run(library, run_id, dist=dist,
                          listener=print_event if dist.main else None, background=background,
                          on_signal=partial(_say_stopping, run_id) if dist.main else None)
    if dist.main and outcome.status == "cancelled":
        click.echo(f"stopped: `lyrictui resume {run_id}` continues from the last checkpoint")


@click.command()
@click.argument("name")
@click.option("--base", help="Hub id (gpt2, distilgpt2, gpt2-medium...), a model folder, or "
              "starter [gpt2; starter when gpt2 is not downloaded and the hub is unreachable].")
@click.option("--method", type=click.Choice(METHODS), default="full", show_default=True,
              help="Full fine-tune, or LoRA adapters (a few MB, loaded over the base).")
@click.option("--epochs", type=int, help="Passes over the data [the budget decides, in steps, "
              "from the size of the data; shown before the run starts].")
@click.option("--batch-size", type=int, help="Blocks per device per micro-batch [8].")
@click.option("--grad-accum", type=int, help="Micro-batches per optimizer step [1].")
@click.option("--lr", type=float, help="Peak learning rate [5e-5 full, 2e-4 LoRA; starter: 1e-3, "
              "3e-4 with --train-embeddings].")
@click.option("--block-size", type=int, help="Tokens per training block [512, smaller for a "
              "small set].")
@click.option("--val-fraction", type=float, help="Share of songs held out for validation [0.1, "
              "more for a small set: at least 3 whole songs].")
@click.option("--device", type=click.Choice(DEVICES), help="[config `device`, else auto].")
@click.option("--max-steps", type=int, help="Train this many optimizer steps [the budget].")
@click.option("--eval-every", type=int, help="Evaluate every N steps [about 6 times a run].")
@click.option("--save-every", type=int, help="Checkpoint every N steps [at each evaluation].")
@click.option("--keep-checkpoints", type=int, help="Checkpoints kept while training [1].")
@click.option("--patience", type=int, help="Evaluations without improvement before stopping "
              "early; 0 never stops [3; 2 with --epochs or --max-steps].")
@click.option("--seed", type=int, help="Random seed [42].")
@click.option("--warmup", type=float, help="Share of steps warming up the lr [0.05].")
@click.option("--weight-decay", type=float, help="AdamW weight decay [0.01].")
@click.option("--compile", "compile_mode", type=click.Choice(COMPILE_MODES),
              help="torch.compile [auto: on CUDA for long runs].")
@click.option("--gradient-checkpointing", is_flag=True, default=None,
              help="Recompute activations: less GPU memory, slower steps.")
@click.option("--train-embeddings/--freeze-embeddings", default=None,
              help="Train the token embedding table too [yes; frozen for the starter].")
@click.option("--lora-r", type=int, help="LoRA rank [8].")
@click.option("--lora-alpha", type=int, help="LoRA alpha [16].")
@click.option("--log-every", type=int, help="A step event every N steps [about once a second].")
@click.option("--detach", is_flag=True, help="Train in the background; prints the run id.")
@click.option("--dry-run", is_flag=True, help="Show the plan (songs, tokens, steps, expected "
              "time) and start nothing.")
@click.option("--resume", is_flag=True,
              help="Continue NAME's last interrupted, cancelled or failed run instead.")
def train(name: str, base: str | None, method: str, detach: bool, resume: bool, dry_run: bool,
          compile_mode: str | None, **options: Any) -> None:
    """Fine-tune GPT-2 on NAME's lyrics (packing them first if needed).

    Runs in the foreground (Ctrl-C saves a checkpoint and stops) or, with --detach, in its own
    background process. Under torchrun / accelerate launch every process trains its share.
    """
    dist = distributed.from_env()
    if dist.enabled and detach:
        raise InvalidInput("--detach cannot be combined with torchrun: run the launcher itself "
                           "in the background")
    library = open_library()
    run_id = None
    if dist.main:
        artist = library.get_artist(name)
        if resume:
            run = runs.latest_resumable(library, artist)
            if run is None:
                raise NotFound(f'"{artist.name}" has no interrupted, cancelled or failed run to '
                               "resume: start one with `lyrictui train`")
            runs.ensure_can_resume(library, run)
            runs.clear_stop(runs.run_dir(run))
            if detach:
                click.echo(runs.start_detached(library, artist, runs.run_config(run), run=run))
                return
            run_id = run.id
        else:
            plan = start.plan_run_full(library, artist, base, method, compile=compile_mode,
                                       **options)
            # With --detach the plan goes to stderr, so stdout stays the run id alone.
            for line in plan.lines():
                click.echo(safe(line), err=detach)
            if dry_run:
                return
            run_id = start.start_run(library, artist, plan.config, detach=detach)
            if detach:
                click.echo(run_id)
                return
    distributed.init(dist, options.get("device") or start.setting_device())
    try:
        run_id = distributed.broadcast(dist, run_id)
        _foreground(library, run_id, dist)
    finally:
        distributed.shutdown(dist)


@click.command()
@click.argument("run_ref", metavar="RUN")
@click.option("--detach", is_flag=True, help="Continue in the background.")
def resume(run_ref: str, detach: bool) -> None:
    """Continue RUN (an id, or an artist's latest run) from its last checkpoint."""
    library = open_library()
    runs.mark_stale_runs(library)
    run = runs.resolve_run(library, run_ref)
    runs.ensure_can_resume(library, run)
    runs.clear_stop(runs.run_dir(run))
    if detach:
        artist = library.artist_by_id(run.artist_id)
        click.echo(runs.start_detached(library, artist, runs.run_config(run), run=run))
        return
    _foreground(library, run.id, distributed.SINGLE)


@click.command("run-worker", hidden=True)
@click.argument("run_id")
def run_worker(run_id: str) -> None:
    """Train RUN in this process (what --detach and the app start; keeps a pending cancel), at
    a lower priority and leaving a core free on a CPU, so the app stays responsive."""
    _foreground(open_library(), run_id, distributed.SINGLE, background=True)


@click.command()
@click.argument("run_ref", metavar="RUN")
@click.option("--no-wait", is_flag=True, help="Return at once instead of waiting for the stop.")
def cancel(run_ref: str, no_wait: bool) -> None:
    """Stop RUN: it saves a checkpoint and exits (resume it later with `lyrictui resume`)."""
    library = open_library()
    run = runs.resolve_run(library, run_ref)
    click.echo(runs.cancel(library, run.id))
    if no_wait:
        return
    deadline = time.monotonic() + CANCEL_WAIT_S
    while time.monotonic() < deadline:
        current = library.get_run(run.id)
        if current.status not in runs.ACTIVE:
            click.echo(f"run {run.id} is {current.status} at step {current.step}")
            return
        runs.mark_stale_runs(library)
        time.sleep(0.3)
    click.echo(f"run {run.id} has not stopped yet: it stops after its current step")


COMMANDS = [train, resume, cancel, run_worker, *VIEW_COMMANDS]
