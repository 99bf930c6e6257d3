"""Sampling rows under a Planner, and planned endings scored by the model in one batch.

`sample_planned` is `Decoder.sample_rows` with a planner judging every token (see
core/engine/planner.py): a refused token is masked and the row draws again, a row ends where
the planner says, and rows that plan their last word are handed to `_end_rows`.

`_end_pending` is where a rhyme (or a word of the syllables left) is chosen by the model:

1. when a row plans its ending, the first token of every feasible word is read from the row's
   current next-token distribution (free: the step already computed it), keeping the `KEEP`
   likeliest words (a word another planned row already has as its first choice is passed
   over); the row stops there, and its keys/values stay in the rows cache (a later step only
   writes later slots);
2. once sampling ends, every planned row's words run together, in one batched pass of at most
   three steps over a fork of the rows cache, each row attending only to its own tokens up to
   where it planned (rows plan at different steps); the last step gives the probability that
   the line ends after the word (newline, EOS or closing punctuation), so a word that would run
   on ("light" -> "lightning") loses;
3. rows then take their best word not already taken by another row (no two lines end alike).

Models without the lean forward end each step's planned rows at once (`_end_rows`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lyrictui.core.engine.kvcache import KVCache
from lyrictui.core.engine.planner import EndWord, Planner, Verdict
from lyrictui.core.engine.sampling import RowHistory, SamplingConfig, process, sample
from lyrictui.core.errors import Cancelled

if TYPE_CHECKING:
    from lyrictui.core.engine.decoding import CancelCheck, Decoder, Row

KEEP = 3
"""Feasible words per row scored in full (after the first-token cut)."""
REDRAWS = 16
"""Draws per row and step; after them the likeliest of the FALLBACK best tokens that keeps to
words is taken (a word half spelt may have few ways to go on)."""
FALLBACK = 1024


def sample_planned(dec: Decoder, first_logits: Any, rows: int, cfg: SamplingConfig,
                   generator: Any, cancel: CancelCheck, planner: Planner) -> list[Row]:
    import torch

    from lyrictui.core.engine.decoding import Row

    with torch.inference_mode():
        if dec.prefix.length + cfg.max_tokens > dec.window:
            raise ValueError("no room left in the window for a line")
        cache = dec._rows_cache(rows, cfg.max_tokens)
        tail = dec.ids[-cfg.penalty_window :] if cfg.penalty_window else []
        history = RowHistory(tail, rows, cfg.no_repeat_ngram_size)
        result = [Row([], 0.0, False) for _ in range(rows)]
        token_lp: list[list[float]] = [[] for _ in range(rows)]
        dead = [False] * rows
        logits = first_logits[None, :].expand(rows, -1).clone()
        chosen: Any = None
        dec.stats.rows += rows
        deferred = dec.lean is not None  # end planned rows together, after sampling
        pending: list[tuple[int, int, list[tuple[EndWord, float]]]] = []
        claimed: set[str] = set()
        for step in range(cfg.max_tokens):
            if step > 0:
                if cancel():
                    raise Cancelled("suggestion cancelled")
                logits = dec._step(cache, chosen)
            active = [r for r in range(rows) if not result[r].ended]
            if not active:
                break
            log_probs = torch.log_softmax(logits, dim=-1)
            blocked = dec.stop_tensor if step == 0 else None
            processed = process(logits, history, active, cfg, blocked, dec.stop_set)
            for r in active:
                if planner.block_stop(r):
                    processed[r, dec.stop_tensor] = float("-inf")
            chosen = sample(processed, cfg, generator)
            ending: list[tuple[int, list[EndWord]]] = []
            for r in active:
                token = int(chosen[r])
                verdict, feasible = planner.check(r, token)
                if verdict is Verdict.REJECT:
                    token, verdict, feasible = _redraw(planner, r, processed[r], cfg, generator,
                                                       token)
                if verdict is Verdict.REJECT:  # the likeliest token that keeps to words
                    token, verdict, feasible = _fallback(dec, planner, r, step, processed[r],
                                                         log_probs[r], token, cfg, generator)
                chosen[r] = token
                row = result[r]
                if verdict is Verdict.ACCEPT and token in dec.stop_set:
                    row.ended = True
                elif verdict is Verdict.ACCEPT:
                    row.tokens.append(token)
                    token_lp[r].append(float(log_probs[r, token]))
                    row.logprob += token_lp[r][-1]
                    history.append(r, token)
                    planner.commit(r, token)
                elif verdict is Verdict.END:
                    if planner.keeps_closing(token):
                        row.tokens.append(token)
                        row.logprob += float(log_probs[r, token])
                    row.ended = True
                elif verdict is Verdict.PLAN and deferred:
                    options = _options(planner, log_probs[r], feasible, claimed)
                    row.ended = True
                    if options:
                        pending.append((r, step, options))
                        claimed.add(options[0][0].word)
                    else:
                        dead[r] = True
                elif verdict is Verdict.PLAN:
                    ending.append((r, feasible))
                elif verdict is Verdict.REJECT and not planner.plan.locked and (
                        cut := planner.unfinished(r)) is not None and cut > 0:
                    # No piece finishes the word being spelt: the line ends before it.
                    row.tokens = row.tokens[:cut]
                    row.logprob = sum(token_lp[r][:cut])
                    row.ended = True
                else:  # REJECT after every redraw, or DEAD
                    row.ended = dead[r] = True
            if ending:
                for r in _end_rows(dec, cache, log_probs, ending, planner, result):
                    result[r].ended = dead[r] = True
            if all(row.ended for row in result):
                break
        if pending:
            for r in _end_pending(dec, cache, pending, planner, result):
                dead[r] = True
        for r, row in enumerate(result):
            if not row.ended and planner.plan.locked:
                dead[r] = True  # the token cap came first: the locks were not met
            elif not row.ended and (cut := planner.unfinished(r)) is not None:
                row.tokens = row.tokens[:cut]  # the cap fell inside a word: drop its pieces
                row.logprob = sum(token_lp[r][:cut])
                dead[r] = not row.tokens
            row.ended = True
        return [row for r, row in enumerate(result) if not dead[r]]


def _redraw(planner: Planner, r: int, scores: Any, cfg: SamplingConfig, generator: Any,
            token: int) -> tuple[int, Verdict, list[EndWord]]:
    """Up to REDRAWS more draws for row `r` from its top-k / top-p set, without replacement
    (one multinomial call), the first that keeps to words taken."""
    import torch

    k = cfg.top_k if 0 < cfg.top_k < scores.shape[-1] else scores.shape[-1]
    values, indices = torch.topk(scores, k)
    probs = torch.softmax(values / cfg.temperature, dim=-1)
    if cfg.top_p < 1.0:
        probs = probs.masked_fill((probs.cumsum(dim=-1) - probs) > cfg.top_p, 0.0)
    probs = torch.nan_to_num(probs, nan=0.0).masked_fill(indices == token, 0.0)
    left = int((probs > 0).sum())
    if left == 0:
        return token, Verdict.REJECT, []
    draws = torch.multinomial(probs, min(REDRAWS, left), generator=generator)
    for candidate in indices[draws].tolist():
        verdict, feasible = planner.check(r, candidate)
        if verdict is not Verdict.REJECT:
            return candidate, verdict, feasible
    return token, Verdict.REJECT, []


def _fallback(dec: Decoder, planner: Planner, r: int, step: int, processed: Any,
              log_probs: Any, token: int, cfg: SamplingConfig,
              generator: Any) -> tuple[int, Verdict, list[EndWord]]:
    """A token that keeps row `r` to words: the likeliest among what sampling allowed (top-k);
    inside a word that is not one yet, one drawn among the pieces that go on to finish it
    (read from the lexicon, not searched for: the model's own distribution masked to them);
    else the likeliest among the model's FALLBACK likeliest (an unsure model may have no word
    piece in its top-k). Never a line end where none may come."""
    import torch

    no_stop = step == 0 or planner.block_stop(r)
    k = cfg.top_k if 0 < cfg.top_k < processed.shape[-1] else FALLBACK
    seen: set[int] = set()
    partial = planner.rows[r].partial
    stuck = bool(partial) and not planner.lex.is_word(partial)
    tiers: list[tuple[Any, Any]] = [(processed, k)]
    if stuck:
        pieces = _finishing_pieces(planner, partial)
        if pieces:
            ids = torch.tensor(pieces, device=processed.device)
            tiers.append((processed.index_select(0, ids), ids))
    else:
        tiers.append((log_probs, FALLBACK))
    for scores, size in tiers:
        if isinstance(size, int):
            best = torch.topk(scores, min(size, scores.shape[-1]))
            values, indices = best.values.tolist(), best.indices.tolist()
        else:  # scores of the given token ids: drawn in turn, as sampling would
            probs = torch.nan_to_num(torch.softmax(scores / cfg.temperature, dim=-1), nan=0.0)
            if not bool((probs > 0).any()):
                continue
            order = torch.multinomial(probs, min(FINISHING, int((probs > 0).sum())),
                                      generator=generator)
            values, indices = scores[order].tolist(), size[order].tolist()
        for value, candidate in zip(values, indices, strict=True):
            if value == float("-inf"):
                break
            if candidate in seen or no_stop and candidate in dec.stop_set:
                continue
            seen.add(candidate)
            verdict, feasible = planner.check(r, candidate)
            if verdict is not Verdict.REJECT:
                return candidate, verdict, feasible
    return token, Verdict.REJECT, []


FINISHING = 64
"""Pieces that finish a half-spelt word, tried in the order they are drawn."""
_PIECES: dict[int, tuple[Any, dict[str, int]]] = {}


def _finishing_pieces(planner: Planner, partial: str) -> list[int]:
    """Token ids whose text (letters, no leading space) carries `partial` on towards a word of
    the lexicon: every start of what each completion still needs that is a token."""
    texts = planner.texts
    cached = _PIECES.get(id(texts))
    if cached is None or cached[0] is not texts:
        if len(_PIECES) > 8:
            _PIECES.clear()
        by_text: dict[str, int] = {}
        for i, t in enumerate(texts):
            if t and (t.isalpha() or t.replace("'", "").isalpha()) and t not in by_text:
                by_text[t] = i
        cached = _PIECES[id(texts)] = (texts, by_text)
    by_text = cached[1]
    tail = partial.rsplit("-", 1)[-1]
    shout = len(tail) > 1 and tail.isupper()  # "LOV" goes on in capitals
    found: set[int] = set()
    for word in planner.lex.completions(tail):
        rest = word[len(tail):].upper() if shout else word[len(tail):]
        for end in range(1, len(rest) + 1):
            piece = by_text.get(rest[:end])
            if piece is not None:
                found.add(piece)
    return sorted(found)


def _fork(dec: Decoder, cache: KVCache, sources: list[int], extra: int) -> KVCache:
    """A cache whose rows copy `sources` rows of `cache` (their own tokens, not the context)."""
    import torch

    length = cache.length
    fork = dec.fork_cache
    if fork is None or fork.batch < len(sources) or fork.capacity < length + extra:
        fork = KVCache(dec.n_layers, max(len(sources), 64), max(length + extra, 48))
        dec.fork_cache = fork
    keys0, values0 = dec.prefix.buffers[0]
    fork.ensure(dec.n_layers, keys0.shape[1], keys0.shape[3], keys0.dtype, keys0.device)
    fork.truncate(0)
    fork.offset = dec.prefix.length
    if length:
        index = torch.tensor(sources, device=dec.device)
        for layer in range(dec.n_layers):
            for src, dst in zip(cache.buffers[layer], fork.buffers[layer], strict=True):
                dst[: len(sources), :, :length].copy_(src[:, :, :length].index_select(0, index))
    fork.length = length
    return fork


NEAR_PENALTY = 100.0
"""Added to a near rhyme's first-token score: a row takes a perfect rhyme whenever one is free."""
_FIRSTS: dict[int, tuple[list[EndWord], Any]] = {}


def _first_tokens(feasible: list[EndWord], device: Any) -> tuple[Any, Any]:
    """(first token of each word, the near-rhyme penalty of each) as tensors, kept per list."""
    import torch

    cached = _FIRSTS.get(id(feasible))
    if cached is None or cached[0] is not feasible:
        if len(_FIRSTS) > 64:
            _FIRSTS.clear()
        firsts = torch.tensor([w.tokens[0] for w in feasible], device=device)
        penalty = torch.tensor([NEAR_PENALTY if w.near else 0.0 for w in feasible], device=device)
        cached = _FIRSTS[id(feasible)] = (feasible, (firsts, penalty))
    return cached[1]


def _options(planner: Planner, log_probs: Any, feasible: list[EndWord],
             claimed: set[str]) -> list[tuple[EndWord, float]]:
    """The KEEP likeliest free words by their first token (with its log-probability), perfect
    rhymes before near ones, words another pending row has as its first choice after the rest."""
    import torch

    if not feasible:
        return []
    firsts, penalty = _first_tokens(feasible, log_probs.device)
    scores = log_probs.index_select(0, firsts)
    ranked = scores - penalty
    size = min(len(feasible), KEEP + len(planner.taken) + len(claimed))
    best = torch.topk(ranked, size).indices.tolist()
    values = scores.tolist() if size > 256 else None
    picked: list[tuple[EndWord, float]] = []
    spare: list[tuple[EndWord, float]] = []
    for i in best:
        w = feasible[i]
        if w.word in planner.taken:
            continue
        value = values[i] if values is not None else float(scores[i])
        (spare if w.word in claimed else picked).append((w, value))
        if len(picked) == KEEP:
            break
    return (picked + spare)[:KEEP]


def _end_pending(dec: Decoder, cache: KVCache,
                 pending: list[tuple[int, int, list[tuple[EndWord, float]]]],
                 planner: Planner, result: list[Row]) -> list[int]:
    """End every planned row on its best free word in one batched pass (rows planned at
    different steps: each attends to its own tokens up to where it planned); returns the rows
    left without a word."""
    import torch

    pairs = [(r, own, w, lp) for r, own, options in pending for w, lp in options
             if w.word not in planner.taken]
    if not pairs or dec.lean is None:
        return [r for r, _own, _options in pending]
    pairs.sort(key=lambda p: -len(p[2].tokens))  # the rows still spelling a word come first
    steps = len(pairs[0][2].tokens)
    length = cache.length
    fork = _fork(dec, cache, [p[0] for p in pairs], steps + 1)
    device = dec.device
    shared = dec.prefix.length
    own_len = torch.tensor([p[1] for p in pairs], device=device)
    slots = torch.arange(length + steps, device=device)
    prefix_ok = torch.ones(len(pairs), shared, dtype=torch.bool, device=device)
    word_lp = [p[3] for p in pairs]
    end_lp = [0.0] * len(pairs)
    closing = [0] * len(pairs)
    closing_lp = [0.0] * len(pairs)
    end_ids = dec.end_tensor
    for j in range(steps):
        count = sum(1 for p in pairs if len(p[2].tokens) > j)
        tokens = torch.tensor([p[2].tokens[j] for p in pairs[:count]], device=device)
        seen = slots[None, : length + j + 1]
        own_ok = (seen < own_len[:count, None]) | (seen >= length)
        allowed = torch.cat([prefix_ok[:count], own_ok], dim=1)
        with torch.inference_mode():
            logits = dec.lean.decode_ragged(tokens, fork, dec.prefix, shared + own_len[:count] + j,
                                            allowed)
        dec.stats.decode_steps += 1
        step_lp = torch.log_softmax(logits.float(), dim=-1)
        ends = step_lp.index_select(1, end_ids)
        best_lp, best_end = (t.tolist() for t in ends.max(dim=1))
        total_end = torch.logsumexp(ends, dim=1).tolist()
        for i in range(count):
            w = pairs[i][2]
            if j + 1 < len(w.tokens):
                word_lp[i] += float(step_lp[i, w.tokens[j + 1]])
            else:
                end_lp[i] = total_end[i]
                closing[i] = int(end_ids[best_end[i]])
                closing_lp[i] = best_lp[i]
    done = _assign([(p[0], p[2]) for p in pairs], word_lp, end_lp, closing, closing_lp, planner,
                   result)
    return [r for r, _own, _options in pending if r not in done]


def _end_rows(dec: Decoder, cache: KVCache, log_probs: Any, ending: list[tuple[int, list[EndWord]]],
              planner: Planner, result: list[Row]) -> list[int]:
    """End each row in `ending` on its best feasible word; returns the rows left without one."""
    import torch

    pairs: list[tuple[int, EndWord]] = []
    for r, feasible in ending:
        free = [w for w in feasible if w.word not in planner.taken]
        if not free:
            continue
        firsts = torch.tensor([w.tokens[0] for w in free], device=log_probs.device)
        scores = log_probs[r].index_select(0, firsts)
        top = torch.topk(scores, min(KEEP, len(free))).indices.tolist()
        pairs += [(r, free[i]) for i in top]
    if not pairs:
        return [r for r, _ in ending]
    steps = max(len(w.tokens) for _, w in pairs)
    fork = _fork(dec, cache, [r for r, _ in pairs], steps + 1)
    pad = dec.eos if dec.eos is not None else 0
    word_lp = [float(log_probs[r, w.tokens[0]]) for r, w in pairs]
    end_lp = [0.0] * len(pairs)
    closing = [0] * len(pairs)
    closing_lp = [0.0] * len(pairs)
    end_ids = dec.end_tensor
    for j in range(steps):
        tokens = torch.tensor([w.tokens[j] if j < len(w.tokens) else pad for _, w in pairs],
                              device=dec.device)
        step_lp = torch.log_softmax(dec.fork_step(fork, tokens), dim=-1)
        ends = step_lp.index_select(1, end_ids)
        best_lp, best_end = (t.tolist() for t in ends.max(dim=1))
        total_end = torch.logsumexp(ends, dim=1).tolist()
        for i, (_r, w) in enumerate(pairs):
            if j + 1 < len(w.tokens):
                word_lp[i] += float(step_lp[i, w.tokens[j + 1]])
            elif j + 1 == len(w.tokens):
                end_lp[i] = total_end[i]
                closing[i] = int(end_ids[best_end[i]])
                closing_lp[i] = best_lp[i]
    done = _assign(pairs, word_lp, end_lp, closing, closing_lp, planner, result)
    for r in done:
        result[r].ended = True
    return [r for r, _ in ending if r not in done]


def _assign(pairs: list[tuple[int, EndWord]], word_lp: list[float], end_lp: list[float],
            closing: list[int], closing_lp: list[float], planner: Planner,
            result: list[Row]) -> set[int]:
    """Give each row its best free word (perfect rhymes before near ones, then the model's
    score of the word and the line ending after it), no word to two rows; returns the rows
    that got one."""
    order = sorted(range(len(pairs)), key=lambda i: (pairs[i][1].near, -(word_lp[i] + end_lp[i])))
    done: set[int] = set()
    for i in order:
        r, w = pairs[i]
        if r in done or w.word in planner.taken:
            continue
        done.add(r)
        planner.taken.add(w.word)
        row = result[r]
        row.tokens += list(w.tokens)
        row.logprob += word_lp[i]
        row.planned = w
        if planner.keeps_closing(closing[i]):
            row.tokens.append(closing[i])
            row.logprob += closing_lp[i]
    return done
