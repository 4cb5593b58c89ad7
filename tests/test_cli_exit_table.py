"""The exit codes are the README's table (console.cli.exit_codes), also where a prompt ends
with Ctrl-D or Ctrl-C, where `watch` is stopped, and where a file cannot be used: never
click's "Aborted!" with exit 1, never a traceback.

Prompts are answered on a pseudo-terminal that is the child's controlling terminal, so that
Ctrl-C typed there is a SIGINT as on a real one."""

from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import resource
import signal
import termios
from collections.abc import Callable
from pathlib import Path

import pytest

from console.sim import Simulator
from tests.cli_helpers import (
    CALLBACK,
    bin_after,
    isolated_env,
    run_bin,
    sim_state,
    write_profile,
)
from tests.helpers import read_terminal
from tests.test_cli_engine import BIN, FIELDS

CTRL_C, CTRL_D = b"\x03", b"\x04"


def _own_terminal() -> None:
    """In the child: a session of its own whose controlling terminal is its stdin."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


async def on_a_terminal(args: list[str], env: dict[str, str], cwd: Path, prompt: bytes,
                        *typed: bytes) -> tuple[int, str]:
    """Run on a pseudo-terminal; once `prompt` shows, type each of `typed` (each after the
    prompt shows again, for an answer that is asked again); (exit code, what it showed)."""
    master, slave = pty.openpty()
    proc = await asyncio.create_subprocess_exec(BIN, *args, stdin=slave, stdout=slave,
                                                stderr=slave, env=env, cwd=cwd,
                                                preexec_fn=_own_terminal)
    os.close(slave)
    try:
        seen = b""
        for keys in typed:
            seen += await read_terminal(master, prompt)
            seen = seen.replace(prompt, b"<prompt>", 1)
            os.write(master, keys)
        seen += await read_terminal(master, None)
        code = await asyncio.wait_for(proc.wait(), 60)
    finally:
        os.close(master)
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    return code, seen.decode(errors="replace")


def _production(tmp_path: Path, sim: Simulator) -> list[str]:
    write_profile(tmp_path / "dir", "eu-prod", sim.url, sim.user, environment="production")
    return ["--profiles", str(tmp_path / "dir"), "--profile", "eu-prod"]


REPLAY = ["replay", str(CALLBACK), "--count", "2", "--set", "phone=5551234"]


@pytest.mark.parametrize(("typed", "code", "words"), [
    ((CTRL_D,), 8, "not confirmed: nothing sent"),
    ((b"maybe\n", CTRL_D), 8, "not confirmed: nothing sent"),
    ((CTRL_C,), 130, "stopped at the confirmation: nothing was sent"),
], ids=["ctrl-d", "invalid-then-ctrl-d", "ctrl-c"])
async def test_the_production_prompt_ended_without_a_yes(typed: tuple[bytes, ...], code: int,
                                                         words: str, sim: Simulator,
                                                         tmp_path: Path) -> None:
    env = isolated_env(tmp_path, sim.password)
    got, text = await on_a_terminal([*REPLAY, *_production(tmp_path, sim)], env, tmp_path,
                                    b"[y/N]", *typed)
    assert got == code, text
    assert words in text and "Aborted" not in text and "Traceback" not in text, text
    assert sim.store.counters["posts"] == 0


@pytest.mark.parametrize("command", [["send", *FIELDS], ["watch"], REPLAY, []],
                         ids=["send", "watch", "replay", "console"])
@pytest.mark.parametrize(("key", "code"), [(CTRL_D, 6), (CTRL_C, 130)],
                         ids=["ctrl-d", "ctrl-c"])
async def test_the_password_prompt_ended_without_a_password(command: list[str], key: bytes,
                                                            code: int, sim: Simulator,
                                                            tmp_path: Path) -> None:
    write_profile(tmp_path / "dir", "lab", sim.url, sim.user)
    env = isolated_env(tmp_path)  # no OUTBOUND_CONSOLE_PASSWORD: it is asked for
    got, text = await on_a_terminal(["--profiles", str(tmp_path / "dir"), "-p", "lab",
                                     *command], env, tmp_path, b"GWS password for", key)
    assert got == code, text
    assert "Aborted" not in text and "Traceback" not in text, text
    assert "nothing was sent" in text, text
    if key == CTRL_D:
        assert "OUTBOUND_CONSOLE_PASSWORD" in text, text
    assert (await sim_state(sim.url))["store"]["accepted"] == 0


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
async def test_watch_stopped_exits_130(signum: int, sim: Simulator, tmp_path: Path) -> None:
    # The table's "interrupted": a script tells it from the stream failing for good (6).
    env = isolated_env(tmp_path, sim.password)
    journal = tmp_path / "j.jsonl"

    def connected() -> bool:
        return journal.exists() and '"connected"' in journal.read_text()

    code, out, err = await bin_after("watch", "--url", sim.url, "--user", sim.user,
                                     "--journal", str(journal), env=env, cwd=tmp_path,
                                     ready=connected,
                                     then=lambda proc: proc.send_signal(signum))
    assert code == 130, out + err
    assert "Traceback" not in err and "Aborted" not in err


async def test_templates_show_of_no_such_template_is_invalid_input(tmp_path: Path) -> None:
    code, out, err = await run_bin("templates", "show", "nope", env=isolated_env(tmp_path),
                                   cwd=tmp_path)
    assert code == 2, out + err
    assert "no template 'nope'" in err and "templates list" in err


@pytest.mark.parametrize("journal", ["/dev/full", "/proc/version"])
async def test_a_journal_that_cannot_be_written_is_said_with_its_file(
        journal: str, sim: Simulator, tmp_path: Path) -> None:
    # A full disk (/dev/full) or a file that takes no writes: before anything is sent.
    if not Path(journal).exists():
        pytest.skip(f"{journal} is not on this system")
    env = isolated_env(tmp_path, sim.password)
    target = ["--url", sim.url, "--user", sim.user, "--journal", journal]
    runs = [["send", *target, *FIELDS], [*REPLAY, *target], ["watch", *target]]
    results = await asyncio.gather(*[run_bin(*args, env=env, cwd=tmp_path / "work",
                                             timeout=60) for args in runs])
    for args, (code, out, err) in zip(runs, results, strict=True):
        assert code == 6, (args, out, err)
        assert f"cannot write the journal {journal}" in err, err
        assert "--journal PATH" in err and "Traceback" not in err, err
    assert (await sim_state(sim.url))["store"]["accepted"] == 0


async def test_the_console_says_its_journal_cannot_be_written(tmp_path: Path) -> None:
    # Not a crash of the console: the header says why, as for a profile problem.
    from console.profiles import DEMO
    from console.tui.app import OutboundApp
    from console.tui.header import StatusHeader
    from tests.tui_helpers import profiles_copy, wait_until

    if not Path("/dev/full").exists():
        pytest.skip("/dev/full is not on this system")
    app = OutboundApp(DEMO, journal_path=Path("/dev/full"), profiles_dir=profiles_copy(tmp_path),
                      prompt=lambda label: "")
    async with app.run_test(size=(80, 24)) as pilot:
        header = app.main(StatusHeader)
        await wait_until(pilot, lambda: header.status == "failed", timeout=30)
        assert "cannot write the journal /dev/full" in header.detail


def _file_size_limit(limit: int) -> Callable[[], None]:
    """In the child: files it writes stop growing at `limit` bytes (EFBIG, as a full disk
    stops them), without the signal that would kill it."""
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


@pytest.mark.parametrize(("limit", "code", "words"), [
    (3000, 6, "The replay stopped: nothing was sent"),  # its plan lines do not fit
    (9000, 7, "rebuilds the resume and unconfirmed files"),  # records were sent meanwhile
])
async def test_a_journal_that_fills_up_during_a_replay_is_said(
        limit: int, code: int, words: str, sim: Simulator, tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    got, out, err = await bin_after(
        "replay", str(CALLBACK), "--count", "12", "--set", "phone=5551234", "--url", sim.url,
        "--user", sim.user, "--journal",
        str(journal), env=isolated_env(tmp_path, sim.password), cwd=tmp_path,
        ready=lambda: True, then=lambda proc: None, preexec_fn=_file_size_limit(limit))
    assert got == code, out + err
    assert f"cannot write the journal {journal}" in err and words in err, err
    assert "replay --resume-from-journal" in err or code == 6
    # It stops at the first line it cannot write: no record leaves without its request line,
    # and none that never left is counted as sent (and "unknown") or logged as a traceback.
    assert "Traceback" not in out + err, out + err
    accepted = (await sim_state(sim.url))["store"]["accepted"]
    assert accepted < 12, out + err
    assert f"{accepted} record(s) sent" in err or accepted == 0, (accepted, err)


@pytest.mark.parametrize(("limit", "code", "words"), [
    (1000, 6, "Nothing was sent"),  # its request line (written before the POST) does not fit
    (2000, 7, "unknown: no verdict yet when the journal stopped"),  # the POST had left
])
async def test_a_journal_that_fills_up_during_a_send_is_said(
        limit: int, code: int, words: str, sim: Simulator, tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    got, out, err = await bin_after(
        "send", "--url", sim.url, "--user", sim.user, "--journal", str(journal), *FIELDS,
        env=isolated_env(tmp_path, sim.password), cwd=tmp_path, ready=lambda: True,
        then=lambda proc: None, preexec_fn=_file_size_limit(limit))
    assert got == code, out + err
    assert f"cannot write the journal {journal}" in err and words in out + err, out + err
    assert "Traceback" not in out + err
    assert (await sim_state(sim.url))["store"]["accepted"] == (code == 7)


def test_a_ctrl_c_no_command_handles_ends_with_130(monkeypatch: pytest.MonkeyPatch) -> None:
    # Ctrl-C while `templates list` reads files: click said "Aborted!", exit 1.
    from click.testing import CliRunner

    import console.cli.templates
    from console.cli.main import main

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(console.cli.templates, "find_templates", interrupted)
    result = CliRunner().invoke(main, ["templates", "list"])
    assert result.exit_code == 130, result.output
    assert "Aborted" not in result.output and "interrupted" in result.output
