"""Type-ahead: keys that arrive together land where the same keys typed slowly land.

Over SSH, keys come in bursts (a laggy link, a paste, a fast typist). Textual routes each key
to the widget focused when the key is taken from the app's queue, but the effects of a key
(a Tab that moves the focus, an Enter that loads a template and shows the form, an F-key that
switches panes, a key that opens a dialog) happen later, in other widgets' queues, in workers,
in callbacks. So `134 Tab Campaign1` sent at once typed everything into the first field.

The gate here holds every key (and paste) that arrives while the previous one is still having
effects, and routes it only once the app has settled: the app and every widget of the screens
on the stack have processed what was queued to them, twice in a row with no widget left with
anything queued (so chains of messages are followed to their end; the app's own queue, which
its timers keep busy, is left out of that test), and no worker of a dialog or of a form flow is
still running. A key that arrives when nothing is in flight is routed at once, so single key
presses cost nothing. The wait is bounded (`max_wait_s`): a key is never held longer, whatever the app is doing.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from textual import events

if TYPE_CHECKING:
    from textual.app import App

__all__ = ["TypeAhead", "UI_WORKER_GROUPS"]

#: Groups of app workers whose work a key waits for (they change the form, focus or screen).
UI_WORKER_GROUPS = frozenset({"form"})


class TypeAhead:
    """Holds the keys that come too early and releases them in order once the app settles."""

    def __init__(self, app: App[Any], *, max_wait_s: float = 2.0, quiet_rounds: int = 2) -> None:
        self.app = app
        self.max_wait_s = max_wait_s
        """Longest a key waits for the previous key's effects."""
        self.quiet_rounds = quiet_rounds
        """Rounds in a row with nothing queued anywhere that count as settled."""
        self.held: deque[events.Event] = deque()
        """Keys and pastes waiting for their turn, in arrival order."""
        self._release: events.Event | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def busy(self) -> bool:
        """A key is still having effects (keys arriving now are held)."""
        return self._task is not None and not self._task.done()

    def hold(self, event: events.Event) -> bool:
        """Called for each key or paste from the terminal: True when the gate keeps it (it is
        routed later), False when the app should route it now."""
        if event is self._release:
            self._release = None
            return False
        if self.busy:
            self.held.append(event)
            return True
        self._task = asyncio.get_running_loop().create_task(self._run())
        return False

    async def settled(self) -> None:
        """Wait until every held key has been routed and has had its effects (for tests)."""
        while self.busy:
            assert self._task is not None
            await asyncio.shield(self._task)

    async def _run(self) -> None:
        await self._settle()
        while self.held:
            event = self.held.popleft()
            self._release = event
            self.app.post_message(event)
            await self._settle()

    async def _settle(self) -> None:
        deadline = time.monotonic() + self.max_wait_s
        quiet = 0
        while quiet < self.quiet_rounds:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self.app.is_running:
                return
            pumps = self._pumps()
            if not await self._barrier(pumps, remaining):
                return
            # The app's own queue is left out: its timers (the event pane's drain, 20 times a
            # second) keep it busy during a flood. The barrier still waits for what it was
            # doing, and two quiet rounds in a row catch what the key made it post.
            idle = self._release is None and not self._ui_workers() and \
                not any(p.message_queue_size for p in self._pumps() if p is not self.app)
            quiet = quiet + 1 if idle else 0

    def _pumps(self) -> list[Any]:
        """The app and every widget of every screen on the stack (a key in a dialog may
        change the screen below it, e.g. a confirmation that loads the form)."""
        pumps: list[Any] = [self.app]
        for screen in self.app.screen_stack:
            pumps.extend(screen.walk_children(with_self=True))
        return pumps

    def _ui_workers(self) -> bool:
        """A worker that changes what the next key meets is running: one started by a dialog
        or widget (e.g. the command palette's search), or an app worker of a form flow."""
        for worker in self.app.workers:
            if worker.is_finished:
                continue
            if worker.node is not self.app or worker.group in UI_WORKER_GROUPS:
                return True
        return False

    @staticmethod
    async def _barrier(pumps: list[Any], timeout: float) -> bool:
        """Wait until each pump has processed what was queued to it before now."""
        pending = 0
        done = asyncio.Event()

        def tick() -> None:
            nonlocal pending
            pending -= 1
            if pending == 0:
                done.set()

        # Textual counts a callback's parameters with inspect.signature unless told: once per
        # widget per round otherwise (a new function each round), which a flood makes slow.
        setattr(tick, "_param_count", 0)  # noqa: B010

        for pump in pumps:
            if pump.call_later(tick):
                pending += 1
        if pending == 0:
            return True
        try:
            await asyncio.wait_for(done.wait(), timeout)
        except asyncio.TimeoutError:
            return False
        return True
