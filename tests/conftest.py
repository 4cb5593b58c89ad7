from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from console.sim import BayeuxSettings, Simulator
from tests.helpers import Gws, RawBayeux, process_ended

PASSWORD = "pw-for-tests-7Qx"

#: Where the console reads and writes per user (journal, keymap, profiles, templates), each
#: pointed at a fresh temporary folder for every test, and so for every subprocess it starts.
HOME_VARIABLES = {"HOME": "home", "XDG_CONFIG_HOME": "home/.config",
                  "XDG_STATE_HOME": "home/.local/state", "XDG_DATA_HOME": "home/.local/share",
                  "XDG_CACHE_HOME": "home/.cache", "OUTBOUND_CONSOLE_HOME": "console-home"}


def left_behind(basetemp: str) -> list[str]:
    """Processes this test session started that still run: their environment (every test's
    HOME is in the session's temporary folder, see `isolated_home`) or their folder is in it.
    Zombies are left out (their parent reaps them)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        if process_ended(int(entry.name)):
            continue
        try:
            mine = basetemp.encode() in (entry / "environ").read_bytes() or \
                os.readlink(entry / "cwd").startswith(basetemp)
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ")[:200]
        except OSError:
            continue  # gone meanwhile, or not ours to read
        if mine:
            found.append(f"{entry.name}: {command.decode(errors='replace')}")
    return found


@pytest.fixture(scope="session", autouse=True)
def no_process_left_behind(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """After the last test, nothing a test started still runs (a console, a simulator, a tmux
    server, a node server): a console that sleeps on after its terminal went was found only
    by chance once. Processes get 15 s to finish exiting."""
    yield
    basetemp = str(tmp_path_factory.getbasetemp())
    deadline = time.monotonic() + 15
    left = left_behind(basetemp)
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = left_behind(basetemp)
    assert not left, "processes started by the tests still run:\n" + "\n".join(left)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory,
                  monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No test reads or writes the real home: HOME, the XDG folders and OUTBOUND_CONSOLE_HOME
    point into a temporary folder (os.environ, so subprocesses inherit it)."""
    root = tmp_path_factory.mktemp("isolated")
    for name, relative in HOME_VARIABLES.items():
        path = root / relative
        path.mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(name, str(path))
    yield root


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    # Short holds and sweeps so protocol tests run in well under a second each.
    settings = BayeuxSettings(timeout_ms=2000, max_interval_ms=1000, sweep_period_s=0.1)
    async with Simulator(password=PASSWORD, bayeux=settings) as simulator:
        yield simulator


@pytest.fixture
async def gws(sim: Simulator) -> AsyncIterator[Gws]:
    client = Gws(sim.url, sim.user, sim.password)
    await client.start()
    yield client
    await client.close()


@pytest.fixture
async def bayeux(sim: Simulator) -> AsyncIterator[RawBayeux]:
    client = RawBayeux(sim.url, sim.user, sim.password)
    yield client
    await client.close()
