from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from console.sim import BayeuxSettings, Simulator
from tests.helpers import Gws, RawBayeux

PASSWORD = "pw-for-tests-7Qx"


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
