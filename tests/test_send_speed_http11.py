"""console.gws.http11, the transport without httpcore and anyio, over real loopback sockets:
a whole send on the simulator (REST and CometD, acknowledged), TLS (verification on refuses,
`ca_bundle` trusts, `verify: false` accepts), a proxy from the environment (httpx's transport
takes those requests), failures sorted into GwsUnreachable (nothing delivered) and
GwsOutcomeUnknown (the request may have reached GWS), and connections: kept between requests,
never reused once the server closed them, dropped when a reply is not read to its end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from console.domain.model import AddRecord
from console.errors import GwsHttpError, GwsOutcomeUnknown, GwsUnreachable
from console.gws.connection import Connection, Secret
from console.gws.http11 import Http11Transport
from console.gws.session import MAX_REPLY_BYTES, GwsSession
from console.gws.stream import EventStream
from console.gws.transport import GwsTransport
from console.sim import Simulator
from tests.helpers import Collector, eventually, sample_request
from tests.hostile import Hang, HostileServer, LoopbackProxy, Reply, Reset
from tests.test_transport import (  # noqa: F401  (fixtures)
    ca,
    ca_pem,
    connection,
    no_proxy_env,
    on_post,
    server,
    set_proxy,
    tls_server,
)


def session_for(conn: Connection) -> GwsSession:
    return GwsSession(conn, transport=Http11Transport(conn))


def record(n: int = 0) -> AddRecord:
    return AddRecord.parse(sample_request(referenceId=f"r{n}", devicePath="/devices/d1"))


async def test_a_record_is_posted_and_acknowledged_on_the_simulator(sim: Simulator) -> None:
    conn = Connection(sim.url, sim.user, Secret(sim.password),
                      channels=("/v2/me/outbound", "/me/internal"))
    async with session_for(conn) as session:
        c = Collector(EventStream(conn, http=session.http, max_network_delay=2))
        await eventually(lambda: c.stream.subscribed.is_set())
        sent = AddRecord.parse(sample_request(referenceId="h11-1",
                                              devicePath=session.device_path))
        assert (await session.add_record(sent)).status_code == 0
        await eventually(lambda: any(e.reference_id == "h11-1" for e in c.events))
        await c.close()
    assert len(sim.store.records) == 1


async def test_a_record_goes_to_a_gws_on_ipv6_loopback_and_is_acknowledged() -> None:
    """`http://[::1]:port`: the connection to the bare address, the Host header with its
    brackets, REST and CometD on the same connection pool, through the engine's default
    transport (whose light path this is)."""
    import socket

    from console.gws.engine import Engine

    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("this machine has no IPv6 loopback")
    sim = await Simulator(host="::1").start()
    try:
        assert sim.url.startswith("http://[::1]:")
        async with Engine(Connection(sim.url, sim.user, Secret(sim.password))) as engine:
            transport = engine.session.http.transport
            assert isinstance(transport, GwsTransport)  # the default
            assert isinstance(transport.light, Http11Transport)
            fields = sample_request(referenceId="v6-1")
            fields.pop("devicePath", None)  # the session's device
            tracked = await engine.wait(await engine.send(engine.record(fields)), 5)
        assert tracked.state == "acknowledged", tracked.describe()
        assert [r.body["referenceId"] for r in sim.store.records] == ["v6-1"]
    finally:
        await sim.stop()


# -- TLS ----------------------------------------------------------------------------------------
async def test_tls_verification_refuses_an_untrusted_certificate(
        tls_server: HostileServer) -> None:  # noqa: F811
    with pytest.raises(GwsUnreachable, match="not trusted.*tls.ca_bundle"):
        async with session_for(connection(tls_server)):
            pass
    assert tls_server.requests == []  # nothing was delivered


async def test_tls_ca_bundle_is_trusted(tls_server: HostileServer,  # noqa: F811
                                        ca_pem: Path) -> None:  # noqa: F811
    async with session_for(connection(tls_server, ca_bundle=ca_pem)) as session:
        for n in range(3):
            assert (await session.add_record(record(n))).status_code == 0
    assert len(tls_server.seen_path("/api/v2/me/outbound-records")) == 3


async def test_tls_verify_false_accepts_any_certificate(
        tls_server: HostileServer) -> None:  # noqa: F811
    async with session_for(connection(tls_server, verify=False)) as session:
        assert (await session.add_record(record())).status_code == 0


# -- proxies ------------------------------------------------------------------------------------
async def test_a_proxy_from_the_environment_is_used(
        server: HostileServer, no_proxy_env: pytest.MonkeyPatch) -> None:  # noqa: F811
    async with LoopbackProxy() as proxy:
        set_proxy(no_proxy_env, "HTTP_PROXY", proxy.url)
        async with session_for(connection(server)) as session:
            await session.add_record(record())
    assert proxy.asked and proxy.asked[0].startswith(f"GET {server.url}/api/v2/me")


# -- nothing delivered vs outcome unknown -------------------------------------------------------
# (A refused connection is unreachable: tests/test_session.py, through GwsTransport, whose
# light path is this transport.)
@pytest.mark.parametrize(("action", "words"), [
    (Reset(), "connection failed before the answer"),
    (Hang(), "no answer within 0.5 s"),
    (Reply("<html>Welcome</html>", 200, "text/html"), "not a GWS answer"),
    (Reply("<html>502 Bad Gateway</html>", 502, "text/html"), "HTTP 502"),
    (Reply({"no": "statusCode"}), "without an integer statusCode"),
    (Reply(b"[" + b" " * (MAX_REPLY_BYTES + 10) + b"]"), "longer than 1 MiB"),
], ids=["reset", "timeout", "html-200", "html-502", "no-statusCode", "2MB"])
async def test_a_post_whose_answer_is_not_seen_is_outcome_unknown(
        action: Any, words: str, server: HostileServer) -> None:  # noqa: F811
    server.script = on_post(action)
    async with session_for(connection(server, timeout_s=0.5)) as session:
        with pytest.raises(GwsOutcomeUnknown, match=words) as info:
            await session.add_record(record())
    assert "GWS may have acted on it" in str(info.value)  # never "refused", never "safe"
    assert len(server.seen_path("/api/v2/me/outbound-records")) == 1  # it was delivered


async def test_a_huge_get_reply_is_cut_and_refused(server: HostileServer) -> None:  # noqa: F811
    server.script = lambda seen: Reply(b"{" + b" " * (3 * MAX_REPLY_BYTES) + b"}")
    with pytest.raises(GwsHttpError, match="longer than 1 MiB"):
        async with session_for(connection(server)):
            pass


# -- connections --------------------------------------------------------------------------------
class CountingServer:
    """HTTP/1.1 by hand: answers every request `{"statusCode": 0}` with the CSRF pair, counts
    connections, and closes each one after `per_connection` replies (0: never)."""

    def __init__(self, per_connection: int = 0) -> None:
        self.per_connection = per_connection
        self.connections = 0
        self.requests = 0
        self.url = ""
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> CountingServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        answered = 0
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
                length = next((int(line.split(":", 1)[1]) for line in head.split("\r\n")
                               if line.lower().startswith("content-length:")), 0)
                await reader.readexactly(length)
                self.requests += 1
                body = b'{"statusCode": 0}'
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"X-CSRF-HEADER: X-CSRF-TOKEN\r\nX-CSRF-TOKEN: t\r\n"
                             b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
                await writer.drain()
                answered += 1
                if self.per_connection and answered >= self.per_connection:
                    writer.close()  # as a server closes an idle keep-alive connection
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()


@pytest.fixture
async def counting() -> AsyncIterator[CountingServer]:
    async with CountingServer() as started:
        yield started


async def test_requests_share_one_kept_connection(counting: CountingServer) -> None:
    conn = Connection(counting.url, "u", Secret("p"))
    async with session_for(conn) as session:
        for n in range(5):
            await session.add_record(record(n))
    assert (counting.requests, counting.connections) == (6, 1)


async def test_a_connection_the_server_closed_is_not_reused() -> None:
    async with CountingServer(per_connection=1) as closing:
        conn = Connection(closing.url, "u", Secret("p"))
        async with session_for(conn) as session:
            for n in range(3):
                await asyncio.sleep(0.05)  # the close reaches us while the connection idles
                assert (await session.add_record(record(n))).status_code == 0
    assert (closing.requests, closing.connections) == (4, 4)


async def test_a_reply_not_read_to_its_end_drops_its_connection(
        server: HostileServer) -> None:  # noqa: F811
    replies = iter([Reply(b"[" + b" " * (MAX_REPLY_BYTES + 10) + b"]")])
    server.script = lambda seen: next(replies, None) if seen.method == "POST" else None
    async with session_for(connection(server, timeout_s=2)) as session:
        with pytest.raises(GwsOutcomeUnknown, match="longer than 1 MiB"):
            await session.add_record(record(1))
        # The next POST does not read the rest of the big reply as its own answer.
        assert (await session.add_record(record(2))).status_code == 0


async def test_a_request_h11_cannot_send_is_refused_before_anything_leaves(
        counting: CountingServer) -> None:
    transport = Http11Transport(Connection(counting.url, "u", Secret("p")))
    url = httpx.URL(counting.url + "/api/v2/me/outbound-records")
    request = httpx.Request("POST", url, headers=[(b"Host", url.netloc),
                                                  (b"Content-Length", b"1")],
                            stream=httpx.ByteStream(b"abc"))
    request.read()
    with pytest.raises(httpx.LocalProtocolError):  # `transport_failure`: nothing delivered
        await transport.handle_async_request(request)
    await transport.aclose()
    assert counting.requests == 0
