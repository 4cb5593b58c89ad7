"""The console behind the simulator's balancer (two GWS nodes, sticky or not), with CSRF
protection on and off: `send`, `replay` and `watch` as the installed binary runs them."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from console.sim import BayeuxSettings, GwsSettings, Simulator
from console.sim.faults import Faults
from tests.cli_helpers import (
    CALLBACK,
    isolated_env,
    journal_lines,
    json_lines,
    run_bin,
)
from tests.helpers import Gws, eventually, sample_request
from tests.test_cli_engine import BIN, FIELDS

PASSWORD = "cluster-client-pw"
QUICK = BayeuxSettings(timeout_ms=2000, max_interval_ms=1000, sweep_period_s=0.1)
NO_AFFINITY = "does not keep a client on one node (GWS needs sticky sessions on JSESSIONID)"


@pytest.fixture(params=[True, False], ids=["csrf", "no-csrf"])
async def loose(request: pytest.FixtureRequest) -> AsyncIterator[Simulator]:
    async with Simulator(password=PASSWORD, nodes=2, sticky=False, bayeux=QUICK,
                         settings=GwsSettings(csrf=request.param)) as cluster:
        yield cluster


def target(sim: Simulator, tmp_path: Path, name: str) -> list[str]:
    return ["--url", sim.url, "--user", sim.user, "--journal", str(tmp_path / name)]


async def test_without_affinity_send_replay_and_watch_stop_clearly_and_bounded(
        loose: Simulator, tmp_path: Path) -> None:
    env = isolated_env(tmp_path, PASSWORD)
    balancer = loose.balancer
    assert balancer is not None
    runs = {
        "send": ["send", *target(loose, tmp_path, "s"), *FIELDS],
        "replay": ["replay", str(CALLBACK), "--count", "2", "--set", "phone=5551234",
                   *target(loose, tmp_path, "r")],
        "watch": ["watch", *target(loose, tmp_path, "w")],
    }
    for name, args in runs.items():
        before = balancer.counters["requests"]
        code, out, err = await run_bin(*args, env=env, cwd=tmp_path, timeout=60)
        assert code == 6, f"{name}: {out}{err}"
        assert NO_AFFINITY in out + err, f"{name}: {out}{err}"
        # GET /me, then three handshake + subscribe pairs: never a loop.
        assert balancer.counters["requests"] - before <= 8, name
    assert loose.store.counters["posts"] == 0  # nothing was sent without a stream to hear it


@pytest.mark.parametrize("csrf", [True, False], ids=["csrf", "no-csrf"])
async def test_sticky_watch_recovers_from_a_node_restart_with_a_gap(csrf: bool,
                                                                    tmp_path: Path) -> None:
    async with Simulator(password=PASSWORD, nodes=2, bayeux=QUICK,
                         settings=GwsSettings(csrf=csrf)) as cluster:
        env = isolated_env(tmp_path, PASSWORD)
        journal = tmp_path / "w"
        proc = await asyncio.create_subprocess_exec(
            BIN, "watch", "--json", *target(cluster, tmp_path, "w"),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            stdin=asyncio.subprocess.DEVNULL, env=env, cwd=tmp_path)
        poster = Gws(cluster.url, cluster.user, PASSWORD)
        try:
            def statuses() -> list[str]:
                if not journal.exists():
                    return []
                return [line["status"] for line in journal_lines(journal)
                        if line["kind"] == "status"]

            await eventually(lambda: "connected" in statuses(), timeout=20)
            await cluster.restart()  # both nodes: whichever held the session lost it
            await eventually(lambda: statuses().count("connected") >= 2, timeout=20)
            assert "gap" in statuses() and "reconnecting" in statuses()
            await poster.start()
            reply = await poster.add_record(sample_request(referenceId="after-restart"))
            assert reply.json() == {"statusCode": 0}

            def heard() -> bool:
                return any(line["kind"] == "event" and "after-restart" in str(line)
                           for line in journal_lines(journal))
            await eventually(heard, timeout=20)
            # Recovered, not looping: a few seconds of quiet hold at most a few requests.
            assert cluster.balancer is not None
            before = cluster.balancer.counters["requests"]
            await asyncio.sleep(3)
            assert cluster.balancer.counters["requests"] - before <= 4
            proc.send_signal(signal.SIGINT)
            out, err = await asyncio.wait_for(proc.communicate(), 30)
        finally:
            await poster.close()
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        said = json_lines(out.decode()) + json_lines(err.decode())
        assert [line for line in said if line.get("status") == "gap"], said  # said, not only
        # journaled


async def test_sticky_replay_across_a_node_restart_accounts_for_every_record(
        tmp_path: Path) -> None:
    async with Simulator(password=PASSWORD, nodes=2, bayeux=QUICK) as cluster:
        cluster.set_faults({"ack_delay_ms": 100})
        env = isolated_env(tmp_path, PASSWORD)
        proc = await asyncio.create_subprocess_exec(
            BIN, "replay", str(CALLBACK), "--count", "30", "--set", "phone=5551234",
            "--rate", "10", "--timeout", "3", "--json", "--resume-dir", str(tmp_path),
            *target(cluster, tmp_path, "r"), stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL, env=env,
            cwd=tmp_path)
        await eventually(lambda: len(cluster.store.records) >= 8, timeout=30)
        await cluster.restart()
        out, err = await asyncio.wait_for(proc.communicate(), 90)
        results = json_lines(out.decode())
        assert len(results) == 30, err.decode()
        states = [r["state"] for r in results]
        assert set(states) <= {"acknowledged", "no_answer"}, results
        # What the console calls acknowledged, the simulator delivered; every no answer is a
        # record whose acknowledgement was lost with the restart, and says so.
        delivered = {r.reference_id for r in cluster.store.records if r.delivered_at}
        acked = {r["referenceId"] for r in results if r["state"] == "acknowledged"}
        assert acked == delivered
        for result in results:
            if result["state"] == "no_answer":
                assert "interrupted while it waited" in result["reason"], result
        assert len(cluster.store.records) == 30  # each sent once: no loop, no double send
        verdicts = [line for line in journal_lines(tmp_path / "r") if line["kind"] == "verdict"]
        assert len(verdicts) == 30


@pytest.mark.parametrize("csrf", [True, False], ids=["csrf", "no-csrf"])
async def test_send_and_replay_with_and_without_csrf(csrf: bool, tmp_path: Path) -> None:
    async with Simulator(password=PASSWORD, bayeux=QUICK,
                         settings=GwsSettings(csrf=csrf)) as sim:
        env = isolated_env(tmp_path, PASSWORD)
        code, out, err = await run_bin("send", "--json", *target(sim, tmp_path, "s"), *FIELDS,
                                       env=env, cwd=tmp_path)
        assert code == 0, out + err
        assert json_lines(out)[-1]["state"] == "acknowledged"
        code, out, err = await run_bin("replay", str(CALLBACK), "--count", "3", "--set",
                                       "phone=5551234", "--json",
                                       *target(sim, tmp_path, "r"), env=env, cwd=tmp_path)
        assert code == 0, out + err
        assert [r["state"] for r in json_lines(out)] == ["acknowledged"] * 3
        nodes = sim.state()["nodes"] or []
        rejected = sum(n["http"].get("csrf_rejected", 0) for n in nodes)
        assert rejected == 0 and sim.store.counters["csrf_rejected"] == 0


@pytest.mark.parametrize("channel", ["/v2/me/devices", "/me/internal"])
async def test_default_channels_hear_the_user_event_wherever_it_comes_amid_noise(
        channel: str, tmp_path: Path) -> None:
    settings = GwsSettings(user_event_channel=channel, noise_per_s=100)
    # The acknowledgement held 300 ms: the send's session lives long enough for the noise
    # (100/s) to reach it; without it a fast send sometimes heard none.
    async with Simulator(password=PASSWORD, bayeux=QUICK, settings=settings,
                         faults=Faults(ack_delay_ms=300)) as sim:
        env = isolated_env(tmp_path, PASSWORD)
        code, out, err = await run_bin("send", "--json", *target(sim, tmp_path, "s"), *FIELDS,
                                       env=env, cwd=tmp_path)
        assert code == 0, out + err
        lines = json_lines(out)
        events = [line for line in lines if line["type"] == "event"]
        # Only this request's two notifications are echoed, the user event from `channel`.
        assert [(e["channel"], e["data"]["messageType"]) for e in events] == [
            ("/v2/me/outbound", "OutboundRecordMessage"), (channel, "DeviceUserEventMessage")]
        assert lines[-1]["state"] == "acknowledged"
        journal = journal_lines(tmp_path / "s")
        heard = {line["channel"] for line in journal if line["kind"] == "event"}
        assert heard & {"/v2/me/devices", "/v2/me/calls"}  # the noise reached us, unmatched
        matched = [line for line in journal if line["kind"] == "event"
                   and line.get("matched")]
        assert {line["data"]["messageType"] for line in matched} == {
            "OutboundRecordMessage", "DeviceUserEventMessage"}


async def test_correlation_amid_noise_ties_each_user_event_to_its_request() -> None:
    from console.gws.connection import Connection, Secret
    from console.gws.engine import Engine

    settings = GwsSettings(user_event_channel="/v2/me/devices", noise_per_s=200)
    async with Simulator(password=PASSWORD, bayeux=QUICK, settings=settings) as sim:
        async with Engine(Connection(sim.url, sim.user, Secret(PASSWORD))) as engine:
            sent = [await engine.send(sample_request(referenceId=f"n{n}",
                                                     phoneNumber=f"555000{n}"))
                    for n in range(5)]
            for tracked in sent:
                await engine.wait(tracked)
                await eventually(lambda: tracked.user_event is not None, timeout=10)
            for tracked in sent:
                assert tracked.state == "acknowledged"
                assert tracked.user_event is not None
                assert tracked.user_event.channel == "/v2/me/devices"
                assert tracked.user_event.user_data["GSW_PHONE"] == tracked.record.phone_number
            assert sim.bayeux.counters.as_json()["events_delivered"] > 10  # noise flowed
