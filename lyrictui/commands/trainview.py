"""Looking at training: `runs`, `watch` (a live rich view of a run's events), `models`, `rm-model`."""

from __future__ import annotations

import math
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from lyrictui.commands.common import echo_json, open_library, safe
from lyrictui.core import paths, runs
from lyrictui.core.records import Run
from lyrictui.core.status import run_is_stale

SPARKS = "▁▂▃▄▅▆▇█"
POLL_S = 0.5


def _ppl(loss: float | None) -> float | None:
    return math.exp(loss) if loss is not None and loss < 80 else None


def run_row(run: Run, artist: str) -> dict[str, Any]:
    return {"id": run.id, "artist": artist, "status": run.status, "step": run.step,
            "total_steps": run.total_steps, "base": run.base, "method": run.method,
            "best_val_loss": run.best_val_loss, "best_perplexity": _ppl(run.best_val_loss),
            "model_id": run.model_id, "error": run.error, "pid": run.pid,
            "started_at": run.started_at, "ended_at": run.ended_at, "dir": run.dir}


@click.command("runs")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_runs(name: str | None, as_json: bool) -> None:
    """List training runs (of NAME), newest first, with status and best perplexity."""
    library = open_library()
    runs.mark_stale_runs(library)
    artist = library.get_artist(name) if name else None
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
               f"{'BEST PPL':>9}  STARTED")
    for r in rows:
        ppl = f"{r['best_perplexity']:.2f}" if r["best_perplexity"] is not None else "-"
        started = datetime.fromtimestamp(r["started_at"]).strftime("%Y-%m-%d %H:%M")
        click.echo(f"{r['id']:<44} {safe(r['artist'])[:20]:<20} {r['status']:<11} "
                   f"{str(r['step']) + '/' + str(r['total_steps']):>13} {r['method']:<6} "
                   f"{ppl:>9}  {started}")
        if r["error"] and r["status"] == "failed":
            click.echo(f"    {safe(r['error'])}")


class RunView:
    """What `watch` knows about a run, folded from its events."""

    def __init__(self, run: Run, artist: str) -> None:
        self.run, self.artist = run, artist
        self.start: dict[str, Any] | None = None
        self.step: dict[str, Any] | None = None
        self.losses: list[float] = []
        self.evals: list[dict[str, Any]] = []
        self.sample: dict[str, Any] | None = None
        self.checkpoint: dict[str, Any] | None = None
        self.end: dict[str, Any] | None = None
        self.error: str | None = None

    def feed(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "start":
            self.start, self.end, self.error = event, None, None
        elif kind == "step":
            self.step = event
            if isinstance(event.get("loss"), (int, float)):
                self.losses = (self.losses + [float(event["loss"])])[-60:]
        elif kind == "eval":
            self.evals = [e for e in self.evals if e.get("step") != event.get("step")] + [event]
        elif kind == "sample":
            self.sample = event
        elif kind == "checkpoint":
            self.checkpoint = event
        elif kind == "end":
            self.end = event
        elif kind == "error":
            self.error = str(event.get("message", ""))

    def eta_s(self) -> float | None:
        if not (self.start and self.step and self.step.get("tokens_per_s")):
            return None
        cfg = self.start.get("config", {})
        per_step = (self.start.get("batch_size", cfg.get("batch_size", 1)) * cfg.get(
            "grad_accum", 1) * self.start.get("world_size", 1) * cfg.get("block_size", 1))
        left = self.start["total_steps"] - self.step["step"]
        return max(0.0, left * per_step / self.step["tokens_per_s"])

    def render(self) -> Any:
        from rich.console import Group
        from rich.progress_bar import ProgressBar
        from rich.table import Table
        from rich.text import Text

        status = self.end["status"] if self.end else self.run.status
        parts: list[Any] = [Text.assemble((f"run {self.run.id}", "bold"),
                                          f"  {safe(self.artist)}  ", (status, "cyan"))]
        total = (self.start or {}).get("total_steps") or self.run.total_steps or 0
        done = (self.step or {}).get("step", (self.start or {}).get("resumed_from", 0)) or 0
        if self.end:  # step events come about once a second; the row has the final step
            done = max(done, self.run.step)
        if total:
            eta = self.eta_s()
            bar = Table.grid(padding=(0, 1))
            bar.add_row(ProgressBar(total=total, completed=done, width=40),
                        f"{100 * done / total:5.1f} %  step {done}/{total}",
                        f"epoch {(self.step or {}).get('epoch', 0)}",
                        f"ETA {_duration(eta)}" if eta is not None and not self.end else "")
            parts.append(bar)
        if self.step:
            s = self.step
            gpu = f"  gpu {paths.human_size(int(s['gpu_mem']))}" if s.get("gpu_mem") else ""
            parts.append(Text(f"loss {s['loss']:.4f}  lr {s['lr']:.2e}  "
                              f"{s['tokens_per_s']:,.0f} tok/s  grad norm "
                              f"{(s.get('grad_norm') or 0):.3f}{gpu}"))
        if len(self.losses) > 1:
            lo, hi = min(self.losses), max(self.losses)
            spark = "".join(SPARKS[int((v - lo) / (hi - lo + 1e-12) * (len(SPARKS) - 1))]
                            for v in self.losses)
            parts.append(Text(f"loss {spark}  ({lo:.3f} - {hi:.3f})"))
        if self.evals:
            best = min((e["val_loss"] for e in self.evals if e.get("val_loss") is not None),
                       default=None)
            table = Table("step", "epoch", "val loss", "perplexity", title="evaluations",
                          title_justify="left")
            for e in self.evals[-6:]:
                mark = " *" if e.get("val_loss") == best else ""
                ppl = f"{e['perplexity']:.2f}" if e.get("perplexity") else "-"
                val = f"{e['val_loss']:.4f}{mark}" if e.get("val_loss") is not None else "-"
                table.add_row(str(e["step"]), str(e["epoch"]), val, ppl)
            parts.append(table)
        if self.sample and self.sample.get("lines"):
            parts.append(Text(f"sample at step {self.sample['step']}:", style="bold"))
            parts.extend(Text(f"  {safe(line)}", style="italic") for line in self.sample["lines"])
        if self.checkpoint:
            parts.append(Text(f"last checkpoint: step {self.checkpoint['step']}", style="dim"))
        if self.error:
            parts.append(Text(f"error: {safe(self.error)}", style="bold red"))
        if self.end and self.end.get("model_id"):
            parts.append(Text(f"model {self.end['model_id']} saved", style="green"))
        return Group(*parts)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


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
    view = RunView(run, artist)
    events, offset = runs.read_events(folder, 0)
    for event in events:
        view.feed(event)
    console = Console()
    if once:
        console.print(view.render())
        return
    try:
        with Live(view.render(), console=console, refresh_per_second=4) as live:
            while True:
                new, offset = runs.read_events(folder, offset)
                for event in new:
                    view.feed(event)
                view.run = library.get_run(run.id)
                live.update(view.render())
                if view.run.status not in runs.ACTIVE and (view.end or not new):
                    break
                if run_is_stale(view.run):
                    runs.mark_stale_runs(library)
                time.sleep(POLL_S)
    except KeyboardInterrupt:
        console.print("stopped watching; the run goes on")
        return
    if not console.is_terminal:
        console.line()  # a non-terminal Live leaves its last frame without a newline
    final = view.run
    console.print(f"run {final.id} {final.status} at step {final.step}/{final.total_steps}"
                  + (f": model {final.model_id}" if final.model_id else "")
                  + (f" ({safe(final.error)})" if final.error else ""), markup=False,
                  highlight=False)


@click.command("models")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_models(name: str | None, as_json: bool) -> None:
    """List trained models (of NAME) with their validation perplexity and size on disk."""
    from lyrictui.core import models

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


@click.command("rm-model")
@click.argument("model_id")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
def rm_model(model_id: str, yes: bool) -> None:
    """Delete a trained model and free its folder."""
    from lyrictui.core import models

    library = open_library()
    model = library.get_model(model_id)
    if not yes:
        size = paths.human_size(paths.dir_size(paths.inside_home(Path(model.path))))
        click.confirm(f"Delete model {model.id} ({size})?", abort=True)
    freed = models.remove(library, model.id)
    click.echo(f"Removed model {model.id}: {paths.human_size(freed)} freed.")


VIEW_COMMANDS = [list_runs, watch, list_models, rm_model]
