"""Setting up a new training run: the one path the CLI (`lyrictui train`), the app's train
dialog and the tests all take.

`plan_run` turns what the user chose (any field left out takes its default) into a validated
`TrainConfig`; `start_run` creates the run and starts it, in the background or in this process.
Everything that can fail is checked before a run (row, folder, process) exists:

- the artist has songs to train on;
- defaults come from `TrainConfig` alone (epochs from `default_epochs(base)`);
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
from lyrictui.core.train import runs
from lyrictui.core.train.config import TrainConfig, default_epochs


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
    values.setdefault("epochs", default_epochs(base))
    return TrainConfig(base=base, method=method, **values).validate()


def plan_run(library: Library, artist: Artist, base: str | None = None, method: str = "full",
             **options: Any) -> TrainConfig:
    """Everything a new run of `artist` needs decided and checked, before it exists."""
    if library.song_counts(artist.id)[0] == 0:
        raise NotFound(f'"{artist.name}" has no songs to train on: scrape or import lyrics first')
    config = build_config(base, method, **options)
    asked_block = options.get("block_size")
    window = bases.check_base(config.base, asked_block)
    if asked_block is None and config.block_size > window:
        config.block_size = window
        config.validate()
    return config


def plan_choice(library: Library, artist: Artist, choice: TrainChoice) -> TrainConfig:
    """`plan_run` for a TrainChoice (what the app's train dialog returns)."""
    return plan_run(library, artist, choice.base, choice.method, **choice.options)


def pack_for_training(library: Library, artist: Artist, *, base: str | None = None,
                      block_size: int | None = None, val_fraction: float | None = None,
                      on_progress: ProgressFn | None = None) -> PackResult:
    """Pack `artist` exactly as a new run with the same choices would (`lyrictui pack` and the
    Library's pack action): same default base, block size (shrunk to a smaller window) and
    validation share, so the run that follows reuses the pack instead of packing again."""
    from lyrictui.core.pack.packing import pack

    config = build_config(base, block_size=block_size, val_fraction=val_fraction)
    window = bases.check_base(config.base, block_size)
    if block_size is None:
        config.block_size = min(config.block_size, window)
    return pack(library, artist, base=config.base, block_size=config.block_size,
                val_fraction=config.val_fraction, on_progress=on_progress)


def start_run(library: Library, artist: Artist, config: TrainConfig, *, detach: bool) -> str:
    """Create the run and start it: in its own background process (`detach`, what the app
    does), or registered to this process, which then trains it (`lyrictui train`). Returns the
    run id."""
    if detach:
        return runs.start_detached(library, artist, config)
    return runs.create_run(library, artist, config, pid=os.getpid()).id
