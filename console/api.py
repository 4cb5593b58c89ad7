"""The engine for scripts and notebooks (top-level `await` in Jupyter/IPython):

    from console.api import connect
    engine = await connect()                       # the embedded simulator; or connect("prod")
    tracked = await engine.send({"applicationId": 134, "campaignName": "Campaign1", ...})
    await engine.wait(tracked)
"""

from __future__ import annotations

from pathlib import Path

from console.connection import Secret
from console.engine import Engine
from console.journal import Journal
from console.profiles import resolve_password
from console.target import choose_profile

__all__ = ["connect"]


async def connect(profile: str | None = None, *, url: str | None = None, user: str | None = None,
                  password: str | None = None, profiles_dir: Path | None = None,
                  journal: Path | None = None, ack_timeout_s: float = 10.0) -> Engine:
    """An open Engine on a profile (default: demo, the embedded simulator) or on --url/--user.
    Close it with `await engine.close()`."""
    chosen = choose_profile(profile, profiles_dir, url, user)
    cleanup = None
    if chosen.simulator:
        from console.sim import Simulator

        sim = await Simulator(user=chosen.username or "demo").start()
        connection = chosen.connection(Secret(sim.password), url=sim.url)
        cleanup = sim.stop
    else:
        secret = Secret(password) if password is not None else resolve_password(chosen, None)
        connection = chosen.connection(secret)
    engine = Engine(connection, ack_timeout_s=ack_timeout_s,
                    journal=Journal(path=journal, secrets=(connection.password.reveal(),)))
    if cleanup is not None:
        engine.on_close(cleanup)
    try:
        return await engine.open()
    except BaseException:
        await engine.close()
        raise
