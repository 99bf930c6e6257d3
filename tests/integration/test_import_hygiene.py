"""Import hygiene, checked in fresh interpreters: core stays UI-free, the CLI and app stay light."""

from __future__ import annotations

import json
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import lyrictui.core

HEAVY = ("torch", "transformers", "datasets", "peft", "accelerate")
UI = ("textual", "rich")


def loaded_after(code: str) -> set[str]:
    """Top-level module names present in sys.modules after running `code` in a new Python."""
    probe = code + "\nimport sys, json\nprint(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


CORE_MODULES = sorted(
    info.name for info in pkgutil.walk_packages(lyrictui.core.__path__, "lyrictui.core.")
)


def test_core_modules_are_found() -> None:
    assert {"lyrictui.core.store.library", "lyrictui.core.config", "lyrictui.core.paths"} <= set(
        CORE_MODULES
    )


@pytest.mark.parametrize("module", CORE_MODULES)
def test_core_module_imports_no_ui_and_nothing_heavy(module: str) -> None:
    loaded = loaded_after(f"import {module}")
    assert not loaded & set(UI), f"{module} pulls in {loaded & set(UI)}"
    assert not loaded & set(HEAVY), f"{module} imports {loaded & set(HEAVY)} at import time"


def test_cli_help_loads_nothing_heavy() -> None:
    loaded = loaded_after(
        "import sys\nfrom lyrictui.cli import cli\n"
        "try:\n    cli(['--help'], prog_name='lyrictui')\nexcept SystemExit:\n    pass"
    )
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_building_the_app_loads_nothing_heavy() -> None:
    loaded = loaded_after("from lyrictui.app import make_app\nmake_app()")
    assert "textual" in loaded
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_import_linter_contract_holds() -> None:
    exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([exe], cwd=root, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 kept, 0 broken" in result.stdout  # UI-free core, data-flow layers, foundation, UI layers
