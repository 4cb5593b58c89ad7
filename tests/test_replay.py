"""Replay against the simulator with faults on: verdicts equal what the simulator recorded."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from console.app.replay_engine import Replay, make_plan, plan, resume_rows, summarise
from console.domain.events import StreamStatus
from console.domain.rows import Row
from console.domain.templates import load_template
from console.example_templates import DIR as EXAMPLES
from console.gws.connection import Connection, Secret
from console.gws.engine import Engine
from console.sim import Simulator
from tests.cli_helpers import bin_after, interrupt_bin
from tests.helpers import eventually
from tests.test_cli_engine import BIN

TEMPLATES = EXAMPLES  # the example templates shipped with the package
CALLBACK = TEMPLATES / "Campaign1" / "CallingList1" / "callback-mobile.yaml"


def engine_for(sim: Simulator, timeout: float) -> Engine:
    return Engine(Connection(sim.url, sim.user, Secret(sim.password)), ack_timeout_s=timeout)


async def test_verdicts_match_the_simulator_under_faults(sim: Simulator) -> None:
    sim.set_faults({"ack_drop": 0.15, "ack_error": 0.15, "http_error": 503,
                    "http_error_rate": 0.05, "http_error_burst": 3, "seed": 11})
    template = load_template(CALLBACK)
    async with engine_for(sim, timeout=1.0) as engine:
        jobs = plan([template], None, 80, {"phone": "5551234"}, engine.session.device_path)
        outcomes = await Replay(engine, jobs, rate=500, concurrency=8, timeout_s=1.0).run()
    states = Counter(o.state for o in outcomes)
    fates = Counter(r.fate for r in sim.store.records)
    assert sum(states.values()) == 80 and sim.store.counters["posts"] == 80  # each sent once
    assert states["acknowledged"] == fates["ack"] > 0
    assert states["no_answer"] == fates["drop"] > 0
    errors = [o for o in outcomes if o.by_notification]
    assert len(errors) == fates["error"] > 0
    http_failed = [o for o in outcomes if o.state == "failed" and o.http_status == 503]
    assert len(http_failed) == sim.store.counters["http_fault"] > 0
    assert not sim.store.summary()["duplicateReferenceIds"]
    summary = summarise(outcomes)
    assert summary.counts["acknowledged"] == states["acknowledged"]
    assert summary.p50_ms is not None and summary.max_ms is not None
    safe, unsure = resume_rows(outcomes, "demo | demo | SIMULATOR")
    assert len(safe) == len(http_failed)  # GWS never accepted them: safe to send again
    assert len(unsure) == fates["drop"] + fates["error"]


async def test_restart_in_the_middle(sim: Simulator) -> None:
    sim.set_faults({"ack_delay_ms": 150})
    template = load_template(CALLBACK)
    gaps: list[StreamStatus] = []
    async with engine_for(sim, timeout=1.5) as engine:
        engine.on_item(lambda item: gaps.append(item) if isinstance(item, StreamStatus)
                       and item.kind == "gap" else None)
        jobs = plan([template], None, 40, {"phone": "5551234"}, engine.session.device_path)
        run = Replay(engine, jobs, rate=60, concurrency=4, timeout_s=1.5)
        task = asyncio.create_task(run.run())
        await eventually(lambda: len(sim.store.records) >= 10, timeout=5)
        await sim.restart()
        outcomes = await task
    states = Counter(o.state for o in outcomes)
    fates = Counter(r.fate for r in sim.store.records)
    assert sum(states.values()) == 40
    assert len(sim.store.records) == 40  # none lost on the way in, none doubled (CSRF refreshed)
    assert not sim.store.summary()["duplicateReferenceIds"]
    assert fates["lost"] > 0 and gaps
    by_ref = {r.reference_id: r for r in sim.store.records}

    def during_gap(at: float | None) -> bool:
        return at is not None and any(g.gap_from <= at <= g.gap_to for g in gaps)  # type: ignore[operator]

    for outcome in outcomes:
        assert outcome.job.record is not None
        record = by_ref[outcome.job.record.reference_id]
        if outcome.state == "acknowledged":
            assert record.fate == "ack"
        else:
            # Lost with the node, or published while the stream was down (reported as a gap).
            assert outcome.state == "no_answer"
            assert record.fate == "lost" or during_gap(record.notified_at), (record, gaps)
    # Sending paused while the stream was deaf: most records after the restart are confirmed.
    assert states["acknowledged"] >= 40 - fates["lost"] - 8


async def test_rate_and_concurrency_limits_hold(sim: Simulator) -> None:
    sim.set_faults({"slow_ms": 60})
    template = load_template(CALLBACK)
    async with engine_for(sim, timeout=2.0) as engine:
        jobs = plan([template], None, 24, {"phone": "5551234"}, engine.session.device_path)
        await Replay(engine, jobs, rate=200, concurrency=3, timeout_s=2.0).run()
    assert sim.store.counters["in_flight_max"] == 3
    sim.clear_faults()
    sim.store.reset()
    async with engine_for(sim, timeout=2.0) as engine:
        jobs = plan([template], None, 12, {"phone": "5551234"}, engine.session.device_path)
        await Replay(engine, jobs, rate=40, concurrency=8, timeout_s=2.0).run()
    times = sorted(r.received_at for r in sim.store.records)
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    # 40/s means 25 ms apart; allow scheduling jitter on single gaps, not on the whole run.
    assert times[-1] - times[0] >= 11 * 0.025 * 0.9
    assert min(gaps) > 0.010


def test_rows_feed_placeholders_and_set_wins(tmp_path: Path) -> None:
    template = load_template(CALLBACK)
    rows = [Row(phone="5550001", ticket="A"), Row(phone="bad phone", ticket="B"),
            Row(phone="5550003", _template="other-template")]
    for line, row in enumerate(rows, start=2):
        row.line, row.path = line, tmp_path / "rows.csv"
    planned = make_plan([template], rows, 1, {"ticket": "FORCED"}, "/devices/d")
    jobs = planned.jobs
    assert len(jobs) == 2  # the third row belongs to another template: not planned...
    assert jobs[0].record is not None and jobs[0].record.other_fields == {
        "Ticket": "FORCED", "Source": "outbound-console replay",
        "Created": jobs[0].record.other_fields["Created"]}  # type: ignore[index]
    # ...and neither it nor the bad row is silently dropped: each is a problem naming its line.
    assert jobs[1].record is None and jobs[1].error.startswith(f"{tmp_path / 'rows.csv'}:3: ")
    assert "phoneNumber" in jobs[1].error
    assert any(p.startswith(f"{tmp_path / 'rows.csv'}:4: ") and "other-template" in p
               for p in planned.problems)
    assert not planned.ok


async def run_cli(*args: str, password: str | None = None,
                  cwd: Path | None = None) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if k != "OUTBOUND_CONSOLE_PASSWORD"}
    if password:
        env["OUTBOUND_CONSOLE_PASSWORD"] = password
    proc = await asyncio.create_subprocess_exec(BIN, *args, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE, env=env, cwd=cwd)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_cli_replay_with_rows_on_the_embedded_simulator(tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("phone,ticket\n5550001,T1\n5550002,T2\n5550003,T3\n")
    code, out, err = await run_cli("replay", str(CALLBACK), "--rows", str(rows), "--rate", "100",
                                   "--json", "--journal", str(tmp_path / "j"), cwd=tmp_path)
    assert code == 0, err
    results = [json.loads(line) for line in out.splitlines()]
    assert [r["state"] for r in results] == ["acknowledged"] * 3
    assert len({r["referenceId"] for r in results}) == 3
    assert re.search(r"^\s*acknowledged\s+3\s*$", err, re.M), err  # the verdict table
    journal = (tmp_path / "j").read_text()
    assert journal.count('"kind": "verdict"') == 3


async def test_cli_dry_run_sends_nothing(sim: Simulator, tmp_path: Path) -> None:
    code, out, err = await run_cli("replay", str(CALLBACK), "--count", "3", "--set",
                                   "phone=5551234", "--dry-run", "--url", sim.url, "--user",
                                   sim.user, cwd=tmp_path)
    assert code == 0, err
    assert f"nothing sent to [(flags) {sim.user}@{sim.url[7:]}]" in err  # where it would go
    bodies = [json.loads(line) for line in out.splitlines()]
    assert len(bodies) == 3 and all(b["operationName"] == "AddRecord" for b in bodies)
    assert sim.store.counters["posts"] == 0
    code, _, err = await run_cli("replay", str(CALLBACK), "--dry-run", cwd=tmp_path)
    assert code == 2 and "${phone}" in err


async def test_cli_bad_rows_and_limits(tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("phone,phone\n1,2\n")
    code, _, err = await run_cli("replay", str(CALLBACK), "--rows", str(rows), cwd=tmp_path)
    assert code == 2 and "rows.csv:1" in err
    code, _, err = await run_cli("replay", str(CALLBACK), "--rate", "100000", cwd=tmp_path)
    assert code == 2 and "--rate" in err
    code, _, err = await run_cli("replay", str(CALLBACK), "--concurrency", "500", cwd=tmp_path)
    assert code == 2 and "--concurrency" in err


async def test_ctrl_c_stops_writes_resume_rows_and_resume_sends_nothing_twice(
        sim: Simulator, tmp_path: Path) -> None:
    sim.set_faults({"ack_delay_ms": 50})
    env = {**os.environ, "OUTBOUND_CONSOLE_PASSWORD": sim.password}
    code, text, err = await interrupt_bin(
        "replay", str(CALLBACK), "--count", "200", "--set", "phone=5551234", "--rate", "20",
        "--url", sim.url, "--user", sim.user, "--resume-dir", str(tmp_path), "--journal",
        str(tmp_path / "j"), env=env, cwd=tmp_path, ready_timeout=15,
        ready=lambda: len(sim.store.records) >= 10)
    assert code == 130, err
    assert "interrupted" in text and "not sent" in text
    first_run = len(sim.store.records)
    assert 10 <= first_run < 200
    [resume] = list(tmp_path.glob("replay-*.resume.csv"))
    with resume.open() as handle:
        unsent = list(csv.DictReader(handle))
    assert len(unsent) == 200 - first_run
    code, _, err2 = await run_cli("replay", str(CALLBACK), "--rows", str(resume), "--rate", "200",
                                  "--url", sim.url, "--user", sim.user, "--journal",
                                  str(tmp_path / "j2"), "--resume-dir", str(tmp_path),
                                  password=sim.password)
    assert code == 0, err2
    assert len(sim.store.records) == 200  # exactly the planned number: nothing sent twice
    assert not sim.store.summary()["duplicateReferenceIds"]


async def replay_until(sim: Simulator, tmp_path: Path, change: Callable[[], None],
                       *extra: str) -> tuple[int, str, str]:
    """`replay` of 200 records at 20/s; once ten are stored, `change()` (a fault, a new
    password); (exit code, stdout, stderr) once it ends by itself (killed after 30 s)."""
    return await bin_after(
        "replay", str(CALLBACK), "--count", "200", "--set", "phone=5551234", "--rate", "20",
        *extra, "--url", sim.url, "--user", sim.user, "--resume-dir", str(tmp_path),
        "--journal", str(tmp_path / "j"),
        env={**os.environ, "OUTBOUND_CONSOLE_PASSWORD": sim.password}, cwd=tmp_path,
        ready=lambda: len(sim.store.records) >= 10, ready_timeout=15,
        then=lambda proc: change())


async def test_a_stream_that_stops_for_good_stops_the_replay_saying_why(
        sim: Simulator, tmp_path: Path) -> None:
    """GWS tells the stream not to reconnect (advice reconnect: none) mid-run. No
    acknowledgement can come any more: the replay stops by itself, as Ctrl-C stops it, and
    says why (exit 6). Before, its workers waited for the stream to connect again, forever:
    the progress froze with no word (until Ctrl-C)."""
    code, text, err = await replay_until(
        sim, tmp_path, lambda: sim.set_faults({"advice_reconnect": "none"}) and None)
    assert code == 6, text + err
    assert "notification stream stopped for good" in text and "advised not to reconnect" in text
    stored = len(sim.store.records)
    assert 10 <= stored < 200
    [resume] = list(tmp_path.glob("replay-*.resume.csv"))
    with resume.open() as handle:
        assert len(list(csv.DictReader(handle))) == 200 - stored  # exactly those never sent
    end = [json.loads(line) for line in (tmp_path / "j").read_text().splitlines()
           if '"event": "end"' in line]
    assert end and "advised not to reconnect" in end[-1]["halted"]


async def test_a_password_refused_on_two_records_in_a_row_stops_the_replay(
        sim: Simulator, tmp_path: Path) -> None:
    """An administrator changes the password mid-run: every further POST is a failed login
    with the old one, and a directory locks the account after a few. The replay stops after
    two records refused with HTTP 401 in a row (exit 6, saying why); the rest go to the
    resume file, safe to send once the password is right. Before, it went on: one failed
    login per record, 200 of them here."""
    code, text, err = await replay_until(
        sim, tmp_path, lambda: sim.change_password("changed-by-an-admin"), "--concurrency", "1")
    assert code == 6, text + err
    assert "HTTP 401" in text and "lock the account" in text, text
    assert sim.store.counters["unauthenticated"] == 2  # one POST at a time: exactly two
    stored = len(sim.store.records)
    [resume] = list(tmp_path.glob("replay-*.resume.csv"))
    with resume.open() as handle:
        assert len(list(csv.DictReader(handle))) == 200 - stored  # refused ones included


@pytest.mark.parametrize(("faults", "code"), [
    ({"ack_drop": 1.0}, 5), ({"ack_error": 1.0}, 4), ({"http_error_rate": 1.0}, 3),
])
async def test_cli_exit_codes(sim: Simulator, tmp_path: Path, faults: dict[str, float],
                              code: int) -> None:
    sim.set_faults(faults)
    got, out, err = await run_cli("replay", str(CALLBACK), "--count", "2", "--set",
                                  "phone=5551234", "--timeout", "0.5", "--url", sim.url,
                                  "--user", sim.user, "--journal", str(tmp_path / "j"),
                                  "--resume-dir", str(tmp_path), password=sim.password)
    assert got == code, out + err


def test_a_column_is_checked_against_the_templates_its_row_goes_to(tmp_path: Path) -> None:
    callback = load_template(CALLBACK)
    email = load_template(TEMPLATES / "Campaign1" / "CallingList2" / "email-followup.yaml")
    assert "ticket" in callback.names() and "ticket" not in email.names()
    rows = [Row(phone="5550001", email="a@example.com", ticket="T1", tickt="x")]
    rows[0].line, rows[0].path, rows[0].header_line = 2, tmp_path / "r.csv", 1
    planned = make_plan([callback, email], rows, 1, {}, "/devices/d")
    # `ticket` feeds one of the two templates the row goes to: used. `tickt` feeds none.
    [problem] = [p for p in planned.problems if "column" in p]
    assert problem.startswith(f"{tmp_path / 'r.csv'}:1: column 'tickt' (did you mean 'ticket'?)")
    assert "callback-mobile, email-followup" in problem
