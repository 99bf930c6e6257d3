"""Check a model folder before anything is loaded from it.

A missing, partial, corrupt or pickle-only folder gives one clear line instead of a traceback,
and a pickle file is never opened. Used by loading (modelload) and by base checks (bases).
"""

from __future__ import annotations

import json
import re
import struct
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
    files = card.get("files") or {}
    if not isinstance(files, dict) or not all(
            isinstance(name, str) and name and not Path(name).is_absolute()
            and ".." not in Path(name).parts for name in files):
        raise LyricError(f"the model's card ({folder / 'card.json'}) lists its files wrongly "
                         f"(`files` is {type(files).__name__}, not a table of file names and "
                         "sizes): the folder is damaged; copy the model again")
    for name, size in files.items():
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
    if not lora:
        check_config_fits_weights(folder, [folder / name for name in present])
    return ("lora" if lora else "full"), card


# What a config.json may ask for: far above any causal LM lyrictui can run, far below what
# makes building the model take minutes or all memory (n_layer 10000 still built after 90 s).
CONFIG_LIMITS = {
    ("n_layer", "num_hidden_layers", "num_layers"): 512,
    ("n_positions", "max_position_embeddings", "n_ctx", "seq_length"): 1 << 20,
    ("vocab_size",): 2_000_000,
    ("n_embd", "hidden_size", "d_model"): 65_536,
    ("n_head", "num_attention_heads"): 1_024,
    ("n_inner", "intermediate_size", "ffn_dim"): 262_144,
}
MAX_HEADER_BYTES = 100 * 1024 * 1024


def check_config_limits(folder: Path) -> dict[str, Any]:
    """config.json as a dict whose sizes are whole numbers within CONFIG_LIMITS, or one line."""
    config = read_json(folder / "config.json", "config.json")
    for keys, limit in CONFIG_LIMITS.items():
        for key in keys:
            value = config.get(key)
            if value is None:
                continue
            if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= limit:
                raise InvalidInput(f"the model at {folder} has {key} = {str(value)[:40]} in its "
                                   f"config.json: it must be a whole number from 1 to {limit:,}; "
                                   "the folder is damaged or not a model lyrictui can run")
    return config


def safetensors_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    """Tensor names and shapes from a safetensors header, without reading the data."""
    try:
        with open(path, "rb") as fh:
            (length,) = struct.unpack("<Q", fh.read(8))
            if length > MAX_HEADER_BYTES:
                raise ValueError(f"a header of {length:,} bytes")
            header = json.loads(fh.read(length))
        return {name: tuple(int(n) for n in info["shape"]) for name, info in header.items()
                if name != "__metadata__"}
    except (OSError, ValueError, KeyError, TypeError, struct.error) as exc:
        raise LyricError(f"the weights file {path} is corrupt or incomplete ({exc}): "
                         "retrain the model or copy it again") from None


def check_config_fits_weights(folder: Path, weights: list[Path]) -> None:
    """Refuse a folder whose config.json does not describe its weights (a tensor missing,
    unexpected or of another shape), before the model is built: transformers would fill the
    gaps with random values and only print a report."""
    check_config_limits(folder)
    stored: dict[str, tuple[int, ...]] = {}
    for path in weights:
        stored.update(safetensors_shapes(path))
    expected, prefix, ignored = _expected_tensors(folder)
    if expected is None:
        return  # an architecture transformers cannot build offline: loading will say so
    names = {name: name if name in expected or f"{prefix}.{name}" not in expected
             else f"{prefix}.{name}" for name in stored}
    found = {names[n]: shape for n, shape in stored.items()}
    missing = [group[0] for group in _tie_groups(expected) if not any(k in found for k in group)]
    unexpected = [n for n in found if n not in expected
                  and not any(re.search(pattern, n) for pattern in ignored)]
    reshaped = [n for n, shape in found.items() if n in expected and expected[n][0] != shape]
    if not (missing or unexpected or reshaped):
        return
    parts = []
    if missing:
        parts.append(f"{len(missing):,} tensors the config asks for are missing "
                     f"(e.g. {missing[0]})")
    if unexpected:
        parts.append(f"{len(unexpected):,} are not in the config (e.g. {unexpected[0]})")
    if reshaped:
        name = reshaped[0]
        parts.append(f"{len(reshaped):,} have another shape (e.g. {name}: "
                     f"{list(found[name])} stored, {list(expected[name][0])} in the config)")
    raise InvalidInput(f"the model at {folder} does not match its config.json: "
                       f"{'; '.join(parts)}; fix config.json or copy the model again")


def _expected_tensors(folder: Path) -> tuple[dict[str, tuple[tuple[int, ...], int]] | None,
                                              str, list[str]]:
    """{name: (shape, identity)} of the model config.json describes, built on the meta device
    (no memory, no weights), with its base-model prefix and the names it may ignore."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    try:
        config = AutoConfig.from_pretrained(str(folder), local_files_only=True)
    except Exception as exc:  # transformers' strict config validation has no stable base class
        first = (str(exc).splitlines() or [""])[0][:200]
        raise InvalidInput(f"the model at {folder} has a config.json transformers refuses "
                           f"({type(exc).__name__}: {first}): the folder is damaged") from None
    try:
        with torch.device("meta"):
            model = AutoModelForCausalLM.from_config(config)
    except (ValueError, KeyError, OSError, ImportError, TypeError):
        return None, "", []  # not a causal LM transformers knows: loading says so in one line
    state = model.state_dict(keep_vars=True)
    expected = {name: (tuple(t.shape), id(t)) for name, t in state.items()}
    ignored = list(getattr(model, "_keys_to_ignore_on_load_unexpected", None) or [])
    return expected, str(getattr(model, "base_model_prefix", "") or ""), ignored


def _tie_groups(expected: dict[str, tuple[tuple[int, ...], int]]) -> list[list[str]]:
    """Names grouped by the tensor they name: tied weights (lm_head and the embeddings) are
    stored once, under either name."""
    groups: dict[int, list[str]] = {}
    for name, (_shape, identity) in expected.items():
        groups.setdefault(identity, []).append(name)
    return list(groups.values())
