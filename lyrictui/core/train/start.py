"""Setting up a new training run: the one path the CLI (`lyrictui train`), the app's train
dialog and the tests all take.

`plan_run` turns what the user chose (any field left out takes its default) into a validated
`TrainConfig`; `start_run` creates the run and starts it, in the background or in this process.
Everything that can fail is checked before a run (row, folder, process) exists:

- the artist has songs to train on, and no run of the artist is training or starting;
- defaults come from `TrainConfig` and, for how long to train, from the budget
  (core/train/budget.py): the songs are measured with the base's tokenizer, and the block size,
  the validation share, the steps, the evaluations and the patience are fitted to them, unless
  the user named `epochs` or `max_steps`;
- the device is the user's choice, else the `device` setting, else auto;
- the base is loadable (a model folder with safetensors weights, the starter, or a hub id that is
  cached or reachable), and a block size the user asked for fits its window, while the default
  block size shrinks to a smaller window instead of failing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from lyrictui.core.engine import bases
from lyrictui.core.errors import NotFound
from lyrictui.core.pack.manifest import ProgressFn
from lyrictui.core.pack.packing import PackResult
from lyrictui.core.store.library import Library
from lyrictui.core.store.records import Artist
from lyrictui.core.train import budget, runs, throughput
from lyrictui.core.train.config import TrainConfig


@dataclass(frozen=True)
class TrainChoice:
    """What the user chose for a new run; every option left out (or None) takes its default."""

    base: str | None = None
    method: str = "full"
    options: dict[str, Any] = field(default_factory=dict)
    """TrainConfig fields by name (epochs, batch_size, lr, block_size, device, ...)."""


def setting_device() -> str:
    """The `device` setting (auto, cuda, mps or cpu): the default for training and suggestions."""
    from lyrictui.core import config as settings

    return str(settings.get("device") or "auto")


def build_config(base: str | None = None, method: str = "full", **options: Any) -> TrainConfig:
    """A validated TrainConfig from the user's choices, without touching the base (cheap: the
    train dialog calls it on submit). Options that are None take their default."""
    values = {k: v for k, v in options.items() if v is not None}
    base = (base or "").strip() or bases.default_base()
    values.setdefault("device", setting_device())
    return TrainConfig(base=base, method=method, **values).validate()


@dataclass(frozen=True)
class RunPlan:
    """A new run decided and checked, with what the user is shown before it starts."""

    config: TrainConfig
    size: budget.DataSize
    steps: int
    tokens_seen: int
    speed: throughput.Speed | None
    seconds: float | None
    warning: str | None
    """Set when the data are too small to learn a style from (with the numbers needed)."""

    def lines(self) -> list[str]:
        """The pre-start summary, the same lines in `lyrictui train` and the train dialog."""
        c, s = self.config, self.size
        out = [f"{s.songs} songs ({s.train_songs} to train on, {s.val_songs} held out whole to "
               f"validate), {s.tokens:,} tokens",
               f"{self.steps:,} optimizer steps of {c.batch_size * c.grad_accum} x {c.block_size}"
               f" tokens: {self.tokens_seen:,} tokens seen, about "
               f"{self.tokens_seen / max(s.train_tokens, 1):.1f} passes over the songs"
               + ("" if c.patience == 0 else
                  f"; stops early after {c.patience} evaluations without a better "
                  "validation loss")]
        if self.seconds is not None and self.speed is not None:
            out.append(f"expected time on {_device_name(c.device)}: about "
                       f"{_duration(self.seconds)} at {self.speed.tokens_per_s:,.0f} tokens/s "
                       f"({self.speed.source}; another job on the machine slows it)")
        if self.warning:
            out.append(self.warning)
        return out


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def _device_name(device: str) -> str:
    if device != "auto":
        return device
    from lyrictui.core.engine.modelload import pick_device

    return f"{pick_device('auto')} (auto)"


def _measure(library: Library, artist: Artist, base: str,
             val_fraction: float | None) -> budget.DataSize:
    """The artist's songs as packing will see them, with the validation share chosen (at
    least a few whole songs held out) unless the user gave one."""
    from lyrictui.core.pack.packing import song_text

    songs = [s for s in library.songs(artist.id) if song_text(s.lyrics)]
    hashes = [s.content_hash for s in songs]
    fraction = val_fraction if val_fraction is not None else budget.auto_val_fraction(hashes)
    return budget.measure([song_text(s.lyrics) for s in songs], hashes,
                          bases.load_tokenizer(base), fraction)


def plan_run_full(library: Library, artist: Artist, base: str | None = None,
                  method: str = "full", *, estimate_time: bool = True,
                  **options: Any) -> RunPlan:
    """Everything a new run of `artist` needs decided and checked, before it exists, with the
    summary shown before it starts (`estimate_time` also probes this device's speed)."""
    if library.song_counts(artist.id)[0] == 0:
        raise NotFound(f'"{artist.name}" has no songs to train on: scrape or import lyrics first')
    runs.ensure_artist_free(library, artist)
    config = build_config(base, method, **options)
    asked_block = options.get("block_size")
    window = bases.check_base(config.base, asked_block)
    size = _measure(library, artist, config.base, options.get("val_fraction"))
    config.val_fraction = size.val_fraction
    user_length = options.get("epochs") is not None or options.get("max_steps") is not None
    per_step = config.batch_size * config.grad_accum
    chosen = budget.plan(size, batch_blocks=per_step, largest_block=min(config.block_size, window),
                         block_size=asked_block)
    config.block_size = chosen.block_size
    if not user_length:
        config.max_steps = chosen.max_steps
        if options.get("eval_every") is None:
            config.eval_every = chosen.eval_every
        if options.get("patience") is None:
            config.patience = chosen.patience
    config.validate()
    blocks = max(1, size.train_tokens // config.block_size)
    batch = max(1, min(per_step, blocks))
    steps = config.max_steps or max(1, blocks // batch) * (config.epochs or 1)
    tokens_seen = steps * batch * config.block_size
    speed = seconds = None
    if estimate_time:
        speed = throughput.estimate(library, config.base, config.device)
        seconds = throughput.seconds_for(tokens_seen, speed)
    return RunPlan(config=config, size=size, steps=steps, tokens_seen=tokens_seen, speed=speed,
                   seconds=seconds, warning=budget.too_small(size))


def plan_run(library: Library, artist: Artist, base: str | None = None, method: str = "full",
             **options: Any) -> TrainConfig:
    """The checked TrainConfig of a new run of `artist` (`plan_run_full` without the time
    estimate)."""
    return plan_run_full(library, artist, base, method, estimate_time=False, **options).config


def plan_choice(library: Library, artist: Artist, choice: TrainChoice) -> TrainConfig:
    """`plan_run` for a TrainChoice (what the app's train dialog returns)."""
    return plan_run(library, artist, choice.base, choice.method, **choice.options)


def summarize_choice(library: Library, artist: Artist, choice: TrainChoice) -> RunPlan:
    """`plan_run_full` for a TrainChoice, time estimate included: the train dialog's summary
    (the same lines `lyrictui train` prints before it starts)."""
    return plan_run_full(library, artist, choice.base, choice.method, **choice.options)


def pack_for_training(library: Library, artist: Artist, *, base: str | None = None,
                      block_size: int | None = None, val_fraction: float | None = None,
                      on_progress: ProgressFn | None = None) -> PackResult:
    """Pack `artist` exactly as a new run with the same choices would (`lyrictui pack` and the
    Library's pack action): same default base, block size (shrunk to a smaller window) and
    validation share, so the run that follows reuses the pack instead of packing again."""
    from lyrictui.core.pack.packing import pack

    config = build_config(base, block_size=block_size, val_fraction=val_fraction)
    window = bases.check_base(config.base, block_size)
    size = _measure(library, artist, config.base, val_fraction)
    config.val_fraction = size.val_fraction
    config.block_size = block_size or budget.auto_block_size(
        size.train_tokens, min(config.block_size, window))
    return pack(library, artist, base=config.base, block_size=config.block_size,
                val_fraction=config.val_fraction, on_progress=on_progress)


def start_run(library: Library, artist: Artist, config: TrainConfig, *, detach: bool) -> str:
    """Create the run and start it: in its own background process (`detach`, what the app
    does), or registered to this process, which then trains it (`lyrictui train`). Returns the
    run id."""
    if detach:
        return runs.start_detached(library, artist, config)
    return runs.create_run(library, artist, config, pid=os.getpid()).id
