"""Helpers for tests that need the Hugging Face caches as the hub fills them, and the CLI in
its own process (settings such as HF_HUB_CACHE are read from the environment at import)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path


def lyrictui(*args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """The real command in its own process, with `env` added to the environment."""
    return subprocess.run([sys.executable, "-m", "lyrictui", *args], capture_output=True,
                          text=True, input=stdin, env={**os.environ, **env}, timeout=120)


def hub_file_cache(cache: Path, repo_type: str, repo_id: str, files: dict[str, bytes]) -> Path:
    """The hub's file cache as hf_hub_download fills it: blobs named by their hash, a snapshot
    of symlinks per commit, and refs/main naming the commit. Returns the snapshot folder."""
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
