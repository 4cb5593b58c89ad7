"""One profile: where a GWS is and how to log in (no secret inside). Light to import: the
console shows its first screen before anything heavier is loaded."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from console.gws.connection import Connection, Secret

__all__ = ["Profile", "ContactCenterSession", "DEMO", "DEFAULT_CHANNELS", "PASSWORD_ENV",
           "PRODUCTION_NAMES", "is_production"]

#: Wherever the AddRecord notifications may arrive: `/v2/me/*` covers /v2/me/outbound (the
#: acknowledgement [doc: Create Record]) and /v2/me/devices, where a real node most likely
#: publishes the DeviceUserEventMessage [inferred: GWS's topic for device messages], plus
#: /v2/me/calls; `/me/internal` is where the Create Record sample shows it [doc], outside
#: /v2/me/*. Unrelated traffic on those channels is shown, never correlated.
DEFAULT_CHANNELS: tuple[str, ...] = ("/v2/me/*", "/me/internal")
PASSWORD_ENV = "OUTBOUND_CONSOLE_PASSWORD"


@dataclass(frozen=True)
class ContactCenterSession:
    """The profile's `contact_center_session:`: whether the console logs the agent in on a DN
    (StartContactCenterSession, voice) after login and out (EndContactCenterSession) on exit."""

    start: bool = False
    """Start the session after login (and end it on exit)."""
    place: str | None = None
    """The place to log in on (GWS's `place`); None: the device below."""
    device_path: str | None = None
    """The device to log in on (GWS's `devicePath`, wins over `place`); None with no place:
    the device AddRecord uses (the profile's device_path, else the first GWS lists)."""
    end_on_exit: bool = True
    """End the session (log the agent out) when the console exits."""

    def describe(self) -> dict[str, Any]:
        return {"start": self.start, "place": self.place, "device_path": self.device_path,
                "end_on_exit": self.end_on_exit}


#: The words that make an `environment:` production (see `is_production`).
PRODUCTION_NAMES = frozenset({"production", "prod", "prd", "live"})
#: Between words: anything but letters and digits, a letter-digit change (`prod2`), a lower-
#: to upper-case change (`euProd`).
_WORD_BREAK = re.compile(r"[\W_]+|(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])|(?<=[a-z])(?=[A-Z])")


def is_production(environment: str | None) -> bool:
    """The one definition of production (the guard, the PRODUCTION badge and marker, the
    journal's target): any word of the environment (`_WORD_BREAK`), in any case, is a
    production name: `production-eu`, `EU_PROD`, `prod2`, `live 2`, and also `pre-prod`
    (asking once too often is the safe mistake); `preprod`, `staging` are not."""
    # NFKC first: a full-width ＰＲＯＤ (an IME, a paste) is PROD to a reader.
    text = unicodedata.normalize("NFKC", environment or "")
    return any(word.casefold() in PRODUCTION_NAMES for word in _WORD_BREAK.split(text))


@dataclass(frozen=True)
class Profile:
    """One GWS target (no secret inside)."""

    name: str
    """Profile name (the file name without .yaml)."""
    url: str | None = None
    """GWS base URL; None for the embedded simulator."""
    username: str | None = None
    """GWS user."""
    password_from: str = f"env:{PASSWORD_ENV}"
    """`env:NAME`, `keyring` or `prompt`."""
    device_path: str | None = None
    """Device for AddRecord; None: discover it from GWS."""
    channels: tuple[str, ...] = DEFAULT_CHANNELS
    """CometD channels."""
    verify: bool = True
    """TLS verification (stays on unless the profile says `tls: {verify: false}`)."""
    ca_bundle: Path | None = None
    """CA bundle file."""
    client_cert: Path | None = None
    """Client certificate (PEM)."""
    timeout_s: float = 10.0
    """REST timeout."""
    proxy_from_env: bool = True
    """Use HTTPS_PROXY/NO_PROXY from the environment."""
    simulator: bool = False
    """True: run the embedded simulator and connect to it."""
    contact_center: ContactCenterSession | None = None
    """`contact_center_session:`: start a contact-centre session after login (None: never)."""
    description: str = ""
    """Free text."""
    max_repaint_rate: float | None = None
    """The console's stream repaints per second (0.0: unlimited; None: 2 under SSH, unlimited
    otherwise; see console.tui.repaint)."""
    environment: str = ""
    """What this GWS is for (`production`, `eu-prod`, `staging`, `lab`...); a production one
    (`is_production`) makes the console ask before bulk sends and mark every screen
    PRODUCTION."""
    path: Path | None = field(default=None, compare=False)
    """Where it was read from (None: built in or from flags)."""

    @property
    def production(self) -> bool:
        """The profile says it points at production (`is_production`)."""
        return is_production(self.environment)

    def describe(self) -> dict[str, Any]:
        """What `profiles show` prints: everything, secrets excluded by construction."""
        from console.tui.repaint import rate_label

        return {
            "name": self.name, "file": str(self.path) if self.path else "(built in)",
            "description": self.description, "environment": self.environment or "(not set)",
            "url": self.url or "(embedded simulator)", "username": self.username,
            "password_from": self.password_from, "device_path": self.device_path or "(discover)",
            "channels": list(self.channels),
            "tls": {"verify": self.verify, "ca_bundle": str(self.ca_bundle or ""),
                    "client_cert": str(self.client_cert or "")},
            "timeout": self.timeout_s, "proxy_from_env": self.proxy_from_env,
            "simulator": self.simulator,
            "contact_center_session": (self.contact_center.describe() if self.contact_center
                                       else "(not started by the console)"),
            "max_repaint_rate": "(default: limited under SSH)" if self.max_repaint_rate is None
            else rate_label(self.max_repaint_rate),
        }

    def connection(self, password: Secret, url: str | None = None) -> Connection:
        from console.errors import ProfileError
        from console.gws.connection import Connection

        base = url or self.url
        if not base:
            raise ProfileError(f"profile {self.name!r} has no url")
        return Connection(
            base_url=base, username=self.username or "", password=password,
            device_path=self.device_path, channels=self.channels, verify=self.verify,
            ca_bundle=self.ca_bundle, client_cert=self.client_cert, timeout_s=self.timeout_s,
            trust_env=self.proxy_from_env, simulator=self.simulator,
            contact_center=self.contact_center)


DEMO = Profile(name="demo", username="demo", simulator=True,
               description="The embedded GWS simulator (no real GWS is contacted)")
