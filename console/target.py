"""Kept for the TUI until it opens its target through `console.app.target` (which is now the
one place that resolves profiles, overrides and passwords and opens a target)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from console.app.target import PasswordPrompt, ResolvedTarget, choose_profile, connect
from console.gws.connection import Connection
from console.profiles import Profile, resolve_password

__all__ = ["choose_profile", "open_connection"]


@asynccontextmanager
async def open_connection(profile: Profile, prompt: PasswordPrompt | None,
                          sim_port: int = 0) -> AsyncIterator[Connection]:
    """A connection to `profile` (the embedded simulator started and stopped around it)."""
    password = None if profile.simulator else resolve_password(profile, prompt)
    connection, cleanup = await connect(ResolvedTarget(profile, password), sim_port=sim_port)
    try:
        yield connection
    finally:
        if cleanup is not None:
            await cleanup()
