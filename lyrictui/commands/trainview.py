"""Looking at training: `runs`, `watch` (a live rich view of a run's events), `models`
(list, add), `rm-model`."""

from __future__ import annotations

import math
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from lyrictui.commands.common import echo_json, open_library, safe
from lyrictui.core import paths
from lyrictui.core.store.records import Run
from lyrictui.core.store.status import run_is_stale
from lyrictui.core.train import runs
from lyrictui.core.train.run_state import RunState, format_duration

SPARKS = "▁▂▃▄▅▆▇█"
POLL_S = 0.5


def _ppl(loss: float | None) -> float | None:
    return math.exp(loss) if loss is not None and loss < 80 else None


def run_row(run: Run, artist: str) -> dict[str, Any]:
    from lyrictui.core.train.disk import run_size

    return {"id": run.id, "artist": artist, "status": run.status, "step": run.step,
            "total_steps": run.total_steps, "base": run.base, "method": run.method,
            "best_val_loss": run.best_val_loss, "best_perplexity": _ppl(run.best_val_loss),
            "model_id": run.model_id, "error": run.error, "pid": run.pid,
            "started_at": run.started_at, "ended_at": run.ended_at, "dir": run.dir,
            "size_bytes": run_size(run)}


@click.command("runs")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--prune", is_flag=True, help="Free what finished runs hold: a completed run's "
              "checkpoints, all but the newest checkpoint of a stopped one (what resume needs).")
def list_runs(name: str | None, as_json: bool, prune: bool) -> None:
    """List training runs (of NAME), newest first, with status, best perplexity and size on
    disk; --prune frees what finished runs no longer need first."""
    library = open_library()
    runs.mark_stale_runs(library)
    artist = library.get_artist(name) if name else None
    if prune:
        from lyrictui.core.train.disk import prune_runs

        result = prune_runs(library, artist)
        message = (f"Freed {paths.human_size(result.freed)} from "
                   f"{len(result.pruned)} finished run{'s' * (len(result.pruned) != 1)}."
                   if result.pruned else "Nothing to free: no finished run holds checkpoints "
                   "a resume does not need.")
        click.echo(message, err=as_json)
    names = {a.id: a.name for a in library.list_artists()}
    rows = [run_row(r, names.get(r.artist_id, "?"))
            for r in library.list_runs(artist.id if artist else None)]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("No training runs yet: `lyrictui train NAME` starts one "
                   "(`--base starter` works offline).")
        return
    click.echo(f"{'RUN':<44} {'ARTIST':<20} {'STATUS':<11} {'STEP':>13} {'METHOD':<6} "
               f"{'BEST PPL':>9} {'SIZE':>9}  STARTED")
    for r in rows:
        ppl = f"{r['best_perplexity']:.2f}" if r["best_perplexity"] is not None else "-"
        started = datetime.fromtimestamp(r["started_at"]).strftime("%Y-%m-%d %H:%M")
        click.echo(f"{r['id']:<44} {safe(r['artist'])[:20]:<20} {r['status']:<11} "
                   f"{str(r['step']) + '/' + str(r['total_steps']):>13} {r['method']:<6} "
                   f"{ppl:>9} {paths.human_size(r['size_bytes']):>9}  {started}")
        if r["error"] and r["status"] == "failed":
            click.echo(f"    {safe(r['error'])}")


def render_run(run: Run, artist: str, state: RunState) -> Any:
    """The rich view of one run: what the Training screen shows, as terminal text."""
    from rich.console import Group
    from rich.progress_bar import ProgressBar
    from rich.table import Table
    from rich.text import Text

    status = run.status if state.status in {"queued", "running"} else state.status
    parts: list[Any] = [Text.assemble((f"run {run.id}", "bold"), f"  {safe(artist)}  ",
                                      (status, "cyan"))]
    total = state.total_steps or run.total_steps or 0
    done = max(state.step, run.step) if state.finished else state.step
    if total:
        eta = state.eta_seconds()
        bar = Table.grid(padding=(0, 1))
        bar.add_row(ProgressBar(total=total, completed=done, width=40),
                    f"{100 * done / total:5.1f} %  step {done}/{total}",
                    f"epoch {state.epoch:.2f}",
                    f"ETA {format_duration(eta)}" if eta is not None else "")
        parts.append(bar)
    if state.train:
        gpu = f"  gpu {paths.human_size(int(state.gpu_mem))}" if state.gpu_mem else ""
        lr = f"{state.lr:.2e}" if state.lr is not None else "-"
        speed = f"{state.tokens_per_s:,.0f}" if state.tokens_per_s is not None else "-"
        parts.append(Text(f"loss {state.train[-1][1]:.4f}  lr {lr}  {speed} tok/s  grad norm "
                          f"{(state.grad_norm or 0):.3f}{gpu}"))
    losses = [loss for _step, loss in state.train[-60:]]
    if len(losses) > 1:
        lo, hi = min(losses), max(losses)
        spark = "".join(SPARKS[int((v - lo) / (hi - lo + 1e-12) * (len(SPARKS) - 1))]
                        for v in losses)
        parts.append(Text(f"loss {spark}  ({lo:.3f} - {hi:.3f})"))
    if state.val:
        table = Table("step", "val loss", "perplexity", title="evaluations", title_justify="left")
        perplexity = dict(state.perplexities)
        for step, val in state.val[-6:]:
            mark = " *" if val == state.best_val_loss else ""
            ppl = f"{perplexity[step]:.2f}" if step in perplexity else "-"
            table.add_row(str(step), f"{val:.4f}{mark}", ppl)
        parts.append(table)
    if state.samples:
        parts.append(Text("latest sample:", style="bold"))
        parts.extend(Text(f"  {safe(line)}", style="italic") for line in state.samples)
    if state.checkpoint_step is not None:
        parts.append(Text(f"last checkpoint: step {state.checkpoint_step}", style="dim"))
    if state.skipped_events:
        parts.append(Text(f"{state.skipped_events:,} bad event lines skipped", style="dim"))
    if state.error:
        parts.append(Text(f"error: {safe(state.error)}", style="bold red"))
    if state.model_id:
        parts.append(Text(f"model {state.model_id} saved", style="green"))
    return Group(*parts)


@click.command()
@click.argument("run_ref", metavar="RUN")
@click.option("--once", is_flag=True, help="Print the run's state now and exit.")
def watch(run_ref: str, once: bool) -> None:
    """Follow RUN live: progress, loss, tokens/s, ETA, evaluations and samples.

    Exits when the run ends; Ctrl-C stops watching (the run goes on).
    """
    from rich.console import Console
    from rich.live import Live

    library = open_library()
    run = runs.resolve_run(library, run_ref)
    artist = library.artist_by_id(run.artist_id).name
    folder = runs.run_dir(run)
    state = RunState()
    events, offset = runs.read_events(folder, 0)
    for event in events:
        state.apply(event)
    console = Console()
    if once:
        console.print(render_run(run, artist, state))
        return
    try:
        with Live(render_run(run, artist, state), console=console, refresh_per_second=4) as live:
            while True:
                new, offset = runs.read_events(folder, offset)
                for event in new:
                    state.apply(event)
                run = library.get_run(run.id)
                live.update(render_run(run, artist, state))
                if run.status not in runs.ACTIVE and (state.finished or not new):
                    break
                if run_is_stale(run):
                    runs.mark_stale_runs(library)
                time.sleep(POLL_S)
    except KeyboardInterrupt:
        console.print("stopped watching; the run goes on")
        return
    if not console.is_terminal:
        console.line()  # a non-terminal Live leaves its last frame without a newline
    final = run
    console.print(f"run {final.id} {final.status} at step {final.step}/{final.total_steps}"
                  + (f": model {final.model_id}" if final.model_id else "")
                  + (f" ({safe(final.error)})" if final.error else ""), markup=False,
                  highlight=False)


class ListByDefault(click.Group):
    """`models [NAME] [--json]` lists; `models add ...` adds: anything that is not a
    subcommand goes to `list` (an artist named "add" is listed with `models list add`)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("-h", "--help")):
            args = ["list", *args]
        return super().parse_args(ctx, args)


@click.group("models", cls=ListByDefault)
def models_group() -> None:
    """List models (`lyrictui models [NAME]`), or add one trained elsewhere
    (`lyrictui models add NAME ID_OR_PATH`)."""


@models_group.command("list")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_models(name: str | None, as_json: bool) -> None:
    """List models (of NAME) with their validation perplexity and size on disk."""
    from lyrictui.core.store import models

    library = open_library()
    artist = library.get_artist(name) if name else None
    rows = models.model_rows(library, artist)
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("No models yet: `lyrictui train NAME` fine-tunes one.")
        return
    click.echo(f"{'MODEL':<44} {'ARTIST':<20} {'METHOD':<6} {'BASE':<16} {'PPL':>8} {'SIZE':>9}")
    for r in rows:
        ppl = f"{r['perplexity']:.2f}" if r["perplexity"] is not None else "-"
        size = paths.human_size(r["size_bytes"]) if r["present"] else "missing"
        click.echo(f"{r['id']:<44} {safe(r['artist'])[:20]:<20} {r['method']:<6} "
                   f"{safe(r['base'])[-16:]:<16} {ppl:>8} {size:>9}")


@models_group.command("add")
@click.argument("name")
@click.argument("source", metavar="ID_OR_PATH")
def add_model(name: str, source: str) -> None:
    """Add a causal LM fine-tuned elsewhere as a model of NAME: a Hugging Face hub id
    (huggingartists/ARTIST) or a save_pretrained folder, safetensors weights only. It is copied
    into the library; `lyrictui suggest NAME` writes with it."""
    from lyrictui.core.engine.external import add_external_model

    model = add_external_model(open_library(), name, source)
    click.echo(f"Added model {model.id} ({paths.human_size(model.size_bytes)}) to "
               f'"{safe(open_library().artist_by_id(model.artist_id).name)}" from {safe(source)}.')
    click.echo(f"Write with it: lyrictui suggest \"{safe(name)}\" --model {model.id}; train on "
               f"from it: lyrictui train \"{safe(name)}\" --base {safe(model.path)}")


@click.command("rm-model")
@click.argument("model_id")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
def rm_model(model_id: str, yes: bool) -> None:
    """Delete a trained model and free its folder."""
    from lyrictui.core.store import models

    library = open_library()
    model = library.get_model(model_id)
    if not yes:
        size = paths.human_size(paths.dir_size(paths.inside_home(Path(model.path))))
        click.confirm(f"Delete model {model.id} ({size})?", abort=True)
    freed = models.remove(library, model.id)
    click.echo(f"Removed model {model.id}: {paths.human_size(freed)} freed.")


VIEW_COMMANDS = [list_runs, watch, models_group, rm_model]
