"""`lyrictui models add`: a causal LM fine-tuned elsewhere becomes a model of an artist.

Models are tiny GPT-2s saved here the way HuggingArtists models are laid out (config.json,
safetensors weights, GPT-2 tokenizer files, a stray training_args.bin), as a local folder and
in the hub's file cache read under HF_HUB_OFFLINE.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from lyrictui.core.engine import bases
from lyrictui.core.store.library import Library


def run_cli(*args: str) -> Result:
    from lyrictui.cli import cli

    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def huggingartists_model(tmp_path: Path, tiny_gpt2) -> Path:
    """A HuggingArtists-style model folder: the fine-tune, its tokenizer, training leftovers."""
    folder = tiny_gpt2(tmp_path / "huggingartists-paper-lanterns",
                       n_layer=1, n_embd=32, n_positions=128)
    (folder / "training_args.bin").write_bytes(b"not for loading")
    (folder / "README.md").write_text("# HuggingArtists model\n")
    return folder


def test_add_a_local_folder_then_write_with_it(huggingartists_model: Path,
                                              library: Library) -> None:
    from lyrictui.core.engine.suggest import Suggester

    result = run_cli("models", "add", "Paper Lanterns", str(huggingartists_model))
    assert result.exit_code == 0, result.output
    (model,) = library.list_models(library.get_artist("Paper Lanterns").id)
    folder = Path(model.path)
    assert folder.parent.name == "models" and folder.is_dir()
    assert (model.method, model.base, model.run_id) == ("full", str(huggingartists_model), None)
    assert model.id in result.output and f"--base {folder}" in result.output
    assert "training_args.bin" not in {p.name for p in folder.iterdir()}  # no pickle copied
    card = json.loads((folder / "card.json").read_text())
    assert card["source"] == str(huggingartists_model) and card["artist"] == "Paper Lanterns"
    assert card["params"] > 0 and "model.safetensors" in card["files"]

    shutil.rmtree(huggingartists_model)  # the copy stands on its own
    engine = Suggester.for_artist(library, "Paper Lanterns", device="cpu")
    assert engine.loaded.source == str(folder)
    assert len(engine.next_words("the harbor lights are", 3)) == 3
    assert bases.check_base(model.path) == 128  # and a training run can start from it

    listed = json.loads(run_cli("models", "--json").output)
    assert [m["id"] for m in listed] == [model.id]
    assert json.loads(run_cli("models", "Paper Lanterns", "--json").output)[0]["id"] == model.id
    assert [m["id"] for m in json.loads(run_cli("models", "list", "--json").output)] == [model.id]

    second = run_cli("models", "add", "Paper Lanterns", model.path)  # a model folder of ours too
    assert second.exit_code == 0, second.output
    assert len(library.list_models(library.get_artist("Paper Lanterns").id)) == 2


def test_add_a_hub_model_from_the_local_cache_offline(tmp_path: Path, tiny_gpt2, hub_file_cache,
                                                      lyrictui) -> None:
    built = tiny_gpt2(tmp_path / "built", n_layer=1, n_embd=32,
                            n_positions=128)
    files = {p.name: p.read_bytes() for p in built.iterdir()}
    files["pytorch_model.bin"] = b"a pickle that must never be opened or copied"
    hub = tmp_path / "hub-cache"
    snapshot = hub_file_cache(hub, "model", "huggingartists/paper-lanterns", files)
    env = {"HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(hub)}

    result = lyrictui("models", "add", "Lanterns", "huggingartists/paper-lanterns", **env)
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(lyrictui("models", "Lanterns", "--json", **env).stdout)
    folder = Path(row["path"])
    card = json.loads((folder / "card.json").read_text())
    assert card["source"] == "huggingartists/paper-lanterns"
    assert card["source_revision"] == snapshot.name
    assert row["base"] == "huggingartists/paper-lanterns"
    assert not any(p.is_symlink() for p in folder.iterdir())  # files, not links into the cache
    assert "pytorch_model.bin" not in {p.name for p in folder.iterdir()}

    shutil.rmtree(hub)
    written = lyrictui("suggest", "Lanterns", "--words", "3", "--device", "cpu",
                       stdin="the harbor lights are", **env)
    assert written.returncode == 0, written.stderr
    assert len(written.stdout.strip().splitlines()) == 3

    missing = lyrictui("models", "add", "Ghost", "huggingartists/not-cached", **env)
    assert missing.returncode == 2 and missing.stdout == ""
    (line,) = missing.stderr.strip().splitlines()
    assert "not in the local Hugging Face cache and the hub is offline" in line
    assert "Ghost" not in lyrictui("artists", **env).stdout


def test_bad_models_get_one_line_and_store_nothing(tmp_path: Path, tiny_gpt2,
                                                   lyrictui_home: Path) -> None:
    import torch
    from safetensors.torch import save_file

    pickle_only = tiny_gpt2(tmp_path / "pickle-only", n_layer=1,
                                  n_embd=32, n_positions=128)
    (pickle_only / "model.safetensors").unlink()
    torch.save({"weights": torch.zeros(2)}, pickle_only / "pytorch_model.bin")

    masked = tmp_path / "masked-lm"
    masked.mkdir()
    (masked / "config.json").write_text(json.dumps(
        {"model_type": "bert", "architectures": ["BertForMaskedLM"]}))
    save_file({"w": torch.zeros(2)}, str(masked / "model.safetensors"))

    no_tokenizer = tiny_gpt2(tmp_path / "no-tokenizer", n_layer=1,
                                   n_embd=32, n_positions=128)
    for name in os.listdir(no_tokenizer):
        if name.startswith(("tokenizer", "vocab", "merges", "special_tokens")):
            (no_tokenizer / name).unlink()

    cases = {pickle_only: "has only a pickle checkpoint (pytorch_model.bin), which lyrictui "
                          "never loads",
             masked: "is a BertForMaskedLM, not a causal language model",
             no_tokenizer: "has no tokenizer files",
             pickle_only / "config.json": "is a file: give the model's folder",
             tmp_path / "nowhere": "no model folder at"}
    for source, why in cases.items():
        result = run_cli("models", "add", "Nobody", str(source))
        assert result.exit_code == 2, (source, result.output)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and why in lines[0], lines
    library = Library()
    assert library.list_artists() == [] and library.list_models() == []
    assert not (lyrictui_home / "artists").exists()
