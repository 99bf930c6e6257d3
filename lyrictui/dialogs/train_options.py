"""TrainOptionsDialog: base (with what is available offline), method, epochs, advanced knobs,
and the plan a run would follow (songs, tokens, steps, expected time; core/train/start.py)."""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Collapsible, Input, Label, RadioButton, RadioSet, Select, Static
from textual.worker import get_current_worker

from lyrictui.core.engine.bases import DEFAULT_BASE, HUB_BASES, STARTER, resolve
from lyrictui.core.errors import InvalidInput, LyricError
from lyrictui.core.train.config import DEVICES, TrainConfig
from lyrictui.core.train.start import TrainChoice, build_config, setting_device
from lyrictui.dialogs.form import FormDialog

STARTER_NOTE = (
    "starter is a small demo model bundled with lyrictui (trained on public-domain verse, "
    "works offline, trains in minutes on a CPU). For lines that really sound like the artist, "
    "fine-tune gpt2 on a GPU."
)
LABELS = {"bundled": "bundled, offline", "cached": "downloaded", "download": "downloads",
          "missing": "not installed"}


def _number(text: str, kind: type, name: str) -> Any:
    """The field's number, None (the default) when it is empty (a typed 0 stays 0, so validate
    refuses it instead of quietly training with the default)."""
    text = text.strip()
    if not text:
        return None
    try:
        return kind(text)
    except ValueError:
        raise InvalidInput(f"{name} must be a number, not {text[:20]!r}") from None


class TrainOptionsDialog(FormDialog[TrainChoice]):
    """Returns the user's TrainChoice (checked with `build_config`), or None. Empty fields show
    their default and leave it to the shared set-up (core/train/start.py), as the CLI does."""

    # Below 30 rows the note about the starter gives way, so the base and method show whole.
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]
    DEFAULT_CSS = """
    TrainOptionsDialog > Vertical { width: 84; height: 90%; }
    TrainOptionsDialog.-short > Vertical { height: 100%; padding: 0 2; }
    TrainOptionsDialog.-short #train-note { display: none; }
    TrainOptionsDialog .dialog-title { margin-bottom: 0; }
    TrainOptionsDialog #train-note { color: $text-muted; margin-bottom: 1; }
    TrainOptionsDialog RadioSet { layout: horizontal; height: auto; }
    TrainOptionsDialog .dialog-buttons { margin-top: 0; }
    TrainOptionsDialog Input { width: 60; max-width: 100%; }
    """

    def __init__(self, artist: str, default_base: str = DEFAULT_BASE) -> None:
        super().__init__()
        self._artist, self._default_base = artist, default_base
        device = setting_device()
        self._device = device if device in DEVICES else "auto"

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Train a model on {self._artist}", classes="dialog-title", markup=False)
            yield Static(STARTER_NOTE, id="train-note", markup=False)
            yield Static("Measuring the songs...", id="train-summary", markup=False)
            with VerticalScroll():
                yield Label("Base model")
                yield Select([(self._default_base, self._default_base)], allow_blank=False,
                             value=self._default_base, id="train-base")
                yield Label("Method")
                with RadioSet(id="train-method"):
                    yield RadioButton("Full fine-tune", value=True, id="method-full")
                    yield RadioButton("LoRA adapter (small, fast)", id="method-lora")
                yield Label("Epochs (empty: the budget above, fitted to the songs)")
                yield Input("", placeholder="auto", id="train-epochs", type="integer")
                with Collapsible(title="Advanced", collapsed=True):
                    yield Label("Batch size")
                    yield Input("", placeholder=str(TrainConfig.batch_size), id="train-batch",
                                type="integer")
                    yield Label("Learning rate (empty: 5e-5 full, 2e-4 LoRA)")
                    yield Input("", id="train-lr")
                    yield Label("Block size (tokens per training sequence; empty: "
                                f"{TrainConfig.block_size}, or the base's window if smaller)")
                    yield Input("", placeholder=str(TrainConfig.block_size), id="train-block",
                                type="integer")
                    yield Label("Or a base model folder on this machine (overrides the base)")
                    yield Input("", placeholder="/path/to/model", id="train-base-path")
                    yield Label("Device")
                    yield Select([(d, d) for d in DEVICES], value=self._device,
                                 allow_blank=False, id="train-device")
            yield Static("", id="train-error", classes="dialog-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Start training", id="ok", variant="primary")

    def on_mount(self) -> None:
        self.check_bases()
        self.show_plan(TrainChoice(base=self._default_base))

    def on_select_changed(self, event: Select.Changed) -> None:
        # The plan depends on the base (its tokenizer, window and speed).
        if event.select.id == "train-base" and isinstance(event.value, str):
            self.show_plan(TrainChoice(base=event.value))

    @work(thread=True, exclusive=True, group="train-plan", exit_on_error=False,
          description="Planning the run")
    def show_plan(self, choice: TrainChoice) -> None:
        """The same pre-start summary `lyrictui train` prints (start.summarize_choice)."""
        from lyrictui.core.train.start import summarize_choice

        try:
            library = self.app.library  # type: ignore[attr-defined]
            text = "\n".join(summarize_choice(library, library.get_artist(self._artist),
                                               choice).lines())
        except LyricError as exc:
            text = str(exc)
        if get_current_worker().is_cancelled:
            return  # another base was picked meanwhile: its plan is the one to show
        self.app.call_from_thread(self.query_one("#train-summary", Static).update, text)

    @work(thread=True, exclusive=True, group="bases", exit_on_error=False,
          description="Checking which base models are available")
    def check_bases(self) -> None:
        from lyrictui.core.engine.bases import availability, hub_unreachable

        options, local = [], []
        offline: bool | None = None  # probed only if some base needs a download
        for base in (STARTER, *HUB_BASES):
            state = availability(base)
            if state == "missing":
                continue
            if state == "download":
                offline = hub_unreachable() if offline is None else offline
                note = f"{LABELS[state]}, ~{HUB_BASES[base]} MB" + (", offline now" * offline)
            else:
                note = LABELS[state]
                local.append(base)
            options.append((f"{base} ({note})", base))
        # Offline, a base that needs a download would only fail: start on one that is here.
        self.app.call_from_thread(self._show_bases, options, local if offline else None)

    def _show_bases(self, options: list[tuple[str, str]], prefer: list[str] | None) -> None:
        select = self.query_one("#train-base", Select)
        current = select.value
        select.set_options(options)
        values = [v for _, v in options]
        if prefer and current not in prefer:
            current = prefer[0]
        select.value = current if current in values else values[0]

    def submit(self) -> None:
        try:
            folder = self.query_one("#train-base-path", Input).value.strip()
            if folder:
                resolve(folder)  # one clear line for a path that is not a model folder
            options = {
                "epochs": _number(self.query_one("#train-epochs", Input).value, int, "epochs"),
                "batch_size": _number(self.query_one("#train-batch", Input).value, int,
                                      "batch size"),
                "lr": _number(self.query_one("#train-lr", Input).value, float, "learning rate"),
                "block_size": _number(self.query_one("#train-block", Input).value, int,
                                      "block size"),
                "device": str(self.query_one("#train-device", Select).value),
            }
            choice = TrainChoice(
                base=folder or str(self.query_one("#train-base", Select).value),
                method="lora" if self.query_one("#method-lora", RadioButton).value else "full",
                options={k: v for k, v in options.items() if v is not None})
            build_config(choice.base, choice.method, **choice.options)  # refuse bad values here
        except LyricError as exc:
            self.query_one("#train-error", Static).update(str(exc))
            return
        self.dismiss(choice)
