"""A rough training speed for this device, so a run can say how long it will take before it
starts.

Two sources, best first:

1. measured: the median `tokens_per_s` of the step events of this device's latest runs on the
   same base (what this machine really did, under whatever load it had then);
2. probed: a short float32 1024 x 1024 matmul on the device gives its FLOP/s; a training step
   costs about 6 x parameters FLOPs per token, at PROBE_EFFICIENCY of the probed rate (set from
   the starter on a 2-core CPU: a median 2,271 tokens/s against a 185 GFLOP/s probe, 7.9M
   parameters, embeddings frozen; benchmarks/finetune.py).

Either way it is an estimate: another job on the machine can halve it.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from lyrictui.core.engine import bases
from lyrictui.core.errors import LyricError
from lyrictui.core.store.library import Library

PROBE_SECONDS = 0.25
PROBE_EFFICIENCY = 0.6
RUNS_CONSULTED = 5
EVAL_SHARE = 0.15  # evaluations, samples and checkpoints on top of the steps


@dataclass(frozen=True)
class Speed:
    tokens_per_s: float
    source: str
    """How it was found, in words ("measured by run X", "probed: N GFLOP/s")."""


def parameter_count(base: str) -> int:
    """Parameters of `base` from its safetensors headers (no weights are read)."""
    from safetensors import safe_open

    folder = Path(bases.resolve(base))
    total = 0
    for path in sorted(folder.glob("*.safetensors")):
        with safe_open(str(path), framework="pt") as fh:
            for name in fh.keys():  # noqa: SIM118 - safe_open is not a mapping
                shape = fh.get_slice(name).get_shape()
                count = 1
                for dim in shape:
                    count *= int(dim)
                total += count
    return total


def measured(library: Library, base: str, device: str) -> Speed | None:
    """The median tokens/s of the newest run of `base` that trained on `device`'s kind (cpu,
    cuda, mps), from its step events."""
    from lyrictui.core.train import runs
    from lyrictui.core.train.setup import pick_device

    kind = pick_device(device).type
    for run in [r for r in library.list_runs() if r.base == base][:RUNS_CONSULTED]:
        if run.step < 2:
            continue
        try:
            events = runs.read_events(runs.run_dir(run), 0)[0]
        except (OSError, ValueError, LyricError):
            continue
        starts = [e for e in events if e.get("type") == "start"]
        if not starts or str(starts[-1].get("device", "")).split(":")[0] != kind:
            continue
        speeds = [float(e["tokens_per_s"]) for e in events
                  if e.get("type") == "step" and e.get("step", 0) > 1 and e.get("tokens_per_s")]
        if speeds:
            return Speed(statistics.median(speeds), f"measured by run {run.id}")
    return None


def probe_flops(device: str) -> float:
    """FLOP/s of a float32 matmul on `device`, timed for about PROBE_SECONDS."""
    import torch

    from lyrictui.core.train.setup import pick_device

    dev = pick_device(device)
    n = 1024  # smaller matmuls measure the call overhead more than the arithmetic
    a = torch.randn(n, n, device=dev)
    b = torch.randn(n, n, device=dev)
    for _ in range(2):  # warm up
        a @ b
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < PROBE_SECONDS:
        a @ b
        done += 1
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
    return 2 * n**3 * done / max(time.perf_counter() - start, 1e-9)


def estimate(library: Library, base: str, device: str) -> Speed:
    """Training tokens/s of `base` on `device`: measured if this device has run it, else
    probed."""
    found = measured(library, base, device)
    if found is not None:
        return found
    flops = probe_flops(device)
    params = max(parameter_count(base), 1)
    return Speed(flops * PROBE_EFFICIENCY / (6 * params),
                 f"estimated from a {flops / 1e9:.0f} GFLOP/s probe of this device")


def seconds_for(tokens: int, speed: Speed) -> float:
    """Wall seconds for a run that sees `tokens` tokens, evaluations included."""
    return tokens / max(speed.tokens_per_s, 1e-9) * (1 + EVAL_SHARE)
