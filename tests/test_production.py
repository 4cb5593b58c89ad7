"""The production guard: a replay to a profile marked `environment: production` asks first,
naming the server, the user and the record count — on a terminal a prompt, in a script
`--yes`, otherwise a refusal with exit code 8. A single `send` does not ask."""

from __future__ import annotations

import asyncio
import os
import pty
import re
from pathlib import Path

from console.sim import Simulator
from tests.cli_helpers import CALLBACK, isolated_env, json_lines, run_bin, write_profile
from tests.helpers import read_terminal
from tests.test_cli_engine import BIN, FIELDS


def prod(tmp_path: Path, sim: Simulator) -> list[str]:
    write_profile(tmp_path / "dir", "eu-prod", sim.url, sim.user, environment="production")
    return ["--profiles", str(tmp_path / "dir"), "--profile", "eu-prod"]


REPLAY = ["replay", str(CALLBACK), "--count", "3", "--set", "phone=5551234", "--rate", "100"]


async def test_without_a_terminal_and_without_yes_it_refuses(sim: Simulator,
                                                             tmp_path: Path) -> None:
    code, out, err = await run_bin(*REPLAY, *prod(tmp_path, sim),
                                   env=isolated_env(tmp_path, sim.password), cwd=tmp_path)
    assert code == 8, out + err
    assert "stdin is not a terminal" in err and "--yes" in err
    assert f"Send 3 records (callback-mobile) to PRODUCTION server {sim.url} as user " \
           f"{sim.user} (profile eu-prod)" in err
    assert sim.store.counters["posts"] == 0 and not list(tmp_path.glob("replay-*"))


async def test_yes_confirms_in_a_script(sim: Simulator, tmp_path: Path) -> None:
    code, out, err = await run_bin(*REPLAY, "--yes", "--json", *prod(tmp_path, sim),
                                   env=isolated_env(tmp_path, sim.password), cwd=tmp_path)
    assert code == 0, out + err
    assert len(sim.store.records) == 3
    lines = json_lines(out)
    assert lines[0]["type"] == "confirmed"
    assert all(line["target"]["environment"] == "production" for line in lines)
    assert re.search(rf"^target +PRODUCTION eu-prod {sim.user}@", err, re.M)


async def test_a_single_send_and_a_dry_run_do_not_ask(sim: Simulator, tmp_path: Path) -> None:
    env = isolated_env(tmp_path, sim.password)
    code, out, err = await run_bin("send", *FIELDS, *prod(tmp_path, sim), env=env,
                                   cwd=tmp_path)
    assert code == 0, out + err
    assert f"target: PRODUCTION profile eu-prod, {sim.url}, user {sim.user}" in err
    assert "[PRODUCTION eu-prod" in out.splitlines()[-1]
    code, out, err = await run_bin(*REPLAY, "--dry-run", *prod(tmp_path, sim), env=env,
                                   cwd=tmp_path)
    assert code == 0, out + err
    assert "nothing sent to [PRODUCTION eu-prod" in err
    assert len(sim.store.records) == 1


async def _on_a_terminal(args: list[str], env: dict[str, str], cwd: Path,
                         answer: bytes) -> tuple[int, str]:
    """Run with a pseudo-terminal as stdin/stdout/stderr; answer the prompt."""
    master, slave = pty.openpty()
    proc = await asyncio.create_subprocess_exec(BIN, *args, stdin=slave, stdout=slave,
                                                stderr=slave, env=env, cwd=cwd)
    os.close(slave)
    try:
        seen = await read_terminal(master, b"[y/N]")
        os.write(master, answer + b"\n")
        seen += await read_terminal(master, None)
        code = await asyncio.wait_for(proc.wait(), 60)
    finally:
        os.close(master)
    return code, seen.decode(errors="replace")


async def test_on_a_terminal_it_asks_naming_server_user_and_count(sim: Simulator,
                                                                  tmp_path: Path) -> None:
    env = isolated_env(tmp_path, sim.password)
    args = [*REPLAY, *prod(tmp_path, sim)]
    code, text = await _on_a_terminal(args, env, tmp_path, b"n")
    assert code == 8, text
    assert f"Send 3 records (callback-mobile) to PRODUCTION server {sim.url} as user " \
           f"{sim.user}" in text
    assert "not confirmed: nothing sent" in text
    assert sim.store.counters["posts"] == 0
    code, text = await _on_a_terminal(args, env, tmp_path, b"y")
    assert code == 0, text
    assert len(sim.store.records) == 3
