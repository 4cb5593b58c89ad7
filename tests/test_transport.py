"""The one HTTP client over real loopback sockets, on both transports: TLS with a throwaway CA
(verification on refuses, `ca_bundle` trusts, `verify: false` accepts), proxies from the
environment (HTTP(S)_PROXY, NO_PROXY), and failures sorted into GwsUnreachable (nothing
delivered) and GwsOutcomeUnknown (the request may have reached GWS)."""

from __future__ import annotations

import socket
import ssl
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme

from console.domain.model import AddRecord
from console.errors import GwsHttpError, GwsOutcomeUnknown, GwsUnreachable
from console.gws.connection import Connection, Secret
from console.gws.session import MAX_REPLY_BYTES, GwsSession
from console.gws.stream import EventStream
from console.gws.transport import BULK_AFTER, AiohttpTransport, GwsTransport
from tests.helpers import Collector, eventually, sample_request
from tests.hostile import Hang, HostileServer, LoopbackProxy, Reply, Reset, Seen

TRANSPORTS = ["default", "aiohttp"]


def transport(kind: str, connection: Connection) -> httpx.AsyncBaseTransport:
    """The default transport (httpx's own until bulk), or the aiohttp one from the start."""
    return GwsTransport(connection) if kind == "default" else AiohttpTransport(connection)


def session_for(kind: str, connection: Connection) -> GwsSession:
    return GwsSession(connection, transport=transport(kind, connection))


def record(n: int = 0) -> AddRecord:
    return AddRecord.parse(sample_request(referenceId=f"r{n}", devicePath="/devices/d1"))


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_pem(ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture
async def tls_server(ca: trustme.CA) -> AsyncIterator[HostileServer]:
    async with HostileServer(tls=server_context(ca)) as server:
        yield server


@pytest.fixture
async def server() -> AsyncIterator[HostileServer]:
    async with HostileServer() as plain:
        yield plain


def connection(server: HostileServer, **options: Any) -> Connection:
    return Connection(server.url, "agent", Secret("pw"), **options)


# -- TLS ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_tls_verification_refuses_an_untrusted_certificate(
        kind: str, tls_server: HostileServer) -> None:
    conn = connection(tls_server)
    with pytest.raises(GwsUnreachable, match="not trusted.*tls.ca_bundle"):
        async with session_for(kind, conn):
            pass
    assert tls_server.requests == []  # nothing was delivered


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_tls_ca_bundle_is_trusted_for_gets_and_posts(
        kind: str, tls_server: HostileServer, ca_pem: Path) -> None:
    conn = connection(tls_server, ca_bundle=ca_pem)
    async with session_for(kind, conn) as session:
        for n in range(BULK_AFTER + 3):  # the default transport moves to aiohttp meanwhile
            assert (await session.add_record(record(n))).status_code == 0
    assert len(tls_server.seen_path("/api/v2/me/outbound-records")) == BULK_AFTER + 3


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_tls_verify_false_accepts_any_certificate(kind: str,
                                                        tls_server: HostileServer) -> None:
    conn = connection(tls_server, verify=False)
    async with session_for(kind, conn) as session:
        assert (await session.add_record(record())).status_code == 0


async def test_the_bulk_path_verifies_certificates_too(ca: trustme.CA, ca_pem: Path) -> None:
    """A session that starts on a trusted certificate, then meets an untrusted one (as a
    man in the middle would present): once it posts in bulk (new aiohttp connections), every
    new connection is refused, none is sent."""
    context = server_context(ca)
    async with HostileServer(tls=context) as server:
        async with GwsSession(connection(server, ca_bundle=ca_pem)) as session:
            intruder = trustme.CA().issue_cert("127.0.0.1")
            intruder.configure_cert(context)  # new handshakes get the intruder's certificate
            outcomes: list[str] = []
            for n in range(BULK_AFTER + 4):
                try:
                    await session.add_record(record(n))
                    outcomes.append("sent")
                except GwsUnreachable as exc:
                    assert "not trusted" in str(exc)
                    outcomes.append("refused")
    assert outcomes[-4:] == ["refused"] * 4, outcomes


async def test_stream_over_tls_with_a_ca_bundle(tls_server: HostileServer, ca_pem: Path) -> None:
    c = Collector(EventStream(connection(tls_server, ca_bundle=ca_pem), max_network_delay=1))
    await eventually(lambda: c.stream.state == "connected")
    tls_server.publish("/v2/me/outbound", {"tag": "tls"})
    await eventually(lambda: c.events)
    await c.close()


# -- proxies ----------------------------------------------------------------------------------
@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    for name in ("http_proxy", "https_proxy", "no_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    yield monkeypatch


def set_proxy(env: pytest.MonkeyPatch, name: str, value: str) -> None:
    env.setenv(name.lower(), value)
    env.setenv(name.upper(), value)


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_http_proxy_from_the_environment_is_used(
        kind: str, server: HostileServer, no_proxy_env: pytest.MonkeyPatch) -> None:
    async with LoopbackProxy() as proxy:
        set_proxy(no_proxy_env, "HTTP_PROXY", proxy.url)
        async with session_for(kind, connection(server)) as session:
            await session.add_record(record())
    assert proxy.asked and proxy.asked[0].startswith(f"GET {server.url}/api/v2/me")


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_no_proxy_is_honoured(kind: str, server: HostileServer,
                                    no_proxy_env: pytest.MonkeyPatch) -> None:
    async with LoopbackProxy() as proxy:
        set_proxy(no_proxy_env, "HTTP_PROXY", proxy.url)
        set_proxy(no_proxy_env, "NO_PROXY", "localhost,127.0.0.1")
        async with session_for(kind, connection(server)) as session:
            await session.add_record(record())
    assert proxy.asked == [] and len(server.requests) == 2


async def test_proxy_from_env_off_ignores_the_environment(
        server: HostileServer, no_proxy_env: pytest.MonkeyPatch) -> None:
    async with LoopbackProxy() as proxy:
        set_proxy(no_proxy_env, "HTTP_PROXY", proxy.url)
        async with GwsSession(connection(server, trust_env=False)) as session:
            await session.add_record(record())
    assert proxy.asked == []


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_https_proxy_tunnels_with_connect(kind: str, tls_server: HostileServer,
                                                ca_pem: Path,
                                                no_proxy_env: pytest.MonkeyPatch) -> None:
    async with LoopbackProxy() as proxy:
        set_proxy(no_proxy_env, "HTTPS_PROXY", proxy.url)
        async with session_for(kind, connection(tls_server, ca_bundle=ca_pem)) as session:
            await session.add_record(record())
    assert proxy.asked and proxy.asked[0].startswith(f"CONNECT 127.0.0.1:{tls_server.port}")


async def test_the_stream_goes_through_the_proxy_too(
        server: HostileServer, no_proxy_env: pytest.MonkeyPatch) -> None:
    async with LoopbackProxy() as proxy:
        set_proxy(no_proxy_env, "HTTP_PROXY", proxy.url)
        c = Collector(EventStream(connection(server), max_network_delay=1))
        await eventually(lambda: c.stream.state == "connected")
        await c.close()
    assert any("/api/v2/notifications" in line for line in proxy.asked)


# -- nothing delivered vs outcome unknown -------------------------------------------------------
@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_connection_refused_is_unreachable(kind: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    conn = Connection(f"http://127.0.0.1:{port}", "u", Secret("p"), timeout_s=2)
    with pytest.raises(GwsUnreachable, match="cannot connect.*check the profile's url"):
        async with session_for(kind, conn):
            pass


def on_post(action: Any) -> Any:
    def script(seen: Seen) -> Any:
        return action if seen.method == "POST" else None
    return script


@pytest.mark.parametrize("kind", TRANSPORTS)
@pytest.mark.parametrize(("action", "words"), [
    (Reset(), "connection failed before the answer"),
    (Hang(), "no answer within 0.5 s"),
    (Reply("<html>Welcome</html>", 200, "text/html"), "not a GWS answer"),
    (Reply("<html>500 Internal Server Error</html>", 500, "text/html"), "HTTP 500"),
    (Reply("<html>502 Bad Gateway</html>", 502, "text/html"), "HTTP 502"),
    (Reply("<html>504 Gateway Timeout</html>", 504, "text/html"), "HTTP 504"),
    (Reply({"no": "statusCode"}), "without an integer statusCode"),
    (Reply(b"[" + b" " * (MAX_REPLY_BYTES + 10) + b"]"), "longer than 1 MiB"),
], ids=["reset", "timeout", "html-200", "html-500", "html-502", "html-504", "no-statusCode",
        "2MB"])
async def test_a_post_whose_answer_is_not_seen_is_outcome_unknown(
        kind: str, action: Any, words: str, server: HostileServer) -> None:
    server.script = on_post(action)
    conn = connection(server, timeout_s=0.5)
    async with session_for(kind, conn) as session:
        with pytest.raises(GwsOutcomeUnknown, match=words) as info:
            await session.add_record(record())
    assert "GWS may have acted on it" in str(info.value)  # never "refused", never "safe"
    assert len(server.seen_path("/api/v2/me/outbound-records")) == 1  # it was delivered


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_a_huge_get_reply_is_cut_and_refused(kind: str, server: HostileServer) -> None:
    server.script = lambda seen: Reply(b"{" + b" " * (3 * MAX_REPLY_BYTES) + b"}")
    with pytest.raises(GwsHttpError, match="longer than 1 MiB"):
        async with session_for(kind, connection(server)):
            pass
