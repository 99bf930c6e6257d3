"""The decoding loop behind suggestions: one context, many short continuations, fast.

- The context (the song so far) runs through the model once, with batch 1, into a preallocated
  cache that stays warm between requests. A new request compares token ids with what is cached
  and runs only what changed at the end (usually the line just typed).
- N rows then continue that context together. Their own tokens live in a second preallocated
  cache; the context's keys/values are never copied to N rows: the shared-prefix attention in
  core/engine/kvcache.py reads them once per step for all rows.
- Each row stops at a newline or EOS; the loop stops when every row has, or at the token cap.
- `cancel` is checked before every model call, so a cancelled request ends within one step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lyrictui.core.engine.gpt2fast import FastGPT2
from lyrictui.core.engine.hfcompat import with_cache
from lyrictui.core.engine.kvcache import KVCache, install_attention
from lyrictui.core.engine.modelload import LoadedModel
from lyrictui.core.engine.planner import EndWord, Planner
from lyrictui.core.engine.sampling import RowHistory, SamplingConfig, process, sample
from lyrictui.core.errors import Cancelled

CancelCheck = Callable[[], bool]


@dataclass
class Stats:
    """What the last request cost (read by tests and the benchmark)."""

    context_tokens: int = 0
    reused_tokens: int = 0
    decode_steps: int = 0
    rows: int = 0
    rounds: int = 0


@dataclass
class Row:
    tokens: list[int]
    logprob: float
    ended: bool
    planned: EndWord | None = None
    """The word a planner chose for the line's end (rhyme or syllable lock)."""


class Decoder:
    """Runs a loaded model over one warm context; not thread-safe (Suggester holds the lock)."""

    def __init__(self, loaded: LoadedModel, *, prefill_chunk: int = 256, lean: bool = True) -> None:
        import torch

        self.loaded, self.model, self.tokenizer = loaded, loaded.model, loaded.tokenizer
        self.device, self.window, self.prefill_chunk = loaded.device, loaded.window, prefill_chunk
        config = self.model.config
        self.n_layers = int(getattr(config, "n_layer", None) or config.num_hidden_layers)
        self.eos = self.tokenizer.eos_token_id
        # Each token's own text (about 0.1 s once): what ends a line, what continues a word.
        self.texts: list[str] = self.tokenizer.batch_decode([[i] for i in range(len(self.tokenizer))])
        head = self.model.get_output_embeddings()  # nn.Linear, or gpt2fast's packed one
        vocab = int(getattr(head, "out_features", 0) or head.weight.shape[0])
        self.stop_ids = sorted({i for i, t in enumerate(self.texts) if "\n" in t or "\r" in t}
                               | ({self.eos} if self.eos is not None else set()))
        self.stop_ids = [i for i in self.stop_ids if i < vocab]
        self.stop_set = set(self.stop_ids)
        self.stop_tensor = torch.tensor(self.stop_ids, device=self.device)
        # What may follow a planned last word: a line end, or closing punctuation.
        closing = [i for i, t in enumerate(self.texts[:vocab]) if t in {",", ".", ";", ":", "!", "?"}]
        self.end_tensor = torch.tensor(sorted(set(self.stop_ids) | set(closing)), device=self.device)
        self.fork_cache: KVCache | None = None
        # GPT-2 models run core/engine/gpt2fast.py's lean forward; anything else runs through
        # Hugging Face with the shared-prefix attention plugged in.
        self.lean = FastGPT2.build(self.model) if lean else None
        if self.lean is None:
            install_attention(self.model)
        self.prefix = KVCache(self.n_layers, 1, self.window)
        self.rows_cache: KVCache | None = None
        self.ids: list[int] = []
        self.last_logits: Any = None
        self.stats = Stats()

    # -- context ---------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget the warm context (the buffers stay allocated)."""
        self.prefix.truncate(0)
        self.ids, self.last_logits = [], None

    def prepare(self, ids: list[int], cancel: CancelCheck) -> Any:
        """Make `ids` the cached context and return the next-token logits after it ([V] fp32)."""
        import torch

        if not ids or len(ids) > self.window:
            raise ValueError(f"context of {len(ids)} tokens for a window of {self.window}")
        common = 0
        for a, b in zip(self.ids, ids, strict=False):
            if a != b:
                break
            common += 1
        self.stats.context_tokens = len(ids)
        if common == len(ids) == len(self.ids) and self.last_logits is not None:
            self.stats.reused_tokens = common
            return self.last_logits
        keep = min(common, len(ids) - 1)  # at least one token runs, to get fresh logits
        self.stats.reused_tokens = keep
        self.prefix.truncate(keep)
        self.ids, self.last_logits = ids[:keep], None
        try:
            for start in range(keep, len(ids), self.prefill_chunk):
                if cancel():
                    raise Cancelled("suggestion cancelled")
                chunk = ids[start : start + self.prefill_chunk]
                with torch.inference_mode():
                    logits = self._prefill(chunk)
                self.ids = ids[: start + len(chunk)]  # a cancel later keeps this much warm
            self.last_logits = logits.float()
        except Cancelled:
            raise
        except BaseException:
            self.reset()  # a failed forward may leave some layers a step ahead of others
            raise
        return self.last_logits

    def _prefill(self, chunk: list[int]) -> Any:
        """Run `chunk` after the cached context; the last token's logits [V]."""
        import torch

        if self.lean is not None:
            return self.lean.prefill(chunk, self.prefix)
        # The base model, then the head on one contiguous row: the LM head with
        # `logits_to_keep=1` multiplies a strided slice, which makes PyTorch copy the whole
        # (vocab x hidden) weight on every call.
        base = self.model.base_model
        out = base(input_ids=torch.tensor([chunk], device=self.device), use_cache=True,
                   **with_cache(base, self.prefix.as_hf_cache()))
        hidden = out.last_hidden_state[0, -1:].contiguous()
        return self.model.get_output_embeddings()(hidden)[0]

    # -- rows ------------------------------------------------------------------------------

    def _rows_cache(self, rows: int, tokens: int) -> KVCache:
        cache = self.rows_cache
        if cache is None or cache.batch < rows or cache.capacity < tokens:
            cache = KVCache(self.n_layers, max(rows, 8), max(tokens, 32))
            self.rows_cache = cache
        cache.truncate(0)
        cache.offset = self.prefix.length
        return cache

    def _step(self, cache: KVCache, tokens: Any) -> Any:
        import torch

        with torch.inference_mode():
            if self.lean is not None:
                logits = self.lean.decode(tokens, cache, self.prefix)
            else:
                logits = self.model(input_ids=tokens[:, None], use_cache=True,
                                    shared_prefix=self.prefix,
                                    **with_cache(self.model, cache.as_hf_cache())).logits[:, -1]
        self.stats.decode_steps += 1
        return logits.float()

    def fork_step(self, cache: KVCache, tokens: Any) -> Any:
        """One decode step on a short-lived fork cache (core/engine/planned.py), always eager:
        a CUDA graph per fork size would cost more to capture than it saves."""
        import torch

        with torch.inference_mode():
            if self.lean is None:
                return self._step(cache, tokens)
            graphs, self.lean.graphs = self.lean.graphs, None
            try:
                logits = self.lean.decode(tokens, cache, self.prefix)
            finally:
                self.lean.graphs = graphs
        self.stats.decode_steps += 1
        return logits.float()

    def sample_rows(self, first_logits: Any, rows: int, cfg: SamplingConfig, generator: Any,
                    cancel: CancelCheck, planner: Planner | None = None) -> list[Row]:
        """Continue the context in `rows` rows until each ends (newline/EOS) or hits the cap.

        With a `planner` (core/engine/planner.py) every token is judged (words only, the
        locks) and rows that cannot meet the plan are left out of the result."""
        import torch

        if planner is not None:
            from lyrictui.core.engine.planned import sample_planned

            return sample_planned(self, first_logits, rows, cfg, generator, cancel, planner)
        with torch.inference_mode():
            return self._sample_rows(first_logits, rows, cfg, generator, cancel)

    def _sample_rows(self, first_logits: Any, rows: int, cfg: SamplingConfig, generator: Any,
                     cancel: CancelCheck) -> list[Row]:
        import torch

        if self.prefix.length + cfg.max_tokens > self.window:
            raise ValueError("no room left in the window for a line")
        cache = self._rows_cache(rows, cfg.max_tokens)
        tail = self.ids[-cfg.penalty_window :] if cfg.penalty_window else []
        history = RowHistory(tail, rows, cfg.no_repeat_ngram_size)
        result = [Row([], 0.0, False) for _ in range(rows)]
        logits = first_logits[None, :].expand(rows, -1).clone()
        chosen: Any = None
        self.stats.rows += rows
        for step in range(cfg.max_tokens):
            if step > 0:
                if cancel():
                    raise Cancelled("suggestion cancelled")
                logits = self._step(cache, chosen)
            active = [r for r in range(rows) if not result[r].ended]
            # The first token may not end the line: an empty line is never a suggestion.
            blocked = self.stop_tensor if step == 0 else None
            log_probs = torch.log_softmax(logits, dim=-1)  # before the penalties: the model's view
            processed = process(logits, history, active, cfg, blocked, self.stop_set)
            chosen = sample(processed, cfg, generator)
            logp = log_probs.gather(1, chosen[:, None])[:, 0].tolist()
            for r, token in zip(active, chosen[active].tolist(), strict=True):
                if token in self.stop_set:
                    result[r].ended = True
                    continue
                result[r].tokens.append(token)
                result[r].logprob += logp[r]
                history.append(r, token)
            if all(row.ended for row in result):
                break
        return result

    def extend_words(self, first: list[int], max_pieces: int, cancel: CancelCheck) -> list[Row]:
        """Greedily extend each first token while the best next token continues the word."""
        import torch

        with torch.inference_mode():
            return self._extend_words(first, max_pieces, cancel)

    def _extend_words(self, first: list[int], max_pieces: int, cancel: CancelCheck) -> list[Row]:
        import torch

        rows = len(first)
        cache = self._rows_cache(rows, max_pieces)
        result = [Row([t], 0.0, not self.continues_word(t, first=True)) for t in first]
        chosen = torch.tensor(first, device=self.device)
        for _ in range(max_pieces - 1):
            if all(r.ended for r in result):
                break
            if cancel():
                raise Cancelled("suggestion cancelled")
            probs = torch.softmax(self._step(cache, chosen), dim=-1)
            best_p, best = probs.max(dim=-1)
            for r, (token, p) in enumerate(zip(best.tolist(), best_p.tolist(), strict=True)):
                if result[r].ended:
                    continue
                if self.continues_word(token):
                    result[r].tokens.append(token)
                    result[r].logprob += float(torch.log(torch.tensor(p)))
                else:
                    result[r].ended = True
            chosen = best
        return result

    def continues_word(self, token: int, *, first: bool = False) -> bool:
        """A piece that glues onto the previous one inside a word (no leading space)."""
        text = self.texts[token] if 0 <= token < len(self.texts) else ""
        if token in self.stop_set or not text:
            return False
        if first:  # a word can only be extended if it began as letters
            return any(c.isalpha() for c in text)
        return text[0].isalpha() or text[0] == "'"
