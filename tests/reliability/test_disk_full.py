"""The disk fills up while packing, checkpointing and saving a model (diskfull_site/fulldisk.py).

Each case runs the real CLI with the disk filling at that moment: exit code 2, one line
`error: ...` saying the disk is full and what to do, no traceback; and the previous good state
is intact: the previous dataset still registered and loadable, the previous checkpoint still
resumable, the previous model still registered and loadable, nothing half-written registered
or left behind. Then, with space again, the same data packs, or the run resumes to a model.
(tests/unit/test_training.py covers a checkpoint refused outright, in-process.)

Slow variants: the disk filling while the best weights are saved mid-run, and a checkpoint on
a real full tmpfs (where `unshare -rm` may mount one):
`python -m pytest -m slow tests/reliability/test_disk_full.py -s`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from lyrictui.core import paths
from lyrictui.core.pack import packing
from lyrictui.core.store.library import Library
from lyrictui.core.train import checkpoints, runs, training


@pytest.fixture
def base(tmp_path: Path, tiny_base) -> Path:
    return tiny_base(tmp_path / "base")


def one_line_error(code: int, stdout: str, stderr: str) -> str:
    """The CLI's answer to a full disk: exit 2 and a single `error: ...` line."""
    assert code == 2, (stdout[-1500:], stderr[-1500:])
    assert "Traceback" not in stdout + stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr[-1500:]
    assert "disk is full" in lines[0] and "free some space" in lines[0]
    return lines[0]


def report(case: str, line: str, **facts) -> None:
    print(json.dumps({"disk_full": {"case": case, "error": line, **facts}}), flush=True)


def cli(*args: str):
    from lyrictui.cli import cli as group

    return CliRunner().invoke(group, list(args))


def train_to_first_checkpoint(library: Library, run_id: str) -> None:
    """Train in this process until the first checkpoint, then stop (the run is cancelled)."""
    folder = runs.run_dir(library.get_run(run_id))

    def stop_after_checkpoint(event: dict) -> None:
        if event["type"] == "checkpoint":
            (folder / runs.STOP_FILE).write_text("stop", encoding="utf-8")

    outcome = training.execute_run(library, run_id, listener=stop_after_checkpoint)
    assert outcome.status == "cancelled"


def test_disk_full_while_packing_keeps_the_previous_dataset(
        library: Library, base: Path, lyrictui_home: Path, add_corpus, full_disk, lyrictui,
        integrity, rows):
    artist = add_corpus(library)
    first = packing.pack(library, artist, base=str(base), block_size=32)
    before = [dict(r) for r in rows("SELECT * FROM datasets")]
    for i in range(3):
        library.add_song(artist.id, f"new song {i}", f"fresh words number {i}\n" * 8)

    disk = full_disk(lyrictui_home, at="/datasets/", after=4096)
    result = lyrictui("pack", artist.name, "--base", str(base), "--block-size", "32",
                      env=disk.env())
    line = one_line_error(result.returncode, result.stdout, result.stderr)
    assert "pack again" in line
    report("pack", line, full_after_bytes=4096, previous_dataset=first.record.key)

    assert [dict(r) for r in rows("SELECT * FROM datasets")] == before
    assert library.latest_dataset(artist.id).key == first.record.key
    data = packing.load_packed(first.path)
    assert len(data["train"]) == first.stats.train_blocks
    assert [p.name for p in first.path.parent.iterdir()] == [first.path.name]
    assert integrity() == "ok"

    again = packing.pack(library, artist, base=str(base), block_size=32)  # space again
    assert not again.cached and again.record.key != first.record.key
    assert again.stats.train_songs + again.stats.val_songs == 17


def test_disk_full_while_checkpointing_keeps_the_last_checkpoint_resumable(
        library: Library, base: Path, lyrictui_home: Path, add_corpus, tiny_config, full_disk,
        lyrictui, latest_step, temp_entries, integrity, assert_models_complete):
    artist = add_corpus(library)
    # Checkpoints every 2 steps, evaluation (and the best weights) only at the end.
    run = runs.create_run(library, artist, tiny_config(base, epochs=3, save_every=2,
                                                       eval_every=100))
    train_to_first_checkpoint(library, run.id)
    folder = runs.run_dir(run)
    assert latest_step(folder) == 2

    disk = full_disk(lyrictui_home, at="/checkpoints/.step-", after=100_000)
    result = lyrictui("resume", run.id, env=disk.env())
    line = one_line_error(result.returncode, result.stdout, result.stderr)
    assert f"lyrictui resume {run.id}" in line
    report("checkpoint", line, full_after_bytes=100_000, previous_checkpoint_step=2)

    failed = Library().get_run(run.id)
    assert failed.status == "failed" and failed.error == line.removeprefix("error: ")
    assert latest_step(folder) == 2  # the previous checkpoint, whole
    assert not temp_entries(checkpoints.checkpoints_dir(folder))
    assert [p.name for p in checkpoints.list_checkpoints(folder)] == ["step-00000002"]
    assert integrity() == "ok"

    resumed = cli("resume", run.id)  # space again
    assert resumed.exit_code == 0, resumed.output
    assert "resumed from step 2" in resumed.output
    assert Library().get_run(run.id).status == "completed"
    assert [m["run_id"] for m in assert_models_complete()] == [run.id]


@pytest.fixture
def previous_model(library: Library, base: Path, add_corpus, tiny_config):
    """An artist with one trained model: (artist, model)."""
    artist = add_corpus(library)
    first = runs.create_run(library, artist, tiny_config(base, epochs=1))
    training.execute_run(library, first.id)
    (model,) = library.list_models()
    return artist, model


@pytest.fixture
def previous_model_intact(assert_models_complete, rows, temp_entries):
    """`previous_model_intact(model)`: the one registered model is `model`, whole, loadable,
    with no temporary folder beside it."""
    def check(model) -> None:
        from lyrictui.core.engine.suggest import Suggester

        assert [m["id"] for m in assert_models_complete()] == [model.id]
        assert rows("SELECT path FROM models")[0]["path"] == model.path
        assert Suggester.load(model.path, device="cpu").loaded.window == 64
        assert not temp_entries(Path(model.path).parent)
    return check


def test_disk_full_while_saving_the_model_keeps_the_previous_model(
        library: Library, base: Path, lyrictui_home: Path, previous_model, full_disk, lyrictui,
        assert_models_complete, train_args, latest_step, integrity, events, previous_model_intact):
    artist, previous = previous_model

    disk = full_disk(lyrictui_home, at="/models/.", after=0)
    result = lyrictui("train", artist.name, "--base", str(base), "--epochs", "1", *train_args,
                      env=disk.env())
    line = one_line_error(result.returncode, result.stdout, result.stderr)
    report("model publish", line, full_after_bytes=0)

    previous_model_intact(previous)
    (run,) = [r for r in Library().list_runs() if r.id != previous.run_id]
    assert run.status == "failed" and run.model_id is None
    folder = runs.run_dir(run)
    total = next(e for e in events(folder) if e["type"] == "start")["total_steps"]
    assert latest_step(folder) == total  # everything but the model is there to resume
    assert integrity() == "ok"

    resumed = cli("resume", run.id)  # space again
    assert resumed.exit_code == 0, resumed.output
    assert f"resumed from step {total}" in resumed.output
    models = assert_models_complete()
    assert sorted(m["run_id"] for m in models) == sorted([previous.run_id, run.id])


@pytest.mark.slow
def test_disk_full_while_saving_the_best_weights_keeps_the_previous_model(
        library: Library, base: Path, lyrictui_home: Path, previous_model, install_full_disk,
        full_disk, integrity, train_args, temp_entries, assert_models_complete,
        previous_model_intact):
    artist, previous = previous_model

    uninstall = install_full_disk(full_disk(lyrictui_home, at="/.best.tmp", after=50_000))
    try:
        result = cli("train", artist.name, "--base", str(base), "--epochs", "1", *train_args)
    finally:
        uninstall()
    line = one_line_error(result.exit_code, result.stdout, result.stderr)
    report("best weights", line, full_after_bytes=50_000)

    previous_model_intact(previous)
    (run,) = [r for r in Library().list_runs() if r.id != previous.run_id]
    assert run.status == "failed" and run.error == line.removeprefix("error: ")
    folder = runs.run_dir(run)
    assert temp_entries(folder) == [runs.LOCK_FILE] and not (folder / training.BEST).exists()
    assert integrity() == "ok"

    resumed = cli("resume", run.id)
    assert resumed.exit_code == 0, resumed.output
    assert len(assert_models_complete()) == 2
    assert paths.dir_size(Path(previous.path)) > 0


def _can_mount_tmpfs() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"],
                           capture_output=True)
    return probe.returncode == 0


@pytest.mark.slow
@pytest.mark.skipif(not _can_mount_tmpfs(), reason="needs `unshare -rm` to mount a tmpfs")
def test_a_real_full_tmpfs_while_checkpointing(library: Library, base: Path,
                                               lyrictui_home: Path, tmp_path: Path, add_corpus,
                                               tiny_config, latest_step, temp_entries, integrity):
    """The same as the checkpoint case, on a real filesystem that is full: the data home is a
    tmpfs (in a private mount namespace) with room for what it holds and 4 MB more, less than
    one checkpoint, so safetensors' own (native) writer hits ENOSPC."""
    artist = add_corpus(library)
    run = runs.create_run(library, artist, tiny_config(base, epochs=3, save_every=2,
                                                       eval_every=100))
    train_to_first_checkpoint(library, run.id)
    library.close()
    folder = runs.run_dir(run)
    size_kb = paths.dir_size(lyrictui_home) // 1024 + 4096
    saved, after = tmp_path / "saved", tmp_path / "after"
    script = (
        'cp -a "$HOME_DIR/." "$SAVED/" && mount -t tmpfs -o size="$SIZE"k tmpfs "$HOME_DIR" && '
        'cp -a "$SAVED/." "$HOME_DIR/" && "$PY" -m lyrictui resume "$RUN" >"$OUT" 2>"$ERR"; '
        'echo $? >"$RC"; df -k "$HOME_DIR" | tail -1 >"$DF"; cp -a "$HOME_DIR/." "$AFTER/"')
    saved.mkdir()
    after.mkdir()
    env = {**os.environ, "HOME_DIR": str(lyrictui_home), "SAVED": str(saved),
           "AFTER": str(after), "SIZE": str(size_kb), "PY": sys.executable, "RUN": run.id,
           "OUT": str(tmp_path / "out"), "ERR": str(tmp_path / "err"),
           "RC": str(tmp_path / "rc"), "DF": str(tmp_path / "df")}
    done = subprocess.run(["unshare", "-rm", "sh", "-c", script], env=env, timeout=300)
    assert done.returncode == 0
    # What the tmpfs held at the end replaces the data home, to be checked as usual.
    shutil.rmtree(lyrictui_home)
    shutil.copytree(after, lyrictui_home, symlinks=True)
    code = int((tmp_path / "rc").read_text())
    line = one_line_error(code, (tmp_path / "out").read_text(), (tmp_path / "err").read_text())
    assert f"lyrictui resume {run.id}" in line
    report("checkpoint on a full tmpfs", line, tmpfs_kb=size_kb,
           df_after=(tmp_path / "df").read_text().split()[1:4])
    assert Library().get_run(run.id).status == "failed"
    assert latest_step(folder) == 2
    assert not temp_entries(checkpoints.checkpoints_dir(folder))
    assert integrity() == "ok"
    resumed = cli("resume", run.id)  # on the real disk again: room to finish
    assert resumed.exit_code == 0, resumed.output
    assert "resumed from step 2" in resumed.output
