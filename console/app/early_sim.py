"""The embedded simulator started early, in a process of its own (console/sim/child.py).

Why: "connected" on the embedded simulator was mostly imports. The simulator's (aiohttp.web
and its modules, ~0.3 s) ran in the console's process after the first frame, on one core
under the GIL, beside the engine's imports and the first screen's drawing. Started as a child
before the console imports Textual, they run on another core meanwhile (bench/tui.py,
"connected").

The child is the console's for its whole life: it gets its password on a pipe (never on the
command line or in the environment), says its URL on another, and stops when its stdin closes
(the console closed it, exited, or was killed: nothing is left behind). It is a new session,
so a Ctrl-C meant for the console never reaches it. When it cannot be used (a one-file build,
no URL within the wait, it died), `connect` starts the simulator in-process as before.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys

__all__ = ["EarlySimulator"]

#: How long `url()` waits for the child to say it listens before giving up on it.
URL_WAIT_S = 10.0


class EarlySimulator:
    """A simulator child process, started before the console needs it."""

    def __init__(self, process: subprocess.Popen[bytes], password: str) -> None:
        self.process = process
        self.password = password
        """The password the child accepts (held in memory only)."""
        self.claimed = False
        """`connect` took it (a second connect, e.g. a retry, starts its own in-process)."""

    @classmethod
    def spawn(cls, user: str) -> EarlySimulator | None:
        """Start the child (None when it cannot be: a one-file build, no fork)."""
        if getattr(sys, "frozen", False):  # the one-file build has no `python -m`
            return None
        password = secrets.token_urlsafe(16)
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "console.sim.child", user], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True,
                close_fds=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
            assert process.stdin is not None
            process.stdin.write(password.encode() + b"\n")
            process.stdin.flush()
        except (OSError, ValueError):
            return None
        return cls(process, password)

    async def url(self, wait_s: float = URL_WAIT_S) -> str | None:
        """The child's URL once it listens; None (and the child stopped) when it does not say
        one within `wait_s`."""
        stdout = self.process.stdout
        assert stdout is not None
        try:
            line = await asyncio.wait_for(asyncio.to_thread(stdout.readline), wait_s)
        except TimeoutError:
            line = b""
        url = line.decode("ascii", "replace").strip()
        if not url.startswith("http://127.0.0.1:"):
            await self.stop()
            return None
        return url

    async def stop(self) -> None:
        """Close its stdin (it stops its server and exits); killed if it has not within 5 s."""
        process = self.process
        if process.stdin is not None and not process.stdin.closed:
            try:
                process.stdin.close()
            except OSError:
                pass
        try:
            await asyncio.to_thread(process.wait, 5.0)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait)
        if process.stdout is not None:
            process.stdout.close()
