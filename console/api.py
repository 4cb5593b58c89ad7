"""The engine for scripts and notebooks (top-level `await` in Jupyter/IPython):

    from console.api import connect
    engine = await connect()                       # the embedded simulator; or connect("prod")
    tracked = await engine.send({"applicationId": 134, "campaignName": "Campaign1", ...})
    await engine.wait(tracked)

It opens its target exactly as the command line does (console.app.target): the same profile
search, the same refusals (a URL holding credentials, a missing password), the target on
every journal line. For replays, see console.app.replay (ReplayRun).
"""

from __future__ import annotations

from pathlib import Path

from console.app.target import TargetOptions, open_target, resolve_target
from console.engine import Engine

__all__ = ["connect"]


async def connect(profile: str | None = None, *, url: str | None = None, user: str | None = None,
                  password: str | None = None, profiles_dir: Path | None = None,
                  journal: Path | None = None, ack_timeout_s: float = 10.0) -> Engine:
    """An open Engine on a profile (default: demo, the embedded simulator) or on url/user;
    the password from `password`, else the environment or keyring (never a prompt). Close
    it with `await engine.close()`."""
    resolved = resolve_target(TargetOptions(profile, profiles_dir, url, user, journal),
                              password=password)
    opened = await open_target(resolved, ack_timeout_s=ack_timeout_s)
    return opened.engine
