"""Composer commands: suggest next lines, find rhymes, scan a song's syllables and scheme."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from lyrictui.commands.common import echo_json, open_library, safe
from lyrictui.core.engine.sampling import SamplingConfig, check_seed
from lyrictui.core.errors import InvalidInput

MAX_SONG_BYTES = 64 << 10
"""What suggest reads of a song: its last 64 KiB (a long song is under 10). A model sees at
most the last few thousand tokens (its window), so more only costs time and memory (a 20 MB
file took 43 s and 4.8 GB)."""
MAX_STDIN_BYTES = 16 << 20
"""Stdin cannot be read from its end: past this much it is refused (`< /dev/zero` never ends)."""


def _tail(data: bytes, where: str, size: int) -> str:
    """The last MAX_SONG_BYTES of `data`, from a line start, said on stderr in one line."""
    if size > MAX_SONG_BYTES:
        data = data[-MAX_SONG_BYTES:]
        cut = data.find(b"\n")
        data = data[cut + 1:] if 0 <= cut < len(data) - 1 else data
        while data and 0x80 <= data[0] < 0xC0:  # no line start: not mid-character either
            data = data[1:]
        click.echo(f"note: {where} holds {size / 1e6:.1f} MB; only its last "
                   f"{MAX_SONG_BYTES >> 10} KiB is read (the model sees the end of the song)",
                   err=True)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(f"{where} is not UTF-8 text") from None


def _read_text(path: str | None) -> str:
    """The song from a file, `-` or (with no file) stdin; an interactive stdin reads as empty.
    At most the song's last MAX_SONG_BYTES are used (see there)."""
    if path is None or path == "-":
        if path is None and sys.stdin.isatty():
            return ""
        stream = sys.stdin.buffer
        chunks: list[bytes] = []
        size = 0
        while chunk := stream.read(1 << 20):
            size += len(chunk)
            if size > MAX_STDIN_BYTES:
                raise InvalidInput(f"stdin gave more than {MAX_STDIN_BYTES >> 20} MiB, far more "
                                   "than a song: pass the song (or its end) instead")
            chunks.append(chunk)
            while sum(map(len, chunks)) - len(chunks[0]) > MAX_SONG_BYTES:
                chunks.pop(0)  # only the tail is kept
        return _tail(b"".join(chunks), "stdin", size)
    file = Path(path).expanduser()
    if not file.is_file():
        raise InvalidInput(f"no file at {path}")
    try:
        with open(file, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            fh.seek(max(0, size - MAX_SONG_BYTES - 1))
            return _tail(fh.read(MAX_SONG_BYTES + 1), path, size)
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None


@click.command()
@click.argument("name", required=False)
@click.option("--file", "-f", "file", help="The song so far (default: stdin; `-` for stdin).")
@click.option("--model", "-m", help="A model id from `lyrictui models`, a model folder, "
              "`starter` or a hub id (default: the artist's best model).")
@click.option("-n", "count", type=int, default=5, show_default=True, help="How many candidates.")
@click.option("--rhyme-with", help="Rhyme with this line number of the song, or with this word.")
@click.option("--syllables", type=int, help="Target syllables per line.")
@click.option("--tolerance", type=int, default=0, show_default=True,
              help="Distance from --syllables still marked as fitting (lines aim for exact).")
@click.option("--complete", is_flag=True, help="Finish the song's last line (the text does "
              "not end with a newline) instead of suggesting the next one.")
@click.option("--temperature", type=float,
              help=f"Sampling temperature (default {SamplingConfig.temperature}).")
@click.option("--top-p", type=float,
              help=f"Nucleus sampling mass (default {SamplingConfig.top_p}).")
@click.option("--top-k", type=int,
              help=f"Keep this many tokens at most (default {SamplingConfig.top_k}).")
@click.option("--max-tokens", type=int,
              help=f"Token cap per line (default {SamplingConfig.max_tokens}).")
@click.option("--seed", type=int, help="Make the request reproducible.")
@click.option("--words", "words", type=int, help="Instead of lines: the N likeliest next words.")
@click.option("--device", help="auto, cuda, mps or cpu [config `device`, else auto].")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def suggest(name: str | None, file: str | None, model: str | None, count: int,
            rhyme_with: str | None, syllables: int | None, tolerance: int, complete: bool,
            temperature: float | None, top_p: float | None, top_k: int | None,
            max_tokens: int | None, seed: int | None, words: int | None, device: str | None,
            as_json: bool) -> None:
    """Suggest next lines for a song, from NAME's best model (or --model).

    The song so far comes from --file or stdin; an empty song gets opening lines.
    --rhyme-with and --syllables are locks: every line ends on a rhyme / has exactly that
    many syllables (a near rhyme, marked, only where too few words rhyme perfectly).
    """
    from lyrictui.core.engine.suggest import Suggester

    if name is None and model is None:
        raise InvalidInput("name an artist (lyrictui suggest NAME) or pass --model")
    check_seed(seed)
    song = _read_text(file)
    if name is not None:
        from lyrictui.core.train.runs import suggest_threads

        library = open_library()
        engine = Suggester.for_artist(library, name, model=model, device=device)
        engine.thread_policy = lambda: suggest_threads(library)  # one core fewer while training
    else:
        engine = Suggester.load(str(model), device=device)
    if words is not None:
        choices = engine.next_words(song, words)
        if as_json:
            echo_json([{"word": c.word, "probability": c.probability} for c in choices])
        for w in [] if as_json else choices:
            click.echo(f"{w.probability:7.2%}  {safe(w.word)}")
        return
    found = engine.suggest(song, count, seed=seed, rhyme_with=rhyme_with, syllables=syllables,
                           tolerance=tolerance, complete=complete, temperature=temperature, top_p=top_p,
                           top_k=top_k, max_tokens=max_tokens)
    if as_json:
        echo_json([c.__dict__ for c in found])
        return
    if not found:
        click.echo("No suggestions: the model kept producing empty lines; try a higher "
                   "--temperature or another model.")
    for i, c in enumerate(found, 1):
        marks = [f"{c.syllables} syl", c.rhyme_key or "-"]
        if c.rhyme:
            marks.append(f"{c.rhyme} rhyme")
        if c.fits is not None:
            marks.append("fits" if c.fits else "does not fit")
        if c.verbatim:
            marks.append("VERBATIM from the lyrics")
        click.echo(f"{i}. {safe(c.text)}  ({', '.join(marks)})")


@click.command()
@click.argument("word")
@click.option("--near", is_flag=True, help="Only near rhymes (same stressed vowel).")
@click.option("--artist", help="Also the words of this artist's lyrics (their slang, names).")
@click.option("--limit", type=int, default=40, show_default=True, help="Words per kind.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def rhymes(word: str, near: bool, artist: str | None, limit: int, as_json: bool) -> None:
    """Rhymes for WORD: perfect, then near, grouped by syllables, common words first."""
    from lyrictui.core import prosody
    from lyrictui.core.prosody.lexicon import Lexicon
    from lyrictui.core.prosody.rhymeset import rhyme_groups

    found_words = prosody.words(word)
    if not found_words:
        raise InvalidInput(f"{word!r} has no letters to rhyme")
    lexicon = Lexicon()
    if artist is not None:
        library = open_library()
        songs = library.songs(library.get_artist(artist).id)
        lexicon = Lexicon(s.lyrics for s in songs)
    groups = rhyme_groups(found_words[-1], lexicon, limit=max(1, limit))
    kinds = [("near", groups.near)] if near else [("perfect", groups.perfect), ("near", groups.near)]
    if as_json:
        echo_json({"word": word, "rhyme_key": groups.rhyme_key,
                   "rhymes": {kind: {str(n): ws for n, ws in g} for kind, g in kinds}})
        return
    if not any(g for _kind, g in kinds):
        click.echo(f"No rhymes for {safe(word)} (sound: {groups.rhyme_key}).")
        return
    for kind, g in kinds:
        if not g:
            click.echo(f"{kind}: none")
            continue
        click.echo(f"{kind}:")
        for syllables, ws in g:
            click.echo(f"  {syllables} syl: {', '.join(safe(w) for w in ws)}")


@click.command()
@click.argument("file")
@click.option("--near", is_flag=True, help="Count near rhymes (same vowel) in the scheme.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def scan(file: str, near: bool, as_json: bool) -> None:
    """Each line of FILE (`-` for stdin) with its syllables and rhyme letter."""
    from lyrictui.core import prosody

    lines = prosody.scan(_read_text(file), near=near)
    while lines and not lines[-1].text.strip():
        lines.pop()
    if as_json:
        echo_json([li.__dict__ for li in lines])
        return
    for li in lines:
        if li.syllables is None:
            click.echo(f"{'':>3} {'':1}  {safe(li.text)}")
        else:
            click.echo(f"{li.syllables:>3} {li.letter or '':1}  {safe(li.text)}")


COMMANDS = [suggest, rhymes, scan]
