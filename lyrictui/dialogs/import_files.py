"""ImportFilesDialog: an artist name and the files or folder holding their lyrics (.txt / .md,
or a LyricsGenius .json export; core/sources/importer.py reads all of them)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DirectoryTree, Input, Label, Static

from lyrictui.core.errors import LyricError
from lyrictui.core.names import clean_name
from lyrictui.dialogs.form import FormDialog


@dataclass(frozen=True)
class ImportRequest:
    artist: str
    path: Path


class ImportFilesDialog(FormDialog[ImportRequest]):
    """Pick a .txt/.md file, a LyricsGenius .json export or a folder in the tree (or type a
    path); returns an ImportRequest."""

    # Compact inputs and little padding: at 80x24 the tree still gets most of the height.
    DEFAULT_CSS = """
    ImportFilesDialog > Vertical { width: 90%; max-width: 110; height: 95%; padding: 0 2; }
    ImportFilesDialog .dialog-title { margin: 1 0 0 0; }
    ImportFilesDialog Input { margin-bottom: 1; }
    ImportFilesDialog DirectoryTree { height: 1fr; min-height: 4; border: round $panel; }
    ImportFilesDialog .dialog-buttons { margin: 0; }
    """

    def __init__(self, start: Path | None = None, artist: str = "") -> None:
        super().__init__()
        self._start = start or Path.home()
        self._artist = artist
        self._picked = ""  # the last path picked in the tree

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Import your own lyrics", classes="dialog-title")
            yield Label("Artist name (new or existing)")
            yield Input(self._artist, placeholder="e.g. My Band", id="import-name", compact=True)
            yield Static("File or folder: .txt / .md (one song per file, or songs split by ---),"
                         " or a LyricsGenius .json export (Lyrics_<Artist>.json)", markup=False)
            yield Input(str(self._start), id="import-path", compact=True)
            yield DirectoryTree(self._start, id="import-tree")
            yield Static("", id="import-error", classes="dialog-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Import", id="ok", variant="primary")

    def on_input_changed(self, event: Input.Changed) -> None:
        """The tree follows a typed path: to the folder typed, or to the folder of a file."""
        if event.input.id != "import-path" or event.value == self._picked:
            return  # a pick in the tree itself does not move the tree
        path = Path(event.value.strip()).expanduser()
        folder = path if path.is_dir() else path.parent
        tree = self.query_one(DirectoryTree)
        if folder.is_dir() and folder != Path(tree.path) and path.is_absolute():
            tree.path = folder

    def on_directory_tree_file_selected(self, event: DirectoryTree.FileSelected) -> None:
        self._picked = str(event.path)
        self.query_one("#import-path", Input).value = self._picked

    def on_directory_tree_directory_selected(
        self, event: DirectoryTree.DirectorySelected
    ) -> None:
        self._picked = str(event.path)
        self.query_one("#import-path", Input).value = self._picked

    def submit(self) -> None:
        error = self.query_one("#import-error", Static)
        try:
            name = clean_name(self.query_one("#import-name", Input).value)
        except LyricError as exc:
            error.update(str(exc))
            return
        path = Path(self.query_one("#import-path", Input).value.strip()).expanduser()
        if not path.exists():
            error.update(f"{path} does not exist: pick a file or folder in the tree")
            return
        self.dismiss(ImportRequest(name, path))
