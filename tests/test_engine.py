"""The engine end to end against the simulator over sockets, and the README's notebook example."""

from __future__ import annotations

import ast
import asyncio
import json
import re
from pathlib import Path
from types import CodeType

from console.domain.journal import Journal
from console.gws.connection import Connection, Secret
from console.gws.engine import Engine
from console.sim import Simulator
from tests.helpers import eventually, sample, sample_request

README = Path(__file__).parent.parent / "README.md"


def engine_for(sim: Simulator, tmp_path: Path, timeout: float = 3.0) -> Engine:
    connection = Connection(sim.url, sim.user, Secret(sim.password))
    return Engine(connection, journal=Journal(path=tmp_path / "j.jsonl",
                                              secrets=(sim.password,)), ack_timeout_s=timeout)


async def test_sample_end_to_end(sim: Simulator, tmp_path: Path) -> None:
    async with engine_for(sim, tmp_path) as engine:
        tracked = await engine.send(sample_request())
        await engine.wait(tracked)
        await eventually(lambda: tracked.user_event is not None)
    assert tracked.state == "acknowledged" and tracked.http_status == 200
    assert tracked.ack is not None and tracked.ack.data == sample()["notifications"][0]["data"]
    assert tracked.user_event is not None
    assert tracked.user_event.user_data == sample()["notifications"][1]["data"]["userData"]
    lines = [json.loads(line) for line in (tmp_path / "j.jsonl").read_text().splitlines()]
    kinds = [line["kind"] for line in lines]
    assert kinds.index("request") < kinds.index("response")
    assert [line for line in lines if line["kind"] == "verdict"][0]["state"] == "acknowledged"
    matched = [line["matched"] for line in lines if line["kind"] == "event"]
    assert matched[0] == "123456789"
    assert sim.password not in (tmp_path / "j.jsonl").read_text()


async def test_verdicts_under_faults(sim: Simulator, tmp_path: Path) -> None:
    async with engine_for(sim, tmp_path, timeout=0.5) as engine:
        sim.set_faults({"ack_error": 1.0})
        error = await engine.wait(await engine.send(sample_request(referenceId="e")))
        sim.set_faults({"ack_error": 0.0, "ack_drop": 1.0})
        silent = await engine.wait(await engine.send(sample_request(referenceId="s")))
        sim.clear_faults()
        sim.set_settings({"ocs_refusals": "sync"})  # GWS refuses an unknown time zone at once
        refused = await engine.send(sample_request(referenceId="r", timeZone="Mars"))
        sim.set_faults({"http_error_rate": 1.0})
        down = await engine.send(sample_request(referenceId="d"))
    assert error.state == "failed" and "(GSW_ERROR_NUMBER 13)" in error.reason
    assert silent.state == "no_answer"
    assert refused.state == "failed" and "statusCode 6" in refused.reason
    assert refused.http_status == 404
    assert down.state == "failed" and down.http_status == 503
    verdicts = [json.loads(line) for line in (tmp_path / "j.jsonl").read_text().splitlines()
                if '"kind": "verdict"' in line]
    assert sorted(v["referenceId"] for v in verdicts) == ["d", "e", "r", "s"]


async def test_send_through_a_restart(sim: Simulator, tmp_path: Path) -> None:
    async with engine_for(sim, tmp_path) as engine:
        first = await engine.wait(await engine.send(sample_request(referenceId="one")))
        await sim.restart()
        await eventually(lambda: engine.status is not None and engine.status.kind == "connected"
                         and engine.stream is not None and engine.stream.handshakes == 2,
                         timeout=10)
        second = await engine.wait(await engine.send(sample_request(referenceId="two")))
    assert (first.state, second.state) == ("acknowledged", "acknowledged")
    assert [r.reference_id for r in sim.store.records] == ["one", "two"]


def test_readme_notebook_example_runs_with_top_level_await() -> None:
    text = README.read_text()
    block = re.search(r"### In a notebook.*?```python\n(.*?)```", text, re.S)
    assert block, "the README lost its notebook example"
    source = block.group(1)
    assert len(source.strip().splitlines()) <= 12
    code = compile(source, "README.md", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    assert isinstance(code, CodeType)
    namespace: dict[str, object] = {}

    async def run() -> None:
        result = eval(code, namespace)  # noqa: S307 (our own README's example)
        if asyncio.iscoroutine(result):
            await result

    asyncio.run(run())
    tracked = namespace["tracked"]
    assert tracked.state == "acknowledged"
