"""Nothing typed is dropped: a --set name or a rows column that nothing uses is refused (exit 2,
"did you mean"), row errors name the rows file and line, and a referenceId is never shared by
two requests waiting at the same time."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.errors import DuplicateReference
from console.gws.connection import Connection, Secret
from console.gws.engine import Engine
from console.sim import Simulator
from tests.cli_helpers import CALLBACK, TEMPLATES, isolated_env, run_bin, sim_state
from tests.helpers import sample_request
from tests.test_cli_engine import FIELDS

DOC_SAMPLE = TEMPLATES / "Campaign1" / "CallingList1" / "doc-sample.yaml"


def target(sim: Simulator) -> list[str]:
    return ["--url", sim.url, "--user", sim.user]


@pytest.mark.parametrize(("args", "typo", "meant"), [
    (["--template", str(CALLBACK), "--set", "phone=5551234"], "phoneNumbr", "phoneNumber"),
    (["--template", str(CALLBACK), "--set", "phone=5551234"], "tickt", "ticket"),
    (["--template", str(DOC_SAMPLE)], "phoneNumbr", "phoneNumber"),
    (FIELDS, "phoneNumbr", "phoneNumber"),  # no template
    (FIELDS, "timezone", "timeZone"),
])
async def test_send_refuses_a_set_name_nothing_uses(sim: Simulator, tmp_path: Path,
                                                    args: list[str], typo: str,
                                                    meant: str) -> None:
    code, out, err = await run_bin("send", *target(sim), *args, "--set", f"{typo}=5550000",
                                   env=isolated_env(tmp_path, sim.password), cwd=tmp_path)
    assert code == 2, out + err
    assert typo in err and f"did you mean {meant!r}" in err
    assert sim.store.counters["posts"] == 0 and (await sim_state(sim.url))["records"] == []


@pytest.mark.parametrize(("rows", "name", "message"), [
    ("phone,tickt\n5550001,T1\n5550002,T2\n", "rows.csv",
     "rows.csv:1: column 'tickt' (did you mean 'ticket'?)"),
    ("- {phone: '5550001', ticket: T1}\n- {phone: '5550002', tickt: T2}\n", "rows.yaml",
     "rows.yaml:2: column 'tickt' (did you mean 'ticket'?)"),
])
async def test_replay_refuses_a_column_nothing_uses(sim: Simulator, tmp_path: Path, rows: str,
                                                    name: str, message: str) -> None:
    (tmp_path / name).write_text(rows)
    code, out, err = await run_bin("replay", str(CALLBACK), "--rows", str(tmp_path / name),
                                   *target(sim), env=isolated_env(tmp_path, sim.password),
                                   cwd=tmp_path)
    assert code == 2, out + err
    assert f"{tmp_path / name}:{message[len(name) + 1:]}" in err
    assert "nothing sent" in err
    assert (await sim_state(sim.url))["records"] == []


async def test_replay_refuses_a_set_name_nothing_uses(sim: Simulator, tmp_path: Path) -> None:
    code, out, err = await run_bin("replay", str(CALLBACK), "--count", "2", "--set",
                                   "phone=5551234", "--set", "tickt=T9", *target(sim),
                                   env=isolated_env(tmp_path, sim.password), cwd=tmp_path)
    assert code == 2, out + err
    assert "'tickt' (did you mean 'ticket'?)" in err
    assert (await sim_state(sim.url))["records"] == []


async def test_row_errors_name_the_rows_file_and_line(sim: Simulator, tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("phone,ticket\n5550001,T1\nnot a phone,T2\n5550003,T3\n")
    code, out, err = await run_bin("replay", str(CALLBACK), "--rows", str(rows), *target(sim),
                                   env=isolated_env(tmp_path, sim.password), cwd=tmp_path)
    assert code == 2, out + err
    assert f"{rows}:3: phoneNumber: got 'not a phone'" in err
    assert f"{CALLBACK}:" not in err  # the template file is not where the mistake is
    # Nothing is sent while any planned record is invalid: fix the file, run it again.
    assert (await sim_state(sim.url))["records"] == []


def fixed_reference_template(tmp_path: Path) -> Path:
    path = tmp_path / "fixed.yaml"
    path.write_text(CALLBACK.read_text().replace("request:\n", "request:\n  referenceId: "
                                                 "incident-42\n"))
    return path


async def test_a_fixed_reference_id_for_several_records_is_refused(sim: Simulator,
                                                                   tmp_path: Path) -> None:
    sim.set_faults({"ack_delay_ms": 200})
    template = fixed_reference_template(tmp_path)
    env = isolated_env(tmp_path, sim.password)
    code, out, err = await run_bin("replay", str(template), "--count", "3", "--concurrency",
                                   "3", "--set", "phone=5551234", *target(sim), env=env,
                                   cwd=tmp_path)
    assert code == 2, out + err
    assert "referenceId 'incident-42' would be sent 3 times" in err
    assert (await sim_state(sim.url))["records"] == []
    # One record may carry it: then the verdict is its own.
    code, out, err = await run_bin("replay", str(template), "--count", "1", "--set",
                                   "phone=5551234", "--json", *target(sim), env=env,
                                   cwd=tmp_path)
    assert code == 0, out + err
    assert '"referenceId": "incident-42", "state": "acknowledged"' in out
    assert [r["referenceId"] for r in (await sim_state(sim.url))["records"]] == ["incident-42"]


async def test_the_tracker_never_lets_two_live_requests_share_a_reference(
        sim: Simulator) -> None:
    sim.set_faults({"ack_delay_ms": 200})
    async with Engine(Connection(sim.url, sim.user, Secret(sim.password)),
                      ack_timeout_s=5) as engine:
        first = await engine.send(sample_request(referenceId="same-ref"))
        assert first.state == "pending"
        with pytest.raises(DuplicateReference, match="'same-ref' is already used"):
            await engine.send(sample_request(referenceId="same-ref"))
        assert sim.store.counters["posts"] == 1  # the second never left
        await engine.wait(first)
        assert first.state == "acknowledged" and first.ack is not None
        # Once the first has its verdict the id is free again (a deliberate re-send).
        again = await engine.send(sample_request(referenceId="same-ref"))
        await engine.wait(again)
        assert again.state == "acknowledged" and again is not first
