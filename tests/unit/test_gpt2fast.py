"""core/engine/gpt2fast.py against Hugging Face's own GPT-2 forward, on tiny real models.

The reference is always a separately loaded Hugging Face model (never the one whose weights
the lean forward re-pointed), run on the whole sequence without any cache.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lyrictui.core.engine.decoding import Decoder
from lyrictui.core.engine.gpt2fast import LEFT, LINEAR, PACKED, FastGPT2, packing_works, supports
from lyrictui.core.engine.kvcache import KVCache
from lyrictui.core.engine.modelload import load
from lyrictui.core.engine.suggest import Suggester

SONG = "[Chorus]\nWe ride the night until the morning light\nAnd every road is calling out my name\n"


@pytest.fixture(scope="module")
def tokenizer(gpt2_tokenizer):
    return gpt2_tokenizer


def save_gpt2(folder: Path, tokenizer, **overrides) -> Path:
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(3)
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=128, n_embd=48, n_layer=3,
                        n_head=4, **overrides)
    model = GPT2LMHeadModel(config)
    with torch.no_grad():  # biases and norms away from their 0/1 init, so a mix-up shows
        for name, param in model.named_parameters():
            if name.endswith("bias") or ".ln_" in name:
                param.add_(torch.randn_like(param) * 0.2)
            if name.endswith("attn.c_attn.weight"):  # scores of order 1: attention matters
                param.mul_(12.0)
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


def reference(folder: Path, ids: list[int]):
    import torch
    from transformers import GPT2LMHeadModel

    model = GPT2LMHeadModel.from_pretrained(folder).eval()
    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0]


CONFIGS = {
    "default": {},
    "inverse-layer-scaling, relu": {"scale_attn_by_inverse_layer_idx": True,
                                    "activation_function": "relu"},
    "exact gelu, unscaled": {"activation_function": "gelu", "scale_attn_weights": False},
}


@pytest.mark.parametrize("method", [PACKED, LINEAR, LEFT])
@pytest.mark.parametrize("overrides", CONFIGS.values(), ids=CONFIGS.keys())
def test_prefill_and_decode_match_hugging_face(tmp_path, tokenizer, method, overrides):
    import torch

    folder = save_gpt2(tmp_path / "m", tokenizer, **overrides)
    loaded = load(str(folder), dtype="float32", device="cpu")
    lean = FastGPT2(loaded.model, method=method)
    ids = [tokenizer.eos_token_id] + tokenizer.encode(SONG)
    prefix = KVCache(lean.n_layers, 1, 128)
    with torch.inference_mode():
        first = lean.prefill(ids[:9], prefix)  # a first chunk, then one after a past
        last = lean.prefill(ids[9:], prefix)
    want = reference(folder, ids)
    assert torch.allclose(first, want[8], atol=1e-4)
    assert torch.allclose(last, want[-1], atol=1e-4)

    rows = KVCache(lean.n_layers, 4, 8)
    steps = torch.tensor([[11, 12, 13], [464, 1110, 287], [198, 40, 13]])
    for t, step in enumerate(steps):
        with torch.inference_mode():
            got = lean.decode(step, rows, prefix)
        for row in range(3):
            expect = reference(folder, ids + steps[: t + 1, row].tolist())[-1]
            assert torch.allclose(got[row], expect, atol=1e-4), (t, row)


def test_the_hugging_face_model_still_computes_the_same_after_re_pointing(tmp_path, tokenizer):
    import torch

    folder = save_gpt2(tmp_path / "m", tokenizer)
    loaded = load(str(folder), dtype="float32", device="cpu")
    ids = [tokenizer.eos_token_id] + tokenizer.encode(SONG)
    FastGPT2(loaded.model)
    FastGPT2(loaded.model)  # a second decoder over the same model re-uses the layout
    with torch.no_grad():
        again = loaded.model(torch.tensor([ids])).logits[0]
    assert torch.allclose(again, reference(folder, ids), atol=1e-4)


def test_the_cpu_packs_weights_where_onednn_agrees_and_else_picks_the_faster_dense_form(
        tmp_path, tokenizer):
    import torch

    if torch.backends.mkldnn.is_available():  # PyTorch's x86 and Arm CPU builds
        assert packing_works(torch.float32)  # bf16 needs CPU support, float32 does not
    folder = save_gpt2(tmp_path / "m", tokenizer)
    for dtype, dense in ((torch.float32, LEFT), (torch.bfloat16, LINEAR)):
        lean = FastGPT2(load(str(folder), dtype=str(dtype).replace("torch.", ""), device="cpu").model)
        assert lean.method == (PACKED if packing_works(dtype) else dense)


def test_lean_and_hugging_face_paths_give_the_same_suggestions(tmp_path, tokenizer):
    folder = save_gpt2(tmp_path / "m", tokenizer)
    lean = Suggester.load(str(folder), dtype="float32")
    assert lean.decoder.lean is not None
    plain = Suggester(load(str(folder), dtype="float32"))
    plain.decoder = Decoder(plain.loaded, lean=False)
    assert plain.decoder.lean is None
    for seed in range(3):
        got = [c.text for c in lean.suggest(SONG, 5, seed=seed)]
        assert got == [c.text for c in plain.suggest(SONG, 5, seed=seed)]
        assert len(got) == 5


def test_other_architectures_run_through_hugging_face(tmp_path, tokenizer):
    """A tiny Llama (grouped-query attention) is not GPT-2: the decoder falls back."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=128, eos_token_id=tokenizer.eos_token_id,
                         bos_token_id=tokenizer.eos_token_id)
    folder = tmp_path / "llama"
    LlamaForCausalLM(config).save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    engine = Suggester.load(str(folder), dtype="float32")
    assert not supports(engine.loaded.model) and engine.decoder.lean is None
    ids = [tokenizer.eos_token_id] + tokenizer.encode(SONG)
    engine.decoder.prepare(ids, lambda: False)
    cache = engine.decoder._rows_cache(2, 4)
    got = engine.decoder._step(cache, torch.tensor([11, 464]))
    fresh = LlamaForCausalLM.from_pretrained(folder).eval()
    with torch.no_grad():
        for row, token in enumerate((11, 464)):
            want = fresh(torch.tensor([ids + [token]])).logits[0, -1]
            assert torch.allclose(got[row], want, atol=1e-4)
    lines = engine.suggest(SONG, 3, seed=1)
    assert len(lines) == 3 and all("\n" not in c.text for c in lines)


def test_the_fixed_shape_step_for_cuda_graphs_matches_the_plain_step(tmp_path, tokenizer):
    """decode_static (what a CUDA graph replays) runs here on CPU: whole-capacity attention
    behind a mask, lengths as tensors, must give what the plain step gives."""
    import torch

    folder = save_gpt2(tmp_path / "m", tokenizer)
    lean = FastGPT2(load(str(folder), dtype="float32", device="cpu").model)
    assert lean.graphs is None  # graphs are for CUDA only
    ids = [tokenizer.eos_token_id] + tokenizer.encode(SONG)
    prefix = KVCache(lean.n_layers, 1, 128)
    plain_rows, static_rows = KVCache(lean.n_layers, 4, 8), KVCache(lean.n_layers, 4, 8)
    steps = torch.tensor([[11, 12, 13], [464, 1110, 287], [198, 40, 13]])
    with torch.inference_mode():
        lean.prefill(ids, prefix)
        lean.allocate(static_rows)
        for t, step in enumerate(steps):
            want = lean.decode(step, plain_rows, prefix)
            got = lean.decode_static(step, static_rows, prefix, torch.tensor(t),
                                     torch.tensor(prefix.length))
            static_rows.length += 1
            assert torch.allclose(got, want, atol=1e-4), t
            expect = reference(folder, ids + steps[: t + 1, 0].tolist())[-1]
            assert torch.allclose(got[0], expect, atol=1e-4)


@pytest.mark.gpu
def test_cuda_decoding_replays_graphs_that_match_the_eager_step(tmp_path, tokenizer):
    import torch

    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")  # only selected with -m gpu
    folder = save_gpt2(tmp_path / "m", tokenizer)
    engine = Suggester.load(str(folder), device="cuda", dtype="float32")
    eager = Suggester.load(str(folder), device="cuda", dtype="float32")
    eager.decoder.lean.graphs = None
    assert engine.decoder.lean.graphs is not None
    for seed in range(3):
        got = [c.text for c in engine.suggest(SONG, 5, seed=seed)]
        assert got == [c.text for c in eager.suggest(SONG, 5, seed=seed)]
    replays = [r for per in engine.decoder.lean.graphs.replays.values() for r in per.values()]
    assert replays, "no decode step went through the graph path"
