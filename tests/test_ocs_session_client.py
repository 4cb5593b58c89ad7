"""The console against OCS's two ways of refusing a record (at once, or later on CometD) and
against a GWS that needs a contact-centre session: `send`, `replay` and `watch` as the
installed binary runs them, verdicts, exit codes and the journal checked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from console.errors import ProfileError
from console.profiles import read_profile
from console.sim import Simulator
from tests.cli_helpers import (
    CALLBACK,
    interrupt_bin,
    isolated_env,
    journal_lines,
    json_lines,
    run_bin,
    with_set,
    write_profile,
)
from tests.test_cli_engine import FIELDS

SAMPLE_DN = "5001"


def send_args(sim: Simulator, tmp_path: Path, *sets: str) -> list[str]:
    """`send` of FIELDS, with `sets` (NAME=VALUE) in place of theirs."""
    return ["send", "--url", sim.url, "--user", sim.user, "--journal",
            str(tmp_path / "j.jsonl"), "--json", *with_set(FIELDS, *sets)]


def verdicts(path: Path) -> list[dict[str, Any]]:
    return [line for line in journal_lines(path) if line["kind"] == "verdict"]


@pytest.mark.parametrize("mode", ["async", "sync"])
async def test_an_unknown_campaign_fails_with_ocs_words_in_both_modes(
        sim: Simulator, tmp_path: Path, mode: str) -> None:
    sim.set_settings({"ocs_refusals": mode})
    env = isolated_env(tmp_path, sim.password)
    code, out, err = await run_bin(*send_args(sim, tmp_path, "campaignName=Nope"),
                                   env=env, cwd=tmp_path)
    [verdict] = [line for line in json_lines(out) if line["type"] == "verdict"] or [
        line for line in json_lines(out) if line["type"] == "http"]
    assert verdict["state"] == "failed", out + err
    assert "Campaign 'Nope' not found" in verdict["reason"]
    [journaled] = verdicts(tmp_path / "j.jsonl")
    assert journaled["state"] == "failed" and journaled["reason"] == verdict["reason"]
    if mode == "async":  # GWS took it; OCS said no later, on CometD
        assert code == 4 and verdict["post"] == "accepted"
        assert verdict["reason"] == ("refused by OCS: Campaign 'Nope' not found "
                                     "(GSW_ERROR_NUMBER 102)")
        assert verdict["ocsError"] == {"GSW_ERROR": "Campaign 'Nope' not found",
                                       "GSW_ERROR_NUMBER": 102}
        assert journaled["ocsError"]["GSW_ERROR_NUMBER"] == 102
    else:
        assert code == 3 and verdict["post"] == "refused" and "statusCode 6" in verdict["reason"]
    # The same, as a person reads it.
    code, out, _ = await run_bin(*[a for a in send_args(sim, tmp_path, "campaignName=Nope")
                                   if a != "--json"], env=env, cwd=tmp_path)
    assert "failed: " in out and "Campaign 'Nope' not found" in out


async def test_replay_verdict_table_and_json_carry_ocs_words(sim: Simulator,
                                                             tmp_path: Path) -> None:
    env = isolated_env(tmp_path, sim.password)
    code, out, err = await run_bin(
        "replay", str(CALLBACK), "--count", "3", "--set", "phone=5551234", "--set",
        "callingList=CL_Retention_Main", "--json", "--url", sim.url, "--user", sim.user,
        "--journal", str(tmp_path / "j.jsonl"), "--yes", env=env, cwd=tmp_path)
    results = json_lines(out)
    assert code == 4, out + err
    words = ("refused by OCS: Calling list 'CL_Retention_Main' is not part of campaign "
             "'Campaign1' (GSW_ERROR_NUMBER 104)")
    assert [r["state"] for r in results] == ["failed"] * 3
    assert {r["reason"] for r in results} == {words}
    assert [r["ocsError"] for r in results] == [
        {"GSW_ERROR": "Calling list 'CL_Retention_Main' is not part of campaign 'Campaign1'",
         "GSW_ERROR_NUMBER": 104}] * 3
    assert f"3 x {words}" in err  # the verdict table
    assert [v["reason"] for v in verdicts(tmp_path / "j.jsonl")] == [words] * 3


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_no_session_refusal_names_the_profile_key_and_the_key_fixes_it(
        sim: Simulator, tmp_path: Path, mode: str) -> None:
    sim.set_settings({"session_required": mode})
    env = isolated_env(tmp_path, sim.password)
    profiles = tmp_path / "profiles"
    write_profile(profiles, "plain", sim.url, sim.user)
    base = ["send", "--profiles", str(profiles), "--json", *FIELDS]
    code, out, err = await run_bin(*base, "-p", "plain", "--journal", str(tmp_path / "a"),
                                   env=env, cwd=tmp_path)
    final = json_lines(out)[-1]
    assert code == (3 if mode == "sync" else 4), out + err
    assert final["state"] == "failed"
    assert "contact_center_session: {start: true}" in final["reason"]
    assert "no agent is logged in on the device's DN" in final["reason"]
    assert "contact_center_session" in verdicts(tmp_path / "a")[0]["reason"]

    write_profile(profiles, "agent", sim.url, sim.user,
                  contact_center_session="{start: true}")
    code, out, err = await run_bin(*base, "-p", "agent", "--journal", str(tmp_path / "b"),
                                   env=env, cwd=tmp_path)
    assert code == 0, out + err
    assert json_lines(out)[-1]["state"] == "acknowledged"
    lines = journal_lines(tmp_path / "b")
    steps = [(line["action"], line["detail"]) for line in lines
             if line["kind"] == "contact_center"]
    device = "/devices/4d72a6b5-ee96-4e1f-b09b-5c3f979d82b7"
    assert steps == [("started", f"voice on device {device}"),
                     ("ended", f"contact-centre session ended (voice on device {device}): "
                               "the agent is logged out")]
    assert not sim.backend.logged_in.get(sim.user)  # logged out again on exit


async def test_a_session_on_another_place_is_named_in_the_refusal(sim: Simulator,
                                                                  tmp_path: Path) -> None:
    sim.set_settings({"session_required": "sync"})
    env = isolated_env(tmp_path, sim.password)
    profiles = tmp_path / "profiles"
    write_profile(profiles, "other", sim.url, sim.user,
                  contact_center_session="{start: true, place: Place_5002}")
    code, out, _ = await run_bin("send", "--profiles", str(profiles), "-p", "other", "--json",
                                 "--journal", str(tmp_path / "j"), *FIELDS, env=env,
                                 cwd=tmp_path)
    reason = json_lines(out)[-1]["reason"]
    assert code == 3
    assert "the console started a contact-centre session (voice on place Place_5002)" in reason
    assert "devicePath" in reason


async def test_a_refused_session_start_stops_before_anything_is_sent(sim: Simulator,
                                                                     tmp_path: Path) -> None:
    env = isolated_env(tmp_path, sim.password)
    profiles = tmp_path / "profiles"
    write_profile(profiles, "bad", sim.url, sim.user,
                  contact_center_session="{start: true, place: Nowhere}")
    code, out, err = await run_bin("send", "--profiles", str(profiles), "-p", "bad",
                                   "--journal", str(tmp_path / "j"), *FIELDS, env=env,
                                   cwd=tmp_path)
    assert code == 6, out + err
    assert "StartContactCenterSession" in err and "Place 'Nowhere' not found" in err
    assert "contact_center_session.place" in err
    assert sim.store.counters["posts"] == 0


async def test_watch_and_replay_start_and_end_the_session(sim: Simulator,
                                                          tmp_path: Path) -> None:
    sim.set_settings({"session_required": "async"})
    env = isolated_env(tmp_path, sim.password)
    profiles = tmp_path / "profiles"
    write_profile(profiles, "agent", sim.url, sim.user,
                  contact_center_session="{start: true, place: Place_5001}")
    code, out, err = await run_bin(
        "replay", str(CALLBACK), "--count", "2", "--set", "phone=5551234", "--json",
        "--profiles", str(profiles), "-p", "agent", "--journal", str(tmp_path / "r"),
        env=env, cwd=tmp_path)
    assert code == 0, out + err
    assert [r["state"] for r in json_lines(out)] == ["acknowledged"] * 2
    assert [line["action"] for line in journal_lines(tmp_path / "r")
            if line["kind"] == "contact_center"] == ["started", "ended"]
    assert not sim.backend.logged_in.get(sim.user)

    watch_journal = tmp_path / "w"
    _, _, err = await interrupt_bin(
        "watch", "--profiles", str(profiles), "-p", "agent", "--journal", str(watch_journal),
        env=env, cwd=tmp_path, ready_timeout=40,
        ready=lambda: sim.backend.logged_in.get(sim.user) and watch_journal.exists()
        and "connected" in watch_journal.read_text())
    assert not sim.backend.logged_in.get(sim.user), err
    assert [line["action"] for line in journal_lines(tmp_path / "w")
            if line["kind"] == "contact_center"] == ["started", "ended"]


@pytest.mark.parametrize("value, words", [
    ("true", "must be a mapping"),
    ("{place: Place_5001}", "needs start: true"),
    ("{start: yes please}", "start must be true or false, got 'yes please'"),
    ("{start: 'yes'}", "contact_center_session.start must be true or false"),
    ("{start: true, dn: 5001}", "unknown key 'dn'"),
    ("{start: true, place: 7}", "contact_center_session.place must be text"),
    ("{start: true, device_path: 5001}", "contact_center_session.device_path must be text"),
    ("{start: true, device_path: dev5001}", "looks like /devices/<id>"),
    ("{start: true, end_on_exit: 0}", "end_on_exit must be true or false"),
])
def test_bad_contact_center_keys_name_file_and_line(tmp_path: Path, value: str,
                                                    words: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(f"url: https://gws.example.com\nusername: a\n"
                    f"contact_center_session: {value}\n")
    with pytest.raises(ProfileError) as caught:
        read_profile(path)
    assert f"{path}:3:" in str(caught.value) and words in str(caught.value)


def test_contact_center_key_is_read() -> None:
    from console.profile import ContactCenterSession

    directory = Path(__file__).parent / "data"
    path = directory / "cc-profile.yaml"
    assert read_profile(path).contact_center == ContactCenterSession(
        start=True, place="Place_5002", end_on_exit=False)
    assert json.dumps(read_profile(path).describe())  # `profiles show` prints it


async def test_the_session_is_ended_on_exit_even_after_the_node_restarted() -> None:
    from console.gws.connection import Connection, Secret
    from console.gws.engine import Engine
    from console.profile import ContactCenterSession

    async with Simulator(password="pw", nodes=2) as cluster:
        connection = Connection(cluster.url, cluster.user, Secret("pw"),
                                contact_center=ContactCenterSession(start=True))
        engine = Engine(connection, ack_timeout_s=5)
        await engine.open(wait_connected_s=10)
        assert cluster.backend.logged_in[cluster.user]
        assert engine.session.contact_center is not None
        await cluster.restart()  # the HTTP session and its CSRF token are gone
        await engine.close()
        assert not cluster.backend.logged_in.get(cluster.user)
        assert sum(n["http"].get("csrf_rejected", 0) for n in cluster.state()["nodes"]) == 1


async def test_an_ocs_error_before_the_http_reply_is_one_verdict(sim: Simulator,
                                                                 tmp_path: Path) -> None:
    """The Error arrives while the POST's reply never does: one verdict, failed with OCS's
    words, journaled once, and the reply's fate kept (unknown)."""
    sim.set_faults({"accept_then_hang": 1.0})
    env = isolated_env(tmp_path, sim.password)
    profiles = tmp_path / "profiles"
    write_profile(profiles, "quick", sim.url, sim.user, timeout=1)
    code, out, err = await run_bin("send", "--profiles", str(profiles), "-p", "quick", "--json",
                                   "--journal", str(tmp_path / "j"),
                                   *with_set(FIELDS, "campaignName=Nope"), env=env,
                                   cwd=tmp_path)
    assert code == 4, out + err
    final = json_lines(out)[-1]
    assert final["type"] == "verdict" and final["state"] == "failed"
    assert final["reason"].startswith("refused by OCS: Campaign 'Nope' not found")
    [journaled] = verdicts(tmp_path / "j")
    assert journaled["post"] == "unknown" and journaled["state"] == "failed"


async def test_the_tui_starts_the_session_and_ends_it_on_exit(sim: Simulator,
                                                              tmp_path: Path) -> None:
    from console.profile import ContactCenterSession, Profile
    from tests.tui_helpers import make_app, ready

    profile = Profile(name="agent", url=sim.url, username=sim.user,
                      contact_center=ContactCenterSession(start=True, place="Place_5001"))
    app = make_app(tmp_path, profile, password=sim.password)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        assert sim.backend.logged_in.get(sim.user)
    assert not sim.backend.logged_in.get(sim.user)
    steps = [line["action"] for line in journal_lines(tmp_path / "journal.jsonl")
             if line["kind"] == "contact_center"]
    assert steps == ["started", "ended"]
