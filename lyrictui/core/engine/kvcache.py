"""A preallocated key/value cache that plugs into Hugging Face models' `past_key_values`.

Transformers' `DynamicCache` grows by concatenation (a full copy of every layer per token) and
its `StaticCache` attends over its whole capacity behind a mask. This cache allocates its
buffers once, writes each step's keys/values in place, and hands the model views of the filled
part only, so a step costs what the tokens so far cost. All rows of a batch share one length:
the suggestion engine generates its candidates in lockstep, so no padding mask is needed.

`truncate` drops a suffix, which is how a request that only edits the end of the song reuses
everything before the edit. `shared_prefix_attention` lets N rows continue one batch-1 context
without copying it into N rows.
"""

from __future__ import annotations

from typing import Any


def _layer_class() -> type:
    from transformers.cache_utils import DynamicLayer

    class PreallocatedLayer(DynamicLayer):
        """One layer's keys/values in fixed buffers [batch, heads, capacity, head_dim]."""

        def __init__(self, owner: KVCache, index: int) -> None:
            super().__init__()
            self.owner, self.index = owner, index

        def lazy_initialization(self, key_states: Any, value_states: Any) -> None:
            self.dtype, self.device = key_states.dtype, key_states.device
            self.owner._allocate(self.index, key_states, value_states)
            self.is_initialized = True

        def update(self, key_states: Any, value_states: Any, *args: Any, **kwargs: Any):
            if not self.is_initialized:
                self.lazy_initialization(key_states, value_states)
            keys_buf, values_buf = self.owner.buffers[self.index]
            rows, start = key_states.shape[0], self.owner.length
            end = start + key_states.shape[-2]
            if end > keys_buf.shape[2] or rows > keys_buf.shape[0]:
                raise ValueError(f"KV cache overflow: {rows} rows x {end} tokens")
            keys_buf[:rows, :, start:end].copy_(key_states)
            values_buf[:rows, :, start:end].copy_(value_states)
            if self.index == self.owner.n_layers - 1:
                self.owner.length = end  # the last layer closes the step
            self.keys, self.values = keys_buf[:rows, :, :end], values_buf[:rows, :, :end]
            return self.keys, self.values

        def get_seq_length(self) -> int:
            return self.owner.offset + self.owner.length

        def get_mask_sizes(self, query_length: int) -> tuple[int, int]:
            return self.owner.offset + self.owner.length + query_length, 0

    return PreallocatedLayer


class KVCache:
    """Preallocated keys/values for `n_layers` layers, `batch` rows and `capacity` tokens."""

    def __init__(self, n_layers: int, batch: int, capacity: int) -> None:
        self.n_layers, self.batch, self.capacity = n_layers, batch, capacity
        self.length = 0
        # Tokens held elsewhere (a shared prefix) that come before this cache's own tokens.
        self.offset = 0
        self.buffers: list[tuple[Any, Any]] = []
        layer = _layer_class()
        self._layers = [layer(self, i) for i in range(n_layers)]
        self._cache: Any = None

    def _allocate(self, index: int, keys: Any, values: Any) -> None:
        import torch

        while len(self.buffers) <= index:
            self.buffers.append((None, None))
        if self.buffers[index][0] is None:
            # Zeros, not garbage: a fixed-shape step (gpt2fast.decode_static) reads the unused
            # slots behind a mask, and a masked 0 x NaN would still be NaN.
            _b, h, _t, dk = keys.shape
            dv = values.shape[-1]
            self.buffers[index] = (
                torch.zeros(self.batch, h, self.capacity, dk, dtype=keys.dtype, device=keys.device),
                torch.zeros(self.batch, h, self.capacity, dv, dtype=values.dtype, device=values.device),
            )

    def ensure(self, n_layers: int, heads: int, head_dim: int, dtype: Any, device: Any) -> None:
        """Allocate every layer's buffers up front (for callers that write them directly)."""
        import torch

        if len(self.buffers) >= n_layers and self.buffers[n_layers - 1][0] is not None:
            return
        like = torch.empty(1, heads, 1, head_dim, dtype=dtype, device=device)
        for index in range(n_layers):
            self._allocate(index, like, like)

    def as_hf_cache(self) -> Any:
        """The `past_key_values` object to pass to the model (the same one every call)."""
        if self._cache is None:
            from transformers.cache_utils import Cache

            self._cache = Cache(layers=self._layers)
        return self._cache

    def truncate(self, length: int) -> None:
        """Forget every token from `length` on (the buffers stay allocated)."""
        self.length = max(0, min(length, self.length))
        for layer in self._layers:
            if layer.is_initialized:
                keys_buf, values_buf = self.buffers[layer.index]
                layer.keys = keys_buf[:, :, : self.length]
                layer.values = values_buf[:, :, : self.length]


ATTENTION_NAME = "lyrictui_shared_prefix"


def shared_prefix_attention(module: Any, query: Any, key: Any, value: Any, attention_mask: Any,
                            dropout: float = 0.0, scaling: float | None = None,
                            shared_prefix: KVCache | None = None, **kwargs: Any) -> tuple[Any, None]:
    """Attention for N rows that continue one shared context, without copying the context.

    `key`/`value` hold each row's own tokens ([N, H, t, D], from a cache whose `offset` is the
    context length); the context's keys/values are read once from row 0 of `shared_prefix`
    ([1, H, P, D]) for all N rows, which is the point: a decode step reads the context once,
    not N times. Anything else (prefill, plain calls) goes to PyTorch's SDPA unchanged.
    """
    import torch
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    if shared_prefix is None or query.shape[2] != 1 or shared_prefix.length == 0:
        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout,
                                      scaling=scaling, **kwargs)
    prefix_keys, prefix_values = shared_prefix.buffers[module.layer_idx]
    n_prefix = shared_prefix.length
    prefix_keys, prefix_values = prefix_keys[:1, :, :n_prefix], prefix_values[:1, :, :n_prefix]
    if prefix_keys.shape[1] != query.shape[1]:  # grouped-query attention: share the kv heads
        groups = query.shape[1] // prefix_keys.shape[1]
        prefix_keys, prefix_values = (t.repeat_interleave(groups, 1) for t in (prefix_keys, prefix_values))
        key, value = (t.repeat_interleave(groups, 1) for t in (key, value))
    scale = scaling if scaling is not None else query.shape[-1] ** -0.5
    rows_as_queries = query.transpose(0, 2)  # [1, H, N, D]: one matmul against the context
    scores_prefix = torch.matmul(rows_as_queries, prefix_keys.transpose(-1, -2))
    scores_own = torch.matmul(query, key.transpose(-1, -2)).transpose(0, 2)  # [1, H, N, t]
    scores = torch.cat([scores_prefix, scores_own], dim=-1).float() * scale
    probs = torch.softmax(scores, dim=-1).to(query.dtype)
    out = torch.matmul(probs[..., :n_prefix], prefix_values)  # [1, H, N, D]
    own = torch.matmul(probs[..., n_prefix:].transpose(0, 2), value)  # [N, H, 1, D]
    out = out.transpose(0, 2) + own  # [N, H, 1, D]
    return out.transpose(1, 2).contiguous(), None


def install_attention(model: Any) -> None:
    """Register the shared-prefix attention and switch `model` to it (SDPA for everything else)."""
    from transformers import AttentionInterface, AttentionMaskInterface
    from transformers.masking_utils import sdpa_mask

    AttentionInterface.register(ATTENTION_NAME, shared_prefix_attention)
    AttentionMaskInterface.register(ATTENTION_NAME, sdpa_mask)
    model.config._attn_implementation = ATTENTION_NAME
    for sub in model.modules():  # sub-configs (the transformer's) read the same attribute
        config = getattr(sub, "config", None)
        if config is not None and config is not model.config:
            config._attn_implementation = ATTENTION_NAME
