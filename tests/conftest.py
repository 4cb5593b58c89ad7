from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from console.sim import BayeuxSettings, Simulator
from tests.helpers import Gws, RawBayeux

PASSWORD = "pw-for-tests-7Qx"

#: Where the console reads and writes per user (journal, keymap, profiles, templates), each
#: pointed at a fresh temporary folder for every test, and so for every subprocess it starts.
HOME_VARIABLES = {"HOME": "home", "XDG_CONFIG_HOME": "home/.config",
                  "XDG_STATE_HOME": "home/.local/state", "XDG_DATA_HOME": "home/.local/share",
                  "XDG_CACHE_HOME": "home/.cache", "OUTBOUND_CONSOLE_HOME": "console-home"}


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
