"""Register a causal LM fine-tuned elsewhere (a HuggingArtists model, a `from_pretrained`
folder) as a model of an artist: `lyrictui models add NAME ID_OR_PATH`, and the Library screen.

The source is checked before anything is stored: safetensors weights only (a pickle-only
checkpoint is refused and never opened), a config of a causal LM, and a tokenizer that loads.
Then its files (not pickles, not subfolders) are copied into the artist's models folder under a
temporary name and renamed into place, so removing the source breaks nothing; the card records
where it came from. The copy is an ordinary model folder: `lyrictui suggest` writes with it, and
`lyrictui train NAME --base <its folder>` trains on from it.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from lyrictui.core import paths
from lyrictui.core.engine import bases
from lyrictui.core.engine.folders import PICKLES, check_folder, read_json
from lyrictui.core.errors import InvalidInput, LyricError, NotFound
from lyrictui.core.names import clean_name, one_line, slugify
from lyrictui.core.store.library import Library
from lyrictui.core.store.models import CARD, README
from lyrictui.core.store.records import Artist, Model

# What a model folder needs: weights, configs, tokenizer files. Pickles (.bin, .pt, .ckpt),
# remote code (.py) and other frameworks' weights are never copied.
COPIED_SUFFIXES = (".safetensors", ".json", ".txt", ".model", ".tiktoken", ".jinja")
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
CAUSAL_ARCH_ENDINGS = ("ForCausalLM", "LMHeadModel")


def _is_copied(name: str) -> bool:
    return name.endswith(COPIED_SUFFIXES) and not name.startswith(".") and name not in (CARD,)


def _hub_folder(repo_id: str) -> tuple[Path, str | None]:
    """The hub model's files in the local cache (downloaded first when the hub is reachable),
    and its commit."""
    from huggingface_hub import HfApi, snapshot_download

    patterns = [f"*{suffix}" for suffix in COPIED_SUFFIXES]
    if bases.hub_unreachable():
        try:
            folder = snapshot_download(repo_id, local_files_only=True, allow_patterns=patterns)
        except Exception as exc:
            raise NotFound(f"the model {repo_id!r} is not in the local Hugging Face cache and "
                           f"the hub is offline ({type(exc).__name__}): connect once and run the "
                           "same command, or give a local model folder") from None
        return Path(folder), Path(folder).name
    try:
        info = HfApi().model_info(repo_id)
        names = [s.rfilename for s in info.siblings or []]
        if not any(n.endswith(".safetensors") for n in names):
            pickles = [n for n in names if n.endswith(PICKLE_SUFFIXES)]
            if pickles:
                raise InvalidInput(
                    f"the hub model {repo_id!r} has only a pickle checkpoint ({pickles[0]}), "
                    "which lyrictui never loads (it can run code): convert it to safetensors "
                    "(save_pretrained(..., safe_serialization=True)) and add that folder")
            raise InvalidInput(f"the hub model {repo_id!r} has no safetensors weights")
        folder = snapshot_download(repo_id, revision=info.sha, allow_patterns=patterns)
    except LyricError:
        raise
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        raise LyricError(f"the model {repo_id!r} could not be fetched from the Hugging Face "
                         f"hub ({type(exc).__name__}: {first})") from None
    return Path(folder), info.sha


def locate(source: str) -> tuple[Path, str, str | None]:
    """(folder holding the model, what the card records as its source, hub commit or None)."""
    source = (source or "").strip()
    if not source:
        raise InvalidInput("give a model folder or a Hugging Face hub id "
                           "(e.g. huggingartists/ARTIST)")
    path = Path(source).expanduser()
    if path.exists():
        if not path.is_dir():
            raise InvalidInput(f"{source} is a file: give the model's folder (the one "
                               "save_pretrained wrote, with config.json)")
        return path.resolve(), str(path.resolve()), None
    if source.startswith((".", "/", "~")) or source.count("/") > 1 or "\\" in source:
        raise NotFound(f"no model folder at {source}")
    folder, commit = _hub_folder(source)
    return folder, source, commit


def _check_causal(folder: Path, method: str) -> dict[str, Any]:
    """The model's config (or the adapter's), refused unless it is a causal language model."""
    if method == "lora":
        adapter = read_json(folder / "adapter_config.json", "adapter config")
        task = adapter.get("task_type")
        if task not in (None, "CAUSAL_LM"):
            raise InvalidInput(f"the adapter at {folder} is for {task}, not a causal language "
                               "model: lyrictui writes with causal LMs (GPT-2 and the like)")
        if not adapter.get("base_model_name_or_path"):
            raise InvalidInput(f"the LoRA adapter at {folder} does not name its base model")
        return adapter
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    config = read_json(folder / "config.json", "config")
    kind = config.get("model_type")
    architectures = [a for a in config.get("architectures") or [] if isinstance(a, str)]
    causal = kind in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES and (
        not architectures or any(a.endswith(CAUSAL_ARCH_ENDINGS) for a in architectures))
    if not causal:
        what = architectures[0] if architectures else f"model type {kind!r}"
        raise InvalidInput(f"the model at {folder} is a {what}, not a causal language model: "
                           "lyrictui writes with causal LMs (GPT-2 and the like)")
    return config


def _check_tokenizer(folder: Path, config: dict[str, Any]) -> None:
    """The folder's own tokenizer loads, encodes text, and fits the model's vocabulary."""
    from transformers import AutoTokenizer

    hint = "save the tokenizer into the folder too (tokenizer.save_pretrained)"
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        encoded = tokenizer("la la la")["input_ids"]
    except Exception as exc:  # missing or broken files raise OSError, ValueError, TypeError...
        raise InvalidInput(f"the model at {folder} has no usable tokenizer "
                           f"({type(exc).__name__}): {hint}") from None
    if not encoded or len(tokenizer) < 2:
        # transformers 5 builds an empty tokenizer from config.json alone: no files, no tokens
        raise InvalidInput(f"the model at {folder} has no tokenizer files: {hint}")
    vocab = config.get("vocab_size")
    if isinstance(vocab, int) and len(tokenizer) > vocab:
        raise InvalidInput(f"the tokenizer at {folder} has {len(tokenizer)} tokens but the model "
                           f"only {vocab}: they do not belong together")


def _params(folder: Path) -> int:
    from safetensors import safe_open

    total = 0
    for file in sorted(folder.glob("*.safetensors")):
        with safe_open(str(file), framework="pt") as handle:
            for key in handle.keys():
                shape = handle.get_slice(key).get_shape()
                count = 1
                for dim in shape:
                    count *= dim
                total += count
    return total


def _new_model_id(library: Library, slug: str, source: str) -> str:
    taken = {m.id for m in library.list_models()}
    stem = f"{slug}-{slugify(source.rstrip('/').rsplit('/', 1)[-1])}"[:80]
    model_id, n = stem, 2
    while model_id in taken or (paths.models_dir(slug) / model_id).exists():
        model_id, n = f"{stem}-{n}", n + 1
    return model_id


def _readme(card: dict[str, Any]) -> str:
    return "\n".join([
        f"# {card['name']}", "",
        f"A {'LoRA adapter' if card['method'] == 'lora' else 'causal language model'} added to "
        f"lyrictui for {card['artist']} with `lyrictui models add`.", "",
        f"- from: `{card['source']}`" + (f" (commit `{card['source_revision']}`)"
                                          if card.get("source_revision") else ""),
        f"- base: `{card['base']}`",
        f"- parameters: {card['params']:,}", "",
        "Use it with `lyrictui suggest ARTIST` or the composer; train on from it with "
        "`lyrictui train ARTIST --base <this folder>`. It loads with Hugging Face "
        "`AutoModelForCausalLM.from_pretrained(<this folder>)`.", "",
    ])


def add_external_model(library: Library, name: str, source: str) -> Model:
    """Register the causal LM at `source` (a local folder or a hub id) as a model of the
    artist `name` (created, with source "imported", if new); returns the library row.

    Everything is checked before the artist, the folder or the row exists; a failure leaves
    nothing behind.
    """
    name = clean_name(name)
    folder, origin, commit = locate(source)
    if (folder / "config.json").is_file() and not (folder / "adapter_config.json").exists():
        _check_causal(folder, "full")  # what kind of model it is comes before whether it is whole
    method, _card = check_folder(folder)  # pickle-only, missing or corrupt weights: one line
    config = _check_causal(folder, method)
    if method == "full":
        _check_tokenizer(folder, config)
    base = str(config.get("base_model_name_or_path")) if method == "lora" else origin
    created = library.find_artist(name) is None
    artist = library.get_or_create_artist(name, "imported")
    try:
        return _store(library, artist, folder, model_id=_new_model_id(library, artist.slug, origin),
                      method=method, base=base, origin=origin, commit=commit, config=config)
    except BaseException:
        if created and not library.list_models(artist.id) and library.song_counts(artist.id) == (0, 0):
            library.delete_artist(artist.id)  # made for this model only: leave nothing behind
        raise


def _store(library: Library, artist: Artist, folder: Path, *, model_id: str, method: str,
           base: str, origin: str, commit: str | None, config: dict[str, Any]) -> Model:
    """Copy the checked folder into the artist's models and register it."""
    final = paths.models_dir(artist.slug) / model_id
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{model_id}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.mkdir()
        for item in sorted(folder.iterdir()):
            if item.is_file() and _is_copied(item.name) and item.name not in PICKLES:
                shutil.copyfile(item, tmp / item.name)  # follows the hub cache's symlinks
        files = {p.name: p.stat().st_size for p in sorted(tmp.iterdir()) if p.is_file()}
        card: dict[str, Any] = {
            "name": model_id, "artist": artist.name, "base": base, "method": method,
            "run_id": None, "dataset": None, "val_loss": None, "perplexity": None,
            "params": _params(tmp), "dtype": config.get("dtype") or config.get("torch_dtype"),
            "source": origin, "source_revision": commit, "created_at": time.time(),
            "files": files}
        (tmp / README).write_text(_readme(card), encoding="utf-8")
        card["files"][README] = (tmp / README).stat().st_size
        (tmp / CARD).write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, final)
    except OSError as exc:
        raise LyricError(f"cannot copy the model into the library: {exc.strerror or exc}") \
            from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    try:
        check_folder(final)  # the copy is whole before it is registered
        return library.add_model(model_id, artist.id, run_id=None, base=one_line(base),
                                 method=method, path=str(final), val_loss=None,
                                 perplexity=None, size_bytes=paths.dir_size(final))
    except BaseException:
        shutil.rmtree(final, ignore_errors=True)
        raise
