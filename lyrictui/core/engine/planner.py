"""The constrained-line planner: what each sampled row may do next, and where it must end.

Every suggestion row is sampled token by token (core/engine/decoding.py); the planner judges
each sampled token for its row:

- **Words only.** A piece may only keep the word being spelt a prefix of a lexicon word, and a
  word may only end (space, punctuation, line end) where it is a whole word; a line may not
  start with punctuation. A refused token is masked and the row draws again, so junk such as
  `'we'Twill` or `a-fo` cannot form (core/prosody/lexicon.py).
- **Syllable lock.** At each word boundary the line's syllables are counted (prosody, with the
  spelling fallback). The line may not end before its target; when exactly the target is
  reached it ends there; when one or two syllables are left, the last word is planned: chosen
  among common words of exactly that many syllables by the model (see `Decoder` endings).
- **Rhyme lock.** Where the line would end (the model draws a line end) or once it reaches the
  song's usual line length, the last word is planned among the rhyme words (perfect rhymes; near
  ones only when too few perfect ones exist), scored by the model as the continuation.
- **Both.** Each row plans its rhyme word's syllables ahead; the body ends exactly that many
  syllables before the target, and the rhyme word is chosen among words of that length.

A planned ending is returned as `Verdict.PLAN` with the feasible words; the decoder scores them
over the row's cached context in one batched pass and the row ends on the best free one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

from lyrictui.core import prosody
from lyrictui.core.prosody.lexicon import Lexicon, cased

MAX_END_TOKENS = 3
END_SYLLABLES = 1
"""Syllable lock: the last word is planned once this many syllables (or fewer) are left
(with more left the model goes on: two one-syllable words read better than a forced two)."""


class Verdict(Enum):
    ACCEPT = "accept"
    REJECT = "reject"  # not a word: draw again
    END = "end"  # the line ends before this token (kept if it is closing punctuation)
    PLAN = "plan"  # the line ends on a planned word, chosen among `feasible`
    DEAD = "dead"  # the row can no longer meet the locks


@dataclass(frozen=True)
class EndWord:
    """A word a line may end on, with its tokens (after a space) and syllables."""

    word: str
    tokens: tuple[int, ...]
    syllables: int
    near: bool = False


def end_words(tokenizer: object, words: Sequence[str], *, near: Sequence[str] = ()) -> list[EndWord]:
    """EndWords for `words` (then `near`, marked near), each at most MAX_END_TOKENS tokens."""
    near_set = set(near)
    ordered = list(dict.fromkeys([*words, *near]))
    if not ordered:
        return []
    encoded = tokenizer([" " + w for w in ordered])["input_ids"]  # type: ignore[operator]
    found = []
    for word, ids in zip(ordered, encoded, strict=True):
        if 1 <= len(ids) <= MAX_END_TOKENS:
            found.append(EndWord(word, tuple(ids), prosody.word_syllables(word), word in near_set))
    return found


@dataclass
class LinePlan:
    """What a request asks of its lines."""

    lexicon: Lexicon
    head: str = ""
    """Completion: the start of the line already written (the rows continue it)."""
    syllables: int | None = None
    rhyme: list[EndWord] | None = None
    """Rhyme lock: the words the line may end on (target word excluded)."""
    by_syllables: dict[int, list[EndWord]] = field(default_factory=dict)
    """Syllable lock alone: common words by syllable count, for the planned last word."""
    soft_syllables: int = 8
    """Rhyme lock alone: the song's usual line length, where the ending is planned at latest."""
    min_words: int = 3

    @property
    def locked(self) -> bool:
        return self.syllables is not None or self.rhyme is not None


@dataclass
class RowState:
    text: str = ""
    partial: str = ""
    rhyme_syllables: int = 1
    word_start: int = 0
    """How many of the row's tokens came before the word being spelt."""
    tokens: int = 0


_CLOSING = set(",.;:!?")
_PUNCTUATION = set(",.;:!?\"()\u201c\u201d\u2014\u2013\u2026-")


class Planner:
    """Judges each sampled token of each row against a LinePlan (one per sampling round)."""

    def __init__(self, plan: LinePlan, texts: Sequence[str], stop_set: set[int], rows: int, *,
                 need_space: bool = False) -> None:
        """`need_space`: completing a line whose cursor is after a space (a new word starts)."""
        self.plan, self.texts, self.stop_set = plan, texts, stop_set
        self.lex = plan.lexicon
        self.need_space = need_space
        head_words = prosody.words(plan.head)
        partial = ""
        if not need_space and head_words and plan.head.endswith(head_words[-1]):
            partial = head_words[-1]  # the cursor is inside a word: its pieces may continue it
        self.rows = [RowState(partial=partial) for _ in range(rows)]
        self.taken: set[str] = set()
        self.rhyme_by_syllables: dict[int, list[EndWord]] = {}
        for w in plan.rhyme or []:
            self.rhyme_by_syllables.setdefault(w.syllables, []).append(w)
        sizes = sorted(s for s in self.rhyme_by_syllables if s <= 3) or sorted(self.rhyme_by_syllables)
        for i, row in enumerate(self.rows):  # most rows plan the shortest rhyme words
            row.rhyme_syllables = sizes[min(len(sizes) - 1, 1 if i % 3 == 2 else 0)] if sizes else 1

    # -- what the line holds ---------------------------------------------------------------

    def line(self, row: int) -> str:
        return self.plan.head + self.rows[row].text

    def _counts(self, text: str) -> tuple[int, int]:
        return prosody.line_syllables(text), len(prosody.words(text))

    def block_stop(self, row: int) -> bool:
        """Whether the row may not end its line on the next token."""
        if self.plan.syllables is not None:
            return True  # a syllable-locked line ends by the planner, at its target
        if self.plan.rhyme is not None and self._after_punctuation(row):
            return True  # a rhyme pasted after "beneath," reads tacked on: a word comes first
        words = len(prosody.words(self.line(row)))
        needed = self.plan.min_words - (1 if self.plan.rhyme is not None else 0)
        return words < needed

    def _after_punctuation(self, row: int) -> bool:
        text = self.line(row).rstrip()
        return bool(text) and text[-1] in _PUNCTUATION

    # -- judging one token -----------------------------------------------------------------

    def _feed(self, state: RowState, token: int) -> tuple[bool, str, bool]:
        """(is the token allowed by the words rule, the partial word after it, does the token
        end the word before it)."""
        lex = self.lex
        partial = state.partial
        started = bool((self.plan.head + state.text).strip())
        if token in self.stop_set:
            return (not partial or (lex.is_word(partial) and cased(partial))), "", True
        s = self.texts[token]
        if not s or (self.need_space and not state.text and not s.startswith(" ")):
            return False, partial, False
        first = s[0]
        boundary = not (first.isalnum() or first in "'\u2019") and not (first == "-" and partial)
        for c in s:
            if c.isalnum():
                partial += c
            elif c in "'\u2019":
                if not started and not partial and state.text == "" and not self.plan.head:
                    partial = "'"  # 'Tis: allowed only if it becomes a word
                else:
                    partial += "'"
            elif c == "-" and partial:
                if partial.endswith("-") or not lex.is_word(partial.rsplit("-", 1)[-1]) and (
                        partial.rsplit("-", 1)[-1] != "a"):
                    return False, partial, boundary
                partial += "-"
            elif not (c.isspace() or c in _PUNCTUATION):
                return False, partial, boundary  # no markup or symbols in a lyric line
            else:
                if not started and not c.isspace():
                    return False, partial, boundary  # no line starts with punctuation
                if partial:
                    if not lex.is_word(partial) or not cased(partial):
                        return False, partial, boundary
                    partial = ""
            started = started or c.isalnum()
        if partial and (len(partial) > 24 or not lex.is_prefix(partial) or not cased(partial)):
            return False, partial, boundary  # "PDf" can never end as a word: refused now
        return True, partial, boundary

    def check(self, row: int, token: int) -> tuple[Verdict, list[EndWord]]:
        """The verdict on `token` for `row` (the row's state changes only on `commit`)."""
        state = self.rows[row]
        ok, _partial, boundary = self._feed(state, token)
        if not ok:
            return Verdict.REJECT, []
        plan = self.plan
        if not plan.locked or not boundary:
            return Verdict.ACCEPT, []
        line = self.line(row)
        count, words = self._counts(line)
        if words == 0:
            return Verdict.ACCEPT, []
        body_ok = words >= max(1, plan.min_words - 1)
        stop = token in self.stop_set
        if plan.rhyme is None:  # syllable lock alone
            left = (plan.syllables or 0) - count
            if left < 0:
                return Verdict.DEAD, []
            if left == 0:
                return Verdict.END, []
            if left <= END_SYLLABLES and body_ok and plan.by_syllables.get(left):
                return Verdict.PLAN, plan.by_syllables[left]
            return Verdict.ACCEPT, []
        if plan.syllables is None:  # rhyme lock alone
            if body_ok and (stop or count >= plan.soft_syllables - 1) and not (
                    not stop and self._after_punctuation(row)):
                last = prosody.words(line)[-1].lower()
                if stop and any(w.word == last for w in plan.rhyme) and last not in self.taken:
                    return Verdict.END, []  # the model ended on a rhyme of its own
                return Verdict.PLAN, plan.rhyme
            return Verdict.ACCEPT, []
        left = plan.syllables - count  # both locks
        if left <= 0:
            return Verdict.DEAD, []
        if left <= state.rhyme_syllables:
            if left in self.rhyme_by_syllables and body_ok:
                return Verdict.PLAN, self.rhyme_by_syllables[left]
            if left < state.rhyme_syllables:
                return Verdict.DEAD, []
        return Verdict.ACCEPT, []

    def commit(self, row: int, token: int) -> None:
        state = self.rows[row]
        _ok, partial, boundary = self._feed(state, token)
        if boundary or not state.partial:
            state.word_start = state.tokens
        state.partial = partial
        state.text += self.texts[token]
        state.tokens += 1

    def unfinished(self, row: int) -> int | None:
        """Where to cut a row stopped by the token cap inside a non-word (else None)."""
        state = self.rows[row]
        if state.partial and not self.lex.is_word(state.partial):
            return state.word_start
        return None

    def keeps_closing(self, token: int) -> bool:
        """Whether a token the line ends before is closing punctuation to keep (",", "!")."""
        s = self.texts[token]
        return bool(s) and all(c in _CLOSING for c in s)
