"""Changes to the selected artist from the Library: rename, delete (saying what it deletes and
how much it frees) and export its songs."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from textual import work

from lyrictui.core import paths
from lyrictui.core.names import clean_name, plural
from lyrictui.dialogs.confirm import ConfirmDialog
from lyrictui.dialogs.export_path import ExportPathDialog
from lyrictui.dialogs.text_prompt import TextPromptDialog
from lyrictui.screens.library_view import LibraryView


class ArtistActions(LibraryView):
    """Rename, delete and export (a base of `LibraryScreen`)."""

    @work(exclusive=True, group="library-action", exit_on_error=False)
    async def action_rename(self) -> None:
        artist = self._selected()
        if artist is None:
            return
        library = self.library

        def rename(name: str) -> str | None:
            if name == artist.name:
                return None
            library.rename_artist(artist.id, name)
            return f"Renamed to {name}."

        await self._ask_then_change(
            TextPromptDialog(f"Rename {artist.name}", "The artist's folder keeps its name.",
                             value=artist.name, ok_label="Rename", check=clean_name),
            rename, f"Renaming {artist.name}")

    @work(exclusive=True, group="library-action", exit_on_error=False)
    async def action_delete(self) -> None:
        artist = self._selected()
        if artist is None:
            return
        library = self.library
        kept, skipped = await self._in_thread(partial(library.song_counts, artist.id),
                                              f"Counting {artist.name}'s songs")
        size = await self._in_thread(partial(paths.dir_size, paths.artist_dir(artist.slug)),
                                     f"Measuring {artist.name}'s folder")
        body = (
            f"This deletes {plural(kept + skipped, 'song')}, every dataset, training run and model of "
            f"{artist.name}, and frees {paths.human_size(size)} on disk. It cannot be undone."
        )

        def delete(_confirmed: bool) -> str:
            freed = library.delete_artist(artist.id)
            return f"Deleted {artist.name}: {paths.human_size(freed)} freed."

        await self._ask_then_change(ConfirmDialog(f"Delete {artist.name}?", body), delete,
                                    f"Deleting {artist.name}")

    @work(exclusive=True, group="library-action", exit_on_error=False)
    async def action_export(self) -> None:
        from lyrictui.core.compose.drafts import safe_file_stem
        from lyrictui.core.sources.export import render, write_atomic

        artist = self._selected()
        if artist is None:
            return
        library = self.library
        target = await self.app.push_screen_wait(ExportPathDialog(
            f"Export {artist.name}'s songs",
            ".txt (readable, and `lyrictui import` reads it back) or .jsonl (one song per line)",
            safe_file_stem(artist.name),
        ))
        if not target:
            return
        path = Path(target).expanduser()

        def export() -> str:
            songs = library.songs(artist.id)
            write_atomic(path, render(songs, "jsonl" if path.suffix == ".jsonl" else "txt"))
            return f"Wrote {plural(len(songs), 'song')} to {path}"

        self._run_and_say(export, f"Exporting {artist.name}'s songs")
