"""Every global option, before or after the command, is honoured or refused — never ignored.

Each case runs the installed binary against a simulator on its own free port, with two users
(demo and agent2): a record or a CometD session of agent2 at THAT simulator (read from its
/sim/state) proves that --url/--profile and --user were used; the journal file at the path
given proves --journal; every --json line and journal line must name that target.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from console.sim import Simulator
from console.sim.catalog import demo_user
from tests.cli_helpers import (
    CALLBACK,
    isolated_env,
    journal_lines,
    json_lines,
    run_bin,
    sim_state,
    write_profile,
)
from tests.helpers import Gws, eventually, sample_request
from tests.test_cli_engine import BIN, FIELDS

PASSWORD = "matrix-pw-81x"
USER = "agent2"


@pytest.fixture
async def sim2() -> AsyncIterator[Simulator]:
    users = [demo_user(PASSWORD, "demo"), demo_user(PASSWORD, USER)]
    async with Simulator(password=PASSWORD, users=users) as simulator:
        yield simulator


# Each case: (options before the command, options after it); `{url}`, `{dir}` and `{journal}`
# are filled in. Together they give every option once before and once after.
CASES: dict[str, tuple[list[str], list[str]]] = {
    "all-before": (["--url", "{url}", "--user", USER, "--journal", "{journal}"], []),
    "all-after": ([], ["--url", "{url}", "--user", USER, "--journal", "{journal}"]),
    "profiles-before-profile-after": (["--profiles", "{dir}"], ["-p", "lab", "--journal",
                                                               "{journal}"]),
    "profile-before-profiles-after": (["--profile", "lab", "--journal", "{journal}"],
                                      ["--profiles", "{dir}"]),
    "url-before-user-after": (["--url", "{url}"], ["--user", USER]),
    "user-before-url-after": (["--user", USER], ["--url", "{url}"]),
}


def fill(args: list[str], sim: Simulator, tmp_path: Path) -> list[str]:
    values = {"url": sim.url, "dir": str(tmp_path / "dir"),
              "journal": str(tmp_path / "given.jsonl")}
    return [a.format(**values) for a in args]


def expected_target(case: str, sim: Simulator) -> dict[str, Any]:
    lab = "profile" in case
    return {"profile": "lab" if lab else "(flags)", "url": sim.url, "user": USER,
            "simulator": False, "environment": "staging" if lab else None}


def check_journal(case: str, sim: Simulator, tmp_path: Path, before: list[str],
                  after: list[str]) -> None:
    journal = tmp_path / "given.jsonl"
    if "--journal" not in before + after:
        assert not journal.exists()
        return
    lines = journal_lines(journal)
    assert lines and all(line["target"] == expected_target(case, sim) for line in lines)


@pytest.fixture
def lab(sim2: Simulator, tmp_path: Path) -> Path:
    """Profile `lab` in tmp_path/dir: found only through --profiles (the commands run in
    tmp_path/work, whose ./profiles does not exist)."""
    return write_profile(tmp_path / "dir", "lab", sim2.url, USER, environment="staging")


@pytest.mark.parametrize("case", list(CASES))
async def test_send(case: str, sim2: Simulator, lab: Path, tmp_path: Path) -> None:
    before, after = (fill(a, sim2, tmp_path) for a in CASES[case])
    env = isolated_env(tmp_path, PASSWORD)
    code, out, err = await run_bin(*before, "send", "--json", *FIELDS, *after, env=env,
                                   cwd=tmp_path / "work")
    assert code == 0, out + err
    records = (await sim_state(sim2.url))["records"]
    assert [r["user"] for r in records] == [USER]  # that simulator, that user, once
    lines = json_lines(out)
    assert lines[-1]["type"] == "verdict" and lines[-1]["referenceId"] == \
        records[0]["referenceId"]
    assert all(line["target"] == expected_target(case, sim2) for line in lines)
    check_journal(case, sim2, tmp_path, before, after)


@pytest.mark.parametrize("case", list(CASES))
async def test_replay(case: str, sim2: Simulator, lab: Path, tmp_path: Path) -> None:
    before, after = (fill(a, sim2, tmp_path) for a in CASES[case])
    env = isolated_env(tmp_path, PASSWORD)
    code, out, err = await run_bin(*before, "replay", str(CALLBACK), "--count", "2", "--set",
                                   "phone=5551234", "--rate", "100", "--json", *after,
                                   env=env, cwd=tmp_path / "work")
    assert code == 0, out + err
    records = (await sim_state(sim2.url))["records"]
    assert [r["user"] for r in records] == [USER, USER]
    results = json_lines(out)
    assert sorted(r["referenceId"] for r in results) == sorted(r["referenceId"]
                                                               for r in records)
    assert all(r["target"] == expected_target(case, sim2) for r in results)
    # The verdict table (on stderr with --json) names the target too.
    tag = ("STAGING lab" if "profile" in case else "(flags)") + f" {USER}@{sim2.url[7:]}"
    assert re.search(rf"^target +{re.escape(tag)}$", err, re.M), err
    check_journal(case, sim2, tmp_path, before, after)


@pytest.mark.parametrize("case", list(CASES))
async def test_watch(case: str, sim2: Simulator, lab: Path, tmp_path: Path) -> None:
    before, after = (fill(a, sim2, tmp_path) for a in CASES[case])
    env = isolated_env(tmp_path, PASSWORD)
    (tmp_path / "work").mkdir()
    proc = await asyncio.create_subprocess_exec(
        BIN, *before, "watch", "--json", *after, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL, env=env,
        cwd=tmp_path / "work")
    try:
        async def subscribed() -> bool:
            sessions = (await sim_state(sim2.url))["bayeux"]["sessions"]
            return any(s["user"] == USER and len(s["subscriptions"]) >= 2 for s in sessions)

        await eventually(subscribed, timeout=20, interval=0.1)
        # Notifications go to the posting user's sessions only: this one reaches the watcher
        # only if it is logged in as agent2 on this simulator.
        gws = Gws(sim2.url, USER, PASSWORD)
        await gws.start()
        await gws.add_record(sample_request(referenceId=f"matrix-{case}"))
        await gws.close()
        assert proc.stdout is not None
        while True:
            line = json.loads(await asyncio.wait_for(proc.stdout.readline(), 20))
            assert line["target"] == expected_target(case, sim2)
            if line["type"] == "event":
                assert line["data"]["referenceId"] == f"matrix-{case}"
                break
    finally:
        proc.terminate()
        await proc.wait()
    check_journal(case, sim2, tmp_path, before, after)


async def test_the_same_option_twice_is_refused_unless_equal(sim2: Simulator, lab: Path,
                                                             tmp_path: Path) -> None:
    env = isolated_env(tmp_path, PASSWORD)
    for command in (["send", *FIELDS], ["watch"], ["replay", str(CALLBACK)]):
        code, _, err = await run_bin("--url", sim2.url, *command, "--url", "http://127.0.0.1:9",
                                     "--user", USER, env=env, cwd=tmp_path / "work")
        assert code == 2 and "--url is given before the command" in err, err
        code, _, err = await run_bin("--profiles", str(tmp_path), *command, "--profiles",
                                     str(tmp_path / "dir"), env=env, cwd=tmp_path / "work")
        assert code == 2 and "--profiles is given before the command" in err, err
    assert (await sim_state(sim2.url))["store"]["accepted"] == 0
    # The same value on both sides is one option.
    code, out, err = await run_bin("--url", sim2.url, "--user", USER, "send", *FIELDS,
                                   "--url", sim2.url, env=env, cwd=tmp_path / "work")
    assert code == 0, out + err
    assert (await sim_state(sim2.url))["store"]["accepted"] == 1


FILE_COMMANDS = [["profiles", "list"], ["profiles", "show", "lab"], ["templates", "list"],
                 ["templates", "show", "lab-callback"], ["templates", "validate"]]


@pytest.mark.parametrize("command", FILE_COMMANDS, ids=" ".join)
async def test_profiles_before_or_after_file_commands(command: list[str], sim2: Simulator,
                                                      lab: Path, tmp_path: Path) -> None:
    # A templates folder beside the profile, so both commands find something only there (a
    # name of its own: the shipped examples are found from anywhere).
    templates = tmp_path / "dir" / "templates" / "Campaign1" / "CallingList1"
    templates.mkdir(parents=True)
    (templates / "lab-callback.yaml").write_text(
        CALLBACK.read_text().replace("name: callback-mobile", "name: lab-callback"))
    env = isolated_env(tmp_path)
    outputs = []
    for args in (["--profiles", str(tmp_path / "dir"), *command],
                 [*command, "--profiles", str(tmp_path / "dir")]):
        code, out, err = await run_bin(*args, env=env, cwd=tmp_path / "work")
        assert code == 0, out + err
        outputs.append(out)
    assert outputs[0] == outputs[1]
    expected = {"profiles": "lab", "templates": "lab-callback"}[command[0]]
    assert expected in outputs[0]
    if command[:2] == ["profiles", "list"]:
        assert "STAGING" in outputs[0]
    # Without it, nothing there is found: the option was what made the difference.
    code, out, _ = await run_bin(*command, env=env, cwd=tmp_path / "work")
    assert code != 0 or expected not in out


@pytest.mark.parametrize("command", [*FILE_COMMANDS, ["sim", "--port", "0"]], ids=" ".join)
async def test_options_a_command_does_not_use_are_refused(command: list[str],
                                                          tmp_path: Path) -> None:
    env = isolated_env(tmp_path, PASSWORD)
    journal = tmp_path / "j.jsonl"
    values = {"--profile": "lab", "--url": "http://127.0.0.1:9", "--user": USER,
              "--journal": str(journal)}
    before = await asyncio.gather(*[
        run_bin(option, value, *command, env=env, cwd=tmp_path / "work", timeout=30)
        for option, value in values.items()])
    for option, (code, out, err) in zip(values, before, strict=True):
        assert code == 2, out + err
        assert f"{option} given before `{command[0]}`, which does not use it" in err
    if command[0] != "sim":
        # After the command, click refuses what the command has no option for.
        after = await asyncio.gather(*[
            run_bin(*command, option, value, env=env, cwd=tmp_path / "work", timeout=30)
            for option, value in values.items()])
        assert all(code == 2 and "No such option" in err for code, _, err in after), after
    assert not journal.exists()


async def test_profiles_before_sim_is_refused(tmp_path: Path) -> None:
    code, _, err = await run_bin("--profiles", str(tmp_path), "sim", "--port", "0",
                                 env=isolated_env(tmp_path), cwd=tmp_path, timeout=20)
    assert code == 2 and "--profiles given before `sim`" in err
