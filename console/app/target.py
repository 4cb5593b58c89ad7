"""Which server: the one place that turns a profile name and overrides (--profile, --url,
--user, --journal) into a resolved target — password asked once — and opens it (embedded
simulator if it is one, connection, journal that names the target on every line, engine).

    options = TargetOptions(profile="eu-prod")
    resolved = resolve_target(options, prompt=ask)       # ProfileError: nothing opened
    async with await open_target(resolved) as opened:    # GwsError: nothing left open
        print(opened.target.describe())
        tracked = await opened.engine.send(record)
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from console.domain.urls import has_credentials, safe_url
from console.errors import ConsoleError, ProfileError
from console.gws.connection import Connection, Secret
from console.profile import Profile, is_production
from console.profiles import (
    load_profile,
    missing_password,
    resolve_password,
    search_path,
)

if TYPE_CHECKING:  # the engine is imported when a target is opened, not when it is resolved
    from console.app.early_sim import EarlySimulator
    from console.domain.journal import Journal
    from console.gws.engine import Engine

__all__ = ["TargetOptions", "OptionConflict", "Target", "ResolvedTarget", "OpenTarget",
           "choose_profile", "resolve_target", "open_target", "connect", "PasswordPrompt"]

#: Asks for a password given a label; the skin decides how (terminal, dialog).
PasswordPrompt = Callable[[str], str]
#: What the user types for each option, for messages.
OPTION_FLAGS = {"profile": "--profile", "profiles_dir": "--profiles", "url": "--url",
                "user": "--user", "journal": "--journal"}


class OptionConflict(ConsoleError):
    """An option given twice (before and after the command) with different values."""


@dataclass(frozen=True)
class TargetOptions:
    """What was asked for: a profile and overrides (CLI flags, TUI start, notebook args)."""

    profile: str | None = None
    """Profile name (None: demo, the embedded simulator, unless `url` is given)."""
    profiles_dir: Path | None = None
    """Directory searched first for profiles (and their templates)."""
    url: str | None = None
    """GWS base URL, overriding the profile's."""
    user: str | None = None
    """GWS user, overriding the profile's."""
    journal: Path | None = None
    """Journal file (None: one per day in the user state dir)."""

    def given(self) -> list[str]:
        """The flags of the options that were given, e.g. ['--url', '--user']."""
        return [OPTION_FLAGS[f.name] for f in fields(self) if getattr(self, f.name) is not None]

    def merged(self, after: TargetOptions) -> TargetOptions:
        """These options (given before the command) with `after` (given after it): each taken
        from wherever it was given; OptionConflict when both give it with different values."""
        values: dict[str, Any] = {}
        for item in fields(self):
            mine, theirs = getattr(self, item.name), getattr(after, item.name)
            if mine is not None and theirs is not None and not _same(mine, theirs):
                flag = OPTION_FLAGS[item.name]
                raise OptionConflict(
                    f"{flag} is given before the command ({_shown(item.name, mine)}) and after "
                    f"it ({_shown(item.name, theirs)}): give it once")
            values[item.name] = mine if mine is not None else theirs
        return TargetOptions(**values)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Path) and isinstance(b, Path):
        return a.expanduser().resolve() == b.expanduser().resolve()
    return bool(a == b)


def _shown(name: str, value: Any) -> str:
    return safe_url(str(value)) if name == "url" else str(value)


def _refuse_credentials(url: str, where: str) -> None:
    if has_credentials(url):
        raise ProfileError(
            f"{where}: the URL holds a user or password ({safe_url(url)}); refused, so that it "
            "is never printed or journaled. Give the URL without it, the user with --user (or "
            "the profile's username) and the password in OUTBOUND_CONSOLE_PASSWORD, the "
            "profile's password_from, or at the prompt")


@dataclass(frozen=True)
class Target:
    """Which server this is: on every output line, journal line and screen."""

    profile: str
    """Profile name (`demo`, `eu-prod`, or `(flags)` for --url without a profile)."""
    url: str
    """GWS base URL (the embedded simulator's loopback URL once started)."""
    user: str
    """GWS user."""
    simulator: bool
    """The embedded simulator (no real GWS is contacted)."""
    environment: str | None
    """The profile's `environment:` (`production`, `staging`...); `simulator` for the embedded
    simulator; None when the profile does not say."""

    @property
    def production(self) -> bool:
        """The profile says production (`is_production`): bulk sends ask first, every output
        says PRODUCTION."""
        return is_production(self.environment)

    @property
    def marker(self) -> str:
        """SIMULATOR, PRODUCTION (for every production environment, `eu-prod` too: the word
        the guard goes by), else the environment in capitals, or '' when unknown."""
        if self.simulator:
            return "SIMULATOR"
        if self.production:
            return "PRODUCTION"
        return (self.environment or "").upper()

    def as_json(self) -> dict[str, Any]:
        """The `target` object of every --json line and journal line."""
        return {"profile": self.profile, "url": self.url, "user": self.user,
                "simulator": self.simulator, "environment": self.environment}

    def tag(self) -> str:
        """Short, for verdict lines: `[PRODUCTION eu-prod agent7@gws.eu:8090]`."""
        host = urlsplit(self.url).netloc or self.url
        return "[" + " ".join(p for p in (self.marker, self.profile, f"{self.user}@{host}")
                              if p) + "]"

    def describe(self) -> str:
        """One line naming everything: `target: PRODUCTION profile eu-prod, https://..., user
        agent7`."""
        mark = f"{self.marker} " if self.marker else ""
        return f"target: {mark}profile {self.profile}, {self.url}, user {self.user}"


def choose_profile(name: str | None, profiles_dir: Path | None, url: str | None,
                   user: str | None) -> Profile:
    """The profile named, or an ad-hoc one from --url, or the demo; --url/--user override it.
    ProfileError for an unknown or bad profile, or a URL that holds credentials."""
    if url is not None:
        _refuse_credentials(url, "--url")
        if not url.startswith(("http://", "https://")):
            raise ProfileError(f"--url must start with https:// or http://, got {url!r} "
                               "(e.g. https://gws.example.com:8090)")
    if name is None and url is not None:
        profile = Profile(name="(flags)", url=url, username=user)
    else:
        profile = load_profile(name or "demo", search_path(profiles_dir))
    if url is not None:
        profile = replace(profile, url=url, simulator=False)
    elif profile.url:
        _refuse_credentials(profile.url, f"profile {profile.name!r}")
    if user is not None:
        if not user.strip():
            raise ProfileError(f"--user is empty ({user!r}): give the GWS user (e.g. --user "
                               "agent007), or leave --user out to use the profile's username")
        profile = replace(profile, username=user)
    if not profile.simulator and not profile.username:
        raise ProfileError(f"no GWS user for {profile.name!r}: give --user or the profile's "
                           "username")
    return profile


@dataclass(frozen=True)
class ResolvedTarget:
    """A profile with every override applied and its password, resolved once."""

    profile: Profile
    """The profile as it will be used."""
    password: Secret | None
    """The password (None: the embedded simulator makes its own, or it was not needed)."""
    journal: Path | None = None
    """Journal file (None: one per day in the user state dir)."""

    @property
    def target(self) -> Target:
        """Which server (for the embedded simulator, its URL is known once it runs)."""
        profile = self.profile
        return Target(profile=profile.name, url=profile.url or "(embedded simulator)",
                      user=profile.username or "demo", simulator=profile.simulator,
                      environment="simulator" if profile.simulator else
                      (profile.environment or None))

    def with_password(self, password: str | Secret | None = None,
                      prompt: PasswordPrompt | None = None) -> ResolvedTarget:
        """This target with its password: `password` if given, else the environment, the
        keyring or `prompt` (ProfileError when there is none). The embedded simulator needs
        none."""
        if self.profile.simulator or self.password is not None:
            return self
        if password is not None:
            secret = password if isinstance(password, Secret) else Secret(password)
        else:
            secret = resolve_password(self.profile, prompt)
        if not secret.reveal():
            raise missing_password(self.profile)  # none typed, or no terminal to ask on
        return replace(self, password=secret)

    def answer(self, label: str) -> str:
        """The resolved password as a prompt's answer: the bridge for a skin that still asks
        through a prompt callable (the TUI until it opens its target here)."""
        return self.password.reveal() if self.password is not None else ""


def resolve_target(options: TargetOptions, *, password: str | Secret | None = None,
                   prompt: PasswordPrompt | None = None,
                   need_password: bool = True) -> ResolvedTarget:
    """The profile and overrides resolved and, with `need_password`, the password taken once
    (given, environment, keyring, or `prompt`). ProfileError says what is wrong and what to
    do. Without `need_password`, take it later with `with_password` (e.g. after checking the
    input, so that a typo does not cost a password prompt)."""
    profile = choose_profile(options.profile, options.profiles_dir, options.url, options.user)
    resolved = ResolvedTarget(profile, None, options.journal)
    return resolved.with_password(password, prompt) if need_password else resolved


class OpenTarget:
    """An opened target: its connection, journal and engine (and the embedded simulator when
    it is one). Close it (or use `async with`) to stop everything it started."""

    def __init__(self, target: Target, profile: Profile, connection: Connection,
                 journal: Journal, engine: Engine) -> None:
        self.target = target
        """Which server (with the embedded simulator's real URL)."""
        self.profile = profile
        """The profile as used."""
        self.connection = connection
        """How to reach it."""
        self.journal = journal
        """Where everything is written; every line names the target."""
        self.engine = engine
        """Session, stream, tracker: send and follow."""

    async def close(self) -> None:
        await self.engine.close()

    async def __aenter__(self) -> OpenTarget:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


async def open_target(resolved: ResolvedTarget, *, ack_timeout_s: float = 10.0,
                      channels: tuple[str, ...] | None = None, stream: bool = True,
                      clock: Callable[[], float] | None = None, sim_port: int = 0,
                      wait_connected_s: float = 15.0, start: bool = True,
                      on_item: Callable[[Any], None] | None = None,
                      early: EarlySimulator | None = None) -> OpenTarget:
    """Start the embedded simulator (if it is one), build connection, journal and engine, and
    (with `start`) open the GWS session and the stream. With `start=False` the caller opens it
    (`await opened.engine.open()`), e.g. to show the target before connecting. A failure
    leaves nothing running."""
    from console.domain.journal import Journal
    from console.gws.engine import Engine

    connection, cleanup = await connect(resolved, sim_port=sim_port, early=early)
    profile = resolved.profile
    target = replace(resolved.target, url=connection.base_url)
    journal = Journal(path=resolved.journal, secrets=(connection.password.reveal(),),
                      target=target.as_json())
    engine = Engine(connection, journal=journal, ack_timeout_s=ack_timeout_s,
                    channels=channels, stream=stream, clock=clock)
    if cleanup is not None:
        engine.on_close(cleanup)
    if on_item is not None:
        engine.on_item(on_item)
    opened = OpenTarget(target, profile, connection, journal, engine)
    if start:
        try:
            await engine.open(wait_connected_s=wait_connected_s)
        except BaseException:
            await engine.close()
            raise
    return opened


async def connect(resolved: ResolvedTarget, *, sim_port: int = 0,
                  early: EarlySimulator | None = None,
                  ) -> tuple[Connection, Callable[[], Awaitable[None]] | None]:
    """The connection, after starting the embedded simulator when the profile is it (or
    taking the one started `early`, in its own process, once); the second item stops that
    simulator (None: nothing to stop)."""
    profile = resolved.profile
    if not profile.simulator:
        if resolved.password is None:
            raise ProfileError(f"no password resolved for profile {profile.name!r}")
        return profile.connection(resolved.password), None
    if early is not None and not early.claimed and sim_port == 0:
        early.claimed = True
        url = await early.url()
        if url is not None:
            return profile.connection(Secret(early.password), url=url), early.stop
    from console.sim import Simulator  # the simulator is only imported when used

    password = secrets.token_urlsafe(16)
    sim = Simulator(user=profile.username or "demo", password=password, port=sim_port)
    await sim.start()
    return profile.connection(Secret(password), url=sim.url), sim.stop
