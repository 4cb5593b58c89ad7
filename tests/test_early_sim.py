"""The embedded simulator started early in a child process (console/app/early_sim.py): the
console connects to it, and it never outlives the console (quit, or kill -9); when the child
cannot be used, the simulator starts in-process as before."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from console.app.early_sim import EarlySimulator
from console.app.target import TargetOptions, connect, resolve_target
from tests.helpers import ended_within, simulator_children
from tests.test_tui_tmux import exit_status, start, tmux, wait_for


@pytest.fixture
def console(tmp_path: Path) -> Iterator[tuple[str, int, int, str]]:
    """The console on the embedded simulator: (tmux socket, console pid, child pid, URL)."""
    socket = start(tmp_path, profiles=False)
    try:
        shown = wait_for(socket, "connected", timeout=30)
        url = re.search(r"http://127\.0\.0\.1:\d+", shown)
        assert url is not None, shown
        pid = int(tmux(socket, "display", "-p", "-t", "oc", "#{pane_pid}").strip())
        children = simulator_children(pid)
        assert len(children) == 1, children
        yield socket, pid, children[0], url.group(0)
    finally:
        tmux(socket, "kill-server")


def test_the_console_talks_to_its_child_simulator_which_ends_when_it_quits(
        console: tuple[str, int, int, str]) -> None:
    socket, _, child, url = console
    with urllib.request.urlopen(f"{url}/sim/state", timeout=10) as reply:
        state = json.load(reply)
    assert state["url"] == url  # the URL in the header is the child's
    assert state["httpSessions"] >= 1 and state["bayeux"]["sessions"]
    tmux(socket, "send-keys", "-t", "oc", "C-q")
    assert exit_status(socket) == "0/"
    assert ended_within([child], 15.0), "the simulator outlived the console"


def test_a_killed_console_leaves_no_simulator_behind(
        console: tuple[str, int, int, str]) -> None:
    _, pid, child, _ = console
    os.kill(pid, signal.SIGKILL)
    assert ended_within([child], 15.0), "the simulator outlived a console killed with -9"


async def test_connect_takes_the_early_child_once_then_starts_its_own() -> None:
    early = EarlySimulator.spawn("demo")
    assert early is not None
    resolved = resolve_target(TargetOptions())
    connection, stop = await connect(resolved, early=early)
    assert stop is not None and early.claimed
    try:
        async with httpx.AsyncClient() as client:
            me = await client.get(connection.api + "/me",
                                  auth=("demo", connection.password.reveal()))
        assert me.status_code == 200, me.text
        assert early.process.poll() is None
        # A retry (the first open failed) gets a simulator of its own, in-process.
        again, stop_again = await connect(resolved, early=early)
        assert again.base_url != connection.base_url and stop_again is not None
        await stop_again()
    finally:
        await stop()
    assert early.process.poll() is not None  # stopped with the engine


async def test_a_child_that_says_no_url_is_replaced_by_an_in_process_simulator() -> None:
    dead = subprocess.Popen([sys.executable, "-c", "import sys; sys.exit(3)"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    early = EarlySimulator(dead, "unused")
    connection, stop = await connect(resolve_target(TargetOptions()), early=early)
    assert stop is not None
    try:
        async with httpx.AsyncClient() as client:
            me = await client.get(connection.api + "/me",
                                  auth=("demo", connection.password.reveal()))
        assert me.status_code == 200
        assert connection.password.reveal() != "unused"
    finally:
        await stop()
    assert dead.poll() == 3


def test_the_password_reaches_the_child_only_on_its_pipe() -> None:
    early = EarlySimulator.spawn("demo")
    assert early is not None
    try:
        pid = early.process.pid
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        environ = Path(f"/proc/{pid}/environ").read_bytes()
        assert early.password.encode() not in cmdline + environ
    finally:
        early.process.stdin.close()  # type: ignore[union-attr]
        early.process.wait(10)


CONNECT_WITHOUT_SIM_IMPORTS = """
import asyncio, sys
from pathlib import Path
from console.app.early_sim import EarlySimulator
from console.profile import DEMO
from console.tui.app import OutboundApp
from console.tui.header import StatusHeader

async def main() -> None:
    app = OutboundApp(DEMO, journal_path=Path(sys.argv[1]),
                      early_sim=EarlySimulator.spawn("demo"))
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(400):
            if app.main(StatusHeader).status == "connected" and app.ready:
                break
            await pilot.pause(0.05)
        print(app.main(StatusHeader).status, "console.sim" in sys.modules,
              "aiohttp.web" in sys.modules)
        await app.action_quit()

asyncio.run(main())
"""


def test_with_the_child_the_console_never_imports_the_simulator(tmp_path: Path) -> None:
    """The point of the child: the simulator's imports (aiohttp.web) are not the console's."""
    done = subprocess.run([sys.executable, "-c", CONNECT_WITHOUT_SIM_IMPORTS,
                           str(tmp_path / "j.jsonl")], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path,
                          env={**os.environ, "HOME": str(tmp_path),
                               "OUTBOUND_CONSOLE_HOME": str(tmp_path)})
    assert done.stdout.split()[:3] == ["connected", "False", "False"], done.stdout + done.stderr
