"""ArtistTable: one row per artist with its songs, dataset and model status."""

from __future__ import annotations

from rich.markup import escape
from textual.message import Message
from textual.widgets import DataTable

from lyrictui.core import paths
from lyrictui.core.names import strip_control
from lyrictui.core.store.records import ArtistSummary
from lyrictui.core.store.status import dataset_status, model_status

SOURCE_LABELS = {"genius": "Genius", "imported": "imported", "demo": "demo"}
# What matters most comes first: at 80 columns the table shows up to Disk without scrolling.
COLUMNS = ("Artist", "Songs", "Model", "Dataset", "Disk", "Skipped", "Tokens", "Source")


class ArtistTable(DataTable[str]):
    """The library's table. Rows are keyed by artist id so updates keep the cursor."""

    class ArtistHighlighted(Message):
        """The cursor moved onto an artist (or off every artist: artist_id None)."""

        def __init__(self, artist_id: int | None) -> None:
            super().__init__()
            self.artist_id = artist_id

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.summaries: dict[int, ArtistSummary] = {}
        """The rows' summaries by artist id, as last shown."""

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        for label in COLUMNS:
            self.add_column(label, key=label.lower())

    def show(self, summaries: list[ArtistSummary], disk: dict[int, int]) -> None:
        """Replace the rows, keeping the cursor on the same artist where it still exists."""
        keep = self.selected_artist_id
        self.summaries = {s.artist.id: s for s in summaries}
        self.clear()
        for s in summaries:
            tokens = f"{s.tokens:,}" if s.tokens is not None else "-"
            self.add_row(
                table_cell(s.artist.name),
                str(s.songs),
                model_status(s),
                dataset_status(s),
                paths.human_size(disk.get(s.artist.id, 0)),
                str(s.skipped) if s.skipped else "-",
                tokens,
                SOURCE_LABELS.get(s.artist.source, s.artist.source),
                key=str(s.artist.id),
            )
        if keep is not None and str(keep) in self.rows:
            self.move_cursor(row=self.get_row_index(str(keep)))
        self.post_message(self.ArtistHighlighted(self.selected_artist_id))

    @property
    def selected_summary(self) -> ArtistSummary | None:
        """What the table knows of the highlighted artist, or None."""
        artist_id = self.selected_artist_id
        return self.summaries.get(artist_id) if artist_id is not None else None

    @property
    def selected_artist_id(self) -> int | None:
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except Exception:  # cursor outside the table while rows are replaced
            return None
        return int(key.value) if key.value is not None else None

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        value = event.row_key.value if event.row_key is not None else None
        self.post_message(self.ArtistHighlighted(int(value) if value is not None else None))


def table_cell(text: str) -> str:
    """A name for a str cell, which DataTable reads as markup: "[b]" stays text, and no
    control character reaches the terminal. (escape() doubles a final backslash for text
    that markup follows; nothing follows here, hence the space added and taken off.)"""
    return escape(strip_control(text) + " ")[:-1]
