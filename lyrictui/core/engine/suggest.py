"""The next-line engine: candidate next lines (and next words) for the song being written.

    suggester = Suggester.for_artist(library, "Artist")      # or Suggester.load(path_or_id)
    candidates = suggester.suggest(song_text, n=5, seed=1, rhyme_with=3, syllables=8,
                                   cancel=worker.cancelled_event)
    finish = suggester.suggest("...\nI walk along the", n=5, complete=True)  # finish the line
    groups = suggester.rhymes("love")                         # rhymes for the rhyme panel

The API is synchronous and meant for one caller at a time (a Textual thread worker): calls are
serialized by a lock, the model and the song's context stay warm in between, and `cancel` (a
`threading.Event` or a callable returning True) makes a request raise `Cancelled` within one
decode step. The song is trimmed from the left to fit the model's window, at a point that only
moves every few lines so that typing at the end keeps reusing the warm context.
See docs/suggest.md for the knobs and their defaults.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from lyrictui.core import prosody
from lyrictui.core.engine.candidates import Candidate, Constraints, WordChoice, end_word, pick, rank
from lyrictui.core.engine.decoding import Decoder, Stats
from lyrictui.core.engine.lineplans import EndWordCache, make_plan
from lyrictui.core.engine.modelload import LoadedModel, load
from lyrictui.core.engine.planner import Planner
from lyrictui.core.engine.sampling import SamplingConfig, check_seed
from lyrictui.core.errors import InvalidInput, LyricError, NotFound
from lyrictui.core.names import strip_control
from lyrictui.core.prosody import spelling
from lyrictui.core.prosody.lexicon import Lexicon
from lyrictui.core.prosody.rhymeset import RhymeGroups, rhyme_groups

__all__ = ["Candidate", "WordChoice", "Suggester", "SamplingConfig", "normalize_line"]

_PUNCT = re.compile(r"[^\w\s']")
MAX_CANDIDATES = 20
THREADS_RECHECK_S = 2.0
"""How often a request asks the thread policy again (it reads the library's runs)."""


def normalize_line(line: str) -> str:
    """A line as compared for verbatim copies: case, punctuation and spacing ignored."""
    return " ".join(_PUNCT.sub(" ", spelling.fold(line)).replace("'", "").split())


def _cancel_check(cancel: Any) -> Any:
    if cancel is None:
        return lambda: False
    if hasattr(cancel, "is_set"):
        return cancel.is_set
    if callable(cancel):
        return cancel
    raise InvalidInput("cancel must be a threading.Event or a callable")


@dataclass
class _Context:
    ids: list[int]
    trimmed: int


class Suggester:
    """A warm model that suggests next lines and next words for one song at a time."""

    def __init__(self, loaded: LoadedModel, *, sampling: SamplingConfig | None = None,
                 reference_lyrics: Iterable[str] | None = None) -> None:
        self.loaded = loaded
        self.sampling = (sampling or SamplingConfig()).validate()
        self.decoder = Decoder(loaded)
        # The whole song is tokenized before trimming; the tokenizer's length warning is noise.
        loaded.tokenizer.model_max_length = 1 << 30
        self._lock = threading.Lock()
        self._reference: set[str] | None = None
        self.lexicon = Lexicon()
        self._end_words = EndWordCache(loaded.tokenizer)
        self.thread_policy: Callable[[], int | None] | None = None
        """Set by the engine's owner: the torch threads a request should use now, or None for
        the process's own count. The app and `lyrictui suggest` hand in
        `core.train.runs.suggest_threads(library)` (one core fewer while a CPU training run is
        active: docs/benchmarks.md, "While a training run trains")."""
        self._threads_checked = float("-inf")
        self._own_threads: int | None = None
        if reference_lyrics is not None:
            self.set_reference_lyrics(reference_lyrics)

    @classmethod
    def load(cls, source: str, *, device: str | None = None, dtype: str | None = None,
             **kwargs: Any) -> Suggester:
        """Load a model folder, `starter` or a hub id (see core/engine/modelload.py)."""
        return cls(load(source, device=device, dtype=dtype), **kwargs)

    @classmethod
    def for_artist(cls, library: Any, name: str, *, model: str | None = None,
                   device: str | None = None, dtype: str | None = None) -> Suggester:
        """The artist's best model (lowest validation loss), or `model` (a library model id,
        a folder or a hub id), with the artist's lyrics as the verbatim reference."""
        artist = library.get_artist(name)
        if model is None:
            models = library.list_models(artist.id)
            if not models:
                raise NotFound(f'"{artist.name}" has no trained model yet: train one with '
                               f'`lyrictui train "{artist.name}"`, or pass --model starter')
            source = models[0].path
        else:
            try:
                source = library.get_model(model).path
            except NotFound:
                source = model
        songs = library.songs(artist.id)
        return cls.load(source, device=device, dtype=dtype,
                        reference_lyrics=[s.lyrics for s in songs])

    def set_reference_lyrics(self, texts: Iterable[str]) -> None:
        """The artist's lyrics: a candidate is checked against them (Candidate.verbatim), and
        every word in them is a word (their slang and names survive the junk filter and may
        end a rhyme)."""
        texts = list(texts)
        lines = {normalize_line(line) for text in texts for line in text.splitlines()}
        self._reference = {line for line in lines if line}
        self.lexicon = Lexicon(texts)

    def rhymes(self, word: str, *, limit: int = 60) -> RhymeGroups:
        """Perfect and near rhymes of `word`, grouped by syllables, common words first, with
        the artist's own words (what the composer's rhyme panel shows)."""
        if not prosody.words(word):
            raise InvalidInput(f"{word!r} has no letters to rhyme")
        return rhyme_groups(prosody.words(word)[-1], self.lexicon, limit=limit)

    def _apply_threads(self) -> None:
        """Set torch's CPU threads from `thread_policy` (asked at most every few seconds)."""
        if self.thread_policy is None or self.loaded.device != "cpu":
            return
        now = time.monotonic()
        if now - self._threads_checked < THREADS_RECHECK_S:
            return
        self._threads_checked = now
        import torch

        if self._own_threads is None:
            self._own_threads = torch.get_num_threads()
        try:
            wanted = self.thread_policy()
        except (LyricError, OSError, ValueError):
            wanted = None  # the library could not be read: keep the process's own count
        target = max(1, wanted) if wanted else self._own_threads
        if torch.get_num_threads() != target:
            torch.set_num_threads(target)

    @property
    def stats(self) -> Stats:
        return self.decoder.stats

    @property
    def window(self) -> int:
        return self.loaded.window

    def reset(self) -> None:
        """Drop the warm context (the next request recomputes it)."""
        with self._lock:
            self.decoder.reset()

    # -- context ---------------------------------------------------------------------------

    def _context(self, text: str, reserve: int) -> _Context:
        """Token ids of `text` after EOS (songs start after EOS in training), trimmed to fit.

        The cut point depends on the text alone and moves in steps of a stride, snapped to a
        line start, so appending to the song keeps the same start and the cache stays valid.
        """
        budget = self.window - reserve
        ids = [self.decoder.eos] + (self.loaded.tokenizer.encode(text) if text else [])
        if len(ids) <= budget:
            return _Context(ids, 0)
        stride = max(16, budget // 8)
        start = -(-(len(ids) - budget) // stride) * stride
        stops = self.decoder.stop_set
        for i in range(start, min(start + stride, len(ids) - 1)):
            if ids[i] in stops:
                start = i + 1
                break
        return _Context(ids[start:], start)

    @staticmethod
    def _song_text(song: str) -> str:
        text = song.replace("\r\n", "\n").replace("\r", "\n")
        if not text.strip():
            return ""  # an empty song: suggest opening lines
        lines = text.rstrip("\n").split("\n")
        lines[-1] = lines[-1].rstrip()
        return "\n".join(lines) + "\n"

    # -- requests --------------------------------------------------------------------------

    def suggest(self, song: str, n: int = 5, *, seed: int | None = None,
                rhyme_with: int | str | None = None, syllables: int | None = None,
                tolerance: int = 0, complete: bool = False, cancel: Any = None,
                **knobs: Any) -> list[Candidate]:
        """Up to `n` distinct candidate lines for `song`, best first.

        Without `complete`, they are next lines; with it, the song's last line (the text after
        its last newline, with the cursor at its end) is finished: each candidate's `text` is
        the whole line, its `continuation` what to insert at the cursor.
        `rhyme_with` (a 1-based line number of `song`, or a word) makes every line end on a
        rhyme of it; `syllables` makes every line exactly that long (`fits` allows
        `tolerance`); both hold by construction (core/engine/planner.py). `knobs` override
        SamplingConfig fields for this request (temperature=..., top_p=...). Raises Cancelled
        when `cancel` is set. Fewer than `n` come back when the model keeps repeating itself
        or no rhyme fits.
        """
        if not 1 <= n <= MAX_CANDIDATES:
            raise InvalidInput(f"ask for 1 to {MAX_CANDIDATES} candidates, not {n}")
        check_seed(seed, "seed")
        cfg = replace(self.sampling, **{k: v for k, v in knobs.items() if v is not None})
        cfg.validate()
        if complete:
            text, head, typed = self._split_head(song)
            constraints = Constraints.build(text + typed, rhyme_with, syllables, tolerance)
            context_text = text + head
        else:
            text, head, typed = self._song_text(song), "", ""
            constraints = Constraints.build(text, rhyme_with, syllables, tolerance)
            context_text = text
        plan = make_plan(self._end_words, self.lexicon, constraints, text, head, n)
        plan_space = complete and typed != head  # the cursor is after a space: a new word
        check = _cancel_check(cancel)
        if cfg.max_tokens >= self.window:
            raise InvalidInput(f"max tokens {cfg.max_tokens} does not fit the window {self.window}")
        import torch

        generator = torch.Generator(device=self.loaded.device)
        generator.manual_seed(seed if seed is not None else random.randrange(1 << 62))
        decode = self.loaded.tokenizer.decode
        with self._lock:
            self._apply_threads()
            self.decoder.stats = Stats()
            context = self._context(context_text, cfg.max_tokens)
            logits = self.decoder.prepare(context.ids, check)
            found: dict[str, Candidate] = {}
            for round_no in range(3 if plan.locked else 4):
                have = pick(list(found.values()), n, constraints.syllables)
                missing = n - sum(1 for c in have if c.fits is not False)
                if missing <= 0:
                    break
                # A rhyme-locked row nearly always ends on a rhyme (the ending is chosen for
                # it); a syllable-locked one may overshoot, so more rows start.
                first = 2 * n + 4 if plan.syllables is not None else 2 * n + 2
                rows = min(48, first if round_no == 0 else 2 * missing + 4) if plan.locked \
                    else (n + 3 if round_no == 0 else min(32, 2 * missing + 2))
                self.decoder.stats.rounds += 1
                planner = Planner(plan, self.decoder.texts, self.decoder.stop_set, rows,
                                  need_space=plan_space)
                planner.taken = {end_word(c.text) for c in have}
                for row in self.decoder.sample_rows(logits, rows, cfg, generator, check, planner):
                    # Byte-level BPE can emit any byte: no control character reaches a screen.
                    tail = strip_control(decode(row.tokens).replace("\ufffd", ""))
                    line = (head + tail).strip()
                    if not complete:
                        line = " ".join(line.split())  # "down.    I have": one space
                    key = normalize_line(line)
                    if (not key or prosody.is_header(line) or key in found
                            or min(len(prosody.words(line)), len(line.split())) < plan.min_words
                            or not self.lexicon.clean_line(line)):
                        continue
                    continuation = (head + tail)[len(typed):] if complete else None
                    found[key] = rank(line, row.logprob / max(1, len(row.tokens)), constraints,
                                      None if self._reference is None else key in self._reference,
                                      continuation)
        return pick(list(found.values()), n, constraints.syllables)

    @staticmethod
    def _split_head(song: str) -> tuple[str, str, str]:
        """(the song before the last line, that line without trailing spaces, as typed)."""
        text = song.replace("\r\n", "\n").replace("\r", "\n")
        before, _, typed = text.rpartition("\n")
        if not typed.strip():
            raise InvalidInput("nothing to complete: the last line is empty (the song ends "
                               "with a newline); ask for next lines instead")
        if prosody.is_header(typed):
            raise InvalidInput("the last line is a section header: nothing to complete")
        return (before + "\n" if before or _ else ""), typed.rstrip(), typed

    def next_words(self, text: str, k: int = 10, *, cancel: Any = None) -> list[WordChoice]:
        """The `k` likeliest next words after `text` (the line being written), with their
        probabilities under the model (a word's pieces multiplied along the likeliest path)."""
        import torch

        if not 1 <= k <= 50:
            raise InvalidInput(f"ask for 1 to 50 words, not {k}")
        text = text.replace("\r\n", "\n")
        text = text.rstrip(" \t")
        at_line_start = text == "" or text.endswith("\n")
        check = _cancel_check(cancel)
        with self._lock:
            self._apply_threads()
            self.decoder.stats = Stats()
            context = self._context(text, 4)
            probs = torch.softmax(self.decoder.prepare(context.ids, check), dim=-1)
            allowed = self._word_starts(at_line_start, probs.shape[-1])
            probs_allowed = probs.masked_fill(~allowed, 0.0)
            top = torch.topk(probs_allowed, min(3 * k + 12, int(allowed.sum()))).indices.tolist()
            rows = self.decoder.extend_words(top, 4, check)
        merged: dict[str, float] = {}
        for first, row in zip(top, rows, strict=True):
            word = strip_control(self.loaded.tokenizer.decode(row.tokens)).strip()
            if word and self.lexicon.clean_line(word) and len(word.split()) == 1:
                merged[word] = merged.get(word, 0.0) + float(probs[first]) * float(torch.tensor(row.logprob).exp())
        best = sorted(merged.items(), key=lambda item: -item[1])[:k]
        return [WordChoice(word, p) for word, p in best]

    def _word_starts(self, at_line_start: bool, vocab: int) -> Any:
        import torch

        cache = getattr(self, "_starts_cache", {})
        if at_line_start not in cache:
            ok = []
            stops = self.decoder.stop_set
            for token, text in enumerate(self.decoder.texts[:vocab]):
                spaced = text.startswith(" ")
                body = text[1:] if spaced else text
                # Mid-line a word needs its leading space (without it, it glues to the last word).
                # Words only: punctuation ("," ".") is not a next word.
                good = (spaced or at_line_start) and bool(body) and body[0].isalnum()
                ok.append(good and token not in stops)
            ok += [False] * (vocab - len(ok))
            cache[at_line_start] = torch.tensor(ok, device=self.loaded.device)
            self._starts_cache = cache
        return cache[at_line_start]
