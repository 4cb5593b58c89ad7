"""What `outbound-console --help` pays for at start: it must not import the engine's heavy
modules (aiohttp, httpx, pydantic, textual): the installed binary under `python -X
importtime`, as a person runs it. (How fast it is, is bench/send.py's business.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest

from console.cli.main import _LazyGroup, main
from tests.cli_helpers import isolated_env
from tests.test_cli_engine import BIN

HEAVY = ("aiohttp", "httpx", "pydantic", "textual", "rich", "yaml")


def imported_by(args: list[str], tmp_path: Path) -> set[str]:
    """Top-level packages the installed binary imports for `args` (python -X importtime)."""
    done = subprocess.run([sys.executable, "-X", "importtime", BIN, *args], capture_output=True,
                          text=True, env=isolated_env(tmp_path), timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    names = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    assert "click" in names, done.stderr[-2000:]  # the trace is there at all
    return names


@pytest.mark.parametrize("args", [["--help"], ["-h"], ["--version"]])
def test_help_imports_none_of_the_heavy_modules(args: list[str], tmp_path: Path) -> None:
    assert not imported_by(args, tmp_path) & set(HEAVY)


def test_help_still_lists_every_command_with_its_summary(tmp_path: Path) -> None:
    done = subprocess.run([BIN, "--help"], capture_output=True, text=True,
                          env=isolated_env(tmp_path), timeout=60)
    listed = done.stdout.split("Commands:")[1]
    for name in ("profiles", "replay", "send", "sim", "templates", "watch"):
        assert f"\n  {name} " in listed


@pytest.mark.parametrize("name", ["send", "watch", "profiles", "replay", "templates"])
@pytest.mark.parametrize("limit", [20, 45, 61, 200])
def test_the_static_summaries_are_the_commands_own(name: str, limit: int) -> None:
    """The list comes from static text; it must say what each command's docstring says."""
    command = main.get_command(click.Context(main), name)
    assert command is not None
    summaries = getattr(_LazyGroup, "SUMMARIES", {})
    assert set(summaries) == set(_LazyGroup.LAZY)
    assert click.Command(name, help=summaries[name]).get_short_help_str(limit) == \
        command.get_short_help_str(limit)
