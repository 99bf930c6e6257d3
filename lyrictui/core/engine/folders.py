"""Check a model folder before anything is loaded from it.

A missing, partial, corrupt or pickle-only folder gives one clear line instead of a traceback,
and a pickle file is never opened. Used by loading (modelload) and by base checks (bases).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lyrictui.core.errors import InvalidInput, LyricError, NotFound

PICKLES = ("pytorch_model.bin", "adapter_model.bin", "model.pt", "model.ckpt", "training_args.bin")


def read_json(path: Path, what: str) -> dict[str, Any]:
    """A JSON object from a model folder, or one line saying the folder is damaged."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LyricError(f"the model's {what} ({path}) is unreadable ({type(exc).__name__}): "
                         "the folder is damaged; retrain the model or pick another") from None
    if not isinstance(data, dict):
        raise LyricError(f"the model's {what} ({path}) is not a JSON object: the folder is damaged")
    return data


def _check_safetensors(path: Path) -> None:
    """Open the header and check the data is all there (cheap: nothing is read into memory)."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as handle:
            handle.keys()
    except Exception as exc:  # SafetensorError has no stable import path
        raise LyricError(f"the weights file {path} is corrupt or incomplete ({exc}): "
                         "retrain the model or copy it again") from None


def check_folder(folder: Path) -> tuple[str, dict[str, Any]]:
    """Validate a model folder; returns its method ("full" or "lora") and its card (or {})."""
    if not folder.exists():
        raise NotFound(f"no model folder at {folder}")
    if not folder.is_dir():
        raise InvalidInput(f"{folder} is a file, not a model folder")
    card = read_json(folder / "card.json", "card") if (folder / "card.json").exists() else {}
    for name, size in (card.get("files") or {}).items():
        part = folder / name
        if not part.is_file():
            raise LyricError(f"the model at {folder} is incomplete: {name} is missing; "
                             "retrain it or copy the whole folder again")
        if isinstance(size, int) and part.stat().st_size != size:
            raise LyricError(f"the model at {folder} is incomplete: {name} has "
                             f"{part.stat().st_size} bytes, its card says {size}")
    lora = (folder / "adapter_config.json").exists()
    weights = ["adapter_model.safetensors"] if lora else ["model.safetensors"]
    index = folder / "model.safetensors.index.json"
    if not lora and index.exists():
        shards = read_json(index, "weights index").get("weight_map", {})
        weights = sorted(set(shards.values())) or weights
    present = [w for w in weights if (folder / w).is_file()]
    if not present:
        pickles = [p for p in PICKLES if (folder / p).exists()]
        if pickles:
            raise InvalidInput(f"the model at {folder} has only a pickle checkpoint ({pickles[0]}), "
                               "which lyrictui never loads (it can run code): re-save it with "
                               "safetensors (save_pretrained(..., safe_serialization=True))")
        raise LyricError(f"the model at {folder} has no weights ({weights[0]} is missing): "
                         "it is incomplete; retrain it or pick another model")
    if len(present) < len(weights):
        raise LyricError(f"the model at {folder} is incomplete: shard "
                         f"{sorted(set(weights) - set(present))[0]} is missing")
    if not lora and not (folder / "config.json").exists():
        raise LyricError(f"the model at {folder} has no config.json: it is incomplete")
    for name in present:
        _check_safetensors(folder / name)
    return ("lora" if lora else "full"), card
