"""End to end: the installed `outbound-console` in tmux at 80x24, keystrokes only."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tests.test_cli_engine import BIN
from tests.tui_helpers import profiles_copy


def tmux(socket: str, *args: str) -> str:
    return subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True,
                          timeout=10).stdout


def screen(socket: str) -> str:
    return tmux(socket, "capture-pane", "-p", "-t", "oc")


def wait_for(socket: str, text: str, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        shown = screen(socket)
        if text in shown:
            return shown
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} never appeared; the screen was:\n{shown}")
        time.sleep(0.1)


@pytest.fixture(params=["xterm-256color", "xterm", "screen"])
def session(tmp_path: Path, request: pytest.FixtureRequest) -> object:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed: the end-to-end test needs it (see .ci/run)")
    socket = f"oc-test-{uuid.uuid4().hex[:8]}"
    profiles = profiles_copy(tmp_path)
    # The TERM the console itself sees inside the pane.
    command = (f"env TERM={request.param} {BIN} --profiles {profiles} "
               f"--journal {tmp_path / 'journal.jsonl'}")
    env = {**os.environ, "OUTBOUND_CONSOLE_HOME": str(tmp_path)}
    subprocess.run(["tmux", "-L", socket, "new-session", "-d", "-s", "oc", "-x", "80", "-y",
                    "24", command], env=env, check=True, timeout=10)
    yield socket
    tmux(socket, "kill-server")


def test_send_a_template_with_keystrokes_only(session: str, tmp_path: Path) -> None:
    socket = session
    first = wait_for(socket, "connected")
    assert "SIMULATOR" in first
    tmux(socket, "send-keys", "-t", "oc", "F4")
    wait_for(socket, "Campaign1")
    for key in ("Down", "Down", "Down"):  # Campaign1 > CallingList1 > doc-sample
        tmux(socket, "send-keys", "-t", "oc", key)
        time.sleep(0.1)
    wait_for(socket, "documentation sample")
    tmux(socket, "send-keys", "-t", "oc", "Enter")
    wait_for(socket, "InstantMessaging")  # the form holds the template
    tmux(socket, "send-keys", "-t", "oc", "C-s")
    shown = wait_for(socket, "acknowledged in")
    assert "ms" in shown.split("acknowledged in", 1)[1].splitlines()[0]
    tmux(socket, "send-keys", "-t", "oc", "F3")
    events = wait_for(socket, "AddRecordAcknowledge")
    assert "/v2/me/outbound" in events and "/me/internal" in events
    journal = (tmp_path / "journal.jsonl").read_text()
    assert '"state": "acknowledged"' in journal


def test_no_color_is_respected(tmp_path: Path) -> None:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed: the end-to-end test needs it (see .ci/run)")
    socket = f"oc-test-{uuid.uuid4().hex[:8]}"
    command = f"env NO_COLOR=1 TERM=xterm-256color {BIN} --journal {tmp_path / 'j.jsonl'}"
    subprocess.run(["tmux", "-L", socket, "new-session", "-d", "-s", "oc", "-x", "80", "-y",
                    "24", command], check=True, timeout=10,
                   env={**os.environ, "OUTBOUND_CONSOLE_HOME": str(tmp_path)})
    try:
        wait_for(socket, "connected")
        coloured = tmux(socket, "capture-pane", "-e", "-p", "-t", "oc")
        # With NO_COLOR there are no colour escapes (38;5;n / 48;5;n / 38;2;r;g;b), only
        # attributes such as bold and reverse.
        assert not re.search(r"\x1b\[[0-9;]*(38|48);[25];", coloured), coloured[:400]
    finally:
        tmux(socket, "kill-server")
