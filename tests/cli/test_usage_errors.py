"""Usage errors through the real CLI: one line on stderr, exit code 2, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import typer

from ecomctl.cli import app
from ecomctl.settings import REPO_ROOT


def ecomctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ecomctl", *args], capture_output=True, text=True, timeout=180,
                          cwd=REPO_ROOT, env={**os.environ, "COLUMNS": "200"}, stdin=subprocess.DEVNULL)


def _commands(group: typer.core.TyperGroup | None = None, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...],
                                                                                                   object]]:
    """Every leaf command of the CLI with its path, e.g. (("config", "set"), <command>)."""
    group = group or typer.main.get_command(app)  # type: ignore[assignment]
    found: list[tuple[tuple[str, ...], object]] = []
    for name, command in group.commands.items():  # type: ignore[union-attr]
        if isinstance(command, typer.core.TyperGroup):
            found += _commands(command, (*path, name))
        else:
            found.append(((*path, name), command))
    return found


def _missing_argument_cases() -> list[tuple[str, ...]]:
    cases = []
    for path, command in _commands():
        required = [p for p in command.params if getattr(p, "required", False)]  # type: ignore[attr-defined]
        if required:
            cases.append(path)  # every required argument left out
    return cases


def _option_without_value_cases() -> list[tuple[str, ...]]:
    cases = []
    for path, command in _commands():
        for param in command.params:  # type: ignore[attr-defined]
            if param.param_type_name == "option" and not param.is_flag and not param.required:
                cases.append((*path, param.opts[0]))  # the option as the last word: its value is missing
    return cases


def assert_one_line_usage_error(done: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ") and "--help`" in lines[0], lines[0]
    for text in expected:
        assert text in lines[0], lines[0]
    assert done.stdout == ""


def test_the_cases_cover_the_commands_with_arguments() -> None:
    assert {("logs",), ("config", "set"), ("config", "get"), ("config", "rm")} <= set(_missing_argument_cases())
    assert ("up", "--stack") in _option_without_value_cases()


@pytest.mark.parametrize("path", _missing_argument_cases(), ids=" ".join)
def test_a_missing_argument(path: tuple[str, ...]) -> None:
    assert_one_line_usage_error(ecomctl(*path), "Missing argument", " ".join(path))


@pytest.mark.parametrize("args", _option_without_value_cases(), ids=" ".join)
def test_an_option_without_its_value(args: tuple[str, ...]) -> None:
    assert_one_line_usage_error(ecomctl(*args), f"Option '{args[-1]}' requires an argument")


def test_an_unknown_command_and_an_unknown_option() -> None:
    assert_one_line_usage_error(ecomctl("frobnicate"), "No such command 'frobnicate'")
    assert_one_line_usage_error(ecomctl("status", "--colour"), "No such option: --colour")
    assert_one_line_usage_error(ecomctl("logs", "kafka", "--lines", "many"), "Invalid value for '--lines'")


def test_no_command_shows_the_help_as_a_usage_error() -> None:
    for args in ((), ("config",)):
        done = ecomctl(*args)
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert "Usage:" in done.stdout and "--help" in done.stdout
