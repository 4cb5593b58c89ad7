"""What console/gws/connection.py promises, exactly: a client certificate is presented when
the server asks for one (mutual TLS, on both transports), the password never shows in a
repr/str, and the documented defaults. Written to kill mutants tools/mutate.py found alive."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme

from console.errors import GwsUnreachable
from console.gws.connection import Connection, Secret
from tests.hostile import HostileServer
from tests.test_transport import TRANSPORTS, record, session_for


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def mtls_server(ca: trustme.CA) -> AsyncIterator[HostileServer]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    context.verify_mode = ssl.CERT_REQUIRED  # no client certificate, no connection
    ca.configure_trust(context)
    # TLS 1.2: the refusal comes inside the handshake, before any request is written (under
    # 1.3 the client writes its request first and sees the refusal after: an unknown outcome).
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    async with HostileServer(tls=context) as server:
        yield server


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_the_client_certificate_is_presented(kind: str, mtls_server: HostileServer,
                                                   ca: trustme.CA, tmp_path: Path) -> None:
    ca_pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_pem))
    client_pem = tmp_path / "client.pem"  # key and certificate chain in one PEM file
    ca.issue_cert("agent@example.com").private_key_and_cert_chain_pem.write_to_path(
        str(client_pem))
    without = Connection(mtls_server.url, "agent", Secret("pw"), ca_bundle=ca_pem)
    with pytest.raises(GwsUnreachable):
        async with session_for(kind, without) as session:
            await session.add_record(record())
    assert mtls_server.seen_path("/api/v2/me/outbound-records") == []
    with_cert = Connection(mtls_server.url, "agent", Secret("pw"), ca_bundle=ca_pem,
                           client_cert=client_pem)
    async with session_for(kind, with_cert) as session:
        assert (await session.add_record(record())).status_code == 0
    assert len(mtls_server.seen_path("/api/v2/me/outbound-records")) == 1


def test_a_secret_never_shows_and_compares_by_value() -> None:
    secret = Secret("hunter2")
    assert repr(secret) == str(secret) == f"{secret}" == "Secret('********')"
    conn = Connection("https://gws.example.com", "agent", secret)
    assert "hunter2" not in repr(conn) and "hunter2" not in str(conn)
    assert secret == Secret("hunter2") and secret != Secret("other") and secret != "hunter2"
    assert hash(secret) == hash(Secret("hunter2"))
    assert len({secret, Secret("hunter2"), Secret("other")}) == 2


def test_connection_defaults_are_the_documented_ones() -> None:
    conn = Connection("https://gws.example.com", "agent", Secret("pw"))
    assert conn.timeout_s == 10.0 and conn.verify is True and conn.trust_env is True
    assert conn.simulator is False and conn.ca_bundle is None and conn.client_cert is None
    assert conn.ssl_context() is not False  # https: verified against the system store
    assert Connection("http://127.0.0.1:1", "agent", Secret("pw")).ssl_context() is False
