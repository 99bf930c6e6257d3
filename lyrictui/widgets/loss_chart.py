"""LossChart: train and validation loss of a run on one plot with axes (plotext)."""

from __future__ import annotations

from textual_plotext import PlotextPlot


class LossChart(PlotextPlot):
    """Plots (step, loss) series; `show()` replaces the data and redraws once."""

    def on_mount(self) -> None:
        self.show([], [])

    def show(self, train: list[tuple[int, float]], val: list[tuple[int, float]]) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title("loss")
        plt.xlabel("step")
        if train:
            plt.plot([s for s, _ in train], [v for _, v in train], label="train",
                     marker="braille")
        if val:
            plt.plot([s for s, _ in val], [v for _, v in val], label="validation",
                     marker="dot")
        self.refresh()
