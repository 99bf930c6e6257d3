"""What a failed training run tells its user: one line, with what to do next."""

from __future__ import annotations

import errno
import sqlite3
import traceback
from pathlib import Path

from lyrictui.core.errors import LyricError
from lyrictui.core.train.config import TrainConfig
from lyrictui.core.train.runs import LOG_FILE


def oom_advice(config: TrainConfig) -> str:
    """What to try after running out of memory: only what this run does not already do."""
    tips = ["a smaller --batch-size (with --grad-accum to keep the effective batch)",
            "a smaller --block-size"]
    if config.method != "lora":
        tips.append("--method lora")
    if not config.gradient_checkpointing:
        tips.append("--gradient-checkpointing")
    if config.method == "lora" and config.gradient_checkpointing:
        tips.append("a smaller base model")
    return "use " + ", ".join(tips[:-1]) + ", or " + tips[-1]



def describe(exc: BaseException, config: TrainConfig, folder: Path) -> str:
    """The one line a failure becomes."""
    import torch

    text = str(exc)
    oom = getattr(torch, "OutOfMemoryError", torch.cuda.OutOfMemoryError)
    if isinstance(exc, (oom, MemoryError)) or (isinstance(exc, RuntimeError) and (
            "out of memory" in text or "can't allocate memory" in text)):
        where = "RAM" if "DefaultCPUAllocator" in text or isinstance(exc, MemoryError) else "GPU"
        return (f"out of {where} memory training {config.method} on {config.base} with batch "
                f"{config.batch_size} x block {config.block_size}: {oom_advice(config)}")
    if isinstance(exc, LyricError):
        return exc.message
    full = (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or any(
        s in text for s in ("No space left", "StorageFull", "database or disk is full"))
    if full:
        # The run folder's artist folder: the write may have been a checkpoint (runs/) or the
        # finished model (models/), and both live there.
        return (f"the disk is full (writing under {folder.parent.parent}): free some space (e.g. "
                "`lyrictui rm-model` an old model), then `lyrictui resume "
                f"{folder.name}` continues from the last checkpoint")
    if isinstance(exc, (OSError, sqlite3.Error)):
        return f"training could not read or write a file ({type(exc).__name__}: {text[:200]})"
    first = text.splitlines()[0][:200] if text else ""
    return (f"training failed ({type(exc).__name__}: {first}); the traceback is in "
            f"{folder / LOG_FILE}")


def log_traceback(folder: Path, exc: BaseException) -> None:
    try:
        with open(folder / LOG_FILE, "a", encoding="utf-8") as fh:
            fh.write("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    except OSError:
        pass
