"""The entry point's fast start: it takes only what click would parse the same way."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from console.cli.main import main
from console.launch import console_args


def click_params(argv: list[str]) -> dict[str, str]:
    ctx = main.make_context("outbound-console", list(argv))
    assert not ctx.args
    return {k: str(v) for k, v in ctx.params.items() if v is not None}


@pytest.mark.parametrize("argv", [
    [],
    ["--journal", "j.jsonl"],
    ["--journal=j.jsonl"],
    ["-p", "lab"],
    ["--profile", "lab", "--user", "agent7"],
    ["--profile=lab", "--profiles", "somewhere"],
    ["--url", "https://gws.example:8443", "--user", "agent7", "--journal", "x/y.jsonl"],
    ["--url=http://127.0.0.1:8090/"],
])
def test_the_console_options_parse_as_click_parses_them(argv: list[str]) -> None:
    assert console_args(argv) == click_params(argv)


@pytest.mark.parametrize("argv", [
    ["send"], ["--help"], ["-h"], ["--version"], ["sim", "--port", "0"],
    ["--journal"],  # value missing
    ["--profile", "a", "--profile", "b"],  # repeated
    ["-plab"], ["-p=lab"], ["--bogus"], ["--url", "--user"], ["--url", ""],
    ["--journal", "j", "watch"], ["--", "x"],
])
def test_anything_else_is_left_to_click(argv: list[str]) -> None:
    assert console_args(argv) is None


def test_paths_click_would_refuse_are_left_to_click(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("x")
    assert console_args(["--profiles", str(a_file)]) is None
    assert console_args(["--journal", str(tmp_path)]) is None
    with pytest.raises(click.BadParameter):
        main.make_context("outbound-console", ["--profiles", str(a_file)])
    assert console_args(["--profiles", str(tmp_path), "--journal", str(a_file)]) == {
        "profiles_dir": str(tmp_path), "journal_path": str(a_file)}


def run_binary(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    binary = Path(sys.executable).parent / "outbound-console"
    env = {**os.environ, "OUTBOUND_CONSOLE_HOME": str(home)}
    env.pop("OUTBOUND_CONSOLE_PASSWORD", None)
    return subprocess.run([str(binary), *args], capture_output=True, text=True, env=env,
                          stdin=subprocess.DEVNULL, timeout=60)


def test_the_installed_command_reports_like_click_on_both_paths(tmp_path: Path) -> None:
    # Fast path: an unknown profile is an error worded as click words one, with the exit code
    # every command gives a profile problem (6).
    fast = run_binary("--profile", "no-such-profile", home=tmp_path)
    assert fast.returncode == 6
    assert fast.stderr.startswith("Error: ") and "no-such-profile" in fast.stderr
    # The same through click (an odd spelling sends it there): same exit code and wording.
    slow = run_binary("-pno-such-profile", home=tmp_path)
    assert (slow.returncode, slow.stderr) == (fast.returncode, fast.stderr)
    # click's own refusals and commands still work.
    a_file = tmp_path / "file"
    a_file.write_text("x")
    refused = run_binary("--profiles", str(a_file), home=tmp_path)
    assert refused.returncode == 2 and "is a file" in refused.stderr
    version = run_binary("--version", home=tmp_path)
    assert version.returncode == 0 and "outbound-console" in version.stdout
