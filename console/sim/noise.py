"""Unrelated traffic a real GWS node publishes besides the outbound notifications: device state
changes on /v2/me/devices and calls on /v2/me/calls (documented topics and message shapes,
"CometD notifications" pages; the values are made up). Setting `noise_per_s` sets the rate per
user; 0 (the default, our choice) is off.

The noise uses the user's last device (DN 5002 for the demo user) and toggles its do-not-disturb
or walks a made-up inbound call through Ringing, Established and Released, so it never touches
the agent state StartContactCenterSession sets on the first device.
"""

from __future__ import annotations

import asyncio
import itertools
import random

from console.sim.backend import Backend
from console.sim.catalog import User
from console.sim.notifications import (
    CALLS_CHANNEL,
    DEVICES_CHANNEL,
    call_state_change,
    device_state_change,
)
from console.tasks import cancel_and_wait

__all__ = ["Noise"]

_CALL_STATES = ("Ringing", "Established", "Released")


class Noise:
    """Publishes unrelated notifications at the rate the settings ask for."""

    def __init__(self, backend: Backend, seed: int = 0) -> None:
        self.backend = backend
        self.published = 0
        """Notifications published so far."""
        self._rng = random.Random(seed)
        self._dnd = itertools.count()
        self._calls = itertools.count()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    async def _run(self) -> None:
        while True:
            rate = self.backend.settings.noise_per_s
            if rate <= 0:
                await asyncio.sleep(0.1)
                continue
            await asyncio.sleep(1.0 / rate)
            for user in list(self.backend.users.values()):
                self.once(user)

    def once(self, user: User) -> None:
        """One unrelated notification for `user`."""
        if not user.devices:
            return
        device = user.devices[-1]
        if self._rng.random() < 0.4:
            dnd = next(self._dnd) % 2 == 0
            data = device_state_change(device, logged_in=False, do_not_disturb=dnd)
            self.backend.publish(DEVICES_CHANNEL, data, user.user_name)
        else:
            call, step = divmod(next(self._calls), len(_CALL_STATES))
            state = _CALL_STATES[step]
            data = call_state_change(f"noise-{call:06d}", device, state,
                                     f"+4420{self._rng.randrange(10**7):07d}")
            self.backend.publish(CALLS_CHANNEL, data, user.user_name)
        self.published += 1
