"""Turn a profile (or --url/--user flags) into a live Connection; for the demo profile this
starts the embedded simulator in-process first."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Callable

from console.connection import Connection, Secret
from console.profiles import Profile, load_profile, resolve_password, search_path

__all__ = ["choose_profile", "open_connection"]


def choose_profile(name: str | None, profiles_dir: Path | None, url: str | None,
                   user: str | None) -> Profile:
    """The profile named, or an ad-hoc one from --url, or the demo; flags override it."""
    if name is None and url is not None:
        profile = Profile(name="(flags)", url=url, username=user)
    else:
        profile = load_profile(name or "demo", search_path(profiles_dir))
    if url is not None:
        profile = replace(profile, url=url, simulator=False)
    if user is not None:
        profile = replace(profile, username=user)
    return profile


@asynccontextmanager
async def open_connection(profile: Profile, prompt: Callable[[str], str] | None,
                          sim_port: int = 0) -> AsyncIterator[Connection]:
    if not profile.simulator:
        yield profile.connection(resolve_password(profile, prompt))
        return
    from console.sim import Simulator  # the simulator is only imported when used

    password = secrets.token_urlsafe(16)
    async with Simulator(user=profile.username or "demo", password=password,
                         port=sim_port) as sim:
        yield profile.connection(Secret(password), url=sim.url)
