"""LossChart: train and validation loss of a run on one plot with axes (plotext)."""

from __future__ import annotations

from textual_plotext import PlotextPlot

TRAIN_COLOR, VAL_COLOR = "cyan", "orange"
TITLE = f"loss: train ({TRAIN_COLOR} line) · validation ({VAL_COLOR} dots)"


class LossChart(PlotextPlot):
    """Plots (step, loss) series; `show()` replaces the data and redraws once."""

    def on_mount(self) -> None:
        self.show([], [])

    def show(self, train: list[tuple[int, float]], val: list[tuple[int, float]]) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        # plotext draws a legend inside the plot, over the curve's start: the series are
        # named in the title instead, by their colour and marker.
        plt.title(TITLE)
        plt.xlabel("step")
        if train:
            plt.plot([s for s, _ in train], [v for _, v in train], marker="braille",
                     color=TRAIN_COLOR)
        if val:
            plt.plot([s for s, _ in val], [v for _, v in val], marker="dot", color=VAL_COLOR)
        self.refresh()
