"""Model folders: writing a trained model in the shared format, its card, listing and removal.

Full fine-tunes hold model.safetensors in float16 (tied embeddings stored once), config.json and
generation_config.json; LoRA runs hold peft's adapter_config.json and adapter_model.safetensors
(float16) and nothing of the base. Both carry the tokenizer, card.json and a README.md card.
Every folder is written under a temporary name and renamed into place when complete.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from pathlib import Path
from typing import Any

from lyrictui.core import paths
from lyrictui.core.store.library import Library
from lyrictui.core.store.records import Artist, Model

CARD = "card.json"
README = "README.md"


def _replace_dir(tmp: Path, final: Path) -> None:
    """Move a finished folder into place, replacing an older one without a gap in between."""
    if final.exists():
        old = final.with_name(f".{final.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, final)


def write_weights(folder: Path, model: Any, tokenizer: Any, *, method: str,
                  generation: dict[str, Any] | None = None) -> int:
    """Write `model` (a plain HF model, or a peft model for LoRA) in 16-bit to an existing
    empty `folder`, with its tokenizer and `generation` defaults (the sampling knobs that
    `generate()` should use: training passes the engine's SamplingConfig); returns the stored
    parameters."""
    import torch

    if method == "lora":
        from peft import get_peft_model_state_dict

        state = {k: v.detach().to("cpu", torch.float16).contiguous()
                 for k, v in get_peft_model_state_dict(model).items()}
        model.save_pretrained(str(folder), state_dict=state)
        (folder / README).unlink(missing_ok=True)  # peft's template card; ours replaces it
        config = model.get_base_model().config
    else:
        from safetensors.torch import save_file

        seen: set[int] = set()
        state = {}
        for key, value in model.state_dict().items():
            # Tied weights (lm_head = wte) share storage: store them once, as from_pretrained expects.
            if value.data_ptr() in seen:
                continue
            seen.add(value.data_ptr())
            state[key] = value.detach().to("cpu", torch.float16).contiguous()
        save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
        config = model.config
        config.save_pretrained(str(folder))
        cfg_path = folder / "config.json"
        data = json.loads(cfg_path.read_text(encoding="utf-8"))
        data["dtype"] = "float16"
        data["use_cache"] = True
        cfg_path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    from transformers import GenerationConfig

    eos = getattr(config, "eos_token_id", None)
    gen = GenerationConfig(bos_token_id=getattr(config, "bos_token_id", None), eos_token_id=eos,
                           pad_token_id=eos, **(generation or {}))
    gen.save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    return sum(v.numel() for v in state.values())


def save_folder(final: Path, model: Any, tokenizer: Any, *, method: str,
                info: dict[str, Any] | None = None,
                generation: dict[str, Any] | None = None) -> int:
    """Write a model folder atomically (temp name, then rename); returns its stored params."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        params = write_weights(tmp, model, tokenizer, method=method, generation=generation)
        if info is not None:
            (tmp / "info.json").write_text(json.dumps({**info, "params": params}),
                                           encoding="utf-8")
        _replace_dir(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return params


def perplexity(loss: float | None) -> float | None:
    if loss is None or not math.isfinite(loss) or loss > 80:
        return None
    return math.exp(loss)


def make_card(folder: Path, **fields: Any) -> dict[str, Any]:
    """The card.json content for the files now in `folder`."""
    files = {p.name: p.stat().st_size for p in sorted(folder.iterdir())
             if p.is_file() and p.name not in {CARD, "info.json"}}
    card = {"name": fields.get("name"), "base": fields.get("base"), "method": fields.get("method"),
            "run_id": fields.get("run_id"), "artist": fields.get("artist"),
            "dataset": fields.get("dataset"), "val_loss": fields.get("val_loss"),
            "perplexity": perplexity(fields.get("val_loss")), "params": fields.get("params", 0),
            "dtype": "float16", "created_at": time.time(), "files": files}
    card.update({k: v for k, v in fields.items() if k not in card})
    return card


def readme(card: dict[str, Any]) -> str:
    ppl = card.get("perplexity")
    ds = card.get("dataset") or {}
    lines = [
        f"# {card['name']}", "",
        f"GPT-2 {'LoRA adapter' if card['method'] == 'lora' else 'fine-tune'} on the lyrics of "
        f"{card.get('artist') or 'an artist'}, trained locally by lyrictui.", "",
        f"- base: `{card['base']}`",
        f"- method: {card['method']}" + (" (adapter only: load it over its base)"
                                         if card["method"] == "lora" else " (float16 weights)"),
        f"- run: `{card.get('run_id')}`",
        f"- best validation loss: {card['val_loss']:.4f}" if card.get("val_loss") is not None
        else "- best validation loss: not measured",
        f"- validation perplexity: {ppl:.2f}" if ppl is not None else "- perplexity: n/a",
        f"- training data: {ds.get('tokens', '?')} tokens, {ds.get('train_songs', '?')} songs "
        f"(+{ds.get('val_songs', '?')} held out), blocks of {ds.get('block_size', '?')}",
        f"- parameters stored: {card.get('params', 0):,}", "",
        "Use it with `lyrictui suggest ARTIST` or open the composer. The lyrics it learned from "
        "belong to their authors: keep it for your own writing.", "",
    ]
    return "\n".join(lines)


def publish(library: Library, artist: Artist, source: Path, model_id: str,
            **card_fields: Any) -> Model:
    """Copy a finished weights folder (the run's best) into the artist's models, add its card
    and README, and register it in the library."""
    final = paths.models_dir(artist.slug) / model_id
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        shutil.copytree(source, tmp)
        (tmp / "info.json").unlink(missing_ok=True)
        fields = {"name": model_id, "artist": artist.name, **card_fields}
        (tmp / README).write_text(readme({**fields, "perplexity": perplexity(
            fields.get("val_loss"))}), encoding="utf-8")
        card = make_card(tmp, **fields)
        (tmp / CARD).write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
        _replace_dir(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return library.add_model(
        model_id, artist.id, run_id=card["run_id"], base=card["base"], method=card["method"],
        path=str(final), val_loss=card["val_loss"], perplexity=card["perplexity"],
        size_bytes=paths.dir_size(final),
    )


def read_card(model: Model) -> dict[str, Any]:
    try:
        data = json.loads((Path(model.path) / CARD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def model_rows(library: Library, artist: Artist | None = None) -> list[dict[str, Any]]:
    """Models with their artist name and current size on disk (for `lyrictui models`)."""
    names = {a.id: a.name for a in library.list_artists()}
    rows = []
    for m in library.list_models(artist.id if artist else None):
        folder = Path(m.path)
        rows.append({"id": m.id, "artist": names.get(m.artist_id, "?"), "base": m.base,
                     "method": m.method, "val_loss": m.val_loss, "perplexity": m.perplexity,
                     "size_bytes": paths.dir_size(folder), "present": folder.is_dir(),
                     "run_id": m.run_id, "path": m.path, "created_at": m.created_at})
    return rows


def remove(library: Library, model_id: str) -> int:
    """Delete a model's folder and row; returns the bytes freed."""
    return library.delete_model(model_id)
