"""A lean forward pass for GPT-2 models, run by the decoding loop (core/engine/decoding.py).

Hugging Face's GPT-2 modules are written for every use: per call they build masks and cache
objects and go through several layers of Python. A suggestion runs 20-odd forwards of a few
rows each, where that overhead and the layout of GPT-2's weights cost as much as the math.
This runs the same weights with the same math in plain tensor ops:

- On CPU, every projection (and the LM head) multiplies through oneDNN with its weight packed
  once into oneDNN's blocked layout, as `torch.compile` does for frozen CPU models: 2x
  (bfloat16) to 4x (float32) faster than `F.linear` for a few rows, and 2.5x for a prefill
  in float32 (docs/benchmarks.md). The packed modules replace the `Conv1D`s and the
  head inside the Hugging Face model, so it keeps working and no weight is held twice. Packing
  is checked against `F.linear` once per dtype; where it is unavailable or disagrees, float32
  multiplies as `(W @ x.T).T` (weight on the left, 1.8-3x faster than `x @ W.T` in MKL for a
  few rows) and anything else as `F.linear`. GPUs run `F.linear`.
- Keys/values go in place into core/engine/kvcache.py's preallocated buffers. Rows that continue one
  context read the context's keys/values once per step for all rows (shared-prefix attention).

`FastGPT2.build(model)` returns None for what it does not cover (other architectures, cross
attention, unknown activations); the decoder then runs the Hugging Face model as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from lyrictui.core.engine.kvcache import KVCache

PACKED, LINEAR, LEFT = "packed", "linear", "left"
PACK_ROWS = 5  # the row count oneDNN packs for (a request's candidates); any count works

_ACTIVATIONS = {"gelu_new": "tanh", "gelu_pytorch_tanh": "tanh", "gelu_fast": "tanh",
                "gelu": "none", "relu": "relu", "silu": "silu", "swish": "silu"}


@dataclass
class _Layer:
    ln1: tuple[Any, Any]
    qkv: Any
    proj: Any
    ln2: tuple[Any, Any]
    fc: Any
    out: Any
    scale: float


@cache
def _packed_linear_class() -> Any:
    import torch

    class PackedLinear(torch.nn.Module):
        """A projection with its weight in oneDNN's packed layout: a drop-in for GPT-2's
        `Conv1D` and the LM head (any leading shape in, `out_features` out)."""

        def __init__(self, weight: Any, bias: Any) -> None:
            super().__init__()
            self.out_features, self.in_features = (int(n) for n in weight.shape)
            self.packed = torch.ops.mkldnn._reorder_linear_weight(weight, PACK_ROWS)
            self.bias = bias

        def forward(self, x: Any) -> Any:
            flat = x.reshape(-1, self.in_features)
            out = torch.ops.mkldnn._linear_pointwise(flat, self.packed, self.bias, "none", [], "")
            return out.reshape(*x.shape[:-1], self.out_features)

    return PackedLinear


@cache
def packing_works(dtype: Any) -> bool:
    """Whether this PyTorch build packs and multiplies `dtype` weights through oneDNN, and
    agrees with F.linear (checked once per dtype on random numbers)."""
    import torch

    if not torch.backends.mkldnn.is_available():
        return False
    try:
        generator = torch.Generator().manual_seed(0)
        weight = torch.randn(48, 40, generator=generator).to(dtype)
        bias = torch.randn(48, generator=generator).to(dtype)
        x = torch.randn(5, 40, generator=generator).to(dtype)
        with torch.inference_mode():
            got = _packed_linear_class()(weight, bias)(x).float()
            want = torch.nn.functional.linear(x, weight, bias).float()
    except (RuntimeError, AttributeError, TypeError, NotImplementedError):
        return False
    tolerance = 1e-4 if dtype == torch.float32 else 5e-2
    return bool(torch.allclose(got, want, rtol=tolerance, atol=tolerance))


def supports(model: Any) -> bool:
    """Whether `model` is a GPT-2 language model this forward reproduces exactly."""
    config: Any = getattr(model, "config", None)
    if type(model).__name__ != "GPT2LMHeadModel" or getattr(config, "model_type", "") != "gpt2":
        return False
    if getattr(config, "add_cross_attention", False):
        return False
    return config.activation_function in _ACTIVATIONS


class _Dense:
    """A projection as a dense [out, in] weight, multiplied in the form `method` names."""

    def __init__(self, weight: Any, bias: Any, method: str) -> None:
        self.weight, self.bias, self.method = weight, bias, method

    def __call__(self, x: Any) -> Any:
        import torch

        if self.method == LEFT:
            # x row-major: MKL multiplies by x.T as a transposed view ~2x faster than by a
            # column-major copy (which is what an output of this same form would be).
            x = x.contiguous()
            if self.bias is None:
                return (self.weight @ x.t()).t()
            return torch.addmm(self.bias[:, None], self.weight, x.t()).t()
        return torch.nn.functional.linear(x, self.weight, self.bias)


class FastGPT2:
    """GPT-2's forward for prefill (one row, many tokens) and decode (many rows, one token)."""

    def __init__(self, model: Any, *, method: str | None = None,
                 graphs: bool | None = None) -> None:
        import torch

        config, body = model.config, model.transformer
        self.n_layers, self.n_heads = int(config.n_layer), int(config.n_head)
        self.width = int(config.n_embd)
        self.head_dim = self.width // self.n_heads
        self.eps = float(config.layer_norm_epsilon)
        self.act = _ACTIVATIONS[config.activation_function]
        self.wte, self.wpe = body.wte.weight, body.wpe.weight
        self.ln_f = (body.ln_f.weight, body.ln_f.bias)
        self.device, self.dtype = self.wte.device, self.wte.dtype
        packed_class = _packed_linear_class()
        if isinstance(model.lm_head, packed_class):
            method = PACKED  # a second decoder over a model that is packed already
        if method is None:
            on_cpu = self.device.type == "cpu"
            if on_cpu and packing_works(self.dtype):
                method = PACKED
            else:
                method = LEFT if on_cpu and self.dtype == torch.float32 else LINEAR
        self.method = method
        self.head = self._projection(model, "lm_head")
        self.layers = []
        for index, block in enumerate(body.h):
            scale = self.head_dim ** -0.5 if config.scale_attn_weights else 1.0
            if config.scale_attn_by_inverse_layer_idx:
                scale /= float(index + 1)
            self.layers.append(_Layer(
                ln1=(block.ln_1.weight, block.ln_1.bias),
                qkv=self._projection(block.attn, "c_attn"),
                proj=self._projection(block.attn, "c_proj"),
                ln2=(block.ln_2.weight, block.ln_2.bias),
                fc=self._projection(block.mlp, "c_fc"),
                out=self._projection(block.mlp, "c_proj"), scale=scale))
        self._positions = torch.arange(int(config.n_positions), device=self.device)
        if graphs is None:
            graphs = self.device.type == "cuda"
        self.graphs = CudaGraphs(self) if graphs else None

    def _projection(self, owner: Any, name: str) -> Any:
        """`owner.name` (a Conv1D, or the LM head's Linear) as a callable x [rows, in] ->
        [rows, out]; packing swaps the module inside the Hugging Face model for the packed one."""
        import torch

        module = getattr(owner, name)
        packed_class = _packed_linear_class()
        if isinstance(module, packed_class):
            return module.forward
        weight = module.weight.detach()
        bias = None if module.bias is None else module.bias.detach()
        if type(module).__name__ == "Conv1D":  # [in, out]: keep it as [out, in]
            if weight.is_contiguous():
                weight = weight.t().contiguous()
                if self.method != PACKED:  # (packing swaps the whole module below)
                    module.weight = torch.nn.Parameter(weight.t(), requires_grad=False)
            else:  # re-pointed already by an earlier decoder
                weight = weight.t()
        if self.method == PACKED:
            packed = packed_class(weight, bias)
            setattr(owner, name, packed)
            return packed.forward
        return _Dense(weight, bias, self.method)

    @classmethod
    def build(cls, model: Any, **kwargs: Any) -> FastGPT2 | None:
        return cls(model, **kwargs) if supports(model) else None

    def allocate(self, cache: KVCache) -> None:
        """Give `cache` buffers for this model (no-op when it has them)."""
        cache.ensure(self.n_layers, self.n_heads, self.head_dim, self.dtype, self.device)

    # -- the pieces ------------------------------------------------------------------------

    def _norm(self, x: Any, weight_bias: tuple[Any, Any]) -> Any:
        import torch

        return torch.nn.functional.layer_norm(x, (self.width,), *weight_bias, self.eps)

    def _activate(self, x: Any) -> Any:
        import torch

        F = torch.nn.functional
        if self.act == "relu":
            return F.relu(x)
        if self.act == "silu":
            return F.silu(x)
        return F.gelu(x, approximate=self.act)

    def _mlp(self, x: Any, layer: _Layer) -> Any:
        return x + layer.out(self._activate(layer.fc(self._norm(x, layer.ln2))))

    # -- prefill ---------------------------------------------------------------------------

    def prefill(self, ids: list[int], cache: KVCache) -> Any:
        """Run `ids` (one row) after what `cache` holds; returns the last token's logits [V]."""
        import torch

        F = torch.nn.functional
        self.allocate(cache)
        past, count = cache.length, len(ids)
        end = past + count
        if end > cache.capacity:
            raise ValueError(f"KV cache overflow: {end} tokens")
        tokens = torch.tensor(ids, device=self.device)
        x = F.embedding(tokens, self.wte) + self.wpe[past:end]  # [T, C]
        mask = None
        if past:  # token i sees the past and tokens 0..i of the chunk
            keys_at = self._positions[:end]
            mask = keys_at[None, :] <= (keys_at[past:end])[:, None]
        for index, layer in enumerate(self.layers):
            qkv = layer.qkv(self._norm(x, layer.ln1))
            q, k, v = qkv.reshape(count, 3, self.n_heads, self.head_dim).permute(1, 2, 0, 3)
            keys_buf, values_buf = cache.buffers[index]
            keys_buf[0, :, past:end].copy_(k)
            values_buf[0, :, past:end].copy_(v)
            attended = F.scaled_dot_product_attention(
                q, keys_buf[0, :, :end], values_buf[0, :, :end], attn_mask=mask,
                is_causal=mask is None, scale=layer.scale)  # [H, T, D]
            x = x + layer.proj(attended.transpose(0, 1).reshape(count, self.width))
            x = self._mlp(x, layer)
        cache.length = end
        last = self._norm(x[-1:], self.ln_f)
        return self.head(last)[0]

    # -- decode ----------------------------------------------------------------------------

    def decode(self, tokens: Any, rows: KVCache, prefix: KVCache) -> Any:
        """One token for each row ([R] ids); rows continue the context held in `prefix`.
        Returns logits [R, V]."""
        import torch

        self.allocate(rows)
        count, shared, own = int(tokens.shape[0]), prefix.length, rows.length
        if own + 1 > rows.capacity or count > rows.batch:
            raise ValueError(f"KV cache overflow: {count} rows x {own + 1} tokens")
        if self.graphs is not None:
            logits = self.graphs.decode(tokens, rows, prefix)
            if logits is not None:
                rows.length = own + 1
                return logits
        x = torch.nn.functional.embedding(tokens, self.wte) + self.wpe[shared + own]  # [R, C]
        slot = torch.tensor([own], device=self.device)
        logits = self._blocks(x, rows, prefix, slot, own + 1, shared, None)
        rows.length = own + 1
        return logits

    def decode_ragged(self, tokens: Any, rows: KVCache, prefix: KVCache, positions: Any,
                      allowed: Any) -> Any:
        """One token for each of the first R rows ([R] ids), written at slot `rows.length`,
        where the rows' own tokens run to different lengths: `positions` [R] are the tokens'
        positions and `allowed` [R, prefix + length + 1] masks what each row may attend to
        (core/engine/planned.py ends rows planned at different steps in one pass). Returns
        logits [R, V]; `rows.length` grows by one."""
        import torch

        self.allocate(rows)
        count, own = int(tokens.shape[0]), rows.length
        if own + 1 > rows.capacity or count > rows.batch:
            raise ValueError(f"KV cache overflow: {count} rows x {own + 1} tokens")
        F = torch.nn.functional
        x = F.embedding(tokens, self.wte) + F.embedding(positions, self.wpe)
        slot = torch.tensor([own], device=self.device)
        logits = self._blocks(x, rows, prefix, slot, own + 1, prefix.length, allowed)
        rows.length = own + 1
        return logits

    def decode_static(self, tokens: Any, rows: KVCache, prefix: KVCache, own: Any,
                      shared: Any) -> Any:
        """`decode` with every shape fixed (what a CUDA graph can replay): `own` and `shared`
        are 0-d long tensors (the rows' length and the context's), attention runs over both
        caches' whole capacity with unused slots masked, and `rows.length` is left alone."""
        import torch

        F = torch.nn.functional
        x = F.embedding(tokens, self.wte) + F.embedding((shared + own).view(1), self.wpe)
        allowed = torch.cat([self._positions[: prefix.capacity] < shared,
                             self._positions[: rows.capacity] <= own])
        return self._blocks(x, rows, prefix, own.view(1), rows.capacity, prefix.capacity, allowed)

    def _blocks(self, x: Any, rows: KVCache, prefix: KVCache, slot: Any, own_len: int,
                prefix_len: int, allowed: Any) -> Any:
        count = x.shape[0]
        for index, layer in enumerate(self.layers):
            qkv = layer.qkv(self._norm(x, layer.ln1))
            q, k, v = qkv.reshape(count, 3, self.n_heads, self.head_dim).unbind(1)  # [R, H, D]
            keys_buf, values_buf = rows.buffers[index]
            keys_buf[:count].index_copy_(2, slot, k[:, :, None])
            values_buf[:count].index_copy_(2, slot, v[:, :, None])
            prefix_keys, prefix_values = prefix.buffers[index]
            attended = self._attend(q, keys_buf[:count, :, :own_len], values_buf[:count, :, :own_len],
                                    prefix_keys[0, :, :prefix_len], prefix_values[0, :, :prefix_len],
                                    layer.scale, allowed)
            x = x + layer.proj(attended)
            x = self._mlp(x, layer)
        return self.head(self._norm(x, self.ln_f))

    def _attend(self, q: Any, own_keys: Any, own_values: Any, prefix_keys: Any,
                prefix_values: Any, scale: float, allowed: Any) -> Any:
        """R one-token queries q [R, H, D] over the shared context ([H, P, D], read once for
        all rows) and each row's own tokens ([R, H, t, D]); `allowed` [P + t] masks unused
        slots. Returns [R, H * D]."""
        import torch

        n_prefix = prefix_keys.shape[1]
        # [R, H, 1, D] x [R, H, D, t] -> [H, R, t]; [H, R, D] x [H, D, P] -> [H, R, P]
        scores_own = torch.matmul(q[:, :, None], own_keys.transpose(-1, -2))[:, :, 0].transpose(0, 1)
        scores_prefix = torch.matmul(q.transpose(0, 1), prefix_keys.transpose(-1, -2))
        scores = torch.cat([scores_prefix, scores_own], dim=-1).float() * scale
        if allowed is not None:
            scores = scores.masked_fill(~allowed, float("-inf"))
        probs = torch.softmax(scores, dim=-1).to(q.dtype)
        # [R, H, 1, t] x [R, H, t, D] -> [R, H, D], plus [H, R, P] x [H, P, D] -> [R, H, D]
        out = torch.matmul(probs[:, :, n_prefix:].transpose(0, 1)[:, :, None], own_values)[:, :, 0]
        out = out + torch.matmul(probs[:, :, :n_prefix], prefix_values).transpose(0, 1)
        return out.reshape(q.shape[0], self.width)


@dataclass
class _Replay:
    """One captured decode step: its graph and the tensors it reads and writes in place."""

    prefix: KVCache
    tokens: Any
    own: Any
    shared: Any
    graph: Any = None
    logits: Any = None


class CudaGraphs:
    """Decode steps replayed from CUDA graphs (one per rows cache and row count).

    A step launches a few hundred small kernels; on a GPU launching them costs more than
    running them, and a graph launches them all at once. The graph replays `decode_static`
    (fixed shapes, lengths as tensors). A graph's first replay is checked against the eager
    step on the same input and timed against it: one that disagrees, fails to capture, or is
    not faster is dropped, and steps of that size run eagerly.
    """

    def __init__(self, lean: FastGPT2) -> None:
        import weakref

        self.lean = lean
        self.replays: weakref.WeakKeyDictionary[KVCache, dict[int, _Replay | None]] = (
            weakref.WeakKeyDictionary())

    def decode(self, tokens: Any, rows: KVCache, prefix: KVCache) -> Any | None:
        """Logits [R, V] from a replay, or None where this size runs eagerly."""
        per_rows = self.replays.setdefault(rows, {})
        count = int(tokens.shape[0])
        if count in per_rows and per_rows[count] is None:
            return None
        replay = per_rows.get(count)
        if replay is not None and replay.prefix is not prefix:
            replay = None
        if replay is None:
            replay = self._capture_and_check(tokens, rows, prefix)
            per_rows[count] = replay
            if replay is None:
                return None
        replay.tokens.copy_(tokens)
        replay.own.fill_(rows.length)
        replay.shared.fill_(prefix.length)
        replay.graph.replay()
        return replay.logits.clone()

    def _capture_and_check(self, tokens: Any, rows: KVCache, prefix: KVCache) -> _Replay | None:
        import time

        import torch

        lean = self.lean
        replay = _Replay(prefix, tokens.clone(),
                         torch.tensor(rows.length, device=lean.device),
                         torch.tensor(prefix.length, device=lean.device))

        def step() -> Any:
            return lean.decode_static(replay.tokens, rows, prefix, replay.own, replay.shared)

        try:
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                for _ in range(3):  # warm-up, as capture requires (rewrites the same slot)
                    step()
            torch.cuda.current_stream().wait_stream(side)
            replay.graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(replay.graph):
                replay.logits = step()
            torch.cuda.synchronize()
            start = time.perf_counter()
            eager = step()
            torch.cuda.synchronize()
            eager_s = time.perf_counter() - start
            start = time.perf_counter()
            replay.graph.replay()
            torch.cuda.synchronize()
            graph_s = time.perf_counter() - start
        except Exception:  # noqa: BLE001 - an optimization: any failure means run eagerly
            return None
        close = torch.allclose(replay.logits.float(), eager.float(), rtol=1e-2, atol=1e-2)
        return replay if close and graph_s < eager_s else None
