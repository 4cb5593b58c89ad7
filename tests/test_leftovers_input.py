"""Input that used to end in a traceback or slip past the YAML rules: a deeply nested JSON
`--set` value, lone surrogates in event data printed by `watch`, and the keymap file read
without console/domain/yamlfile.py (duplicate keys, depth, line numbers)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest

from console.cli.commands import parse_sets
from console.domain.yamlfile import MAX_DEPTH
from console.tui.keymap import load_keymap
from tests.cli_helpers import isolated_env
from tests.hostile import HostileServer

KNOWN = ("request.send", "app.quit")


# -- --set with deeply nested JSON ----------------------------------------------------------
def test_deeply_nested_json_in_set_is_a_usage_error_naming_the_key() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(click.UsageError) as caught:
        parse_sets((f"otherFields={deep}",), json_values=True)
    assert "otherFields" in caught.value.message
    assert "nested" in caught.value.message


def test_deeply_nested_set_on_the_command_line_exits_without_a_traceback(tmp_path: Path) -> None:
    deep = "[" * 30_000 + "]" * 30_000
    proc = subprocess.run(
        [sys.executable, "-m", "console.cli", "send", "--set", f"otherFields={deep}",
         "--set", "phoneNumber=5551234"],
        capture_output=True, text=True, env=isolated_env(tmp_path), cwd=tmp_path, timeout=60)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert "otherFields" in proc.stderr


def test_moderately_nested_json_in_set_still_parses() -> None:
    value = parse_sets(('otherFields={"a": {"b": [1, 2]}}',), json_values=True)
    assert value == {"otherFields": {"a": {"b": [1, 2]}}}


# -- watch printing lone surrogates ---------------------------------------------------------
@pytest.mark.parametrize("as_json", [True, False], ids=["json", "human"])
async def test_watch_prints_lone_surrogates_escaped(tmp_path: Path, as_json: bool) -> None:
    async with HostileServer() as server:
        env = isolated_env(tmp_path, password="pw", PYTHONIOENCODING="utf-8")
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "console.cli", "watch", "--url", server.url, "--user", "agent",
            *(["--json"] if as_json else []), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=env, cwd=tmp_path)
        try:
            deadline = time.monotonic() + 30
            data = {"referenceId": "a\ud800b\udfffc-é"}
            while server.publish("/v2/me/outbound", data) == 0:
                assert time.monotonic() < deadline, "watch never subscribed"
                await asyncio.sleep(0.05)
            server.publish("/v2/me/outbound", {"referenceId": "next"})
            assert proc.stdout is not None
            lines: list[str] = []
            while not any("next" in line for line in lines):
                try:
                    raw = await asyncio.wait_for(proc.stdout.readline(), 30)
                except asyncio.TimeoutError:
                    raise AssertionError(f"watch printed nothing more after {lines}") from None
                assert raw, f"watch stopped printing after {lines}"
                lines.append(raw.decode("utf-8"))
        finally:
            proc.terminate()
            _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert b"Traceback" not in err and b"UnicodeEncodeError" not in err, err.decode()[-2000:]
    [line] = [line for line in lines if "\\ud800" in line]
    assert "\\udfff" in line and "é" in line
    if as_json:
        event = json.loads(line)
        assert event["data"]["referenceId"] == "a\ud800b\udfffc-é"
        assert event["target"] is not None


# -- the keymap file through console/domain/yamlfile.py -------------------------------------------
def test_keymap_refuses_a_key_given_twice_with_both_lines(tmp_path: Path) -> None:
    path = tmp_path / "keymap.yaml"
    path.write_text("request.send: f9\napp.quit: ctrl+q\nrequest.send: f8\n")
    keymap, problem = load_keymap(path, KNOWN)
    assert keymap == {}
    assert problem is not None
    assert f"{path}:3:" in problem and "duplicate key 'request.send'" in problem
    assert "line 1" in problem


def test_keymap_refuses_deep_nesting_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "keymap.yaml"
    path.write_text("request.send: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n")
    keymap, problem = load_keymap(path, KNOWN)
    assert keymap == {}
    assert problem is not None and "nested too deeply" in problem


def test_keymap_refuses_a_huge_file(tmp_path: Path) -> None:
    path = tmp_path / "keymap.yaml"
    path.write_text("# " + "x" * (2 * 1024 * 1024) + "\nrequest.send: f9\n")
    keymap, problem = load_keymap(path, KNOWN)
    assert keymap == {}
    assert problem is not None and "too big" in problem


def test_keymap_unknown_id_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "keymap.yaml"
    path.write_text("app.quit: ctrl+q\nrequest.sned: f9\n")
    keymap, problem = load_keymap(path, KNOWN)
    assert keymap == {"app.quit": "ctrl+q"}
    assert problem is not None
    assert f"{path}:2:" in problem and "request.sned" in problem and "request.send" in problem


def test_keymap_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "keymap.yaml"
    path.write_text("app.quit: ctrl+q\nrequest.send: [f9\n")
    keymap, problem = load_keymap(path, KNOWN)
    assert keymap == {}
    assert problem is not None and f"{path}:" in problem and "ignored" in problem


def test_keymap_a_key_that_is_no_key_is_named_and_the_rest_applied(tmp_path: Path) -> None:
    """Found by a newcomer: `request.send: "ctrl+nonsense key"` was taken as it was: the footer
    said `^nonsense key Send` and ctrl+s sent nothing any more, without a word. And one value
    that was not text (`app.quit: 9`) made the whole file ignored, naming no line."""
    path = tmp_path / "keymap.yaml"
    path.write_text('request.send: "ctrl+nonsense key"\napp.quit: 9\n'
                    "request.curl: ctrl+y,f7,shift+tab,question_mark,a\n")
    keymap, problem = load_keymap(path, (*KNOWN, "request.curl"))
    assert keymap == {"request.curl": "ctrl+y,f7,shift+tab,question_mark,a"}
    assert problem is not None
    assert f"{path}:1: request.send: 'ctrl+nonsense key' is no key" in problem, problem
    assert f"{path}:2:" in problem and "'9'" in problem, problem
