"""config.toml: mode 0600, validation, and the token never shown in full."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from lyrictui.cli import cli
from lyrictui.core import config, paths
from lyrictui.core.errors import InvalidInput, LyricError

TOKEN = "s3cr3t-token-ABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789"


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_token_file_is_private_and_token_never_printed(lyrictui_home: Path) -> None:
    result = run("config", "set", "genius_token", TOKEN)
    assert result.exit_code == 0
    mode = stat.S_IMODE(paths.config_path().stat().st_mode)
    assert mode == 0o600
    assert config.genius_token() == TOKEN
    for args in (("config", "show"), ("config",), ("config", "set", "genius_token", TOKEN)):
        out = run(*args).output
        assert TOKEN not in out and TOKEN[:12] not in out
        assert "genius_token" in out


def test_env_token_wins_and_is_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENIUS_ACCESS_TOKEN", TOKEN)
    assert config.genius_token() == TOKEN
    out = run("config", "show").output
    assert TOKEN not in out and "GENIUS_ACCESS_TOKEN" in out


def test_bad_values_are_refused_without_echoing_the_token(lyrictui_home: Path) -> None:
    run("config", "set", "genius_token", TOKEN)
    result = CliRunner().invoke(cli, ["config", "set", "genius_concurrency", "many"])
    assert result.exit_code == 2
    assert "whole number" in result.output and TOKEN not in result.output
    result = CliRunner().invoke(cli, ["config", "set", "no_such_key", TOKEN])
    assert result.exit_code == 2 and TOKEN not in result.output
    assert config.genius_token() == TOKEN


def test_garbage_config_file_is_one_clear_error(lyrictui_home: Path) -> None:
    paths.config_path().write_bytes(b"genius_token = [unclosed\n\xff\xfe")
    with pytest.raises(LyricError, match="not valid TOML"):
        config.load()
    result = CliRunner().invoke(cli, ["config", "show"])
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_parse_value_checks_types() -> None:
    assert config.parse_value("genius_concurrency", "12") == 12
    assert config.parse_value("title_variant_words", "remix, live ,") == ["remix", "live"]
    with pytest.raises(InvalidInput):
        config.parse_value("genius_concurrency", "0")
    with pytest.raises(InvalidInput):
        config.parse_value("device", "tpu")
