"""A weighted, reproducible fault mix for the fake Genius (`FakeGenius(..., mix=FaultMix(...))`).

Each request draws its fault from its own seeded generator, keyed by the seed, the request
(path and query) and how many times that request was made before. The faults a scrape meets
therefore depend on the seed only, never on the order in which concurrent requests happen to
arrive, so a run under faults is the same run every time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from fakes.genius_server import Fault

MIX_KINDS = ("429", "503", "stall", "truncate", "reset")


@dataclass
class FaultMix:
    """`weights` maps a kind of MIX_KINDS to its probability per request (their sum <= 1).

    "429" answers with `Retry-After: retry_after`; "stall" holds the answer `stall` seconds
    (set it past the client's read timeout); "truncate" sends half the body under a full
    Content-Length; "reset" drops the connection without answering.
    """

    weights: dict[str, float]
    seed: int = 0
    retry_after: str = "1"
    stall: float = 1.0
    _seen: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        unknown = set(self.weights) - set(MIX_KINDS)
        if unknown or sum(self.weights.values()) > 1.0:
            raise ValueError(f"bad fault weights {self.weights!r}")

    def draw(self, request_key: str) -> Fault | None:
        """The fault for this request (None: answer normally)."""
        attempt = self._seen.get(request_key, 0)
        self._seen[request_key] = attempt + 1
        roll = random.Random(f"{self.seed}|{request_key}|{attempt}").random()
        for kind in MIX_KINDS:
            roll -= self.weights.get(kind, 0.0)
            if roll < 0:
                return self._fault(kind)
        return None

    def _fault(self, kind: str) -> Fault:
        if kind == "429":
            return Fault.http(429, retry_after=self.retry_after)
        if kind == "503":
            return Fault.http(503)
        if kind == "stall":
            return Fault.slow(self.stall)
        return Fault(kind)
