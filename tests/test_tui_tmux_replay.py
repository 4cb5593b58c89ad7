"""End to end at 80x24 (the installed binary in tmux, keys only): a replay to production asks,
is stopped half-way and resumed exactly; Ctrl+Q during a replay; a start before the server is
up; a wrong password."""

from __future__ import annotations

import json
import os
import socket as sockets_module
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.test_cli_engine import BIN
from tests.test_tui_tmux import (
    exit_status,
    screen,
    send_slowly,
    sockets,
    start,
    tmux,
    wait_for,
)

__all__ = ["sockets"]  # the fixture, used by the tests below

PASSWORD = "prod-pw-77"


def start_sim(port: int = 0, *faults: str) -> tuple[subprocess.Popen[str], str]:
    """`outbound-console sim` in its own process; its URL once it listens."""
    args = [sys.executable, "-m", "console.cli", "sim", "--port", str(port)]
    for fault in faults:
        args += ["--fault", fault]
    sim = subprocess.Popen(args, stdout=subprocess.PIPE, text=True,
                           env={**os.environ, "OUTBOUND_CONSOLE_SIM_PASSWORD": PASSWORD})
    assert sim.stdout is not None
    return sim, sim.stdout.readline().split()[-1]


def stop_sim(sim: subprocess.Popen[str]) -> None:
    sim.terminate()
    sim.wait(timeout=10)


def write_profile(folder: Path, url: str, production: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "eu-prod.yaml").write_text(
        f"url: {url}\nusername: demo\n"
        + ("environment: production\n" if production else ""), encoding="utf-8")
    return folder


@pytest.fixture
def slow_sim() -> Iterator[str]:
    """A simulator acknowledging each record after 300 ms."""
    sim, url = start_sim(0, "ack_delay_ms=300")
    try:
        yield url
    finally:
        stop_sim(sim)


def records(url: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = httpx.get(f"{url}/sim/state", timeout=10).json()["records"]
    return found


def wait_records(url: str, at_least: int, timeout: float = 30.0) -> int:
    deadline = time.monotonic() + timeout
    while True:
        n = len(records(url))
        if n >= at_least:
            return n
        assert time.monotonic() < deadline, f"only {n} records reached the simulator"
        time.sleep(0.05)


def journal(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def without_verdict(lines: list[dict[str, Any]]) -> set[str]:
    sent = {e["body"]["referenceId"] for e in lines if e["kind"] == "request"}
    return sent - {e.get("referenceId") for e in lines if e["kind"] == "verdict"}


def sent_seqs(lines: list[dict[str, Any]]) -> list[int]:
    """The `_seq` (record number in the first run) of every record requested."""
    planned = {e["referenceId"]: int(e["row"]["_seq"]) for e in lines if e["kind"] == "planned"}
    return sorted(planned[e["body"]["referenceId"]] for e in lines if e["kind"] == "request")


def keys(socket: str, burst: bool, *pressed: str) -> None:
    if burst:
        tmux(socket, "send-keys", "-t", "oc", *pressed)
    else:
        send_slowly(socket, list(pressed))


def open_replay_of_doc_sample(socket: str, burst: bool) -> None:
    """F4, the cursor on examples > Campaign1 > CallingList1 > doc-sample, ^r."""
    keys(socket, burst, "F4")
    wait_for(socket, "doc-sample")
    keys(socket, burst, "Down", "Down", "Down", "Down")
    wait_for(socket, "documentation sample")
    keys(socket, burst, "C-r")
    wait_for(socket, "Replay doc-sample")


@pytest.mark.parametrize("burst", [True, False], ids=["burst", "slow"])
def test_production_replay_asks_is_stopped_half_way_and_the_resume_file_sends_the_rest(
        tmp_path: Path, sockets: list[str], slow_sim: str, burst: bool) -> None:
    url = slow_sim
    profiles = write_profile(tmp_path / "profiles", url)
    run_dir = tmp_path / "run"
    socket = start(run_dir, f"--profiles {profiles} --profile eu-prod",
                   env={"OUTBOUND_CONSOLE_PASSWORD": PASSWORD}, profiles=False)
    sockets.append(socket)
    assert "PRODUCTION" in wait_for(socket, "connected").splitlines()[0]
    if burst:
        # Everything at once, to the typed confirmation: each key lands where it would have
        # landed typed slowly (the dialog's fields, then the confirmation).
        keys(socket, True, "F4", "Down", "Down", "Down", "Down", "C-r", "1", "2", "Tab", "Tab",
             "1", "Enter", "1", "2", "Enter")
    else:
        open_replay_of_doc_sample(socket, burst)
        dialog = screen(socket)
        assert "PRODUCTION eu-prod" in dialog and url in dialog
        # 12 records (typing replaces the 1), rate 1/s: half-way is reached by polling.
        keys(socket, burst, "1", "2", "Tab", "Tab", "1", "Enter")
        asked = wait_for(socket, "type 12 and enter")
        assert "PRODUCTION" in asked and "12 records" in asked
        assert not records(url)  # nothing before the count is typed
        keys(socket, burst, "1", "2", "Enter")
    wait_records(url, 4)
    wait_for(socket, "Stop replay")  # the stop key in the footer while it runs
    keys(socket, burst, "C-c")
    shown = wait_for(socket, "STOPPED")
    first = len(records(url))
    assert 4 <= first < 12, shown
    [resume] = list(run_dir.glob("replay-*.resume.csv"))
    assert not list(run_dir.glob("replay-*.unconfirmed.csv"))  # in flight: acknowledged
    run_id = resume.name[len("replay-"):-len(".resume.csv")]
    assert run_id in shown and "resume.csv" in shown  # its path is on screen (wrapped)
    tui_lines = journal(run_dir / "journal.jsonl")
    assert without_verdict(tui_lines) == set()
    # The resume file, from another folder, sends exactly the rest.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = subprocess.run(
        [BIN, "replay", "--profiles", str(profiles), "--profile", "eu-prod", "--resume",
         str(resume), "--yes", "--rate", "50", "--journal", str(elsewhere / "journal.jsonl")],
        cwd=elsewhere, capture_output=True, text=True, timeout=60,
        env={**os.environ, "OUTBOUND_CONSOLE_PASSWORD": PASSWORD,
             "OUTBOUND_CONSOLE_HOME": str(tmp_path), "HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    held = records(url)
    assert len(held) == 12 and len({r["referenceId"] for r in held}) == 12
    # Every record of the first plan once: the TUI sent some, the resume the others.
    assert sorted(sent_seqs(tui_lines) + sent_seqs(journal(elsewhere / "journal.jsonl"))) \
        == list(range(1, 13))
    tmux(socket, "send-keys", "-t", "oc", "C-q")
    assert exit_status(socket) == "0/"


def test_ctrl_q_during_a_replay_asks_writes_the_files_and_exits_cleanly(
        tmp_path: Path, sockets: list[str], slow_sim: str) -> None:
    url = slow_sim
    profiles = write_profile(tmp_path / "profiles", url, production=False)
    run_dir = tmp_path / "run"
    socket = start(run_dir, f"--profiles {profiles} --profile eu-prod",
                   env={"OUTBOUND_CONSOLE_PASSWORD": PASSWORD}, profiles=False)
    sockets.append(socket)
    wait_for(socket, "connected")
    open_replay_of_doc_sample(socket, True)
    keys(socket, True, "2", "0", "Tab", "Tab", "2", "Enter")
    wait_records(url, 3)
    keys(socket, True, "C-q")
    wait_for(socket, "replay is running")
    keys(socket, True, "y")
    status = exit_status(socket, timeout=30)
    shown = screen(socket)
    assert status == "0/", (status, shown)
    assert "Traceback" not in shown and "Error" not in shown
    [resume] = list(run_dir.glob("replay-*.resume.csv"))
    lines = journal(run_dir / "journal.jsonl")
    assert without_verdict(lines) == set()
    sent = len(records(url))
    planned_rest = len(resume.read_text(encoding="utf-8").splitlines()) - 1
    assert sent + planned_rest == 20
    ends = [e for e in lines if e["kind"] == "replay" and e.get("event") == "end"]
    assert ends and ends[-1]["stopped"] is True


def free_port() -> int:
    with sockets_module.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_start_before_the_server_is_up_then_it_comes_up_and_the_console_connects(
        tmp_path: Path, sockets: list[str]) -> None:
    port = free_port()
    profiles = write_profile(tmp_path / "profiles", f"http://127.0.0.1:{port}")
    socket = start(tmp_path / "run", f"--profiles {profiles} --profile eu-prod",
                   env={"OUTBOUND_CONSOLE_PASSWORD": PASSWORD}, profiles=False)
    sockets.append(socket)
    shown = wait_for(socket, "next try in")
    assert "unreachable" in shown.splitlines()[0]
    wait_for(socket, "Reconnect")  # the key, in the footer
    sim, _ = start_sim(port)
    try:
        # No key pressed: the next try (with its growing wait) finds it.
        wait_for(socket, "connected", timeout=60)
        tmux(socket, "send-keys", "-t", "oc", "C-q")
        assert exit_status(socket) == "0/"
    finally:
        stop_sim(sim)


def test_a_wrong_password_is_asked_again_naming_the_server(
        tmp_path: Path, sockets: list[str]) -> None:
    sim, url = start_sim(0)
    try:
        profiles = write_profile(tmp_path / "profiles", url)
        socket = start(tmp_path / "run", f"--profiles {profiles} --profile eu-prod",
                       env={"OUTBOUND_CONSOLE_PASSWORD": "not-the-password"}, profiles=False)
        sockets.append(socket)
        asked = wait_for(socket, "Password for demo")
        assert url in asked and "wrong user or password" in asked
        assert "not-the-password" not in asked
        tmux(socket, "send-keys", "-t", "oc", "-l", PASSWORD)
        tmux(socket, "send-keys", "-t", "oc", "Enter")
        shown = wait_for(socket, "connected")
        assert PASSWORD not in shown
        tmux(socket, "send-keys", "-t", "oc", "C-q")
        assert exit_status(socket) == "0/"
    finally:
        stop_sim(sim)
