"""Pilot plumbing for the app tests (harlequin's functional_tests/conftest.py is the model):
wait on what the app shows or on its workers, never for a fixed time."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from textual.app import App

# Generous: a loaded 2-core CI machine runs two test processes, each a model load or a
# training process beside it. A condition that never comes still fails, with what was awaited.
DEADLINE_S = 60.0


async def _wait_until(pilot, condition: Callable[[], object], what: str,
                      timeout: float = DEADLINE_S) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, f"no {what} within {timeout:.0f} s"
        await pilot.pause(0.05)


@pytest.fixture(scope="session")
def wait_until() -> Callable[..., Awaitable[None]]:
    """`await wait_until(pilot, condition, what, timeout=60)`: pause the pilot until
    `condition()` holds; fail naming `what` at the deadline."""
    return _wait_until


async def _wait_for_workers(app: App, pilot) -> None:
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


@pytest.fixture(scope="session")
def wait_for_workers() -> Callable[[App, object], Awaitable[None]]:
    """`await wait_for_workers(app, pilot)`: let posted messages land, wait for every worker
    of the app to finish, then let their messages land."""
    return _wait_for_workers
