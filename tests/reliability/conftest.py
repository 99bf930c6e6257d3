"""Fixtures for the reliability tests (kills, faults, hostile input, several processes at once)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_base(tiny_gpt2) -> Callable[[Path], Path]:
    """`tiny_base(folder)`: the smallest GPT-2 that still trains (one layer, 32 wide, a
    64-token window), saved to `folder`."""
    def build(folder: Path) -> Path:
        return tiny_gpt2(folder, n_layer=1, n_embd=32, n_positions=64)
    return build
