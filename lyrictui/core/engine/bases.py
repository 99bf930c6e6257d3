"""Base models: the bundled `starter`, a local folder, or a Hugging Face hub id.

Each base brings its own tokenizer (gpt2 and its family share GPT-2's; a model folder, or a
starter trained with its own vocabulary, may not): packing, training and suggestions use the
base's, and a packed dataset is keyed by it (core/pack/packing.py).
Heavy libraries are imported inside the functions that use them.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lyrictui.core import paths
from lyrictui.core.engine.folders import check_folder
from lyrictui.core.errors import InvalidInput, LyricError

STARTER = "starter"
DEFAULT_BASE = "gpt2"
STARTER_WINDOW = 1024  # GPT-2's n_positions, until the starter ships its config.json
HUB_PROBE_TIMEOUT_S = 3.0
HUB_PROBE_TTL_S = 60.0
_PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")
_probed: dict[str, tuple[float, bool]] = {}


def resolve(base: str) -> str:
    """What `from_pretrained` should load for `base`: a folder path, or a hub id."""
    base = (base or "").strip()
    if not base:
        raise InvalidInput("the base is empty: use gpt2, starter, or a model folder")
    if base == STARTER:
        return str(paths.starter_dir())
    candidate = Path(base).expanduser()
    if candidate.exists():
        if not candidate.is_dir() or not (candidate / "config.json").exists():
            raise InvalidInput(f"{base} is not a model folder (no config.json in it)")
        return str(candidate.absolute())
    if base.startswith((".", "/", "~")) or base.count("/") > 1:
        raise InvalidInput(f"no model folder at {base}")
    return base


def offline_hint(base: str, exc: BaseException) -> LyricError:
    """One clear line for a base that cannot be loaded (offline, unknown id, broken files)."""
    return LyricError(
        f"the base model {base!r} is not available ({type(exc).__name__}): it is neither "
        "cached nor reachable on the Hugging Face hub; connect once to download it, "
        "or use --base starter (bundled, works offline)"
    )


def load_tokenizer(base: str) -> Any:
    """The tokenizer of `base` (the one saved with its weights), with a pad token set."""
    from transformers import AutoTokenizer

    target = resolve(base)
    try:
        if _bare_starter(base, "tokenizer.json", "tokenizer_config.json"):
            tokenizer = _starter_tokenizer()
        else:
            tokenizer = AutoTokenizer.from_pretrained(target, local_files_only=local_only(target))
    except (OSError, ValueError) as exc:
        raise offline_hint(base, exc) from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def model_window(base: str) -> int:
    """The longest context `base` accepts (n_positions for GPT-2)."""
    if _bare_starter(base, "config.json"):
        return STARTER_WINDOW
    from transformers import AutoConfig

    try:
        target = resolve(base)
        config = AutoConfig.from_pretrained(target, local_files_only=local_only(target))
    except (OSError, ValueError) as exc:
        raise offline_hint(base, exc) from None
    for attr in ("n_positions", "max_position_embeddings", "n_ctx"):
        value = getattr(config, attr, None)
        if isinstance(value, int) and value > 0:
            return value
    return 1024


def _bare_starter(base: str, *needed: str) -> bool:
    """True for `starter` while its folder lacks every one of `needed` (only the BPE files
    ship until the starter model is trained)."""
    folder = paths.starter_dir()
    return (base or "").strip() == STARTER and not any((folder / n).exists() for n in needed)


def _starter_tokenizer() -> Any:
    """GPT-2's tokenizer built from the starter's own vocab.json and merges.txt."""
    # transformers 5 keeps GPT2TokenizerFast as an alias of GPT2Tokenizer; positional paths
    # suit both its (vocab, merges) and 4.x's (vocab_file, merges_file).
    from transformers import GPT2TokenizerFast  # type: ignore[attr-defined]

    folder = paths.starter_dir()
    tokenizer = GPT2TokenizerFast(str(folder / "vocab.json"), str(folder / "merges.txt"))
    tokenizer.model_max_length = STARTER_WINDOW
    return tokenizer


# Hub bases offered in the app's train dialog, with their download size in MB.
HUB_BASES = {"gpt2": 550, "distilgpt2": 360, "gpt2-medium": 1500}


def availability(base: str) -> str:
    """`bundled`, `cached`, `download` (a hub id not in the local cache) or `folder`."""
    if base == STARTER:
        return "bundled" if (paths.starter_dir() / "model.safetensors").exists() else "missing"
    if Path(base).expanduser().exists():
        return "folder"
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(base, "config.json")
    return "cached" if isinstance(found, str) else "download"


def default_base() -> str:
    """The base used when the user names none (to pack, to train): gpt2 where it can be loaded
    (already downloaded, or the hub reachable), else the bundled starter, so an offline machine
    still packs and trains instead of failing."""
    if availability(DEFAULT_BASE) == "cached" or not hub_unreachable():
        return DEFAULT_BASE
    return STARTER


def check_base(base: str, block_size: int | None = None) -> int:
    """Fail before any run exists: `base` must be loadable (a folder with safetensors weights,
    the starter, or a hub id that is cached or reachable) and `block_size` must fit its window.
    Returns the window."""
    target = resolve(base)
    if Path(target).is_dir():
        check_folder(Path(target))  # a pickle-only or damaged folder: one line, nothing opened
    window = model_window(base)
    if block_size is not None and block_size > window:
        raise InvalidInput(f"--block-size {block_size} is above the window of {base!r} "
                           f"({window} tokens): use at most {window}")
    return window


def local_only(target: str) -> bool:
    """Whether `from_pretrained(target)` must stay in the local cache: a hub id while the hub
    is unreachable. Without this, huggingface_hub retries for most of a minute (printing each
    retry) before failing, and even a cached model waits for those retries."""
    return not Path(target).exists() and hub_unreachable()


def model_hub_kwargs(target: str) -> dict[str, Any]:
    """Extra `AutoModel*.from_pretrained` arguments: the cache only while the hub is
    unreachable, for the adapter lookup too (transformers 5 does not pass it on there)."""
    if not local_only(target):
        return {}
    return {"local_files_only": True, "adapter_kwargs": {"local_files_only": True}}


def hub_unreachable() -> bool:
    """True when HF_HUB_OFFLINE is set or the hub's host refuses a connection within a few
    seconds (probed at most once a minute). With a proxy configured we cannot tell: False."""
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return True
    if any(os.environ.get(var) for var in _PROXY_VARS):
        return False
    parts = urlsplit(constants.ENDPOINT)
    host = parts.hostname or "huggingface.co"
    port = parts.port or (80 if parts.scheme == "http" else 443)
    key = f"{host}:{port}"
    now = time.monotonic()
    if key not in _probed or now - _probed[key][0] > HUB_PROBE_TTL_S:
        _probed[key] = (now, not _connects(host, port, HUB_PROBE_TIMEOUT_S))
    return _probed[key][1]


def _connects(host: str, port: int, timeout: float) -> bool:
    # In a thread, because a DNS lookup ignores socket timeouts and can hang far longer.
    result: list[bool] = []

    def attempt() -> None:
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=attempt, name="hub-probe", daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(result and result[0])
