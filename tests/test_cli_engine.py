"""The installed `outbound-console` binary: send, watch, profiles — over real sockets."""

from __future__ import annotations

import asyncio
import json
import os
import socket
from pathlib import Path

import pytest

from console.sim import Simulator
from tests.cli_helpers import BIN, run_bin, with_set
from tests.helpers import Gws, eventually, sample_request

FIELDS = ["--set", "applicationId=134", "--set", "campaignName=Campaign1",
          "--set", "callingList=CallingList1", "--set", "phoneNumber=5551234",
          "--set", "timeZone=GMT", "--set", "phoneType=Mobile",
          "--set", "from=08:00", "--set", "until=20:00"]


async def run(*args: str, password: str | None = None, timeout: float = 30.0,
              cwd: Path | None = None) -> tuple[int, str, str]:
    """The binary with this process's environment, the password only when given."""
    env = {k: v for k, v in os.environ.items() if k != "OUTBOUND_CONSOLE_PASSWORD"}
    if password is not None:
        env["OUTBOUND_CONSOLE_PASSWORD"] = password
    return await run_bin(*args, env=env, cwd=cwd or Path.cwd(), timeout=timeout)


async def test_send_on_the_embedded_simulator_is_acknowledged(tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    code, out, err = await run("send", "--journal", str(journal), *FIELDS, cwd=tmp_path)
    assert code == 0, out + err
    assert "AddRecordAcknowledge" in out and "acknowledged in" in out
    # The target is named at the start and in the verdict line.
    assert "target: SIMULATOR profile demo, http://127.0.0.1:" in err
    verdict = out.splitlines()[-1]
    assert "acknowledged in" in verdict and "[SIMULATOR demo demo@127.0.0.1:" in verdict
    kinds = [json.loads(line)["kind"] for line in journal.read_text().splitlines()]
    assert {"session", "request", "response", "event", "verdict"} <= set(kinds)


async def test_send_json_lines(tmp_path: Path) -> None:
    code, out, _ = await run("send", "--json", "--journal", str(tmp_path / "j"), *FIELDS,
                             cwd=tmp_path)
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines[0]["type"] == "http" and lines[-1]["type"] == "verdict"
    assert lines[-1]["state"] == "acknowledged" and lines[-1]["latencyMs"] >= 0
    events = [line for line in lines if line["type"] == "event"]
    assert {e["channel"] for e in events} == {"/v2/me/outbound", "/me/internal"}


async def test_send_json_ends_with_a_verdict_line_when_gws_refuses(
        sim: Simulator, tmp_path: Path) -> None:
    """A refusal printed only its `http` line with --json: a script filtering on
    type == "verdict" (as for every other outcome) missed it."""
    sim.set_faults({"status_code": 4, "status_rate": 1.0})
    code, out, err = await run("send", "--json", "--url", sim.url, "--user", sim.user,
                               "--journal", str(tmp_path / "j"), *FIELDS, cwd=tmp_path,
                               password=sim.password)
    assert code == 3, out + err
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["type"] for line in lines] == ["http", "verdict"], lines
    assert lines[-1]["state"] == "failed" and lines[-1]["target"]["url"] == sim.url


async def test_invalid_field_exits_2_naming_it(tmp_path: Path) -> None:
    code, out, err = await run("send", "--journal", str(tmp_path / "j"),
                               *with_set(FIELDS, "phoneType=Cell"), cwd=tmp_path)
    assert code == 2
    assert "phoneType: got 'Cell'" in err


async def test_exit_codes_against_a_faulty_gws(sim: Simulator, tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    base = ["send", "--url", sim.url, "--user", sim.user, "--journal", str(journal), *FIELDS]
    sim.set_faults({"ack_drop": 1.0})
    code, out, _ = await run(*base, "--timeout", "0.5", password=sim.password)
    assert code == 5 and "no answer" in out
    sim.set_faults({"ack_drop": 0.0, "ack_error": 1.0})
    code, out, _ = await run(*base, password=sim.password)
    assert code == 4 and ("refused by OCS: OCS refused the record (simulated fault ack_error) "
                          "(GSW_ERROR_NUMBER 13)") in out
    sim.clear_faults()
    sim.set_settings({"ocs_refusals": "sync"})  # GWS refuses an unknown campaign at once
    code, out, _ = await run(*with_set(base, "campaignName=Nope"), password=sim.password)
    assert code == 3 and "statusCode 6" in out
    code, _, err = await run(*base, password="wrong")
    assert code == 6 and "statusCode 20" in err
    code, out, _ = await run(*base, "--no-wait", password=sim.password)
    assert code == 0 and "statusCode 0" in out
    text = journal.read_text()
    assert sim.password not in text and "wrong" not in text.replace('"wrong', "")


async def test_unreachable_exits_6() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, _, err = await run("send", "--url", f"http://127.0.0.1:{port}", "--user", "u",
                             *FIELDS, password="p")
    assert code == 6 and "cannot connect" in err


async def test_missing_password_without_terminal_says_what_to_set(sim: Simulator) -> None:
    code, _, err = await run("send", "--url", sim.url, "--user", "demo", *FIELDS)
    assert code == 6 and "OUTBOUND_CONSOLE_PASSWORD" in err


async def test_watch_json_prints_events_for_jq(sim: Simulator, gws: Gws, tmp_path: Path) -> None:
    env = {**os.environ, "OUTBOUND_CONSOLE_PASSWORD": sim.password}
    proc = await asyncio.create_subprocess_exec(
        BIN, "watch", "--json", "--url", sim.url, "--user", sim.user, "--journal",
        str(tmp_path / "w.jsonl"), stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env=env)
    try:
        await eventually(lambda: sim.bayeux.counters.subscribes >= 2, timeout=10)
        await gws.add_record(sample_request(referenceId="watched"))
        assert proc.stdout is not None
        lines = []
        while len([line for line in lines if line["type"] == "event"]) < 2 or not any(
                line.get("status") == "connected" for line in lines):  # may follow the events
            lines.append(json.loads(await asyncio.wait_for(proc.stdout.readline(), 10)))
        # Status changes are JSON lines too, told apart by "type".
        assert {line["type"] for line in lines} <= {"event", "status"}
        assert any(line["type"] == "status" and line["status"] == "connected" for line in lines)
        first, second = [line for line in lines if line["type"] == "event"]
        assert first["data"]["referenceId"] == "watched"
        assert second["data"]["messageType"] == "DeviceUserEventMessage"
    finally:
        proc.terminate()
        await proc.wait()


async def test_profiles_list_and_show(tmp_path: Path) -> None:
    code, out, _ = await run("profiles", "list", cwd=tmp_path)
    assert code == 0 and "demo" in out and "embedded simulator" in out
    code, out, _ = await run("profiles", "show", "demo", cwd=tmp_path)
    assert code == 0 and "simulator: True" in out
    code, _, err = await run("profiles", "show", "missing", cwd=tmp_path)
    assert code == 6 and "no profile named 'missing'" in err  # as for send, replay, console


@pytest.mark.parametrize("bad", ["phoneType", "phoneType=", "=x"])
async def test_bad_set_syntax(bad: str, tmp_path: Path) -> None:
    code, _, err = await run("send", "--set", bad, cwd=tmp_path)
    assert code == 2
