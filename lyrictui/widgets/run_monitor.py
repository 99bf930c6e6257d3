"""RunMonitor: one training run, live: progress, loss curves, throughput, samples, event log."""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Log, ProgressBar, Static

from lyrictui.core.train.run_state import RunState, format_duration
from lyrictui.widgets.loss_chart import LossChart


class RunMonitor(Vertical):
    """Shows a RunState; `show()` is cheap enough to call a few times a second."""

    DEFAULT_CSS = """
    RunMonitor #run-progress-row { height: 1; }
    RunMonitor #run-progress { width: auto; }
    RunMonitor #run-eta { width: 1fr; padding-left: 1; }
    RunMonitor #run-stats { height: auto; color: $text-muted; }
    RunMonitor LossChart { height: 1fr; min-height: 8; }
    RunMonitor #run-samples { height: auto; max-height: 6; }
    RunMonitor #run-log { height: 6; }
    """

    def compose(self) -> ComposeResult:
        yield Static("", id="run-title")
        with Horizontal(id="run-progress-row"):
            yield ProgressBar(total=1, show_eta=False, id="run-progress")
            yield Static("", id="run-eta")
        yield Static("", id="run-stats")
        yield LossChart(id="loss-chart")
        yield Static("", id="run-samples")
        yield Log(max_lines=200, id="run-log")

    def show(self, title: str, state: RunState, new_log_lines: list[str]) -> None:
        self.query_one("#run-title", Static).update(f"[b]{escape(title)}[/b]  {state.status}")
        bar = self.query_one(ProgressBar)
        bar.update(total=max(state.total_steps, 1), progress=state.step)
        eta = state.eta_seconds()
        self.query_one("#run-eta", Static).update(
            f"step {state.step}/{state.total_steps or '?'}  epoch {state.epoch:.2f}"
            + (f"  ETA {format_duration(eta)}" if eta is not None else "")
        )
        stats = []
        if state.tokens_per_s:
            stats.append(f"{state.tokens_per_s:,.0f} tokens/s")
        if state.lr is not None:
            stats.append(f"lr {state.lr:.2e}")
        if state.gpu_mem:
            stats.append(f"GPU {state.gpu_mem / 2**30:.1f} GiB")
        if state.perplexities:
            stats.append(f"val perplexity {state.perplexities[-1][1]:.1f}")
        if state.best_val_loss is not None:
            stats.append(f"best val loss {state.best_val_loss:.3f}")
        if state.error:
            stats.append(f"[b red]{escape(state.error)}[/]")
        self.query_one("#run-stats", Static).update("  ·  ".join(stats) or "waiting for the first step…")
        self.query_one(LossChart).show(state.train, state.val)
        samples = "\n".join(f"  {escape(line)}" for line in state.samples[:4])
        self.query_one("#run-samples", Static).update(
            f"[b]Latest sample[/b]\n{samples}" if samples else ""
        )
        if new_log_lines:
            self.query_one(Log).write_lines(new_log_lines)

    def clear(self) -> None:
        self.query_one(Log).clear()
