"""Whether a process is alive: runs, packs and scrapes leave their pid behind, and a pid that is
gone means the work it named was interrupted."""

from __future__ import annotations

import os


def pid_alive(pid: int | None) -> bool:
    """True while a process with this pid exists (one we may not signal counts as alive)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
