"""Regenerate docs/screenshot.svg: the Library on a fresh home (the demo artist), 100x30.

    python scripts/screenshot.py
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshot.svg"


async def main() -> None:
    from lyrictui.app import make_app

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(100):  # the first start creates the demo artist in a thread
            await pilot.pause(0.1)
            await app.workers.wait_for_complete()
            if app.screen.query_one("#artists").row_count:
                break
        await pilot.pause()
        app.save_screenshot(filename=OUT.name, path=str(OUT.parent))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as home:
        os.environ["LYRICTUI_HOME"] = home
        os.environ.pop("LYRICTUI_NO_DEMO", None)
        asyncio.run(main())
