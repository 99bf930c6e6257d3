"""Train one run, start to saved model, inside the current process (`lyrictui train` runs this).

The run's data is packed on demand, its base loaded (plus LoRA adapters), its last checkpoint
restored if it has one, and the loop run; the best weights by validation loss become the model.
Every failure ends as one line in three places: the CLI (LyricError), the events (error, then
end/failed) and the library row (status failed, error).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lyrictui.core.engine.sampling import SamplingConfig
from lyrictui.core.errors import InvalidInput, LyricError
from lyrictui.core.store import models
from lyrictui.core.store.library import Library
from lyrictui.core.store.records import Artist
from lyrictui.core.train import checkpoints, distributed, runs
from lyrictui.core.train import errors as trainerrors
from lyrictui.core.train.checkpoints import TrainState
from lyrictui.core.train.config import TrainConfig
from lyrictui.core.train.distributed import SINGLE, DistInfo
from lyrictui.core.train.events import EVENTS_FILE, EventLog
from lyrictui.core.train.loop import Loop, Plan, make_plan
from lyrictui.core.train.setup import TrainData

BEST = "best"
COMPILE_MIN_TOKENS = 50_000_000  # below this, compiling costs more than it saves


@dataclass
class Outcome:
    run_id: str
    status: str  # completed, stopped_early or cancelled (failures raise LyricError)
    model_id: str | None
    best_val_loss: float | None


class StopFlag:
    """True once the run's stop file appears or SIGTERM/SIGINT arrives (a second Ctrl-C quits)."""

    def __init__(self, folder: Path, on_signal: Callable[[int], None] | None = None) -> None:
        self.folder, self.flag = folder, False
        self._old: dict[int, Any] = {}
        self._on_signal = on_signal  # told at once, before the step ends (the CLI says so)

    def __call__(self) -> bool:
        return self.flag or runs.stop_requested(self.folder)

    def _handle(self, signum: int, _frame: Any) -> None:
        if self.flag and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.flag = True
        if self._on_signal is not None:
            self._on_signal(signum)

    def install(self) -> None:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                self._old[sig] = signal.signal(sig, self._handle)

    def uninstall(self) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)
        self._old.clear()


def load_data(library: Library, artist: Artist, config: TrainConfig,
              dist: DistInfo = SINGLE) -> TrainData:
    """The artist's packed blocks, packing them first when missing or stale (rank 0 packs;
    an unchanged pack is reused at once)."""
    from lyrictui.core.pack import packing
    from lyrictui.core.train.setup import blocks_from_dataset

    found = None
    if dist.main:
        result = packing.pack(library, artist, base=config.base, block_size=config.block_size,
                              val_fraction=config.val_fraction)
        stats = {k: v for k, v in result.summary().items() if k not in {"seconds", "cached"}}
        found = (str(result.path), stats)
    path, stats = distributed.broadcast(dist, found)
    return blocks_from_dataset(packing.load_packed(path), stats)


def execute_run(library: Library, run_id: str, *, data: TrainData | None = None,
                dist: DistInfo = SINGLE,
                listener: Callable[[dict[str, Any]], None] | None = None,
                background: bool = False,
                on_signal: Callable[[int], None] | None = None) -> Outcome:
    """Train run `run_id` from its last checkpoint (or its start) to its end, in this process
    (`background`: leave a core and the scheduler's favour to the app; setup.configure_backend;
    `on_signal(signum)`: called inside the handler of the first SIGINT/SIGTERM, which asks
    the run to checkpoint and stop after its step)."""
    run = library.get_run(run_id)
    if run.status == "completed":
        raise InvalidInput(f"run {run.id} already completed: start a new one with `lyrictui train`")
    artist = library.artist_by_id(run.artist_id)
    config = runs.run_config(run).validate()
    folder = runs.ensure_folder(run)
    lock = runs.acquire_lock(folder) if dist.main else None
    if dist.main and lock is None:
        raise InvalidInput(f"run {run.id} is already being trained by another process: "
                           f"`lyrictui watch {run.id}` follows it")
    artist_lock = runs.acquire_artist_lock(artist, run.id) if dist.main else None
    if dist.main and artist_lock is None:
        lock.close()  # type: ignore[union-attr]
        busy = runs.RunActive(artist, runs.artist_lock_holder(artist) or "?")
        library.update_run(run.id, status="failed", error=str(busy), ended_at=time.time())
        raise busy
    events = EventLog(folder / EVENTS_FILE if dist.main else None, listener)
    heartbeat = runs.Heartbeat(library, run.id) if dist.main else None
    stop = StopFlag(folder, on_signal)
    state = TrainState()
    try:
        if heartbeat is not None:
            library.update_run(run.id, status="running", pid=os.getpid(), error=None,
                               ended_at=None)
            heartbeat.start()
        stop.install()
        return _train(library, run.id, artist, config, folder, data, dist, events, heartbeat,
                      stop, state, background)
    except KeyboardInterrupt:
        if dist.main:
            message = (f"interrupted by Ctrl-C: `lyrictui resume {run.id}` continues from the "
                       "last checkpoint")
            with contextlib.suppress(OSError):
                events.emit("error", message=message)
            library.update_run(run.id, status="interrupted", error=message, ended_at=time.time())
        raise
    except BaseException as exc:
        if isinstance(exc, SystemExit):
            raise
        message = trainerrors.describe(exc, config, folder)
        if not isinstance(exc, LyricError):
            trainerrors.log_traceback(folder, exc)
        if dist.main:
            # On a full disk the events file refuses these lines too: the one line must still
            # reach the library row and the user.
            with contextlib.suppress(OSError):
                events.emit("error", message=message)
                events.emit("end", status="failed", model_id=None,
                            best_val_loss=state.best_val_loss)
            library.update_run(run.id, status="failed", error=message, ended_at=time.time(),
                               step=state.step)
        raise LyricError(message) from None
    finally:
        stop.uninstall()
        if heartbeat is not None:
            heartbeat.stop()
        events.close()
        if artist_lock is not None:
            artist_lock.close()
        if lock is not None:
            lock.close()


def _warn(line: str) -> None:
    """A warning on the run's stderr (train.log for a detached run), as Heartbeat's are."""
    print(f"warning: {line}", file=sys.stderr, flush=True)


def _train(library: Library, run_id: str, artist: Artist, config: TrainConfig, folder: Path,
           data: TrainData | None, dist: DistInfo, events: EventLog,
           heartbeat: runs.Heartbeat | None, stop: StopFlag, state: TrainState,
           background: bool = False) -> Outcome:
    import torch
    from transformers.utils import logging as hf_logging

    from lyrictui.core.train import setup as trainsetup

    hf_logging.set_verbosity_error()
    device = trainsetup.pick_device(config.device)
    if device.type == "cuda" and dist.enabled:
        device = torch.device("cuda", dist.local_rank)
    trainsetup.configure_backend(device, background=background)
    precision = trainsetup.pick_precision(device)
    torch.manual_seed(config.seed + dist.rank)
    random.seed(config.seed + dist.rank)
    if data is None:
        data = load_data(library, artist, config, dist)
    if data.block_size != config.block_size:
        raise InvalidInput(f"the data has blocks of {data.block_size} tokens, the run wants "
                           f"{config.block_size}")
    model, tokenizer = trainsetup.load_base(config, device)
    optimizer = trainsetup.make_optimizer(model, config, device)
    scaler = torch.amp.GradScaler("cuda") if precision.scaler else None
    plan = make_plan(int(data.train.shape[0]), data.block_size, config, dist.world)
    if dist.main:  # older checkpoints and a half-written one from a kill
        checkpoints.prune(folder, keep=config.keep_checkpoints)
    restored = checkpoints.load_newest_whole(folder, model=model, optimizer=optimizer,
                                             scaler=scaler, restore_rng=dist.main,
                                             say=_warn)
    if restored is not None:
        state.__dict__.update(restored.__dict__)
        if not dist.main:  # only rank 0's generator is saved; the others restart theirs
            torch.manual_seed(config.seed * 7919 + state.step * 31 + dist.rank)
    resumed_from = state.step
    if heartbeat is not None:
        heartbeat.step, heartbeat.total_steps = state.step, plan.total_steps
        heartbeat.beat()
    compiled = _want_compile(config, device, plan)
    train_model = torch.compile(model) if compiled else model
    if dist.enabled:
        from torch.nn.parallel import DistributedDataParallel

        train_model = DistributedDataParallel(
            train_model, device_ids=[dist.local_rank] if device.type == "cuda" else None)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    events.emit("start", config=config.to_dict(), total_steps=plan.total_steps,
                epochs=round(plan.total_steps / plan.steps_per_epoch, 3),
                resumed_from=resumed_from, device=str(device), precision=precision.name,
                compiled=compiled, world_size=dist.world, batch_size=plan.batch_size,
                threads=torch.get_num_threads() if device.type == "cpu" else None,
                background=background,
                steps_per_epoch=plan.steps_per_epoch, eval_every=plan.eval_every,
                params=sum(p.numel() for p in model.parameters()), trainable_params=trainable,
                dataset=data.stats)

    def progress(step: int) -> None:
        if heartbeat is not None:
            heartbeat.step = step

    def save_best(step: int, val_loss: float | None) -> None:
        models.save_folder(folder / BEST, model, tokenizer, method=config.method,
                           info={"step": step, "val_loss": val_loss},
                           generation=SamplingConfig().generation_defaults())
        library.update_run(run_id, best_val_loss=val_loss)

    loop = Loop(model=train_model, raw=model, tokenizer=tokenizer, optimizer=optimizer,
                scaler=scaler, data=data, config=config, plan=plan, device=device,
                precision=precision, dist=dist, events=events, run_dir=folder, stop=stop,
                progress=progress, save_best=save_best)
    status = loop.run(state)
    if heartbeat is not None:
        heartbeat.step = state.step
    if not dist.main:
        return Outcome(run_id, status, None, state.best_val_loss)
    if status == "cancelled":
        checkpoints.prune(folder, keep=1)  # the newest whole checkpoint is all a resume needs
        library.update_run(run_id, status="cancelled", step=state.step, ended_at=time.time())
        events.emit("end", status="cancelled", model_id=None, best_val_loss=state.best_val_loss)
        return Outcome(run_id, status, None, state.best_val_loss)
    if not (folder / BEST / "info.json").exists():
        save_best(state.step, None)
    model_id = _publish(library, artist, run_id, config, folder, data)
    library.update_run(run_id, status="completed", step=state.step, model_id=model_id,
                       best_val_loss=state.best_val_loss, ended_at=time.time(), error=None)
    events.emit("end", status=status, model_id=model_id, best_val_loss=state.best_val_loss)
    # Only now: a kill while these are deleted must not leave an unfinished run whose resume
    # would load a half-deleted checkpoint.
    checkpoints.remove_all(folder)
    shutil.rmtree(folder / BEST, ignore_errors=True)
    return Outcome(run_id, status, model_id, state.best_val_loss)


def _want_compile(config: TrainConfig, device: Any, plan: Plan) -> bool:
    if config.compile != "auto":
        return config.compile == "on"
    return device.type == "cuda" and plan.total_steps * plan.tokens_per_step >= COMPILE_MIN_TOKENS


def _publish(library: Library, artist: Artist, run_id: str, config: TrainConfig, folder: Path,
             data: TrainData) -> str:
    info = json.loads((folder / BEST / "info.json").read_text(encoding="utf-8"))
    base = config.base
    if base != "starter" and Path(base).expanduser().exists():
        base = str(Path(base).expanduser().absolute())  # a LoRA card must find its base again
    models.publish(library, artist, folder / BEST, run_id, base=base, method=config.method,
                   run_id=run_id, dataset=data.stats, val_loss=info.get("val_loss"),
                   params=info.get("params", 0), best_step=info.get("step"))
    return run_id
