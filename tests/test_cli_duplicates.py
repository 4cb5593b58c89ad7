"""An option is honoured or refused, never ignored: given twice with different values on the
same side (click kept the last without a word), a number that makes no sense (nan, inf, -1),
an option that a mode does not use. Each refusal is exit 2 before anything is sent: the
simulator the command points at (--url) receives nothing.

Runs the installed binary in an isolated HOME (tests.cli_helpers)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import click
import pytest

from console.cli.main import main
from console.cli.repeats import Once
from console.sim import Simulator
from console.sim.catalog import demo_user
from tests.cli_helpers import CALLBACK, isolated_env, journal_lines, run_bin, sim_state
from tests.test_cli_engine import FIELDS

PASSWORD = "dup-pw-52q"
T = str(CALLBACK)
PHONE = ["--set", "phone=5551234"]


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    users = [demo_user(PASSWORD, "demo"), demo_user(PASSWORD, "agent2")]
    async with Simulator(password=PASSWORD, users=users) as simulator:
        yield simulator


# (arguments, the option named, its two values as shown); "{url}" is the simulator's URL.
TWICE: list[tuple[list[str], str, tuple[str, str]]] = [
    (["-p", "prod", "-p", "demo", "send", *FIELDS], "--profile", ("prod", "demo")),
    (["replay", T, *PHONE, "-p", "prod", "--profile", "demo"], "--profile", ("prod", "demo")),
    (["send", *FIELDS, "--url", "{url}", "--url", "http://127.0.0.1:9"], "--url",
     ("{url}", "http://127.0.0.1:9")),
    (["--user", "demo", "--user", "agent2", "send", "--url", "{url}", *FIELDS], "--user",
     ("demo", "agent2")),
    (["send", "--url", "{url}", *FIELDS, "--journal", "ja", "--journal", "jb"], "--journal",
     ("ja", "jb")),
    (["send", "--url", "{url}", "--template", T, "--template", "other", *PHONE], "--template",
     (T, "other")),
    (["send", "--url", "{url}", "-t", T, "--set", "phone=5551234", "--set", "phone=5559999"],
     "--set phone=", ("5551234", "5559999")),
    (["replay", "--url", "{url}", T, "--set", "phone=5551234", "--set", "phone=5559999"],
     "--set phone=", ("5551234", "5559999")),
    (["replay", "--url", "{url}", T, *PHONE, "--count", "2", "--count", "3"], "--count",
     ("2", "3")),
    (["send", "--url", "{url}", *FIELDS, "--timeout", "5", "--timeout", "7"], "--timeout",
     ("5", "7")),
    (["replay", "--url", "{url}", T, *PHONE, "--rate", "5", "--rate", "50"], "--rate",
     ("5", "50")),
    (["watch", "--url", "{url}", "-c", "/x", "--json", "--url", "http://127.0.0.1:9"], "--url",
     ("{url}", "http://127.0.0.1:9")),
    (["templates", "show", "callback-mobile", "--profiles", "a", "--profiles", "b"],
     "--profiles", ("a", "b")),
    (["profiles", "show", "demo", "--profiles", "a", "--profiles", "b"], "--profiles",
     ("a", "b")),
    (["sim", "--port", "0", "--fault", "ack_drop=0.1", "--fault", "ack_drop=0.5"],
     "--fault ack_drop=", ("0.1", "0.5")),
    (["sim", "--port", "0", "--port", "1"], "--port", ("0", "1")),
    (["sim", "--port", "0", "--sticky", "--nodes", "2", "--no-sticky"], "--sticky/--no-sticky",
     ("--sticky", "--no-sticky")),
    (["--template", T, "--template", "other"], "--template", (T, "other")),
    (["--max-repaint-rate", "2", "--max-repaint-rate", "off"], "--max-repaint-rate",
     ("2", "off")),
]


@pytest.mark.parametrize("args,option,values", TWICE, ids=lambda v: " ".join(v)[:60]
                         if isinstance(v, list) else None)
async def test_a_single_value_option_twice_with_different_values_is_refused(
        args: list[str], option: str, values: tuple[str, str], sim: Simulator,
        tmp_path: Path) -> None:
    env = isolated_env(tmp_path, PASSWORD)
    code, out, err = await run_bin(*[a.format(url=sim.url) for a in args], env=env,
                                   cwd=tmp_path / "work", timeout=30)
    assert code == 2, out + err
    first, second = (v.format(url=sim.url) for v in values)
    assert f"{option} is given twice, with different values" in err, err
    assert first in err and second in err, err
    assert "Traceback" not in err
    assert (await sim_state(sim.url))["store"]["accepted"] == 0
    assert not (tmp_path / "work" / "ja").exists() and not (tmp_path / "work" / "jb").exists()


async def test_fault_seed_and_seed_differently_is_refused(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    code, out, err = await run_bin("sim", "--port", "0", "--fault", "seed=1", "--seed", "2",
                                   env=env, cwd=tmp_path, timeout=30)
    assert code == 2, out + err
    assert "--fault seed=1 and --seed 2" in err


async def test_the_same_value_twice_is_one_option(sim: Simulator, tmp_path: Path) -> None:
    env = isolated_env(tmp_path, PASSWORD)
    work = tmp_path / "work"
    code, out, err = await run_bin(
        "--url", sim.url, "--user", "agent2", "send", "--user", "agent2", "-t", T,
        "--set", "phone=5551234", "--set", "phone=5551234", "--timeout", "10",
        "--timeout", "10.0", "--journal", "j.jsonl", "--journal", "./j.jsonl", "--json",
        "--json", env=env, cwd=work)
    assert code == 0, out + err
    assert (await sim_state(sim.url))["store"]["accepted"] == 1
    assert all(line["target"]["user"] == "agent2" for line in journal_lines(work / "j.jsonl"))


def _commands(command: click.Command) -> list[click.Command]:
    found = [command]
    names = command.list_commands(click.Context(command)) \
        if isinstance(command, click.Group) else []
    for name in names:
        assert isinstance(command, click.Group)
        sub = command.get_command(click.Context(command), name)
        assert sub is not None
        found += _commands(sub)
    return found


def test_every_single_value_option_of_every_command_refuses_a_second_value() -> None:
    # The rule is put on each command as the command line loads it (console.cli.repeats): a
    # new option cannot forget it.
    commands = _commands(main)
    assert {c.name for c in commands} >= {"main", "send", "watch", "replay", "templates",
                                          "profiles", "sim", "show", "new", "list"}
    for command in commands:
        for param in command.params:
            if isinstance(param, click.Option) and not (param.multiple or param.count):
                assert isinstance(param, Once), f"{command.name} {param.opts}"


NONSENSE = ["nan", "inf", "-inf", "-1", "0"]


@pytest.mark.parametrize("value", NONSENSE)
async def test_numbers_that_make_no_sense_are_refused_before_sending(value: str, sim: Simulator,
                                                                     tmp_path: Path) -> None:
    env = isolated_env(tmp_path, PASSWORD)
    runs = [["send", "--url", sim.url, *FIELDS, f"--timeout={value}"],
            ["replay", "--url", sim.url, T, *PHONE, f"--timeout={value}"],
            ["replay", "--url", sim.url, T, *PHONE, f"--rate={value}"]]
    results = await asyncio.gather(*[run_bin(*args, env=env, cwd=tmp_path / "work", timeout=30)
                                     for args in runs])
    for args, (code, out, err) in zip(runs, results, strict=True):
        option = args[-1].partition("=")[0]
        assert code == 2, (args, out, err)
        assert f"Invalid value for '{option}'" in err and "above 0" in err, err
    assert (await sim_state(sim.url))["store"]["accepted"] == 0


@pytest.mark.parametrize("port", ["99999", "-1", "65536"])
async def test_sim_port_out_of_range_is_refused(port: str, tmp_path: Path) -> None:
    code, out, err = await run_bin("sim", f"--port={port}", env=isolated_env(tmp_path),
                                   cwd=tmp_path, timeout=30)
    assert code == 2, out + err
    assert "Invalid value for '--port'" in err and "Traceback" not in err


async def test_options_a_rebuild_does_not_use_are_refused(sim: Simulator,
                                                          tmp_path: Path) -> None:
    # --resume-from-journal writes files and sends nothing: a rate, a concurrency, a timeout
    # or a confirmation for a send would be ignored.
    env = isolated_env(tmp_path, PASSWORD)
    journal = tmp_path / "j.jsonl"
    journal.write_text("")
    extras = [["--rate", "5"], ["--concurrency", "2"], ["--timeout", "5"], ["--yes"],
              ["--rate", "10.0"]]  # the default, typed: still refused
    results = await asyncio.gather(*[
        run_bin("replay", "--resume-from-journal", str(journal), *extra, env=env,
                cwd=tmp_path / "work", timeout=30) for extra in extras])
    for extra, (code, out, err) in zip(extras, results, strict=True):
        assert code == 2, (extra, out, err)
        assert f"{extra[0]} would be ignored" in err, err
    assert not list((tmp_path / "work").glob("*.csv"))


async def test_no_wait_with_a_timeout_is_refused(sim: Simulator, tmp_path: Path) -> None:
    env = isolated_env(tmp_path, PASSWORD)
    code, out, err = await run_bin("send", "--url", sim.url, *FIELDS, "--no-wait",
                                   "--timeout", "5", env=env, cwd=tmp_path / "work")
    assert code == 2, out + err
    assert "--no-wait does not wait" in err
    assert (await sim_state(sim.url))["store"]["accepted"] == 0
    code, out, err = await run_bin("send", "--url", sim.url, "--user", "demo", *FIELDS, "--no-wait",
                                   env=env,
                                   cwd=tmp_path / "work")
    assert code == 0, out + err


async def test_the_same_template_named_twice_is_refused(sim: Simulator, tmp_path: Path) -> None:
    # `replay T T` sent every record twice; --count 2 is the way to send two.
    env = isolated_env(tmp_path, PASSWORD)
    for refs in ([T, T], [T, "callback-mobile"], [T, "Campaign1/CallingList1/callback-mobile"]):
        code, out, err = await run_bin("replay", "--url", sim.url, "--user", "demo", *refs, *PHONE,
                                       env=env,
                                       cwd=tmp_path / "work")
        assert code == 2, out + err
        assert "would be sent twice" in err and "--count" in err, err
    assert (await sim_state(sim.url))["store"]["accepted"] == 0
