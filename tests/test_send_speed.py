"""What keeps `send` quick without changing what it does: the program's start-up runs without
the garbage collector (its imports free nothing), which comes back on, with start-up frozen,
once `send` (and `watch`) have their target open, and before any other command runs.

Each of those runs the program's entry point (`console.launch.run`, as the installed binary
does) in a subprocess, with a probe around one function that prints the collector's state
when the command reaches it.

And what a quicker stream exposed: a notebook's live table made just as the stream reports a
status shows that status (it used to miss it, and say "opening" for good).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

from console.cli.exit_codes import EXIT_ACK
from console.sim import Simulator
from tests.cli_helpers import isolated_env
from tests.test_cli_engine import FIELDS

#: Runs `outbound-console ARGS...` as the entry point does, with probes: `module:attr` names
#: a function (or `module:Class.method`) replaced by one that prints, on stderr, a JSON line
#: with the collector's state, then calls the original.
PROBED = """
import functools, gc, importlib, json, os, sys

def probe(where):
    module, _, path = where.partition(":")
    owner = importlib.import_module(module)
    *parents, name = path.split(".")
    for parent in parents:
        owner = getattr(owner, parent)
    original = getattr(owner, name)

    def report():
        line = "PROBE " + json.dumps({"where": where, "enabled": gc.isenabled(),
                                      "frozen": gc.get_freeze_count()})
        if os.environ.get("PROBE_OUT"):  # the console owns the terminal: to a file
            with open(os.environ["PROBE_OUT"], "a") as out:
                out.write(line + "\\n")
        else:
            print(line, file=sys.stderr)

    if hasattr(original, "__code__") and original.__code__.co_flags & 0x80:  # a coroutine
        @functools.wraps(original)
        async def wrapper(*args, **kwargs):
            report()
            return await original(*args, **kwargs)
    else:
        @functools.wraps(original)
        def wrapper(*args, **kwargs):
            report()
            return original(*args, **kwargs)
    setattr(owner, name, wrapper)

probes, args = sys.argv[1].split(","), sys.argv[2:]
for where in probes:
    probe(where)
sys.argv = ["outbound-console", *args]
from console.launch import run
run()
"""


def probes_seen(text: str) -> dict[str, dict[str, object]]:
    """What each probe saw the first time it was reached."""
    seen: dict[str, dict[str, object]] = {}
    for line in text.splitlines():
        if line.startswith("PROBE "):
            report = json.loads(line[len("PROBE "):])
            seen.setdefault(str(report["where"]), report)
    return seen


def run_probed(probes: list[str], args: list[str], env: dict[str, str], cwd: Path
               ) -> tuple[int, str, dict[str, dict[str, object]]]:
    """(exit code, stderr, what each probe saw the first time it was reached)."""
    done = subprocess.run([sys.executable, "-c", PROBED, ",".join(probes), *args], env=env,
                          cwd=cwd, capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)
    return done.returncode, done.stderr, probes_seen(done.stderr)


async def test_send_starts_without_collection_and_waits_with_it(sim: Simulator,
                                                              tmp_path: Path) -> None:
    env = isolated_env(tmp_path, sim.password)
    code, err, seen = await asyncio.to_thread(
        run_probed, ["console.app.target:open_target", "console.gws.engine:Engine.wait"],
        ["send", "--url", sim.url, "--user", sim.user, "--journal", str(tmp_path / "j.jsonl"),
         *FIELDS], env, tmp_path)
    assert code == EXIT_ACK, err
    # Start-up (click, the command, the engine's imports) ran with the collector off...
    assert seen["console.app.target:open_target"]["enabled"] is False, seen
    # ...and it is back on, start-up frozen, while the acknowledgement is awaited.
    waiting = seen["console.gws.engine:Engine.wait"]
    assert waiting["enabled"] is True, seen
    assert isinstance(waiting["frozen"], int) and waiting["frozen"] > 0, seen


def test_the_console_starts_without_collection_and_opens_its_target_with_it(
        tmp_path: Path) -> None:
    """The console in tmux at 80x24 on the embedded simulator: its engine is imported (in a
    thread, after the first frame) with the collector off; it is back on, start-up frozen,
    when the target is opened."""
    import shutil
    import uuid

    from tests.test_tui_tmux import wait_for

    assert shutil.which("tmux"), "tmux is not installed (see .ci/run)"
    script, out = tmp_path / "probed.py", tmp_path / "probes.txt"
    script.write_text(PROBED)
    probes = "console.tui.app:_import_engine,console.app.target:open_target"
    socket = f"oc-test-{uuid.uuid4().hex[:8]}"
    env = {**isolated_env(tmp_path), "PROBE_OUT": str(out)}
    command = (f"env TERM=xterm-256color {sys.executable} {script} {probes} --journal "
               f"{tmp_path / 'j.jsonl'}")
    subprocess.run(["tmux", "-L", socket, "new-session", "-d", "-s", "oc", "-x", "80", "-y",
                    "24", command], env=env, check=True, timeout=10, cwd=tmp_path)
    try:
        wait_for(socket, "connected", timeout=30)
        seen = probes_seen(out.read_text())
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], timeout=10, check=False)
    assert seen["console.tui.app:_import_engine"]["enabled"] is False, seen
    opening = seen["console.app.target:open_target"]
    assert opening["enabled"] is True, seen
    assert isinstance(opening["frozen"], int) and opening["frozen"] > 0, seen


async def test_other_commands_run_with_the_collector_on(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    code, err, seen = await asyncio.to_thread(
        run_probed, ["console.profiles:list_profiles"], ["profiles", "list"], env, tmp_path)
    assert code == 0, err
    assert seen["console.profiles:list_profiles"]["enabled"] is True, seen


async def test_watch_follows_the_stream_with_the_collector_on(sim: Simulator,
                                                              tmp_path: Path) -> None:
    env = isolated_env(tmp_path, sim.password)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", PROBED,
        "console.app.target:open_target,console.gws.engine:Engine.until_stream_failed",
        "watch", "--url", sim.url, "--user", sim.user, "--journal", str(tmp_path / "j.jsonl"),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE, env=env, cwd=tmp_path)
    seen: dict[str, dict[str, object]] = {}
    try:
        assert proc.stderr is not None
        while "console.gws.engine:Engine.until_stream_failed" not in seen:
            line = (await asyncio.wait_for(proc.stderr.readline(), 30)).decode()
            assert line, seen  # the process ended before following the stream
            if line.startswith("PROBE "):
                report = json.loads(line[len("PROBE "):])
                seen.setdefault(str(report["where"]), report)
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
    assert seen["console.app.target:open_target"]["enabled"] is False, seen
    assert seen["console.gws.engine:Engine.until_stream_failed"]["enabled"] is True, seen


async def test_the_live_table_keeps_a_status_that_came_as_it_started(tmp_path: Path) -> None:
    """A status the stream reports just as a notebook's live table is made (pumped before the
    table's feed starts) is the one the table shows: with a faster transport, the first
    connect's "connected" came in that moment and the table said "opening" for good."""
    from console.api import connect
    from console.domain.events import StreamStatus
    from console.notebook import EventTable
    from tests.helpers import eventually

    console = await connect(journal=tmp_path / "journal.jsonl", profiles_dir=tmp_path / "p")
    try:
        stream = console.engine.stream
        assert stream is not None
        await eventually(lambda: console.status is not None
                         and console.status.kind == "connected")  # then quiet: a held poll
        stream._put(StreamStatus("reconnecting", "as the table starts", 1.0))
        table = EventTable(console, redraw_s=0.01)  # the stream's item is pumped first
        await eventually(lambda: "as the table starts" in table.header.value, timeout=5)
        assert table.status is console.status
        table.stop()
    finally:
        await console.close()
