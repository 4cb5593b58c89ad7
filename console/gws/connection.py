"""How to reach one GWS: URL, user, secret, TLS, timeouts — shared by REST and CometD."""

from __future__ import annotations

import base64
import ssl
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["Connection", "Secret", "DEFAULT_CHANNELS", "REFUSED_LOGINS_AT_ONCE",
           "refused_logins"]

from console.profile import (
    DEFAULT_CHANNELS,  # noqa: E402  (one definition, re-exported)
    ContactCenterSession,  # noqa: E402
)


class Secret:
    """A password that never shows itself in repr, str, logs or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


#: HTTP 401 replies in a row after which the console stops sending with these credentials (the
#: stream; a replay's records): each more is a failed login with the same password, and a
#: directory locks an account after a few. One may be a passing fault.
REFUSED_LOGINS_AT_ONCE = 2


def refused_logins(user: str, in_a_row: str, then: str) -> str:
    """Why the console stopped after `REFUSED_LOGINS_AT_ONCE` refusals (`in_a_row`: "2 times
    in a row", "on 2 records in a row"), and what to do `then`."""
    return (f"GWS refused the user {user!r} and its password (HTTP 401) {in_a_row}: stopped, "
            "so that more failed logins do not lock the account; check the password (or "
            f"whether the account was disabled), then {then}")

@dataclass(frozen=True)
class Connection:
    """Everything needed to talk to one GWS node (no secret is ever printed)."""

    base_url: str
    """GWS base URL, e.g. https://gws.example.com:8090 (no trailing /api/v2)."""
    username: str
    """GWS user (an agent) for Basic auth."""
    password: Secret = field(repr=False)
    """The password, from the environment, the keyring or a prompt — never from a file."""
    device_path: str | None = None
    """Device for AddRecord; None: the first device GWS lists for the user."""
    channels: tuple[str, ...] = DEFAULT_CHANNELS
    """CometD channels to subscribe to."""
    verify: bool = True
    """Verify the server's TLS certificate (off only when the user says so)."""
    ca_bundle: Path | None = None
    """A CA bundle to verify against, instead of the system store."""
    client_cert: Path | None = None
    """A client certificate (PEM, key included) for mutual TLS."""
    timeout_s: float = 10.0
    """Timeout of one REST request."""
    trust_env: bool = True
    """Take proxies (HTTPS_PROXY, NO_PROXY) from the environment."""
    simulator: bool = False
    """True when this points at the embedded simulator (shown as SIMULATOR)."""
    contact_center: ContactCenterSession | None = None
    """Start a contact-centre session after login and end it on exit (None: never)."""

    @property
    def api(self) -> str:
        return self.base_url.rstrip("/") + "/api/v2"

    @property
    def notifications_url(self) -> str:
        return self.api + "/notifications"

    def basic_auth_header(self) -> str:
        raw = f"{self.username}:{self.password.reveal()}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")

    def proxy(self) -> str | None:
        """The proxy for this GWS from HTTPS_PROXY/HTTP_PROXY/NO_PROXY (when trusted), or None.
        Resolved once here rather than by the HTTP client on every request."""
        if not self.trust_env:
            return None
        parts = urlsplit(self.base_url)
        if parts.hostname and urllib.request.proxy_bypass(parts.hostname):
            return None
        return urllib.request.getproxies_environment().get(parts.scheme)

    def ssl_context(self) -> ssl.SSLContext | bool:
        """The TLS settings for httpx and aiohttp alike."""
        if not self.base_url.startswith("https"):
            return False  # no TLS: nothing to verify (and no CA store to load, ~0.1 s)
        if not self.verify:
            return False
        context = ssl.create_default_context(cafile=str(self.ca_bundle) if self.ca_bundle else None)
        if self.client_cert is not None:
            context.load_cert_chain(str(self.client_cert))
        return context
