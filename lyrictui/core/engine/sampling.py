"""Sampling knobs and the per-step logits processing of the suggestion engine.

Defaults are tuned for lyrics from a small fine-tuned GPT-2: warm enough to surprise, with a
light repetition penalty and a no-repeat rule that look only at the last few lines (choruses
repeat on purpose; what we avoid is the model parroting the line it just read).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lyrictui.core.errors import InvalidInput

MAX_SEED = (1 << 32) - 1
"""Seeds are mixed with steps and epochs before they reach torch (which takes 64 bits), so
they are kept to 32."""


def check_seed(seed: int | None, flag: str = "--seed") -> None:
    """One clear line for a seed torch cannot take (negative, or 2**64)."""
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise InvalidInput(f"{flag} must be a whole number from 0 to {MAX_SEED}, not {seed}")


@dataclass(frozen=True)
class SamplingConfig:
    """How candidates are sampled. Every field has a lyrics-friendly default."""

    temperature: float = 0.9
    """Softmax temperature: lower is safer and blander, higher is wilder (0.7-1.1 is useful)."""
    top_p: float = 0.95
    """Nucleus sampling: keep the smallest set of tokens holding this much probability."""
    top_k: int = 50
    """Keep at most this many tokens before top-p (0 = no limit)."""
    repetition_penalty: float = 1.15
    """Divide (or multiply, if negative) the logits of tokens already in the window by this."""
    no_repeat_ngram_size: int = 4
    """Never produce an n-gram of this size that already occurs in the window (0 = off)."""
    penalty_window: int = 48
    """How many context tokens (about the last four lines) the two rules above look at."""
    max_tokens: int = 24
    """Token cap per line; a line that reaches it ends there."""

    def generation_defaults(self) -> dict[str, Any]:
        """These knobs as `generate()` arguments: what a published model's
        generation_config.json holds, so `generate()` samples as the composer does."""
        return {"do_sample": True, "temperature": self.temperature, "top_p": self.top_p,
                "top_k": self.top_k, "repetition_penalty": self.repetition_penalty,
                "max_new_tokens": self.max_tokens}

    def validate(self) -> SamplingConfig:
        if not 0.0 < self.temperature <= 5.0:
            raise InvalidInput(f"temperature must be in (0, 5], not {self.temperature}")
        if not 0.0 < self.top_p <= 1.0:
            raise InvalidInput(f"top-p must be in (0, 1], not {self.top_p}")
        if self.top_k < 0:
            raise InvalidInput(f"top-k must be 0 (off) or positive, not {self.top_k}")
        if self.repetition_penalty < 1.0:
            raise InvalidInput(f"repetition penalty must be >= 1, not {self.repetition_penalty}")
        if self.no_repeat_ngram_size < 0 or self.penalty_window < 0:
            raise InvalidInput("no-repeat n-gram size and penalty window must be >= 0")
        if not 1 <= self.max_tokens <= 256:
            raise InvalidInput(f"max tokens per line must be in [1, 256], not {self.max_tokens}")
        return self


class RowHistory:
    """Per-row token history for the repetition penalty and the no-repeat-ngram rule."""

    def __init__(self, context_tail: list[int], rows: int, ngram: int) -> None:
        self.context_tail = context_tail
        self.ngram = ngram
        self.rows: list[list[int]] = [[] for _ in range(rows)]
        self.shared: dict[tuple[int, ...], set[int]] = {}
        self.own: list[dict[tuple[int, ...], set[int]]] = [{} for _ in range(rows)]
        if ngram > 0:
            for i in range(len(context_tail) - ngram + 1):
                gram = tuple(context_tail[i : i + ngram])
                self.shared.setdefault(gram[:-1], set()).add(gram[-1])

    def append(self, row: int, token: int) -> None:
        seq = self.rows[row]
        seq.append(token)
        n = self.ngram
        if n > 0:
            tail = (self.context_tail + seq)[-n:]
            if len(tail) == n:
                self.own[row].setdefault(tuple(tail[:-1]), set()).add(tail[-1])

    def banned(self, row: int) -> list[int]:
        n = self.ngram
        if n <= 0:
            return []
        key = tuple((self.context_tail + self.rows[row])[-(n - 1) :]) if n > 1 else ()
        return list(self.shared.get(key, set()) | self.own[row].get(key, set()))

    def tokens(self, row: int) -> list[int]:
        return self.context_tail + self.rows[row]


def process(logits: Any, history: RowHistory, active: list[int], cfg: SamplingConfig,
            blocked: Any | None, exempt: set[int]) -> Any:
    """Apply repetition penalty, n-gram bans and blocked tokens to float32 logits [rows, V],
    in place. `exempt` tokens (newline, EOS) are never penalized or banned: every line of the
    context ends with one, and making them rarer would only make lines run on."""
    import torch

    if cfg.repetition_penalty != 1.0:
        for row in active:
            seen = set(history.tokens(row)) - exempt
            if seen:
                idx = torch.tensor(sorted(seen), device=logits.device)
                vals = logits[row, idx]
                logits[row, idx] = torch.where(vals > 0, vals / cfg.repetition_penalty,
                                               vals * cfg.repetition_penalty)
    for row in active:
        banned = [t for t in history.banned(row) if t not in exempt]
        if banned:
            logits[row, torch.tensor(banned, device=logits.device)] = float("-inf")
    if blocked is not None:
        logits[:, blocked] = float("-inf")
    return logits


def sample(logits: Any, cfg: SamplingConfig, generator: Any) -> Any:
    """Draw one token per row with temperature, top-k and top-p; returns int64 [rows]."""
    import torch

    k = cfg.top_k if 0 < cfg.top_k < logits.shape[-1] else logits.shape[-1]
    values, indices = torch.topk(logits, k, dim=-1)  # sorted, descending
    probs = torch.softmax(values / cfg.temperature, dim=-1)
    if cfg.top_p < 1.0:
        cumulative = probs.cumsum(dim=-1)
        drop = (cumulative - probs) > cfg.top_p  # keep the token that crosses top_p
        probs = probs.masked_fill(drop, 0.0)
    # A row whose every token was banned falls back to its best token rather than failing.
    dead = ~torch.isfinite(values[:, 0])
    probs[dead] = 0.0
    probs[dead, 0] = 1.0
    probs = torch.nan_to_num(probs, nan=0.0)
    choice = torch.multinomial(probs, 1, generator=generator)
    return indices.gather(1, choice).squeeze(1)
