"""What a training run is built from: device, precision, the base model (+ LoRA), the optimizer,
the learning-rate schedule and the token blocks.

GPU choices follow what makes GPT-2 fast on one: bf16 autocast (fp16 with loss scaling where
bf16 is missing), SDPA attention, fused AdamW, TF32 matmuls; on a CPU, fp32 on the cores this
process may use.
"""

from __future__ import annotations

import contextlib
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lyrictui.core.engine import bases
from lyrictui.core.engine.hfcompat import quiet_peft
from lyrictui.core.errors import InvalidInput, LyricError
from lyrictui.core.train.config import TrainConfig


@dataclass
class Precision:
    name: str  # "bf16", "fp16" or "fp32"
    autocast: Any  # torch dtype for autocast, or None
    scaler: bool  # fp16 needs loss scaling


@dataclass
class TrainData:
    """Packed token blocks: train as one (N, T) tensor, validation as equal-length batches."""

    train: Any
    val: list[Any]
    stats: dict[str, Any]

    @property
    def block_size(self) -> int:
        return int(self.train.shape[1])

    @property
    def val_tokens(self) -> int:
        return sum(int(v.numel()) for v in self.val)


def pick_device(name: str) -> Any:
    import torch

    from lyrictui.core.engine.modelload import pick_device as pick

    return torch.device(pick(name))


def pick_precision(device: Any) -> Precision:
    import torch

    if device.type == "cuda":
        if torch.cuda.is_bf16_supported():
            return Precision("bf16", torch.bfloat16, False)
        return Precision("fp16", torch.float16, True)
    return Precision("fp32", None, False)


BACKGROUND_NICE = 10


def configure_backend(device: Any, *, background: bool = False) -> None:
    """Thread count on CPU; TF32 on CUDA (for the few fp32 matmuls left under autocast).

    A background run (the app's, or `--detach`) shares the machine with a songwriter who keeps
    writing: on a CPU it trains on one core fewer than the process may use and at a lower
    priority (nice BACKGROUND_NICE), so the composer's suggestions find a free core and win
    the scheduler when they need one."""
    import torch

    if background:
        with contextlib.suppress(OSError, AttributeError):  # no os.nice on Windows
            os.nice(BACKGROUND_NICE)
    if device.type == "cpu" and "OMP_NUM_THREADS" not in os.environ:
        try:
            usable = len(os.sched_getaffinity(0))
        except AttributeError:  # macOS
            usable = os.cpu_count() or 1
        if background and usable > 1:
            usable -= 1
        torch.set_num_threads(max(1, min(usable, torch.get_num_threads() or usable)))
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True


def load_base(config: TrainConfig, device: Any) -> tuple[Any, Any]:
    """The base model in fp32 on `device` (wrapped with LoRA adapters for `lora`) and its
    tokenizer. Weights come from safetensors only; a missing hub base is one clear line."""
    import torch
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as hf_logging

    target = bases.resolve(config.base)
    if Path(target).exists():
        from lyrictui.core.engine.folders import check_folder

        method, _card = check_folder(Path(target))
        if method == "lora":
            raise InvalidInput(f"{config.base} is a LoRA adapter, not a base model: "
                               "train from its base (see its card.json) instead")
    tokenizer = bases.load_tokenizer(config.base)
    local = Path(target).exists()
    if local:  # "Loading weights" bars are noise; a hub download keeps its progress bars
        hf_logging.disable_progress_bar()
    try:
        model = AutoModelForCausalLM.from_pretrained(
            target, dtype=torch.float32, attn_implementation="sdpa", use_safetensors=True,
            **bases.model_hub_kwargs(target))
    except OSError as exc:
        if not local:
            raise bases.offline_hint(config.base, exc) from None
        raise LyricError(f"could not load the base at {target} ({type(exc).__name__}): "
                         "the folder is damaged or has no safetensors weights") from None
    except (ValueError, KeyError) as exc:
        raise LyricError(f"could not load the base {config.base} ({type(exc).__name__}: "
                         f"{str(exc).splitlines()[0][:160] if str(exc) else ''})") from None
    finally:
        if local:
            hf_logging.enable_progress_bar()
    window = next((v for a in ("n_positions", "max_position_embeddings", "n_ctx")
                   if isinstance(v := getattr(model.config, a, None), int) and v > 0), 1024)
    if config.block_size > window:
        raise InvalidInput(f"--block-size {config.block_size} is longer than the base's window "
                           f"({window} tokens): use --block-size {window} or less")
    if config.gradient_checkpointing:
        model.gradient_checkpointing_enable()
        model.config.use_cache = False
    if config.method == "full" and not embeddings_train(config):
        model.get_input_embeddings().weight.requires_grad_(False)
    if config.method == "lora":
        model = wrap_lora(model, config)
    return model.to(device), tokenizer


def embeddings_train(config: TrainConfig) -> bool:
    """Whether a full fine-tune trains the token embedding table (TrainConfig.train_embeddings):
    by default everywhere but the bundled starter, whose table is 3.1M of its 7.9M
    parameters."""
    if config.train_embeddings is not None:
        return config.train_embeddings
    return config.base.strip() != bases.STARTER


def wrap_lora(model: Any, config: TrainConfig) -> Any:
    from peft import LoraConfig, get_peft_model

    gpt2 = getattr(model.config, "model_type", "") == "gpt2"
    lora = LoraConfig(
        r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
        # GPT-2 keeps its projections in Conv1D (weights stored transposed): fan_in_fan_out.
        target_modules=["c_attn", "c_proj", "c_fc"] if gpt2 else None,
        fan_in_fan_out=gpt2, task_type="CAUSAL_LM",
    )
    if config.gradient_checkpointing:
        model.enable_input_require_grads()
    with quiet_peft():
        return get_peft_model(model, lora)


def make_optimizer(model: Any, config: TrainConfig, device: Any) -> Any:
    """AdamW with weight decay on matrices only (not biases or norms); fused on CUDA and CPU."""
    import torch

    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": config.weight_decay},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]
    return torch.optim.AdamW([g for g in groups if g["params"]], lr=config.peak_lr,
                             betas=(0.9, 0.999), eps=1e-8,
                             fused=device.type in {"cuda", "cpu"})


def lr_at(step: int, total: int, config: TrainConfig) -> float:
    """Linear warmup, then one cosine decay to min_lr_ratio of the peak, sized to the run."""
    peak = config.peak_lr
    warmup = math.ceil(config.warmup * total) if config.warmup > 0 else 0
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    floor = peak * config.min_lr_ratio
    return floor + (peak - floor) * 0.5 * (1 + math.cos(math.pi * progress))


def blocks_from_dataset(dataset: Any, stats: dict[str, Any]) -> TrainData:
    """TrainData from a packed DatasetDict (splits train/validation, column input_ids)."""
    import numpy as np
    import torch

    def rows(split: str) -> list[Any]:
        if split not in dataset:
            return []
        return [np.asarray(r, dtype=np.int64) for r in dataset[split]["input_ids"]]

    train_rows = rows("train")
    if not train_rows:
        raise LyricError("the packed dataset has no training blocks: add songs, or pack with a "
                         "smaller --block-size")
    train = torch.from_numpy(np.stack(train_rows))
    by_length: dict[int, list[Any]] = {}
    for row in rows("validation"):
        if len(row) >= 2:  # a 1-token block has nothing to predict
            by_length.setdefault(len(row), []).append(row)
    val = [torch.from_numpy(np.stack(group)) for _, group in sorted(by_length.items())]
    return TrainData(train=train, val=val, stats=stats)
