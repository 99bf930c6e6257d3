"""Fixtures for the integration tests: the Hugging Face caches as the hub fills them (settings
such as HF_HUB_CACHE are read from the environment at import, so the tests hand the cache to
the CLI in its own process, through the root conftest's `lyrictui`)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest


def _hub_file_cache(cache: Path, repo_type: str, repo_id: str, files: dict[str, bytes]) -> Path:
    repo = cache / f"{repo_type}s--{repo_id.replace('/', '--')}"
    commit = hashlib.sha1(repo_id.encode()).hexdigest()
    snapshot = repo / "snapshots" / commit
    for name, data in files.items():
        blob = repo / "blobs" / hashlib.sha256(data).hexdigest()
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_bytes(data)
        link = snapshot / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    return snapshot


@pytest.fixture(scope="session")
def hub_file_cache() -> Callable[[Path, str, str, dict[str, bytes]], Path]:
    """`hub_file_cache(cache, repo_type, repo_id, files)`: the hub's file cache as
    hf_hub_download fills it: blobs named by their hash, a snapshot of symlinks per commit,
    and refs/main naming the commit. Returns the snapshot folder."""
    return _hub_file_cache
