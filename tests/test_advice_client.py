"""The console's own commands against CometD advice that the simulator sends on demand
(issue 13 item 5): an advised interval and `multiple-clients` are honoured (the console polls,
never faster than advised, and events still arrive), and `reconnect: none` stops `watch` with
the reason and a non-zero exit. The hostile-server tests (test_stream_hostile.py) cover the
same rules against a scripted server; these use the simulator and the installed binary."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx

from console.sim import Simulator
from tests.cli_helpers import isolated_env, json_lines, run_bin
from tests.helpers import eventually
from tests.test_cli_engine import BIN, FIELDS


async def put_faults(sim: Simulator, **settings: object) -> None:
    async with httpx.AsyncClient(base_url=sim.url) as http:
        reply = await http.put("/sim/faults", json=settings)
        assert reply.status_code == 200, reply.text


async def start_watch(sim: Simulator, tmp_path: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        BIN, "watch", "--json", "--url", sim.url, "--user", sim.user, "--journal",
        str(tmp_path / "w.jsonl"), stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL,
        env=isolated_env(tmp_path, sim.password), cwd=tmp_path)


def watch_journal(tmp_path: Path) -> str:
    path = tmp_path / "w.jsonl"
    return path.read_text() if path.exists() else ""


async def stop(proc: asyncio.subprocess.Process) -> tuple[str, str]:
    if proc.returncode is None:
        proc.terminate()
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    return out.decode(), err.decode()


async def test_watch_honours_an_advised_interval_with_multiple_clients(
        sim: Simulator, tmp_path: Path) -> None:
    # Every connect answered at once (multiple-clients) with a 1 s interval: a client that
    # ignores the interval polls in a tight loop; one that reads it as seconds goes deaf.
    await put_faults(sim, advice_interval_ms=1000, multiple_clients=True)
    proc = await start_watch(sim, tmp_path)
    try:
        await eventually(lambda: "connected" in watch_journal(tmp_path), timeout=30)
        first = sim.bayeux.counters.connects
        await eventually(lambda: sim.bayeux.counters.connects >= first + 3, timeout=15)
        code, out, err = await run_bin(
            "send", "--url", sim.url, "--user", sim.user, "--journal",
            str(tmp_path / "s.jsonl"), "--json", *FIELDS,
            env=isolated_env(tmp_path, sim.password), cwd=tmp_path)
        assert code == 0, out + err
        [verdict] = [line for line in json_lines(out) if line["type"] == "verdict"]
        assert verdict["state"] == "acknowledged"
        reference = verdict["referenceId"]
        # The watcher, polling every second, still hears the acknowledgement.
        await eventually(lambda: reference in watch_journal(tmp_path), timeout=15)
        assert sim.bayeux.counters.early_connects == 0
        assert sim.bayeux.counters.multiple_clients == 0  # watch has its own cookie jar
    finally:
        out_w, err_w = await stop(proc)
    assert "Traceback" not in err_w


async def test_watch_polls_no_faster_than_the_advised_interval(
        sim: Simulator, tmp_path: Path) -> None:
    # A short advised timeout (the connect is answered after 0.3 s) and a 1.5 s interval:
    # about one connect per 1.8 s, never one before the interval has passed.
    await put_faults(sim, advice_interval_ms=1500, advice_timeout_ms=300)
    proc = await start_watch(sim, tmp_path)
    try:
        await eventually(lambda: "connected" in watch_journal(tmp_path), timeout=30)
        first = sim.bayeux.counters.connects
        loop = asyncio.get_running_loop()
        started = loop.time()
        await eventually(lambda: sim.bayeux.counters.connects >= first + 3, timeout=20)
        elapsed = loop.time() - started
    finally:
        out, err = await stop(proc)
    assert sim.bayeux.counters.early_connects == 0, err
    # Three connects took at least two intervals (the first may come right away).
    assert elapsed >= 2 * 1.5 - 0.2, elapsed


async def test_reconnect_none_stops_watch_with_the_reason(sim: Simulator,
                                                          tmp_path: Path) -> None:
    await put_faults(sim, advice_timeout_ms=500)
    proc = await start_watch(sim, tmp_path)
    try:
        await eventually(lambda: "connected" in watch_journal(tmp_path), timeout=30)
        handshakes = sim.bayeux.counters.handshakes
        await put_faults(sim, advice_reconnect="none", advice_timeout_ms=500)
        await asyncio.wait_for(proc.wait(), 20)
    finally:
        out, err = await stop(proc)
    assert proc.returncode == 6, out + err
    # `watch --json` says it on its status line (stdout), as every other status.
    assert "advised not to reconnect" in out, out + err
    assert "Traceback" not in err
    # It stopped: no handshake after the server said none.
    assert sim.bayeux.counters.handshakes == handshakes
    statuses = [json.loads(line).get("status") for line in out.splitlines()
                if line.startswith("{") and '"status"' in line]
    assert statuses and statuses[-1] == "failed", out
