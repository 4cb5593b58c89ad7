"""Two GWS nodes behind the simulator's balancer: sticky on JSESSIONID, or not; separate HTTP
and Bayeux sessions per node, one OCS store shared by both."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from console.sim import BayeuxSettings, Faults, Simulator
from tests.helpers import Gws, RawBayeux, events_of, eventually, sample_request

PASSWORD = "cluster-pw"
QUICK = BayeuxSettings(timeout_ms=2000, max_interval_ms=1000, sweep_period_s=0.1)


@pytest.fixture
async def sticky() -> AsyncIterator[Simulator]:
    async with Simulator(password=PASSWORD, nodes=2, bayeux=QUICK) as cluster:
        yield cluster


@pytest.fixture
async def loose() -> AsyncIterator[Simulator]:
    async with Simulator(password=PASSWORD, nodes=2, sticky=False, bayeux=QUICK) as cluster:
        yield cluster


def node_of(cluster: Simulator, client: httpx.AsyncClient) -> int:
    sid = client.cookies["JSESSIONID"]
    [index] = [n for n, node in enumerate(cluster.nodes) if sid in node.gws.http_sessions]
    return index


async def test_sticky_clients_stay_on_their_node_and_share_ocs(sticky: Simulator) -> None:
    alice, bob = Gws(sticky.url, "demo", PASSWORD), Gws(sticky.url, "demo", PASSWORD)
    await alice.start()
    await bob.start()
    assert {node_of(sticky, alice.http), node_of(sticky, bob.http)} == {0, 1}
    for n in range(3):
        assert (await alice.add_record(sample_request(referenceId=f"a{n}"))).json() == {
            "statusCode": 0}
        assert (await bob.add_record(sample_request(referenceId=f"b{n}"))).json() == {
            "statusCode": 0}
    assert sorted(r.node for r in sticky.store.records) == ["node1"] * 3 + ["node2"] * 3
    state = sticky.state()
    assert state["balancer"]["sticky"] is True and state["balancer"]["stickySessions"] == 2
    assert [n["http"].get("csrf_rejected", 0) for n in state["nodes"]] == [0, 0]
    assert state["store"]["accepted"] == 6
    await alice.close()
    await bob.close()


async def test_an_ack_reaches_the_users_session_on_the_other_node(sticky: Simulator) -> None:
    poster = Gws(sticky.url, "demo", PASSWORD)
    await poster.start()
    listener = RawBayeux(sticky.url, "demo", PASSWORD)
    await listener.http.get("/api/v2/me")  # next in turn: node2, and stuck to it from now on
    await listener.open("/v2/me/outbound")
    listening_on = [n for n, node in enumerate(sticky.nodes) if node.bayeux.sessions]
    assert listening_on == [1] and poster.http.cookies["JSESSIONID"] in (
        sticky.nodes[0].gws.http_sessions)
    await poster.add_record(sample_request(referenceId="across"))
    [ack] = events_of(await listener.connect())
    assert ack["data"]["referenceId"] == "across"
    assert sticky.store.records[0].node == "node1"
    await poster.close()
    await listener.close()


async def test_without_affinity_a_post_finds_no_session(loose: Simulator) -> None:
    client = Gws(loose.url, "demo", PASSWORD)
    await client.start()  # GET -> node1: cookie and CSRF token of node1
    reply = await client.add_record(sample_request())  # -> node2: never heard of it
    assert reply.status_code == 403
    assert reply.json()["statusMessage"] == "Missing or invalid Csrf token"
    node2 = loose.state()["nodes"][1]["http"]
    assert node2["unknown_session_cookie"] == 1 and node2["csrf_rejected"] == 1
    assert loose.store.records == []
    again = await client.add_record(sample_request())  # -> node1 again: accepted
    assert again.json() == {"statusCode": 0} and len(loose.store.records) == 1
    assert loose.state()["balancer"]["counters"]["round_robin"] == 3
    await client.close()


async def test_without_affinity_a_long_poll_finds_no_bayeux_session(loose: Simulator) -> None:
    client = RawBayeux(loose.url, "demo", PASSWORD)
    await client.handshake()  # -> node1
    [answer] = await client.connect()  # -> node2
    assert answer["successful"] is False and answer["error"] == "402::session_unknown"
    assert answer["advice"] == {"reconnect": "handshake", "interval": 0}
    nodes = loose.state()["nodes"]
    assert nodes[0]["bayeux"]["handshakes"] == 1 and nodes[1]["bayeux"]["unknown_client"] == 1
    await client.close()


async def test_restarting_one_node_keeps_the_other(sticky: Simulator) -> None:
    one, two = RawBayeux(sticky.url, "demo", PASSWORD), RawBayeux(sticky.url, "demo", PASSWORD)
    for client in (one, two):
        await client.http.get("/api/v2/me")  # one on node1, two on node2
        await client.open("/v2/me/outbound")
    assert [len(node.bayeux.sessions) for node in sticky.nodes] == [1, 1]
    async with httpx.AsyncClient(base_url=sticky.url) as admin:
        reply = await admin.post("/sim/restart", json={"node": 0})
        assert reply.json() == {"restarted": True, "downtime": 0.0}
        bad = await admin.post("/sim/restart", json={"node": 2})
        assert bad.status_code == 400 and "nodes 0..1" in bad.json()["error"]
    state = sticky.state()
    assert [n["restarts"] for n in state["nodes"]] == [1, 0]
    assert [len(node.bayeux.sessions) for node in sticky.nodes] == [0, 1]
    [gone] = await one.connect()
    assert gone["error"] == "402::session_unknown"
    [alive] = await two.connect(timeout0=True)
    assert alive["successful"] is True
    await one.close()
    await two.close()


async def test_a_pending_ack_is_lost_only_with_the_node_that_accepted_it(
        sticky: Simulator) -> None:
    sticky.set_faults({"ack_delay_ms": 300})
    poster = Gws(sticky.url, "demo", PASSWORD)
    await poster.start()  # node1
    await poster.add_record(sample_request(referenceId="first"))
    await sticky.restart(node=1)  # the other node: nothing of node1's is lost
    [first] = sticky.store.records
    assert first.fate == "ack" and first.delivery == "pending"
    assert sticky.store.counters["acks_lost_in_restart"] == 0
    await poster.start()  # node1 again
    await poster.add_record(sample_request(referenceId="second"))
    await sticky.restart(node=0)  # node1: both its pending acks are lost
    assert [(r.fate, r.lost_reason) for r in sticky.store.records] == [("lost", "restart")] * 2
    assert sticky.store.counters["acks_lost_in_restart"] == 2
    await poster.close()


async def test_restart_of_the_other_node_does_not_touch_pending_acks() -> None:
    async with Simulator(password=PASSWORD, nodes=2, faults=Faults(ack_delay_ms=200)) as cluster:
        poster = Gws(cluster.url, "demo", PASSWORD)
        await poster.start()  # node1
        listener = RawBayeux(cluster.url, "demo", PASSWORD)
        await listener.http.get("/api/v2/me")  # stuck to node2
        await listener.open("/v2/me/outbound")
        await poster.add_record(sample_request(referenceId="survives"))
        await cluster.restart(node=1)  # the listener's node: its session goes...
        await listener.open("/v2/me/outbound")  # ...it comes back, on node2 again
        [record] = cluster.store.records
        await eventually(lambda: record.notified_at is not None, timeout=3.0)
        [ack] = events_of(await listener.connect())
        assert ack["data"]["referenceId"] == "survives" and record.fate == "ack"
        await poster.close()
        await listener.close()


async def test_a_client_leaving_a_held_connect_is_noticed_through_the_balancer(
        sticky: Simulator) -> None:
    client = RawBayeux(sticky.url, "demo", PASSWORD)
    await client.http.get("/api/v2/me")
    await client.open("/v2/me/outbound")
    [node] = [n for n in sticky.nodes if n.bayeux.sessions]
    held = asyncio.create_task(client.connect())
    await eventually(lambda: node.bayeux.counters.held_connects == 1)
    held.cancel()  # the client goes away: the balancer drops its own request to the node
    await eventually(lambda: node.bayeux.counters.connects_abandoned == 1)
    assert not node.bayeux.describe()[0]["held"]
    await client.close()


# -- from the command line ----------------------------------------------------------------
BIN = shutil.which("outbound-console") or str(Path(sys.executable).parent / "outbound-console")


async def run_sim(tmp_path: Path, *args: str) -> asyncio.subprocess.Process:
    env = {**os.environ, "HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path / "state"),
           "OUTBOUND_CONSOLE_HOME": str(tmp_path / "oc"),
           "OUTBOUND_CONSOLE_SIM_PASSWORD": PASSWORD}
    return await asyncio.create_subprocess_exec(
        BIN, "sim", "--port", "0", *args, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL, env=env,
        cwd=tmp_path)


async def test_sim_command_runs_two_unsticky_nodes_without_csrf(tmp_path: Path) -> None:
    proc = await run_sim(tmp_path, "--nodes", "2", "--no-sticky", "--setting", "csrf=false",
                         "--setting", "ocs_refusals=sync")
    try:
        assert proc.stdout is not None
        first = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        assert first.startswith("GWS SIMULATOR listening on http://127.0.0.1:")
        url = first.split()[-1]
        lines = [(await asyncio.wait_for(proc.stdout.readline(), 10)).decode()
                 for _ in range(4)]
        assert any("NOT sticky (round-robin) over 2 nodes" in line for line in lines)
        async with httpx.AsyncClient(base_url=url) as http:
            state = (await http.get("/sim/state")).json()
        assert [n["name"] for n in state["nodes"]] == ["node1", "node2"]
        assert state["balancer"]["sticky"] is False
        assert state["settings"]["csrf"] is False and state["settings"]["ocs_refusals"] == "sync"
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 10)


@pytest.mark.parametrize(("args", "words"), [
    (("--no-sticky",), "--no-sticky needs --nodes 2"),
    (("--setting", "bogus=1"), "unknown setting 'bogus'"),
    (("--setting", "csrf"), "--setting takes name=value"),
    (("--nodes", "0"), "--nodes"),
])
async def test_sim_command_refuses_bad_options(tmp_path: Path, args: tuple[str, ...],
                                               words: str) -> None:
    proc = await run_sim(tmp_path, *args)
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2 and words in err.decode()
