"""Unknown is not refused. A POST that GWS may have taken but whose reply was lost (reset after
sending, no reply, a reply that is not GWS's) keeps waiting for its acknowledgement; without
one its verdict is `unknown` (exit 7), it goes to the unconfirmed file with its referenceId
and why, and never to the resume file. A POST that never left is `not delivered` (resume)."""

from __future__ import annotations

import asyncio
import csv
import socket
from pathlib import Path
from typing import Literal

import pytest

from console.app.replay import ReplayRun, ReplaySettings, load_inputs
from console.app.target import TargetOptions, open_target, resolve_target
from console.domain.model import AddRecord
from console.errors import GwsUnreachable
from console.gws.connection import Connection, Secret
from console.gws.session import GwsSession
from console.sim import Simulator
from tests.cli_helpers import (
    CALLBACK,
    isolated_env,
    journal_lines,
    run_bin,
    write_profile,
)
from tests.helpers import eventually, sample_request
from tests.test_cli_engine import FIELDS

Mode = Literal["reset", "silent", "garbage"]
#: The simulator's reply faults: it takes the record (stores it, sends its notifications unless
#: told not to) and then resets the connection, never answers, or answers garbage.
FAULT = {"reset": "accept_then_reset", "silent": "accept_then_hang",
         "garbage": "accept_then_garbage"}
DETAIL = {"reset": "sent, but the connection failed before the answer",
          "silent": "sent, but no answer within 1 s",
          "garbage": "not a GWS answer"}


def profile_for(tmp_path: Path, url: str, user: str) -> list[str]:
    """A profile with a 1 s REST timeout (so a silent GWS is noticed quickly)."""
    write_profile(tmp_path / "dir", "flaky", url, user, timeout=1)
    return ["--profiles", str(tmp_path / "dir"), "--profile", "flaky"]


@pytest.mark.parametrize("mode", ["reset", "silent", "garbage"])
async def test_send_says_unknown_with_its_own_exit_code(sim: Simulator, tmp_path: Path,
                                                        mode: Mode) -> None:
    # GWS took it, but no acknowledgement will come.
    sim.set_faults({"ack_drop": 1.0, FAULT[mode]: 1.0})
    journal = tmp_path / "j.jsonl"
    code, out, err = await run_bin("send", *profile_for(tmp_path, sim.url, sim.user),
                                   *FIELDS, "--timeout", "1.5", "--journal", str(journal),
                                   env=isolated_env(tmp_path, sim.password), cwd=tmp_path)
    assert code == 7, out + err
    assert len(sim.store.records) == 1  # it was accepted: calling it refused would be a lie
    verdict = out.splitlines()[-1]
    assert ": unknown: " in verdict and DETAIL[mode] in verdict
    assert "may have been accepted by GWS; check before re-sending" in verdict
    assert "refused" not in out and "no answer:" not in verdict
    [line] = [e for e in journal_lines(journal) if e["kind"] == "verdict"]
    assert (line["state"], line["post"]) == ("unknown", "unknown")


async def test_an_unknown_post_still_acknowledged_is_acknowledged(sim: Simulator,
                                                                  tmp_path: Path) -> None:
    sim.set_faults({FAULT["reset"]: 1.0})
    code, out, err = await run_bin("send", *profile_for(tmp_path, sim.url, sim.user),
                                   *FIELDS, env=isolated_env(tmp_path, sim.password),
                                   cwd=tmp_path)
    assert code == 0, out + err
    assert "outcome unknown" in out and "waiting for its acknowledgement" in out
    assert "acknowledged in" in out.splitlines()[-1]


@pytest.mark.parametrize("mode", ["reset", "garbage"])
async def test_replay_puts_unknown_records_in_the_unconfirmed_file(sim: Simulator,
                                                                   tmp_path: Path,
                                                                   mode: Mode) -> None:
    sim.set_faults({"ack_drop": 1.0, FAULT[mode]: 1.0})
    code, out, err = await run_bin(
        "replay", str(CALLBACK), "--count", "3", "--set", "phone=5551234", "--timeout",
        "1", "--json", *profile_for(tmp_path, sim.url, sim.user),
        env=isolated_env(tmp_path, sim.password), cwd=tmp_path)
    assert code == 7, out + err
    assert len(sim.store.records) == 3
    assert not list(tmp_path.glob("replay-*.resume.csv"))  # nothing here is safe to resend
    [unconfirmed] = tmp_path.glob("replay-*.unconfirmed.csv")
    with unconfirmed.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(r["_referenceId"] for r in rows) == sorted(
        r.reference_id or "" for r in sim.store.records)
    assert all(r["_state"] == "unknown" and DETAIL[mode] in r["_reason"] for r in rows)
    assert "unknown" in err and "unconfirmed" in err


async def test_not_delivered_goes_to_the_resume_file(sim: Simulator, tmp_path: Path) -> None:
    """The simulator's node goes down for a while: POSTs then are refused at connect, so GWS
    never had them and the resume file holds them. No CometD stream here: with one, the replay
    rightly pauses while GWS is down (acks would be lost), and nothing would meet the closed
    port."""
    resolved = resolve_target(TargetOptions(url=sim.url, user=sim.user,
                                            journal=tmp_path / "j.jsonl"),
                              password=sim.password)
    inputs = load_inputs([str(CALLBACK)], count=30, sets={"phone": "5551234"})
    async with await open_target(resolved, ack_timeout_s=1.0, stream=False) as opened:
        run = ReplayRun(opened, inputs, ReplaySettings(rate=20, concurrency=2, timeout_s=1.0),
                        resume_dir=tmp_path)
        task = asyncio.create_task(run.run())
        await eventually(lambda: len(sim.store.records) >= 5, timeout=10)
        restart = asyncio.create_task(sim.restart(downtime_s=0.6))
        result = await task
        await restart
    states = {o.job.record.reference_id: o.state for o in result.outcomes if o.job.record}
    at_gws = {r.reference_id for r in sim.store.records}
    not_delivered = {ref for ref, state in states.items() if state == "not_delivered"}
    assert not_delivered and not not_delivered & at_gws
    assert result.resume_file is not None
    with result.resume_file.open(newline="") as handle:
        assert len(list(csv.DictReader(handle))) >= len(not_delivered)
    assert result.worst() in ("not_delivered", "unknown")


async def test_a_post_to_a_closed_port_is_not_delivered() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    session = GwsSession(Connection(f"http://127.0.0.1:{port}", "u", Secret("p")))
    record = AddRecord.parse(sample_request())
    try:
        with pytest.raises(GwsUnreachable, match="cannot connect"):
            await session.add_record(record)
    finally:
        await session.close()
