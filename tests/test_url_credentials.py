"""A URL holding credentials (`http://user:secret@host`, on the command line or in a profile)
is refused with a clear message; the secret appears nowhere: not on stdout or stderr, not in
the journal."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.sim import Simulator
from tests.cli_helpers import CALLBACK, isolated_env, run_bin, write_profile
from tests.test_cli_engine import FIELDS

SECRET = "Hunter2-sekret-91"


def bad_urls(sim: Simulator) -> list[str]:
    host = sim.url.removeprefix("http://")
    return [f"http://{sim.user}:{SECRET}@{host}", f"{sim.user}:{SECRET}@{host}",
            f"http://{SECRET}@{host}"]


COMMANDS = {
    "send": ["send", *FIELDS],
    "replay": ["replay", str(CALLBACK), "--set", "phone=5551234"],
    "watch": ["watch"],
    "console": [],
}


@pytest.mark.parametrize(("command", "where"), [
    (command, where) for command in COMMANDS for where in ("before", "after")
    if (command, where) != ("console", "after")])  # the console has no command to follow
async def test_url_with_credentials_is_refused_and_never_shown(
        sim: Simulator, tmp_path: Path, command: str, where: str) -> None:
    journal = tmp_path / "j.jsonl"
    env = isolated_env(tmp_path, sim.password)
    # Every spelling once; the others with the first (the checks are the same code).
    urls = bad_urls(sim) if (command, where) == ("send", "before") else bad_urls(sim)[:1]
    for url in urls:
        options = ["--url", url, "--journal", str(journal)]
        args = [*options, *COMMANDS[command]] if where == "before" else \
            [*COMMANDS[command], *options]
        code, out, err = await run_bin(*args, env=env, cwd=tmp_path, timeout=30)
        assert code == 6, out + err
        assert "holds a user or password" in err and "refused" in err
        assert SECRET not in out + err
    assert not journal.exists()
    assert sim.store.counters["posts"] == 0 and not sim.bayeux.sessions


async def test_a_conflict_message_does_not_show_it_either(sim: Simulator,
                                                          tmp_path: Path) -> None:
    [url, *_] = bad_urls(sim)
    code, out, err = await run_bin("--url", url, "send", *FIELDS, "--url", sim.url,
                                   env=isolated_env(tmp_path), cwd=tmp_path)
    assert code == 2 and "--url is given before the command" in err
    assert SECRET not in out + err


async def test_a_profile_url_with_credentials_is_refused(sim: Simulator,
                                                         tmp_path: Path) -> None:
    [url, *_] = bad_urls(sim)
    profile = write_profile(tmp_path / "dir", "leaky", url, sim.user)
    env = isolated_env(tmp_path, sim.password)
    journal = tmp_path / "j.jsonl"
    for args in (["profiles", "show", "leaky"], ["profiles", "list"],
                 ["send", *FIELDS, "--profile", "leaky", "--journal", str(journal)],
                 ["--profile", "leaky", "--journal", str(journal)]):
        code, out, err = await run_bin(*args, "--profiles", str(tmp_path / "dir"), env=env,
                                       cwd=tmp_path, timeout=30) if args[0] != "--profile" \
            else await run_bin("--profiles", str(tmp_path / "dir"), *args, env=env,
                               cwd=tmp_path, timeout=30)
        assert SECRET not in out + err, args
        assert f"{profile}:1: the url holds a user or password" in out + err, args
        assert code == (0 if args[:2] == ["profiles", "list"] else 6), args
    assert not journal.exists()
    assert sim.store.counters["posts"] == 0
