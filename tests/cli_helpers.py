"""Running the installed binary in isolation (HOME, XDG dirs and OUTBOUND_CONSOLE_HOME in
tmp_path), and reading what a simulator received through its /sim/state."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from console.example_templates import DIR as TEMPLATES
from tests.helpers import eventually

ROOT = Path(__file__).parent.parent
BIN = shutil.which("outbound-console") or "outbound-console"
CALLBACK = TEMPLATES / "Campaign1" / "CallingList1" / "callback-mobile.yaml"


def isolated_env(tmp_path: Path, password: str | None = None,
                 **extra: str) -> dict[str, str]:
    """The environment of a user whose home is in tmp_path (nothing of the real one)."""
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OUTBOUND_CONSOLE", "XDG_")) and k != "HOME"}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),
               XDG_STATE_HOME=str(home / ".local" / "state"),
               XDG_DATA_HOME=str(home / ".local" / "share"),
               XDG_CACHE_HOME=str(home / ".cache"),
               OUTBOUND_CONSOLE_HOME=str(tmp_path / "console-home"))
    if password is not None:
        env["OUTBOUND_CONSOLE_PASSWORD"] = password
    env.update(extra)
    return env


async def run_bin(*args: str, env: dict[str, str], cwd: Path,
                  timeout: float = 60.0) -> tuple[int, str, str]:
    """The installed binary with stdin not a terminal; (exit code, stdout, stderr)."""
    cwd.mkdir(parents=True, exist_ok=True)
    proc = await asyncio.create_subprocess_exec(
        BIN, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL, env=env, cwd=cwd)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except BaseException:  # a run that should have ended: no process is left behind
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        raise
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def interrupt_bin(*args: str, env: dict[str, str], cwd: Path,
                        ready: Callable[[], Any | Awaitable[Any]], ready_timeout: float = 30.0,
                        timeout: float = 30.0) -> tuple[int, str, str]:
    """The installed binary (stdin not a terminal), given Ctrl-C (SIGINT) once `ready()`
    holds; (exit code, stdout, stderr). Killed if anything fails meanwhile: no process is
    left behind."""
    return await bin_after(*args, env=env, cwd=cwd, ready=ready,
                           then=lambda proc: proc.send_signal(signal.SIGINT),
                           ready_timeout=ready_timeout, timeout=timeout)


async def bin_after(*args: str, env: dict[str, str], cwd: Path,
                    ready: Callable[[], Any | Awaitable[Any]],
                    then: Callable[[asyncio.subprocess.Process], None],
                    ready_timeout: float = 30.0, timeout: float = 30.0,
                    preexec_fn: Callable[[], None] | None = None) -> tuple[int, str, str]:
    """The installed binary (stdin not a terminal); once `ready()` holds, `then(process)` (a
    signal, a fault in the server...); (exit code, stdout, stderr) once it ends, within
    `timeout`. Killed if anything fails meanwhile: no process is left behind. `preexec_fn`
    runs in the child before the binary (e.g. to ignore SIGINT as a background job does)."""
    cwd.mkdir(parents=True, exist_ok=True)
    proc = await asyncio.create_subprocess_exec(
        BIN, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL, env=env, cwd=cwd, preexec_fn=preexec_fn)
    try:
        await eventually(ready, timeout=ready_timeout)
        then(proc)
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def sim_state(url: str) -> dict[str, Any]:
    """What the simulator at `url` says it received (GET /sim/state)."""
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        reply = await http.get("/sim/state")
        reply.raise_for_status()
        state = reply.json()
        assert isinstance(state, dict)
        return state


async def sim_reset(url: str) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        (await http.post("/sim/reset")).raise_for_status()


def write_profile(directory: Path, name: str, url: str, user: str,
                  **extra: Any) -> Path:
    """A profile file (no password in it: the tests give OUTBOUND_CONSOLE_PASSWORD)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.yaml"
    lines = [f"url: {url}", f"username: {user}"] + [f"{k}: {v}" for k, v in extra.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def with_set(args: list[str], *items: str) -> list[str]:
    """`args` with `--set NAME=VALUE` for each of `items`, in place of any `--set NAME=...`
    already there (the same name twice with different values is refused)."""
    names = {item.partition("=")[0] for item in items}
    kept: list[str] = []
    skip = False
    for index, arg in enumerate(args):
        if skip:
            skip = False
            continue
        if arg == "--set" and index + 1 < len(args) \
                and args[index + 1].partition("=")[0] in names:
            skip = True
            continue
        kept.append(arg)
    return kept + [arg for item in items for arg in ("--set", item)]


def journal_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]
