"""A disk that fills up at a chosen moment, for the disk-full tests.

The tests reach it through the `full_disk` and `install_full_disk` fixtures of
tests/reliability/conftest.py; it lives here because a `lyrictui` subprocess loads it too.

`install(FullDisk(root, at, after))` patches the writes lyrictui's files go through, for paths
under `root` only: Python's `open` (text and binary, so also pathlib, json, fsspec and pyarrow
writing through it, as `datasets.save_to_disk` does), `os.sendfile` (how shutil copies a folder
on Linux) and safetensors' `save_file` (whose own writer is native code: the bytes are made by
`safetensors.torch.save` and written through the patched `open`). Nothing is refused until a
file whose path contains `at` is opened for writing; from then on `after` more bytes fit, the
write that overflows writes what fits and raises OSError(ENOSPC), and so does every later
one, as on a full disk. Reads, renames and deletions work as usual; SQLite is not patched.

In a `lyrictui` subprocess the same happens when LYRICTUI_TEST_DISK_FULL holds
`{"root": ..., "at": ..., "after": ...}` and this folder is on PYTHONPATH: its
sitecustomize.py calls `install_from_env()` before lyrictui starts.
"""

from __future__ import annotations

import builtins
import errno
import io
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

ENV = "LYRICTUI_TEST_DISK_FULL"
SITE = Path(__file__).parent  # put on PYTHONPATH: Python then loads its sitecustomize.py
WRITE_MODES = set("wax+")


class FullDisk:
    """How much still fits, and when the disk became full."""

    def __init__(self, root: Path | str, at: str = "", after: int = 0) -> None:
        self.root = str(Path(root).absolute())
        self.at, self.left = at, after
        self.armed = not at
        self.refused = 0  # writes refused

    def watches(self, path: Any) -> bool:
        try:
            return os.path.abspath(os.fsdecode(path)).startswith(self.root)
        except TypeError:
            return False

    def opened(self, path: Any) -> None:
        if not self.armed and self.at in os.path.abspath(os.fsdecode(path)):
            self.armed = True

    def take(self, size: int) -> int:
        """How many of `size` bytes fit now."""
        if not self.armed:
            return size
        fits = min(size, self.left)
        self.left -= fits
        if fits < size:
            self.refused += 1
        return fits

    def env(self) -> dict[str, str]:
        """The environment that makes a `lyrictui` subprocess see this disk."""
        env = os.environ.copy()
        env[ENV] = json.dumps({"root": self.root, "at": self.at, "after": self.left})
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(SITE), env.get("PYTHONPATH", "")) if p)
        return env


def _full(path: Any) -> OSError:
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.fsdecode(path))


class _Metered:
    """A file opened for writing on the full disk: writes take space, the rest is the file's."""

    def __init__(self, fh: Any, disk: FullDisk, path: Any) -> None:
        self._fh, self._disk, self._path = fh, disk, path

    def write(self, data: Any) -> int:
        text = isinstance(data, str)
        size = len(data.encode("utf-8")) if text else memoryview(data).nbytes
        fits = self._disk.take(size)
        if fits < size:
            if fits:
                part = data[:fits] if text else memoryview(data).cast("B")[:fits]
                self._fh.write(part)
                self._fh.flush()
            raise _full(self._path)
        return self._fh.write(data)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fh, name)

    def __iter__(self) -> Any:
        return iter(self._fh)

    def __enter__(self) -> _Metered:
        return self

    def __exit__(self, *exc: Any) -> None:
        self._fh.close()


def install(disk: FullDisk) -> Callable[[], None]:
    """Patch the writes (see the module doc); returns the function that undoes it."""
    import safetensors.torch

    real_open, real_sendfile = builtins.open, os.sendfile
    real_save_file = safetensors.torch.save_file

    def metered_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = real_open(file, mode, *args, **kwargs)
        if isinstance(file, (str, bytes, os.PathLike)) and WRITE_MODES & set(mode) \
                and disk.watches(file):
            disk.opened(file)
            return _Metered(handle, disk, file)
        return handle

    def metered_sendfile(out_fd: int, in_fd: int, offset: Any, count: int) -> int:
        target = os.readlink(f"/proc/self/fd/{out_fd}")
        if not disk.watches(target):
            return real_sendfile(out_fd, in_fd, offset, count)
        disk.opened(target)
        fits = disk.take(count)
        if fits == 0:
            raise _full(target)
        return real_sendfile(out_fd, in_fd, offset, fits)

    def save_file(tensors: dict[str, Any], filename: Any, metadata: Any = None) -> None:
        data = safetensors.torch.save(tensors, metadata=metadata)
        with metered_open(filename, "wb") as fh:
            fh.write(data)

    builtins.open = io.open = metered_open  # type: ignore[assignment]
    os.sendfile = metered_sendfile
    safetensors.torch.save_file = save_file

    def uninstall() -> None:
        builtins.open = io.open = real_open  # type: ignore[assignment]
        os.sendfile = real_sendfile
        safetensors.torch.save_file = real_save_file

    return uninstall


def install_from_env() -> FullDisk | None:
    spec = os.environ.get(ENV)
    if not spec:
        return None
    data = json.loads(spec)
    disk = FullDisk(data["root"], data.get("at", ""), int(data.get("after", 0)))
    install(disk)
    return disk
