"""What `send` waits for on its way to the acknowledgement, and how its process ends.

- The POST goes out once the server has confirmed the subscriptions: never before (the
  acknowledgement could be published before anyone listens), and without waiting for the
  first connect to be answered (what is published after the subscription is queued for the
  session); the acknowledgement is still heard. Against a scriptable server (tests/hostile.py).
- The installed binary ends its process as soon as its last line is written (no interpreter
  teardown): every line still reaches stdout when it is a file (block-buffered, not a pipe)
  and the journal, with the exit code of the verdict; Ctrl-C while it waits still ends it
  cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from console.cli.exit_codes import EXIT_ACK, EXIT_INTERRUPTED, EXIT_NO_ANSWER
from console.cli.process import exit_now
from console.domain.correlation import Tracked
from console.gws.connection import Connection, Secret
from console.gws.engine import Engine
from console.sim import Simulator
from tests.cli_helpers import BIN, interrupt_bin, isolated_env, journal_lines
from tests.helpers import sample, sample_request
from tests.hostile import Action, Delay, HostileServer, Seen
from tests.test_cli_engine import FIELDS

CHANNELS = ("/v2/me/outbound", "/me/internal")
RECORDS = "/api/v2/me/outbound-records"


def acknowledgement(reference: str) -> dict[str, Any]:
    data = dict(sample()["notifications"][0]["data"])
    data["referenceId"] = reference
    return data


async def send_one(script: Callable[[HostileServer, Seen], Awaitable[Action | None]],
                   reference: str, ack_timeout_s: float) -> tuple[HostileServer, Tracked]:
    """One record sent through an engine to a scripted server (`script(server, seen)` for each
    request it sees); the server, for what it saw, and the record's verdict."""
    async with HostileServer(timeout_ms=2000) as server:
        server.script = functools.partial(script, server)
        connection = Connection(server.url, "agent", Secret("pw"), channels=CHANNELS)
        async with Engine(connection, ack_timeout_s=ack_timeout_s) as engine:
            tracked = await engine.wait(await engine.send(sample_request(referenceId=reference)))
    return server, tracked


async def test_the_post_waits_for_the_subscription_not_for_the_first_connect() -> None:
    posted = asyncio.Event()

    async def script(server: HostileServer, seen: Seen) -> Action | None:
        if seen.channel == "/meta/subscribe":
            return Delay(0.3)  # the POST must wait for this answer
        if seen.channel == "/meta/connect" and len(server.seen("/meta/connect")) == 1:
            # The first connect is answered once the POST has come (at the latest after 5 s).
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(posted.wait(), 5)
            return None
        if seen.path == RECORDS:
            assert server.publish("/v2/me/outbound",
                                  acknowledgement(json.loads(seen.body)["referenceId"])) == 1
            posted.set()
        return None

    server, tracked = await send_one(script, "r1", ack_timeout_s=10)
    subscribe = server.seen("/meta/subscribe")[0]
    first_connect = server.seen("/meta/connect")[0]
    post = server.seen_path(RECORDS)[0]
    assert subscribe.answered_at is not None and subscribe.answered_at <= post.at
    assert first_connect.answered_at is not None and post.at < first_connect.answered_at
    assert tracked.state == "acknowledged", tracked.describe()


async def test_a_post_sent_before_the_first_connect_is_answered_hears_a_lost_session() -> None:
    """The first connect, answered after the POST went out, says the session is unknown:
    the acknowledgement published to it is lost, and the verdict says the stream was
    interrupted (may be in the list, check before re-sending), never 'refused'."""
    posted = asyncio.Event()

    async def script(server: HostileServer, seen: Seen) -> Action | None:
        if seen.channel == "/meta/connect" and len(server.seen("/meta/connect")) == 1:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(posted.wait(), 5)
            server.sessions.clear()  # a node restart: the session and its queue are gone
            return None
        if seen.path == RECORDS:
            server.publish("/v2/me/outbound", acknowledgement(json.loads(seen.body)["referenceId"]))
            posted.set()
        return None

    server, tracked = await send_one(script, "r2", ack_timeout_s=1.5)
    assert tracked.post == "accepted"
    assert tracked.state == "no_answer", tracked.describe()
    assert tracked.interrupted and "check before re-sending" in tracked.describe()


def test_exit_now_outside_the_program_raises_system_exit() -> None:
    """Called in a process that is not the command line itself (here: pytest), exit_now must
    not end it."""
    with pytest.raises(SystemExit) as exited:
        exit_now(EXIT_NO_ANSWER)
    assert exited.value.code == EXIT_NO_ANSWER


def _send_args(sim: Simulator, journal: Path, *extra: str) -> list[str]:
    return ["send", "--url", sim.url, "--user", sim.user, "--journal", str(journal),
            *FIELDS, *extra]


async def test_send_to_a_file_writes_every_line_and_journal_line(sim: Simulator,
                                                                 tmp_path: Path) -> None:
    env = isolated_env(tmp_path, sim.password)
    journal = tmp_path / "j.jsonl"
    for as_json in (True, False):
        output = tmp_path / f"out-{as_json}.txt"
        with output.open("wb") as sink:
            done = await asyncio.to_thread(
                subprocess.run, [BIN, *_send_args(sim, journal, *(["--json"] if as_json else []))],
                stdout=sink, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env,
                cwd=tmp_path, timeout=60)
        assert done.returncode == EXIT_ACK, done.stderr
        printed = output.read_text()
        if as_json:
            lines = [json.loads(line) for line in printed.splitlines()]
            assert lines[0]["type"] == "http" and lines[-1]["type"] == "verdict"
            assert lines[-1]["state"] == "acknowledged"
            assert all(line["target"]["url"] == sim.url for line in lines)
        else:
            assert printed.splitlines()[-1].endswith(f"@{sim.url.split('//')[1]}]")
            assert "acknowledged in" in printed.splitlines()[-1]
            assert done.stderr.startswith(b"target: ")
    kinds = [json.loads(line)["kind"] for line in journal.read_text().splitlines()]
    assert kinds.count("verdict") == 2 and kinds.count("session") == 2
    assert kinds.count("event") >= 2 and kinds[-1] in ("verdict", "event", "status")


async def test_ctrl_c_while_send_waits_for_its_acknowledgement(sim: Simulator,
                                                                tmp_path: Path) -> None:
    sim.set_faults({"ack_drop": 1.0})  # it would wait 30 s for an acknowledgement
    journal = tmp_path / "j.jsonl"
    code, out, err = await interrupt_bin(
        *_send_args(sim, journal, "--timeout", "30"), env=isolated_env(tmp_path, sim.password),
        cwd=tmp_path,
        ready=lambda: journal.exists() and '"kind": "response"' in journal.read_text())
    assert code == EXIT_INTERRUPTED, err
    assert "Traceback" not in out + err and "Aborted" not in err
    lines = out.splitlines()
    assert "HTTP 200 statusCode 0" in lines[0]
    # A verdict all the same, naming the target: unknown (it may still be acknowledged),
    # never refused.
    assert lines[-1].endswith(f"@{sim.url.split('//')[1]}]"), lines
    assert ": unknown: stopped by Ctrl-C before its acknowledgement: it may have been " \
        "accepted by GWS; check before re-sending" in lines[-1]
    verdicts = [r for r in journal_lines(journal) if r["kind"] == "verdict"]
    assert [(v["state"], v["post"]) for v in verdicts] == [("unknown", "accepted")]


async def test_ctrl_c_while_the_post_is_in_flight_is_unknown(sim: Simulator,
                                                             tmp_path: Path) -> None:
    """The POST reached GWS (the simulator stored it) but its reply never came: Ctrl-C gives
    `unknown` with the POST in flight, in the output and the journal, and exit 130."""
    sim.set_faults({"accept_then_hang": 1.0, "ack_drop": 1.0})
    journal = tmp_path / "j.jsonl"
    code, out, err = await interrupt_bin(
        *_send_args(sim, journal, "--timeout", "30", "--json"),
        env=isolated_env(tmp_path, sim.password), cwd=tmp_path,
        ready=lambda: journal.exists() and '"kind": "request"' in journal.read_text()
        and len(sim.store.records) >= 1)
    assert code == EXIT_INTERRUPTED, err
    assert "Traceback" not in out + err
    last = json.loads(out.splitlines()[-1])
    assert (last["type"], last["state"], last["post"]) == ("verdict", "unknown", "unknown")
    assert "while the POST was in flight" in last["reason"]
    assert last["target"]["url"] == sim.url
    verdicts = [r for r in journal_lines(journal) if r["kind"] == "verdict"]
    assert [(v["state"], v["post"]) for v in verdicts] == [("unknown", "unknown")]
