"""Whole training runs in-process on a CPU: tiny GPT-2 bases, the real GPT-2 tokenizer, real packs.

The pieces that need no run (schedule, plan, event log) are in tests/unit/test_training_plan.py."""

from __future__ import annotations

import errno
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from lyrictui.core import paths
from lyrictui.core.errors import LyricError
from lyrictui.core.train import checkpoints, runs, training

# The schema agreed with the app (docs/training.md): required fields and their JSON types.
NUM = (int, float)
SCHEMA = {
    "start": {"config": dict, "total_steps": int, "epochs": NUM},
    "step": {"step": int, "epoch": NUM, "loss": NUM, "lr": NUM, "tokens_per_s": NUM,
             "grad_norm": NUM, "gpu_mem": (int, type(None))},
    "eval": {"step": int, "epoch": NUM, "val_loss": NUM, "perplexity": NUM},
    "sample": {"step": int, "lines": list},
    "checkpoint": {"step": int, "path": str},
    "end": {"status": str, "model_id": (str, type(None)), "best_val_loss": (*NUM, type(None))},
    "error": {"message": str},
}


def check_schema(events: list[dict]) -> None:
    assert events[0]["type"] == "start"
    for event in events:
        assert event["type"] in SCHEMA, event
        assert isinstance(event["time"], float)
        for field, kind in SCHEMA[event["type"]].items():
            assert isinstance(event[field], kind), (event["type"], field, event[field])
        if event["type"] == "sample":
            assert all(isinstance(line, str) for line in event["lines"])
        if event["type"] == "end":
            assert event["status"] in {"completed", "cancelled", "failed", "stopped_early"}


@pytest.fixture
def small_base(tmp_path: Path, tiny_gpt2) -> Path:
    return tiny_gpt2(tmp_path / "base", n_embd=32, n_positions=64)


def overfit_data(tokenizer):
    """Train on one verse repeated, validate on it reversed: validation loss first falls (the
    words) and then rises (the order it memorizes is the wrong one), so the best weights are
    not the last ones."""
    import torch

    from lyrictui.core.train.setup import TrainData

    words = "one two three four five six seven eight".split()

    def blocks(line: str, repeats: int) -> torch.Tensor:
        ids = (tokenizer.encode("\n".join([line] * 4) + "\n") + [tokenizer.eos_token_id]) * repeats
        return torch.tensor([ids[i:i + 32] for i in range(0, len(ids) - 31, 32)])

    return TrainData(train=blocks(" ".join(words), 12), val=[blocks(" ".join(words[::-1]), 2)],
                     stats={"tokens": 0, "note": "built in the test"})


def val_loss_of(folder: Path, data) -> float:
    import torch

    from lyrictui.core.engine.modelload import load

    loaded = load(str(folder), device="cpu", dtype="float32")
    with torch.no_grad():
        x = data.val[0]
        return float(loaded.model(input_ids=x, labels=x).loss)


def test_full_run_learns_keeps_the_best_weights_and_saves_them_in_16_bit(
        library, small_base, gpt2_tokenizer, read_events, tiny_config):
    artist = library.add_artist("Overfit", "imported")
    data = overfit_data(gpt2_tokenizer)
    config = tiny_config(small_base, epochs=8, batch_size=4, lr=1e-2, patience=2)
    run = runs.create_run(library, artist, config)
    outcome = training.execute_run(library, run.id, data=data)

    events = read_events(runs.run_dir(run))
    check_schema(events)
    steps = [e for e in events if e["type"] == "step"]
    assert [e["step"] for e in steps] == list(range(1, len(steps) + 1))
    assert sum(e["loss"] for e in steps[-3:]) < sum(e["loss"] for e in steps[:3]) - 3
    evals = [e for e in events if e["type"] == "eval"]
    best = min(evals, key=lambda e: e["val_loss"])
    assert evals[-1]["val_loss"] > best["val_loss"] + 0.3  # it did overfit after the best
    assert all(math.isclose(e["perplexity"], math.exp(e["val_loss"]), rel_tol=1e-6)
               for e in evals)
    assert len([e for e in events if e["type"] == "sample"]) == len(evals)
    # Early stopping: two evaluations without improvement end the run before its last step.
    assert outcome.status == "stopped_early" and events[-1]["status"] == "stopped_early"
    assert steps[-1]["step"] < events[0]["total_steps"]
    assert evals[-1]["step"] == best["step"] + 2 * (evals[1]["step"] - evals[0]["step"])

    model = library.get_model(outcome.model_id)
    folder = Path(model.path)
    card = json.loads((folder / "card.json").read_text())
    assert card["val_loss"] == pytest.approx(best["val_loss"])
    assert card["best_step"] == best["step"]
    assert card["perplexity"] == pytest.approx(math.exp(best["val_loss"]))
    assert card["method"] == "full" and card["run_id"] == run.id and card["dtype"] == "float16"
    assert model.val_loss == pytest.approx(best["val_loss"])
    # The weights on disk are the best ones: their validation loss is the best, not the last.
    measured = val_loss_of(folder, data)
    assert measured == pytest.approx(best["val_loss"], abs=0.05)
    assert abs(measured - evals[-1]["val_loss"]) > 0.25

    from safetensors import safe_open

    with safe_open(str(folder / "model.safetensors"), "pt") as fh:
        dtypes = {fh.get_slice(k).get_dtype() for k in fh.keys()}
    assert dtypes == {"F16"}
    assert json.loads((folder / "config.json").read_text())["dtype"] == "float16"
    assert {name: (folder / name).stat().st_size for name in card["files"]} == card["files"]
    assert "README.md" in card["files"] and "tokenizer.json" in card["files"]
    assert model.size_bytes == paths.dir_size(folder)
    finished = library.get_run(run.id)
    assert finished.status == "completed" and finished.model_id == model.id
    assert not checkpoints.checkpoints_dir(runs.run_dir(run)).exists()  # freed after success


def test_cancel_keeps_a_checkpoint_and_resume_matches_an_uninterrupted_run(
        library, small_base, add_corpus, read_events, tiny_config):
    """Weights, AdamW moments, schedule, data order and dropout RNG all come back exactly."""
    import torch
    from safetensors.torch import load_file

    artist = add_corpus(library)
    straight = runs.create_run(library, artist, tiny_config(small_base))
    done = training.execute_run(library, straight.id)
    assert done.status == "completed"

    run = runs.create_run(library, artist, tiny_config(small_base))
    folder = runs.run_dir(run)

    def stop_after_third_step(event: dict) -> None:
        if event["type"] == "step" and event["step"] == 3:
            runs.cancel(library, run.id)

    first = training.execute_run(library, run.id, listener=stop_after_third_step)
    assert first.status == "cancelled"
    assert library.get_run(run.id).status == "cancelled"
    saved = checkpoints.latest_checkpoint(folder)
    assert saved is not None and saved.name == "step-00000003"
    assert read_events(folder)[-1] == {**read_events(folder)[-1], "type": "end",
                                       "status": "cancelled"}
    assert not library.list_models(artist.id)[1:]  # only the straight run's model

    runs.clear_stop(folder)
    again = training.execute_run(library, run.id)
    assert again.status == "completed"
    starts = [e for e in read_events(folder) if e["type"] == "start"]
    assert [s["resumed_from"] for s in starts] == [0, 3]
    a = load_file(str(Path(library.get_model(done.model_id).path) / "model.safetensors"))
    b = load_file(str(Path(library.get_model(again.model_id).path) / "model.safetensors"))
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert again.best_val_loss == done.best_val_loss


def test_lora_saves_only_the_adapter_and_loads_over_its_base(library, small_base, add_corpus,
                                                             tiny_config):
    import torch

    from lyrictui.core.engine.modelload import load

    artist = add_corpus(library)
    config = tiny_config(small_base, method="lora", lr=2e-2, epochs=1)
    run = runs.create_run(library, artist, config)
    outcome = training.execute_run(library, run.id)
    folder = Path(library.get_model(outcome.model_id).path)
    names = {p.name for p in folder.iterdir()}
    assert {"adapter_config.json", "adapter_model.safetensors", "card.json"} <= names
    assert "model.safetensors" not in names
    assert (folder / "adapter_model.safetensors").stat().st_size < 200_000
    card = json.loads((folder / "card.json").read_text())
    assert card["method"] == "lora" and Path(card["base"]) == small_base.absolute()

    merged = load(str(folder), device="cpu", dtype="float32").model
    base = load(str(small_base), device="cpu", dtype="float32").model
    ids = torch.tensor([[50256, 1842, 1110, 2046]])
    with torch.no_grad():
        delta = (merged(ids).logits - base(ids).logits).abs().max()
    assert delta > 1e-3  # the adapter changed the base's predictions


def _fail_forward(exc: BaseException):
    def forward(self, *args, **kwargs):
        raise exc
    return forward


def test_out_of_memory_is_one_line_in_cli_events_and_library(
        library, small_base, monkeypatch, add_corpus, read_events):
    import torch
    from transformers.models.gpt2 import modeling_gpt2

    from lyrictui.cli import cli

    add_corpus(library)
    monkeypatch.setattr(modeling_gpt2.GPT2LMHeadModel, "forward", _fail_forward(
        torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB\nmore details")))
    result = CliRunner().invoke(cli, ["train", "Test Band", "--base", str(small_base),
                                      "--block-size", "32", "--batch-size", "2",
                                      "--device", "cpu"])
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line]
    assert len(errors) == 1 and errors[0].startswith("error: out of GPU memory")
    for advice in ("--batch-size", "--block-size", "--method lora", "--gradient-checkpointing"):
        assert advice in errors[0]
    run = library.list_runs()[0]
    assert run.status == "failed" and run.error == errors[0].removeprefix("error: ")
    events = read_events(runs.run_dir(run))
    check_schema(events)
    assert [e["type"] for e in events[-2:]] == ["error", "end"]
    assert events[-2]["message"] == run.error and events[-1]["status"] == "failed"


def test_disk_full_while_checkpointing_is_one_line_and_resumable(library, small_base,
                                                                  monkeypatch, add_corpus, tiny_config):
    import safetensors.torch

    artist = add_corpus(library)
    run = runs.create_run(library, artist, tiny_config(small_base, save_every=1, max_steps=3))

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(safetensors.torch, "save_file", full)
    with pytest.raises(LyricError) as caught:
        training.execute_run(library, run.id)
    message = str(caught.value)
    assert "disk is full" in message and f"lyrictui resume {run.id}" in message
    assert "\n" not in message
    assert library.get_run(run.id).status == "failed"
    leftovers = list(checkpoints.checkpoints_dir(runs.run_dir(run)).iterdir())
    assert leftovers == []  # the half-written checkpoint was removed


def test_a_base_that_is_not_available_offline_is_one_line(library, monkeypatch, add_corpus):
    import huggingface_hub.constants

    from lyrictui.cli import cli

    # huggingface_hub reads HF_HUB_OFFLINE once, at import, which a session fixture may have
    # triggered before the autouse fixture set it: make sure this process is offline.
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    add_corpus(library)
    result = CliRunner().invoke(cli, ["train", "Test Band", "--base", "no-such-gpt2-model"])
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line]
    assert len(lines) == 1 and "no-such-gpt2-model" in lines[0]
    assert "not available" in lines[0] and "--base starter" in lines[0]


def test_train_refuses_an_artist_without_songs_and_bad_options(library, small_base, add_corpus):
    from lyrictui.cli import cli

    library.add_artist("Empty", "imported")
    result = CliRunner().invoke(cli, ["train", "Empty", "--base", str(small_base)])
    assert result.exit_code == 2 and "no songs" in result.stderr
    add_corpus(library)
    result = CliRunner().invoke(cli, ["train", "Test Band", "--epochs", "0"])
    assert result.exit_code == 2 and "--epochs must be at least 1" in result.stderr
    result = CliRunner().invoke(cli, ["train", "Test Band", "--base", "./missing-folder"])
    assert result.exit_code == 2 and "no model folder" in result.stderr
    result = CliRunner().invoke(cli, ["resume", "nothing-like-this"])
    assert result.exit_code == 2 and "no training run" in result.stderr
    assert library.list_runs() == []


def test_runs_whose_process_died_are_marked_interrupted(library, small_base, add_corpus,
                                                         tiny_config):
    import time

    artist = add_corpus(library)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    gone = runs.create_run(library, artist, tiny_config(small_base))
    library.update_run(gone.id, status="running", pid=dead.pid, heartbeat_at=time.time())
    alive = runs.create_run(library, artist, tiny_config(small_base))
    library.update_run(alive.id, status="running", pid=os.getpid(), heartbeat_at=time.time())
    silent = runs.create_run(library, artist, tiny_config(small_base))
    library.update_run(silent.id, status="running", pid=os.getpid(),
                       heartbeat_at=time.time() - 3600)
    held = runs.acquire_lock(runs.run_dir(silent))  # ...but its lock says it still trains
    assert runs.mark_stale_runs(library) == [gone.id]
    held.close()
    assert runs.mark_stale_runs(library) == [silent.id]
    assert library.get_run(gone.id).status == "interrupted"
    assert library.get_run(alive.id).status == "running"
    assert runs.latest_resumable(library, artist).id == silent.id


def test_a_new_run_is_planned_in_steps_fitted_to_its_songs(library, add_corpus) -> None:
    """No --epochs/--max-steps: the budget (core/train/budget.py) sets the steps, the block
    size and the validation share from the songs; an explicit --epochs wins."""
    from lyrictui.core.train.start import plan_run

    artist = add_corpus(library, songs=40)
    config = plan_run(library, artist, "starter", device="cpu")
    assert config.epochs is None and config.max_steps is not None and config.max_steps >= 24
    assert config.block_size < 512  # a few thousand tokens: smaller blocks, more of them
    assert config.eval_every is not None and config.eval_every <= config.max_steps
    explicit = plan_run(library, artist, "starter", device="cpu", epochs=5)
    assert explicit.epochs == 5 and explicit.max_steps is None
