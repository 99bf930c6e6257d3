"""Why core/engine/gpt2fast.py multiplies the way it does: one model's worth of GPT-2 124M projections
(12 layers x c_attn, attn.c_proj, c_fc, mlp.c_proj, random weights) and its LM head, for a
few row counts, in each form the engine can use:

- linear: `F.linear(x, W)` with W [out, in] (what a Hugging Face Linear does);
- conv1d: `x @ W` with W [in, out] (what GPT-2's Conv1D does);
- left:   `(W @ x.T).T` (the float32 fallback);
- packed: the weight packed once into oneDNN's layout (`torch.ops.mkldnn`), the engine's pick.

Prints one JSON line per (dtype, rows) with median ms per form (the whole stack, not one
matrix: small matrices repeated in a loop sit in cache and mislead).

    python benchmarks/projections.py --threads 2
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

SHAPES = ((2304, 768), (768, 768), (3072, 768), (768, 3072))  # [out, in]
VOCAB = 50257


def median_ms(fn, reps: int) -> float:
    fn()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 2)


def _forms(torch: Any, x: dict[int, Any], weights: list[Any], in_out: list[Any], head: Any,
           packed: tuple[list[Any], Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The projection forms and LM-head forms to time for one input `x` (name -> callable)."""
    F = torch.nn.functional
    forms = {
        "linear": lambda: [F.linear(x[w.shape[1]], w, b) for w, b in weights],
        "conv1d": lambda: [torch.addmm(b, x[w.shape[0]], w) for w, b in in_out],
        "left": lambda: [torch.addmm(b[:, None], w, x[w.shape[1]].t()) for w, b in weights],
    }
    heads = {"linear": lambda: F.linear(x[768], head), "left": lambda: head @ x[768].t()}
    if packed is not None:
        blocks, packed_head = packed
        forms["packed"] = lambda: [torch.ops.mkldnn._linear_pointwise(
            x[768 if i % 4 != 3 else 3072], p, b, "none", [], "") for i, (p, b) in enumerate(blocks)]
        heads["packed"] = lambda: torch.ops.mkldnn._linear_pointwise(
            x[768], packed_head, None, "none", [], "")
    return forms, heads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--rows", default="1,5,16,48,256")
    parser.add_argument("--dtypes", default="float32,bfloat16")
    args = parser.parse_args()

    import torch

    from lyrictui.core.engine.gpt2fast import PACK_ROWS, packing_works

    torch.set_num_threads(args.threads)
    for name in args.dtypes.split(","):
        dtype = getattr(torch, name)
        weights = [(torch.randn(*shape, dtype=dtype), torch.randn(shape[0], dtype=dtype))
                   for _ in range(12) for shape in SHAPES]
        in_out = [(w.t().contiguous(), b) for w, b in weights]
        head = torch.randn(VOCAB, 768, dtype=dtype)
        packs = packing_works(dtype)
        with torch.inference_mode():
            if packs:
                packed = [(torch.ops.mkldnn._reorder_linear_weight(w, PACK_ROWS), b) for w, b in weights]
                packed_head = torch.ops.mkldnn._reorder_linear_weight(head, PACK_ROWS)
            for rows in (int(r) for r in args.rows.split(",")):
                x = {k: torch.randn(rows, k, dtype=dtype) for k in (768, 3072)}
                forms, heads = _forms(torch, x, weights, in_out, head,
                                      (packed, packed_head) if packs else None)
                print(json.dumps({"bench": "projections", "dtype": name, "rows": rows,
                                  "threads": args.threads,
                                  "blocks_ms": {k: median_ms(f, args.reps) for k, f in forms.items()},
                                  "head_ms": {k: median_ms(f, args.reps) for k, f in heads.items()}}),
                      flush=True)


if __name__ == "__main__":
    main()
