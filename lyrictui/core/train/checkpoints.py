"""Training checkpoints: everything a resume needs, written atomically, nothing pickled.

`checkpoints/step-00000120/` holds trainable.safetensors (the trainable weights, float32),
optimizer.safetensors (AdamW's moments and step counts), rng.safetensors (torch's generator
states) and state.json (step, epoch, best loss, patience, Python's RNG, the loss scaler).
A checkpoint is written as `.step-....tmp` and renamed into place, so the newest folder without
the leading dot is always complete; the last `keep` are kept (1 by default: the older one is
deleted only after the newer is in place). A cancelled or interrupted run keeps its newest
whole checkpoint (`prune`), a completed one none (`remove_all`).
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHECKPOINTS = "checkpoints"
PREFIX = "step-"


@dataclass
class TrainState:
    """The loop's own counters, saved beside the tensors."""

    step: int = 0
    tokens_seen: int = 0
    best_val_loss: float | None = None
    best_step: int | None = None
    bad_evals: int = 0
    last_eval_step: int = -1
    extra: dict[str, Any] = field(default_factory=dict)


def checkpoints_dir(run_dir: Path) -> Path:
    return run_dir / CHECKPOINTS


def list_checkpoints(run_dir: Path) -> list[Path]:
    """Complete checkpoints, oldest first."""
    folder = checkpoints_dir(run_dir)
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir()
             if p.is_dir() and p.name.startswith(PREFIX) and (p / "state.json").is_file()]
    return sorted(found, key=lambda p: int(p.name[len(PREFIX):]))


def latest_checkpoint(run_dir: Path) -> Path | None:
    found = list_checkpoints(run_dir)
    return found[-1] if found else None


def _fsync_dir_files(folder: Path) -> None:
    for path in folder.iterdir():
        with open(path, "rb") as fh:
            os.fsync(fh.fileno())


def save(run_dir: Path, *, model: Any, optimizer: Any, scaler: Any, state: TrainState,
         keep: int) -> Path:
    """Write a checkpoint for `state.step` and prune older ones; returns its folder."""
    import random

    import torch
    from safetensors.torch import save_file

    root = checkpoints_dir(run_dir)
    root.mkdir(parents=True, exist_ok=True)
    name = f"{PREFIX}{state.step:08d}"
    final = root / name
    if final.exists():
        return final
    tmp = root / f".{name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        weights = {n: p.detach().to("cpu", torch.float32).contiguous()
                   for n, p in model.named_parameters() if p.requires_grad}
        save_file(weights, str(tmp / "trainable.safetensors"), metadata={"format": "pt"})
        opt_state = optimizer.state_dict()
        tensors = {}
        for index, slots in opt_state["state"].items():
            for key, value in slots.items():
                value = value if torch.is_tensor(value) else torch.tensor(float(value))
                tensors[f"{index}.{key}"] = value.detach().to("cpu").contiguous()
        save_file(tensors, str(tmp / "optimizer.safetensors"), metadata={"format": "pt"})
        rng = {"torch_cpu": torch.get_rng_state()}
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            rng["cuda"] = torch.cuda.get_rng_state()
        save_file(rng, str(tmp / "rng.safetensors"))
        version, internal, gauss = random.getstate()
        doc = {
            "format": 1,
            "step": state.step,
            "tokens_seen": state.tokens_seen,
            "best_val_loss": state.best_val_loss,
            "best_step": state.best_step,
            "bad_evals": state.bad_evals,
            "last_eval_step": state.last_eval_step,
            "extra": state.extra,
            "python_rng": [version, list(internal), gauss],
            "scaler": scaler.state_dict() if scaler is not None else None,
            "param_names": [n for n, p in model.named_parameters() if p.requires_grad],
        }
        (tmp / "state.json").write_text(json.dumps(doc), encoding="utf-8")
        _fsync_dir_files(tmp)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for old in list_checkpoints(run_dir)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


class Unreadable(Exception):
    """A checkpoint folder whose files cannot be read whole (truncated, garbled, missing)."""


def _read(folder: Path) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Every file of the checkpoint, read before anything is applied, so a damaged one
    changes nothing: (state.json, weights, optimizer tensors, rng tensors)."""
    from safetensors.torch import load_file

    try:
        doc = json.loads((folder / "state.json").read_text(encoding="utf-8"))
        if not isinstance(doc, dict) or not isinstance(doc.get("step"), int):
            raise ValueError("state.json holds no step")
        weights = load_file(str(folder / "trainable.safetensors"))
        saved = load_file(str(folder / "optimizer.safetensors"))
        rng = load_file(str(folder / "rng.safetensors"))
    except Exception as exc:  # safetensors raises its own errors; all mean "not whole"
        raise Unreadable(" ".join(f"{type(exc).__name__}: {exc}".split())[:200]) from None
    return doc, weights, saved, rng


def load(folder: Path, *, model: Any, optimizer: Any, scaler: Any,
         restore_rng: bool = True) -> TrainState:
    """Restore weights, optimizer, scaler and RNG from `folder`; returns the loop's counters.
    Raises Unreadable, having changed nothing, when a file of it cannot be read whole."""
    import random

    import torch

    doc, weights, saved, rng = _read(folder)
    params = dict(model.named_parameters())
    missing = [n for n, p in params.items() if p.requires_grad and n not in weights]
    if missing:
        from lyrictui.core.errors import LyricError

        raise LyricError(f"checkpoint {folder} does not match this model ({missing[0]} missing):"
                         " it was written for another base or method")
    with torch.no_grad():
        for name, value in weights.items():
            params[name].copy_(value)
    current = optimizer.state_dict()
    state: dict[int, dict[str, Any]] = {}
    for key, value in saved.items():
        index, slot = key.split(".", 1)
        state.setdefault(int(index), {})[slot] = value
    optimizer.load_state_dict({"state": state, "param_groups": current["param_groups"]})
    if scaler is not None and doc.get("scaler"):
        scaler.load_state_dict(doc["scaler"])
    if restore_rng:
        torch.set_rng_state(rng["torch_cpu"])
        if "cuda" in rng and torch.cuda.is_available():
            torch.cuda.set_rng_state(rng["cuda"])
        version, internal, gauss = doc["python_rng"]
        random.setstate((version, tuple(internal), gauss))
    return TrainState(step=doc["step"], tokens_seen=doc["tokens_seen"],
                      best_val_loss=doc["best_val_loss"], best_step=doc["best_step"],
                      bad_evals=doc["bad_evals"], last_eval_step=doc.get("last_eval_step", -1),
                      extra=doc.get("extra") or {})


def load_newest_whole(run_dir: Path, *, model: Any, optimizer: Any, scaler: Any,
                      restore_rng: bool = True,
                      say: Any = None) -> TrainState | None:
    """Restore the newest checkpoint that reads whole, newest first; None when there is none.
    One a disk error or a meddling hand truncated is moved aside as `.step-N.damaged` (the
    next prune deletes it) and `say(line)` tells which, and what the run resumes from."""
    found = list_checkpoints(run_dir)
    for folder in reversed(found):
        try:
            restored = load(folder, model=model, optimizer=optimizer, scaler=scaler,
                            restore_rng=restore_rng)
        except Unreadable as why:
            older = [f for f in found if f.name < folder.name]
            then = (f"resuming from the older {older[-1].name}" if older else
                    "no older checkpoint is kept, so the run restarts from step 0")
            if say is not None:
                say(f"checkpoint {folder.name} cannot be read ({why}): {then}")
            shutil.rmtree(folder.with_name(f".{folder.name}.damaged"), ignore_errors=True)
            os.replace(folder, folder.with_name(f".{folder.name}.damaged"))
            continue
        return restored
    return None


def prune(run_dir: Path, keep: int = 1) -> int:
    """Delete all but the newest `keep` whole checkpoints and any half-written one (a kill
    mid-save leaves `.step-N.tmp`); returns the bytes freed. What a resume loads (the newest
    whole checkpoint) is never deleted."""
    from lyrictui.core.paths import dir_size

    folder = checkpoints_dir(run_dir)
    if not folder.is_dir():
        return 0
    doomed = list_checkpoints(run_dir)[:-keep] if keep > 0 else list_checkpoints(run_dir)
    doomed += [p for p in folder.iterdir() if p.is_dir() and p.name.startswith(f".{PREFIX}")]
    freed = 0
    for path in doomed:
        freed += dir_size(path)
        shutil.rmtree(path, ignore_errors=True)
    return freed


def remove_all(run_dir: Path) -> int:
    """Delete a finished run's checkpoints (they hold optimizer state: 3x the model)."""
    from lyrictui.core.paths import dir_size

    folder = checkpoints_dir(run_dir)
    freed = dir_size(folder)
    shutil.rmtree(folder, ignore_errors=True)
    return freed
