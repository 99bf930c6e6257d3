"""Lean on disk: a completed run keeps no checkpoints, a cancelled one only its newest whole
checkpoint (and resumes from it), the starter's checkpoints leave its embedding table out,
`lyrictui runs` shows sizes and `--prune` frees what finished runs hold, nothing a resume
needs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from lyrictui.cli import cli
from lyrictui.core import paths
from lyrictui.core.train import checkpoints, disk, runs, training


@pytest.fixture
def base(tmp_path: Path, tiny_gpt2) -> Path:
    return tiny_gpt2(tmp_path / "base", n_embd=32, n_positions=64)


def cancelled_run(library, artist, config) -> str:
    """A run cancelled after its fourth step, with a checkpoint every step. (Three passes over
    add_corpus's songs are 12 steps: a cancel lands mid-run, and a resume to the end is
    short.)"""
    run = runs.create_run(library, artist, config)

    def stop(event: dict) -> None:
        if event["type"] == "step" and event["step"] == 4:
            runs.cancel(library, run.id)

    assert training.execute_run(library, run.id, listener=stop).status == "cancelled"
    return run.id


def test_a_cancelled_run_keeps_only_its_newest_checkpoint_and_resumes_from_it(
        library, base, add_corpus, tiny_config) -> None:
    artist = add_corpus(library)
    run_id = cancelled_run(library, artist, tiny_config(base, epochs=3, save_every=1))
    folder = runs.run_dir(library.get_run(run_id))
    assert [p.name for p in checkpoints.list_checkpoints(folder)] == ["step-00000004"]
    assert (folder / training.BEST).is_dir()  # the best weights so far: a resume needs them
    runs.clear_stop(folder)
    done = training.execute_run(library, run_id)
    assert done.status in {"completed", "stopped_early"} and done.model_id
    assert not checkpoints.checkpoints_dir(folder).exists()
    assert not (folder / training.BEST).exists()
    assert paths.dir_size(folder) < 200_000  # events, config and log only


def test_prune_frees_finished_runs_and_keeps_what_resume_needs(
        library, base, add_corpus, tiny_config) -> None:
    artist = add_corpus(library)
    stopped = cancelled_run(library, artist, tiny_config(base, epochs=3, save_every=1))
    stopped_dir = runs.run_dir(library.get_run(stopped))
    newest = checkpoints.latest_checkpoint(stopped_dir)
    assert newest is not None
    # What an older lyrictui (2 kept) and a kill in the middle of a save leave behind.
    shutil.copytree(newest, newest.parent / "step-00000002")
    shutil.copytree(newest, newest.parent / ".step-00000005.tmp")
    runs.clear_stop(stopped_dir)
    finished = runs.create_run(library, artist, tiny_config(base, epochs=1))
    assert training.execute_run(library, finished.id).status == "completed"
    finished_dir = runs.run_dir(finished)
    shutil.copytree(newest, checkpoints.checkpoints_dir(finished_dir) / newest.name)
    leftover = paths.dir_size(finished_dir)

    listed = CliRunner().invoke(cli, ["runs", "--json"])
    assert listed.exit_code == 0, listed.output
    sizes = {row["id"]: row["size_bytes"] for row in json.loads(listed.output)}
    assert sizes[finished.id] == leftover and sizes[stopped] == paths.dir_size(stopped_dir)
    table = CliRunner().invoke(cli, ["runs"])
    assert "SIZE" in table.output and paths.human_size(leftover) in table.output

    before = paths.dir_size(paths.runs_dir(artist.slug))
    result = CliRunner().invoke(cli, ["runs", "--prune"])
    assert result.exit_code == 0, result.output
    after = paths.dir_size(paths.runs_dir(artist.slug))
    assert result.output.startswith(f"Freed {paths.human_size(before - after)} from 2 finished")
    assert not checkpoints.checkpoints_dir(finished_dir).exists()
    assert [p.name for p in checkpoints.checkpoints_dir(stopped_dir).iterdir()] == [newest.name]
    # Nothing a resume needs went: the stopped run continues from its newest checkpoint.
    done = training.execute_run(library, stopped)
    assert done.status in {"completed", "stopped_early"}
    again = disk.prune_runs(library)
    assert again.pruned == [] and again.freed == 0


def test_prune_leaves_a_training_run_alone(library, base, add_corpus, tiny_config) -> None:
    artist = add_corpus(library)
    run = runs.create_run(library, artist, tiny_config(base))
    folder = runs.run_dir(run)
    (checkpoints.checkpoints_dir(folder) / "step-00000001").mkdir(parents=True)
    (checkpoints.checkpoints_dir(folder) / "step-00000001" / "state.json").write_text("{}")
    (checkpoints.checkpoints_dir(folder) / "step-00000002").mkdir()
    (checkpoints.checkpoints_dir(folder) / "step-00000002" / "state.json").write_text("{}")
    library.update_run(run.id, status="cancelled")
    held = runs.acquire_lock(folder)  # a process is (again) training it
    try:
        assert disk.prune_runs(library).pruned == []
    finally:
        held.close()
    assert disk.prune_runs(library).pruned == [run.id]
    assert [p.name for p in checkpoints.list_checkpoints(folder)] == ["step-00000002"]


def test_the_starter_checkpoint_leaves_its_embedding_table_out(library, add_corpus,
                                                                tiny_config) -> None:
    from safetensors import safe_open

    artist = add_corpus(library)
    run_id = cancelled_run(library, artist, tiny_config("starter", epochs=50, save_every=2,
                                                        block_size=32))
    saved = checkpoints.latest_checkpoint(runs.run_dir(library.get_run(run_id)))
    assert saved is not None
    with safe_open(str(saved / "trainable.safetensors"), framework="pt") as fh:
        names = list(fh.keys())
    assert names and not any("wte" in n for n in names)
    # Float32 weights and two AdamW moments (12 bytes a parameter) of what is left without the
    # table, with room for the step's metadata; with the table it would not fit.
    config = json.loads((paths.starter_dir() / "config.json").read_text(encoding="utf-8"))
    total = json.loads((paths.starter_dir() / "card.json").read_text(encoding="utf-8"))["params"]
    trainable = total - config["vocab_size"] * config["n_embd"]
    assert paths.dir_size(saved) < trainable * 12 * 1.05 < total * 12
