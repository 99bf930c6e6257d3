"""The few Transformers (and peft-on-Transformers) names that move between releases.

Transformers 5.24 renamed the forward argument and output field `past_key_values` to `cache`
(the old name warns, and goes in 5.40). We support both sides of that: the name a model's
forward takes is read from its signature, once per class.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any


@cache
def _cache_argument(cls: Any) -> str:
    params = inspect.signature(cls.forward).parameters
    return "cache" if "cache" in params else "past_key_values"


def with_cache(model: Any, kv_cache: Any) -> dict[str, Any]:
    """Keyword arguments that hand `kv_cache` to `model`'s forward under the name it takes
    (wrappers that pass keywords through, torch.compile's and peft's, are looked into)."""
    inner = getattr(model, "_orig_mod", model)
    if hasattr(inner, "get_base_model"):
        inner = inner.get_base_model()
    return {_cache_argument(inner.__class__): kv_cache}


def cache_of(output: Any) -> Any:
    """The key/value cache a forward returned, under either name."""
    found = getattr(output, "cache", None)
    return found if found is not None else getattr(output, "past_key_values", None)


@contextmanager
def quiet_peft() -> Iterator[None]:
    """peft asks transformers a deprecated question (`is_gradient_checkpointing`); the answer is
    right, and the FutureWarning would only be noise on the user's terminal."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")
        yield
