"""Load a model for suggestions: a model folder (full or LoRA), `starter`, or a hub id.

Weights are read from safetensors only. A folder is checked before anything is loaded, so a
missing, partial, corrupt or pickle-only model gives one clear line instead of a traceback,
and a pickle file is never opened. A LoRA adapter is merged into (its own copy of) its base,
so decoding costs what the base costs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lyrictui.core import paths
from lyrictui.core.engine import bases
from lyrictui.core.engine.folders import check_folder, read_json
from lyrictui.core.errors import InvalidInput, LyricError


@dataclass
class LoadedModel:
    """A model ready to run: weights on `device` in `dtype`, its tokenizer and its window."""

    model: Any
    tokenizer: Any
    device: str
    dtype: Any
    window: int
    source: str
    method: str
    card: dict[str, Any] = field(default_factory=dict)


DEVICES = ("auto", "cuda", "mps", "cpu")


def pick_device(device: str | None = None) -> str:
    """`device` if given, else the `device` setting; `auto` (the default) picks cuda, then mps,
    then cpu. Training and suggestions, in the CLI and the app, all pick through here."""
    import torch

    if device is None:
        from lyrictui.core import config as settings

        device = str(settings.get("device") or "auto")
    if device not in DEVICES and not device.startswith("cuda:"):
        raise InvalidInput(f"unknown device {device!r}: use auto, cuda, mps or cpu")
    if device != "auto":
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise InvalidInput(f"device {device} asked for, but CUDA is not available here")
        mps = getattr(torch.backends, "mps", None)
        if device == "mps" and not (mps is not None and mps.is_available()):
            raise InvalidInput("device mps asked for, but MPS (Apple GPUs) is not available here")
        return device
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def pick_dtype(device: str, dtype: str | None = None) -> Any:
    """16-bit on GPUs; on CPU bfloat16 where the CPU computes it natively, else float32."""
    import torch

    names = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
    if dtype and dtype != "auto":
        if dtype not in names:
            raise InvalidInput(f"unknown dtype {dtype!r}: use auto, float32, bfloat16 or float16")
        return names[dtype]
    if device.startswith(("cuda", "mps")):
        return torch.float16
    # Decoding reads every weight per step: half the bytes, and native bf16 matmuls beat fp32.
    # Without native support (emulated on plain AVX-512 or AVX2) float32 is the safe choice.
    return torch.bfloat16 if native_cpu_bf16() else torch.float32


def native_cpu_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 natively (AVX512-BF16 / AMX, or Arm BF16)."""
    import platform

    machine = platform.machine().lower()
    if machine in {"x86_64", "amd64"}:
        try:
            with open("/proc/cpuinfo", encoding="utf-8") as fh:
                flags = fh.read(1 << 16)
        except OSError:
            return False
        return " avx512_bf16" in flags or " amx_bf16" in flags
    if machine in {"arm64", "aarch64"}:
        import torch

        try:
            return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
        except (AttributeError, RuntimeError):
            return False
    return False


def _from_pretrained(target: str, dtype: Any, label: str, local: bool | None = None) -> Any:
    """`local`: `target` is a folder that was there when the load began (checked)."""
    from transformers import AutoModelForCausalLM

    local = Path(target).exists() if local is None else local
    try:
        return AutoModelForCausalLM.from_pretrained(target, use_safetensors=True, dtype=dtype,
                                                    **bases.model_hub_kwargs(target))
    except OSError as exc:
        if local and not Path(target).exists():
            raise LyricError(f"the model folder {target} was deleted or moved while it was "
                             "loading") from None
        if not Path(target).exists():
            raise LyricError(f"the model {label!r} is not available ({type(exc).__name__}): it is "
                             "neither cached nor reachable on the Hugging Face hub; connect once "
                             "to download it, or use a local model folder") from None
        raise LyricError(f"could not load the model at {target} ({type(exc).__name__}: "
                         f"{str(exc).splitlines()[0] if str(exc) else ''}): it may be damaged") from None
    except (ValueError, RuntimeError, KeyError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise LyricError(f"could not load the model {label} ({type(exc).__name__}: {first[:200]}): "
                         "it is corrupt or not a causal language model") from None


def _load_tokenizer(*candidates: str) -> Any:
    from transformers import AutoTokenizer

    last: Exception | None = None
    for target in candidates:
        try:
            tokenizer = AutoTokenizer.from_pretrained(
                target, local_files_only=bases.local_only(target))
        except Exception as exc:  # a damaged tokenizer.json raises KeyError, IndexError...
            last = exc
            continue
        if len(tokenizer) < 2:  # transformers builds an empty one from config.json alone
            last = LyricError("no tokens")
            continue
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        return tokenizer
    detail = " ".join(f"{type(last).__name__}: {last}".split())[:120]
    raise LyricError(f"no usable tokenizer for the model ({detail}): its tokenizer files are "
                     "missing or damaged; save the tokenizer into the folder again")


def _base_model(name: str, dtype: Any) -> tuple[Any, str]:
    target = bases.resolve(name)
    local = Path(target).exists()
    if local:
        check_folder(Path(target))
    return _from_pretrained(target, dtype, name, local=local), target


def load(source: str, *, device: str | None = None, dtype: str | None = None) -> LoadedModel:
    """Load `source` (a model folder, `starter`, or a hub id) for inference, once."""
    source = (source or "").strip()
    if not source:
        raise InvalidInput("no model given: name an artist with a trained model, or pass --model")
    device = pick_device(device)
    torch_dtype = pick_dtype(device, dtype)
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # "Loading weights: 100%" is noise in a CLI or the app
    try:
        return _load(source, device, torch_dtype)
    finally:
        if bars:
            hf_logging.enable_progress_bar()


def _load(source: str, device: str, torch_dtype: Any) -> LoadedModel:
    import torch

    folder = paths.starter_dir() if source == bases.STARTER else Path(source).expanduser()
    card: dict[str, Any] = {}
    if folder.exists() or source.startswith((".", "/", "~")) or source.count("/") > 1:
        method, card = check_folder(folder)
        if method == "lora":
            adapter = read_json(folder / "adapter_config.json", "adapter config")
            base_name = card.get("base") or adapter.get("base_model_name_or_path")
            if not base_name:
                raise LyricError(f"the LoRA adapter at {folder} does not name its base model")
            base, base_target = _base_model(str(base_name), torch.float32)
            from peft import PeftModel

            from lyrictui.core.engine.hfcompat import quiet_peft

            try:
                with quiet_peft():
                    model = PeftModel.from_pretrained(base, str(folder), is_trainable=False)
                model = model.merge_and_unload()
            except (ValueError, RuntimeError, KeyError, OSError) as exc:
                raise LyricError(f"the LoRA adapter at {folder} does not fit its base "
                                 f"{base_name} ({type(exc).__name__})") from None
            model = model.to(torch_dtype)
            tokenizer = _load_tokenizer(str(folder), base_target)
        else:
            model = _from_pretrained(str(folder), torch_dtype, str(folder), local=True)
            tokenizer = _load_tokenizer(str(folder))
        label = str(folder)
    else:
        method, label = "full", source
        model = _from_pretrained(bases.resolve(source), torch_dtype, source)
        tokenizer = _load_tokenizer(bases.resolve(source))
    rows = model.get_input_embeddings().num_embeddings
    if len(tokenizer) > rows:
        # Token ids past the embedding table would fail in the middle of a suggestion.
        raise LyricError(f"the tokenizer of {label} has {len(tokenizer):,} tokens but the model "
                         f"only {rows:,}: they do not belong together")
    model.to(device).eval().requires_grad_(False)
    config = model.config
    window = next((v for a in ("n_positions", "max_position_embeddings", "n_ctx")
                   if isinstance(v := getattr(config, a, None), int) and v > 0), 1024)
    return LoadedModel(model=model, tokenizer=tokenizer, device=device, dtype=torch_dtype,
                       window=window, source=label, method=method, card=card)
