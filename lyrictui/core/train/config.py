"""The settings of one training run, stored with the run so a resume trains exactly the same way."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from lyrictui.core.engine.bases import DEFAULT_BASE, STARTER
from lyrictui.core.engine.modelload import DEVICES
from lyrictui.core.engine.sampling import check_seed
from lyrictui.core.errors import InvalidInput

METHODS = ("full", "lora")
MAX_EPOCHS = 100_000
MAX_STEPS = 100_000_000
"""Past these a run would never end: refused before one is created."""
COMPILE_MODES = ("auto", "on", "off")
DEFAULT_LR = {"full": 5e-5, "lora": 2e-4}
STARTER_LR = {"full": 1e-3, "full+embeddings": 3e-4, "lora": 1e-3}
"""The bundled starter is small (8M parameters): fine-tuning it to a new voice in a few dozen
steps wants a higher rate than a 124M base, lower when its embedding table trains too
(benchmarks/finetune.py, docs/benchmarks.md)."""


def default_lr(base: str, method: str, train_embeddings: bool | None = None) -> float:
    """The peak learning rate when the user names none."""
    if base.strip() != STARTER:
        return DEFAULT_LR[method]
    if method == "full" and train_embeddings:
        return STARTER_LR["full+embeddings"]
    return STARTER_LR[method]


@dataclass
class TrainConfig:
    """Everything that decides what a run computes (defaults are what `lyrictui train` uses)."""

    base: str = DEFAULT_BASE
    """Hub id, model folder, or `starter` (`bases.default_base()` when the user names none)."""
    method: str = "full"
    """`full` fine-tune, or `lora` adapters (peft)."""
    epochs: int | None = None
    """Passes over the data; None lets the budget decide (core/train/budget.py), in steps."""
    batch_size: int = 8
    """Blocks per device per micro-batch."""
    grad_accum: int = 1
    """Micro-batches per optimizer step."""
    lr: float | None = None
    """Peak learning rate; None picks `default_lr(base, method)`."""
    weight_decay: float = 0.01
    warmup: float = 0.05
    """Share of the run's steps spent warming the learning rate up linearly."""
    min_lr_ratio: float = 0.1
    """The cosine decay ends at this share of the peak learning rate."""
    block_size: int = 512
    val_fraction: float = 0.1
    device: str = "auto"
    max_steps: int | None = None
    """Stop after this many optimizer steps (the schedule is sized to it)."""
    eval_every: int | None = None
    """Evaluate every N steps; None means every epoch (every 500 steps for long epochs)."""
    save_every: int | None = None
    """Checkpoint every N steps; None means at every evaluation (and at least every 10 min)."""
    keep_checkpoints: int = 1
    """Whole checkpoints kept while training (each is written aside and renamed into place, so
    the newest is always complete); a finished run keeps none."""
    patience: int = 2
    """Stop after this many evaluations without a better validation loss; 0 never stops."""
    seed: int = 42
    max_grad_norm: float = 1.0
    compile: str = "auto"
    """torch.compile: auto compiles on CUDA when the run is long enough to pay it back."""
    gradient_checkpointing: bool = False
    train_embeddings: bool | None = None
    """Train the (tied) token embedding table in a full fine-tune; None: yes, except for the
    bundled starter, whose table is 3.1M of its 7.9M parameters: frozen, a step is faster, a
    checkpoint smaller (58 MB, not 95), and a few songs cannot drag rare words around; training
    it too gained no more (benchmarks/finetune.py)."""
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.05
    log_every: int | None = None
    """Write a step event every N steps; None means about once a second."""
    sample_lines: int = 4
    sample_tokens: int = 60

    @property
    def peak_lr(self) -> float:
        return self.lr if self.lr is not None else default_lr(self.base, self.method,
                                                              self.train_embeddings)

    def validate(self) -> TrainConfig:
        """Raise InvalidInput (one line) for a value training cannot use."""
        if self.method not in METHODS:
            raise InvalidInput(f"unknown method {self.method!r}: use full or lora")
        if self.device not in DEVICES and not self.device.startswith("cuda:"):
            raise InvalidInput(f"unknown device {self.device!r}: use auto, cuda, mps or cpu")
        if self.compile not in COMPILE_MODES:
            raise InvalidInput(f"--compile must be auto, on or off, not {self.compile!r}")
        positive = {"batch-size": self.batch_size,
                    "grad-accum": self.grad_accum, "block-size": self.block_size,
                    "keep-checkpoints": self.keep_checkpoints, "lora-r": self.lora_r}
        for name in ("epochs", "max_steps", "eval_every", "save_every", "log_every"):
            value = getattr(self, name)
            if value is not None:
                positive[name.replace("_", "-")] = value
        for name, value in positive.items():
            if value < 1:
                raise InvalidInput(f"--{name} must be at least 1, not {value}")
        if self.block_size < 8:
            raise InvalidInput("--block-size must be at least 8 tokens")
        if self.lr is not None and not 0 < self.lr < 1:
            raise InvalidInput(f"--lr must be between 0 and 1, not {self.lr}")
        if not 0 < self.val_fraction < 0.5:
            raise InvalidInput("--val-fraction must be above 0 and below 0.5")
        if not 0 <= self.warmup < 1 or not 0 <= self.min_lr_ratio <= 1:
            raise InvalidInput("--warmup must be in [0, 1) and the final lr ratio in [0, 1]")
        if self.patience < 0:
            raise InvalidInput("--patience must be 0 (off) or more")
        if self.max_grad_norm <= 0:
            raise InvalidInput("--max-grad-norm must be above 0")
        if not 0 <= self.lora_dropout < 1:
            raise InvalidInput(f"--lora-dropout must be in [0, 1), not {self.lora_dropout}")
        # Bounds a run can finish in and torch can take, checked before a run exists (an
        # `inf` or a seed of 2**64 used to create a run that then failed).
        if not (math.isfinite(self.weight_decay) and 0 <= self.weight_decay <= 10):
            raise InvalidInput(f"--weight-decay must be from 0 to 10, not {self.weight_decay}")
        if not math.isfinite(self.max_grad_norm):
            raise InvalidInput(f"--max-grad-norm must be a finite number, not {self.max_grad_norm}")
        if self.epochs is not None and self.epochs > MAX_EPOCHS:
            raise InvalidInput(f"--epochs must be at most {MAX_EPOCHS:,}, not {self.epochs:,}")
        if self.max_steps is not None and self.max_steps > MAX_STEPS:
            raise InvalidInput(f"--max-steps must be at most {MAX_STEPS:,}, not "
                               f"{self.max_steps:,}")
        check_seed(self.seed)
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Rebuild a stored config; keys a newer or older lyrictui wrote are ignored."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})
