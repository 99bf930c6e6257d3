"""The training loop: packed blocks, AdamW, warmup + cosine, evals, samples, checkpoints, stops.

Data order is a function of (seed, epoch) and the learning rate a function of the step, so a
resume from a checkpoint (which restores weights, optimizer moments and RNG) computes exactly
what the uninterrupted run would have. Under DDP every collective happens at steps all ranks
agree on (evaluations, and stop polls every STOP_POLL_DDP steps); logging and checkpoints are
rank 0's alone.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lyrictui.core.engine.hfcompat import cache_of, with_cache
from lyrictui.core.engine.sampling import SamplingConfig
from lyrictui.core.errors import LyricError
from lyrictui.core.train import checkpoints
from lyrictui.core.train.checkpoints import TrainState
from lyrictui.core.train.config import TrainConfig
from lyrictui.core.train.distributed import DistInfo, all_sum
from lyrictui.core.train.events import EventLog
from lyrictui.core.train.setup import Precision, TrainData, lr_at

STOP_POLL_DDP = 10
LOG_INTERVAL_S = 1.0
CHECKPOINT_INTERVAL_S = 600.0


@dataclass(frozen=True)
class Plan:
    """How the run's blocks turn into steps."""

    batch_size: int
    steps_per_epoch: int
    total_steps: int
    eval_every: int
    save_every: int
    tokens_per_step: int


def make_plan(n_blocks: int, block_size: int, config: TrainConfig, world: int = 1) -> Plan:
    per_rank = config.batch_size
    if n_blocks < per_rank * world * config.grad_accum:
        # A small corpus: shrink the batch rather than refuse to train.
        per_rank = n_blocks // (world * config.grad_accum)
        if per_rank < 1:
            raise LyricError(f"the dataset has only {n_blocks} training blocks of {block_size} "
                             f"tokens, too few for {world * config.grad_accum} micro-batches: "
                             "add songs or use a smaller --block-size")
    per_step = per_rank * world * config.grad_accum
    steps_per_epoch = n_blocks // per_step
    if config.max_steps:
        total = config.max_steps
    elif config.epochs:
        total = steps_per_epoch * config.epochs
    else:  # a config built without `plan_run`: the same budget, from the blocks at hand
        from lyrictui.core.train.budget import steps_for

        total = steps_for(n_blocks, per_step, block_size)[0]
    eval_every = config.eval_every or (steps_per_epoch if steps_per_epoch <= 1000 else 500)
    eval_every = max(1, min(eval_every, total))
    return Plan(batch_size=per_rank, steps_per_epoch=steps_per_epoch, total_steps=total,
                eval_every=eval_every, save_every=config.save_every or eval_every,
                tokens_per_step=per_step * block_size)


class Loop:
    """Runs a plan from `state.step` to its end, an early stop, or a stop request."""

    def __init__(self, *, model: Any, raw: Any, tokenizer: Any, optimizer: Any, scaler: Any,
                 data: TrainData, config: TrainConfig, plan: Plan, device: Any,
                 precision: Precision, dist: DistInfo, events: EventLog, run_dir: Path | None,
                 stop: Callable[[], bool], progress: Callable[[int], None],
                 save_best: Callable[[int, float | None], None]) -> None:
        import torch

        self.torch = torch
        self.model, self.raw, self.tokenizer = model, raw, tokenizer
        self.optimizer, self.scaler = optimizer, scaler
        self.data, self.config, self.plan = data, config, plan
        self.device, self.precision, self.dist = device, precision, dist
        self.events, self.run_dir = events, run_dir
        self.stop, self.progress, self.save_best = stop, progress, save_best
        self.params = [p for p in raw.parameters() if p.requires_grad]
        self._perm_epoch, self._perm = -1, None  # type: tuple[int, Any]
        train = data.train
        if device.type == "cuda" and train.numel() < 256 * 2**20:
            train = train.to(device)  # small enough: no host-to-device copy per step
        elif device.type == "cuda":
            train = train.pin_memory()
        self.train = train

    # -- pieces ------------------------------------------------------------------------------

    def _autocast(self) -> Any:
        if self.precision.autocast is None:
            return nullcontext()
        return self.torch.autocast(device_type=self.device.type, dtype=self.precision.autocast)

    def _batch(self, step: int, micro: int) -> Any:
        epoch, index = divmod(step, self.plan.steps_per_epoch)
        if epoch != self._perm_epoch:
            generator = self.torch.Generator().manual_seed(self.config.seed * 1_000_003 + epoch)
            self._perm = self.torch.randperm(self.train.shape[0], generator=generator)
            self._perm_epoch = epoch
        size = self.plan.batch_size
        start = ((index * self.config.grad_accum + micro) * self.dist.world + self.dist.rank) * size
        rows = self._perm[start:start + size]  # type: ignore[index]
        return self.train[rows.to(self.train.device)].to(self.device, non_blocking=True)

    def _step(self, step: int) -> tuple[Any, Any]:
        """One optimizer step; returns (loss, grad norm) as device tensors (no sync)."""
        torch, accum = self.torch, self.config.grad_accum
        total = None
        for micro in range(accum):
            x = self._batch(step, micro)
            sync = self.dist.enabled and micro < accum - 1
            with self.model.no_sync() if sync else nullcontext():
                with self._autocast():
                    loss = self.model(input_ids=x, labels=x, use_cache=False).loss / accum
                (self.scaler.scale(loss) if self.scaler else loss).backward()
            total = loss.detach() if total is None else total + loss.detach()
        if self.scaler:
            self.scaler.unscale_(self.optimizer)
        norm = torch.nn.utils.clip_grad_norm_(self.params, self.config.max_grad_norm)
        lr = lr_at(step, self.plan.total_steps, self.config)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        if self.scaler:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return total, norm

    def evaluate(self) -> float | None:
        """Mean next-token loss over the validation blocks (every rank evaluates its share)."""
        if not self.data.val:
            return None
        torch, raw = self.torch, self.raw
        raw.eval()
        loss_sum = torch.zeros((), dtype=torch.float64, device=self.device
                               if self.device.type != "mps" else "cpu")
        count = 0
        with torch.no_grad():
            for blocks in self.data.val:
                shard = blocks[self.dist.rank::self.dist.world]
                for start in range(0, shard.shape[0], self.plan.batch_size):
                    x = shard[start:start + self.plan.batch_size].to(self.device)
                    with self._autocast():
                        loss = raw(input_ids=x, labels=x, use_cache=False).loss
                    n = x.shape[0] * (x.shape[1] - 1)
                    loss_sum += loss.detach().to(loss_sum.device, torch.float64) * n
                    count += n
        raw.train()
        total, tokens = all_sum(self.dist, [float(loss_sum), float(count)], self.device)
        return total / tokens if tokens else None

    def sample(self) -> list[str]:
        """A few lines from the song-start prompt, with a fixed seed that leaves training's
        random state untouched."""
        torch, raw = self.torch, self.raw
        eos = self.tokenizer.eos_token_id
        devices = [self.device.index or 0] if self.device.type == "cuda" else []
        tokens: list[int] = []
        knobs = SamplingConfig()  # samples read as the composer's lines will
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(self.config.seed)
            raw.eval()
            ids, past = torch.tensor([[eos]], device=self.device), None
            # A plain top-k/top-p loop: generate()'s full-vocabulary top-p sort costs more than
            # the tiny models the CPU tests train.
            with torch.no_grad(), self._autocast():
                for _ in range(self.config.sample_tokens):
                    out = raw(input_ids=ids, use_cache=True, **with_cache(raw, past))
                    past = cache_of(out)
                    top, index = torch.topk(out.logits[0, -1].float() / knobs.temperature,
                                            knobs.top_k)
                    probs = torch.softmax(top, dim=-1)
                    keep = torch.cumsum(probs, dim=-1) - probs < knobs.top_p
                    probs = probs * keep
                    token = int(index[torch.multinomial(probs / probs.sum(), 1)])
                    if token == eos:
                        break
                    tokens.append(token)
                    ids = torch.tensor([[token]], device=self.device)
            raw.train()
        text = self.tokenizer.decode(tokens, skip_special_tokens=True)
        lines = [" ".join(line.split())[:200] for line in text.splitlines() if line.strip()]
        return lines[: self.config.sample_lines]

    def checkpoint(self, state: TrainState) -> None:
        if not self.dist.main or self.run_dir is None:
            return
        path = checkpoints.save(self.run_dir, model=self.raw, optimizer=self.optimizer,
                                scaler=self.scaler, state=state, keep=self.config.keep_checkpoints)
        self.events.emit("checkpoint", step=state.step, path=str(path))

    def _stop_wanted(self, step: int) -> bool:
        if not self.dist.enabled:
            return self.stop()
        if step % STOP_POLL_DDP:
            return False
        return all_sum(self.dist, [1.0 if self.stop() else 0.0], self.device)[0] > 0

    # -- the loop ------------------------------------------------------------------------------

    def run(self, state: TrainState) -> str:
        """Train until the plan ends; returns completed, stopped_early or cancelled."""
        torch, plan, config = self.torch, self.plan, self.config
        self.raw.train()
        if state.step >= plan.total_steps:
            return "completed"
        if self._stop_wanted(0):
            return "cancelled"
        log_loss, log_steps = None, 0
        last_log = last_ckpt = time.monotonic()
        tokens_at_log, saved_at = state.tokens_seen, -1
        for step in range(state.step, plan.total_steps):
            loss, norm = self._step(step)
            done = step + 1
            state.step, state.tokens_seen = done, state.tokens_seen + plan.tokens_per_step
            self.progress(done)
            log_loss = loss if log_loss is None else log_loss + loss
            log_steps += 1
            now = time.monotonic()
            due = (done % config.log_every == 0) if config.log_every else (
                now - last_log >= LOG_INTERVAL_S)
            if self.dist.main and (due or done == plan.total_steps or done == 1):
                mean = float(log_loss) / log_steps
                if not math.isfinite(mean):
                    raise LyricError(f"the training loss became {mean} at step {done}: lower "
                                     "--lr (or train in fp32 with --device cpu to check the data)")
                gpu = (torch.cuda.max_memory_allocated(self.device)
                       if self.device.type == "cuda" else None)
                self.events.emit("step", step=done, epoch=round(done / plan.steps_per_epoch, 3),
                                 loss=mean, lr=lr_at(step, plan.total_steps, config),
                                 tokens_per_s=(state.tokens_seen - tokens_at_log)
                                 / max(now - last_log, 1e-9),
                                 grad_norm=float(norm), gpu_mem=gpu)
                log_loss, log_steps, last_log, tokens_at_log = None, 0, now, state.tokens_seen
            evaluated = False
            if done % plan.eval_every == 0 or done == plan.total_steps:
                evaluated = True
                self._evaluate(state, done)
            if evaluated or done % plan.save_every == 0 or (
                    time.monotonic() - last_ckpt >= CHECKPOINT_INTERVAL_S):
                self.checkpoint(state)
                last_ckpt = time.monotonic()
                saved_at = done
            if (evaluated and config.patience and state.bad_evals >= config.patience
                    and done < plan.total_steps):
                return "stopped_early"
            if done < plan.total_steps and self._stop_wanted(done):
                if saved_at != done:
                    self.checkpoint(state)
                return "cancelled"
        return "completed"

    def _evaluate(self, state: TrainState, done: int) -> None:
        val = self.evaluate()
        state.last_eval_step = done
        epoch = round(done / self.plan.steps_per_epoch, 3)
        if self.dist.main:
            ppl = math.exp(val) if val is not None and val < 80 else None
            self.events.emit("eval", step=done, epoch=epoch, val_loss=val, perplexity=ppl)
            self.events.emit("sample", step=done, lines=self.sample())
        if val is None:
            if self.dist.main:
                self.save_best(done, None)  # nothing to compare: the latest weights are the model
            return
        if state.best_val_loss is None or val < state.best_val_loss:
            state.best_val_loss, state.best_step, state.bad_evals = val, done, 0
            if self.dist.main:
                self.save_best(done, val)
        else:
            state.bad_evals += 1
