"""End to end: the installed `outbound-console` in tmux at 80x24, keystrokes only."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import ended_within, simulator_children
from tests.test_cli_engine import BIN
from tests.tui_helpers import profiles_copy


def tmux(socket: str, *args: str) -> str:
    return subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True,
                          timeout=10).stdout


def screen(socket: str, escapes: bool = False) -> str:
    return tmux(socket, "capture-pane", "-p", *(["-e"] if escapes else []), "-t", "oc")


def wait_for(socket: str, text: str, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        shown = screen(socket)
        if text in shown:
            return shown
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} never appeared; the screen was:\n{shown}")
        time.sleep(0.1)


def start(tmp_path: Path, args: str = "", term: str = "xterm-256color",
          env: dict[str, str] | None = None, profiles: bool = True) -> str:
    """The console in a new tmux server at 80x24; returns the server's socket name."""
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed: the end-to-end test needs it (see .ci/run)")
    socket = f"oc-test-{uuid.uuid4().hex[:8]}"
    tmp_path.mkdir(parents=True, exist_ok=True)
    where = f"--profiles {profiles_copy(tmp_path)} " if profiles else ""
    # The TERM (and NO_COLOR) the console itself sees inside the pane.
    extra = " ".join(f"{k}={v}" for k, v in (env or {}).items())
    command = (f"env TERM={term} {extra} {BIN} {where}--journal {tmp_path / 'journal.jsonl'} "
               f"{args}")
    full_env = {**os.environ, "OUTBOUND_CONSOLE_HOME": str(tmp_path), "HOME": str(tmp_path),
                "XDG_CONFIG_HOME": str(tmp_path / "config")}
    subprocess.run(["tmux", "-L", socket, "new-session", "-d", "-s", "oc", "-x", "80", "-y",
                    "24", command], env=full_env, check=True, timeout=10, cwd=tmp_path)
    tmux(socket, "set-option", "-t", "oc", "remain-on-exit", "on")
    return socket


def exit_status(socket: str, timeout: float = 20.0) -> str:
    """`status/signal` of the console once it has exited (remain-on-exit keeps the pane).

    tmux 3.3 marks a pane dead when its terminal closes and learns the exit status when it
    reaps the process; now and then it misses the SIGCHLD and the process stays a zombie
    with no status. Nudging the server with SIGCHLD makes it reap; the status is still the
    one the kernel kept for the process."""
    deadline = time.monotonic() + timeout
    dead_since: float | None = None
    while True:
        shown = tmux(socket, "display", "-p", "-t", "oc",
                     "#{pane_dead}:#{pane_dead_status}/#{pane_dead_signal}").strip()
        dead, _, status = shown.partition(":")
        if dead == "1" and status != "/":
            return status
        assert time.monotonic() < deadline, screen(socket)
        if dead == "1":
            dead_since = dead_since or time.monotonic()
            if time.monotonic() - dead_since > 1.0:
                server = tmux(socket, "display", "-p", "#{pid}").strip()
                if server.isdigit():
                    os.kill(int(server), signal.SIGCHLD)
        time.sleep(0.1)


def attributes_at(line: str, text: str) -> set[str]:
    """The SGR codes in force where `text` starts on a captured line (`capture-pane -e`);
    colours (30-49, 90-107) are left out, attributes (1 bold, 3 italic, 4 underline, 7
    reverse) kept."""
    active: set[str] = set()
    visible: list[str] = []
    at: list[set[str]] = []
    for escape, char in re.findall(r"(\x1b\[[0-9;]*m)|(.)", line, flags=re.S):
        if escape:
            for code in escape[2:-1].split(";"):
                if code in ("", "0"):
                    active.clear()
                else:
                    active.add(code)
            continue
        visible.append(char)
        at.append({c for c in active if len(c) == 1})
    index = "".join(visible).find(text)
    assert index >= 0, f"{text!r} not on {line!r}"
    return at[index]


@pytest.fixture
def sockets() -> Iterator[list[str]]:
    started: list[str] = []
    yield started
    for socket in started:
        tmux(socket, "kill-server")


@pytest.fixture(params=["xterm-256color", "xterm", "screen"])
def session(tmp_path: Path, request: pytest.FixtureRequest,
            sockets: list[str]) -> Iterator[str]:
    socket = start(tmp_path, term=request.param)
    sockets.append(socket)
    yield socket


def test_send_a_template_with_keystrokes_only(session: str, tmp_path: Path) -> None:
    socket = session
    first = wait_for(socket, "connected")
    assert "SIMULATOR" in first
    tmux(socket, "send-keys", "-t", "oc", "F4")
    wait_for(socket, "Campaign1")
    for key in ("Down", "Down", "Down"):  # Campaign1 > CallingList1 > doc-sample
        tmux(socket, "send-keys", "-t", "oc", key)
        time.sleep(0.1)
    wait_for(socket, "documentation sample")
    tmux(socket, "send-keys", "-t", "oc", "Enter")
    wait_for(socket, "InstantMessaging")  # the form holds the template
    tmux(socket, "send-keys", "-t", "oc", "C-s")
    shown = wait_for(socket, "acknowledged in")
    assert "ms" in shown.split("acknowledged in", 1)[1].splitlines()[0]
    tmux(socket, "send-keys", "-t", "oc", "F3")
    events = wait_for(socket, "/me/internal")
    assert "/v2/me/outbound" in events and "AddRecordAcknowledge" in events
    journal = (tmp_path / "journal.jsonl").read_text()
    assert '"state": "acknowledged"' in journal
    # Every pane's footer fits the line, whole keys only, the palette's key at the end.
    for key, marker in (("F2", "application"), ("F3", "time"), ("F4", "Campaign1"),
                        ("F5", "enter load")):
        tmux(socket, "send-keys", "-t", "oc", key)
        footer = wait_for(socket, marker).splitlines()[-1]
        assert footer.rstrip().endswith("^p palette"), footer
        assert "^s Send" in footer, footer


def test_no_color_shows_focus_cursor_placeholders_and_badge_by_attribute(
        tmp_path: Path, sockets: list[str]) -> None:
    socket = start(tmp_path, env={"NO_COLOR": "1"}, profiles=False)
    sockets.append(socket)
    wait_for(socket, "connected")
    coloured = screen(socket, escapes=True)
    # With NO_COLOR there are no colour escapes (38;5;n / 48;5;n / 38;2;r;g;b, 3x/4x), only
    # attributes such as bold and reverse.
    assert not re.search(r"\x1b\[[0-9;]*(38|48);[25];", coloured), coloured[:400]
    assert not re.search(r"\x1b\[(3|4|9|10)[0-7]m", coloured), coloured[:400]
    lines = coloured.splitlines()
    assert {"1", "7"} <= attributes_at(lines[0], " SIMULATOR ")  # bold, reverse
    assert {"1", "7"} <= attributes_at(lines[1], "application")  # the focused field's label
    # The cursor, on the placeholder's first letter (it blinks: seen within a second).
    deadline = time.monotonic() + 3
    while "7" not in attributes_at(screen(socket, escapes=True).splitlines()[1], "OCS"):
        assert time.monotonic() < deadline, "no cursor in the focused field"
        time.sleep(0.05)
    assert attributes_at(lines[2], "e.g. Campaign1") == {"3"}  # a placeholder: italic
    assert attributes_at(lines[2], "campaign") == set()  # an unfocused label: plain
    tmux(socket, "send-keys", "-t", "oc", "-l", "134")
    wait_for(socket, "application  134")
    typed = screen(socket, escapes=True).splitlines()[1]
    assert "3" not in attributes_at(typed, "134")  # a typed value is not italic


def test_the_simulator_badge_is_not_magenta_under_term_screen(
        tmp_path: Path, sockets: list[str]) -> None:
    socket = start(tmp_path, term="screen", profiles=False)
    sockets.append(socket)
    wait_for(socket, "connected")
    first = screen(socket, escapes=True).splitlines()[0]
    badge = first[: first.index(" SIMULATOR ")]
    codes = {c for seq in re.findall(r"\x1b\[([0-9;]*)m", badge) for c in seq.split(";")}
    assert {"1", "7"} <= attributes_at(first, " SIMULATOR ")  # readable by attribute
    assert not codes & {"35", "45", "95", "105"}, first  # no magenta


@pytest.fixture
def production(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A simulator in its own process, and a profile that says it is production."""
    password = "prod-pw-9"
    sim = subprocess.Popen([sys.executable, "-m", "console.cli", "sim", "--port", "0"],
                           stdout=subprocess.PIPE, text=True,
                           env={**os.environ, "OUTBOUND_CONSOLE_SIM_PASSWORD": password})
    try:
        assert sim.stdout is not None
        url = sim.stdout.readline().split()[-1]
        profiles = tmp_path / "prod-profiles"
        profiles.mkdir()
        (profiles / "eu-prod.yaml").write_text(
            f"url: {url}\nusername: demo\nenvironment: production\n", encoding="utf-8")
        yield profiles, password
    finally:
        sim.terminate()
        sim.wait(timeout=10)


@pytest.mark.parametrize("no_color", [False, True], ids=["colour", "no-color"])
def test_production_is_unmistakable_in_the_header(
        tmp_path: Path, sockets: list[str], production: tuple[Path, str],
        no_color: bool) -> None:
    profiles, password = production
    socket = start(tmp_path / "run", f"--profiles {profiles} --profile eu-prod",
                   env={"OUTBOUND_CONSOLE_PASSWORD": password,
                        **({"NO_COLOR": "1"} if no_color else {})}, profiles=False)
    sockets.append(socket)
    header = wait_for(socket, "connected").splitlines()[0]
    assert header.lstrip().startswith("PRODUCTION") and "eu-prod" in header
    first = screen(socket, escapes=True).splitlines()[0]
    # Bold, underline, reverse: no colour needed.
    assert {"1", "4", "7"} <= attributes_at(first, " PRODUCTION ")


def test_three_keys_from_the_command_to_an_acknowledged_template(
        tmp_path: Path, sockets: list[str]) -> None:
    # Key 1 is the command's Enter; then Ctrl+S, typed as soon as the console shows, ahead
    # of its connection to GWS (a Ctrl+S typed before the program runs at all is the
    # terminal's XOFF: see the README).
    socket = start(tmp_path, "--template doc-sample", profiles=False)
    sockets.append(socket)
    wait_for(socket, "application")
    tmux(socket, "send-keys", "-t", "oc", "C-s")
    shown = wait_for(socket, "acknowledged in")
    assert "12345" in shown  # the template's phone, in the form
    journal = [json.loads(line) for line in
               (tmp_path / "journal.jsonl").read_text().splitlines()]
    assert [e["state"] for e in journal if e["kind"] == "verdict"] == ["acknowledged"]


def test_an_unknown_start_template_is_refused_not_ignored(tmp_path: Path) -> None:
    result = subprocess.run([BIN, "--template", "no-such-template"], capture_output=True,
                            text=True, timeout=60, cwd=tmp_path, stdin=subprocess.DEVNULL,
                            env={**os.environ, "OUTBOUND_CONSOLE_HOME": str(tmp_path)})
    assert result.returncode == 2
    assert result.stderr.startswith("Error: no template 'no-such-template'")


def test_quit_with_unsaved_changes_asks_and_exits_cleanly(
        tmp_path: Path, sockets: list[str]) -> None:
    socket = start(tmp_path)
    sockets.append(socket)
    wait_for(socket, "connected")
    tmux(socket, "send-keys", "-t", "oc", "1", "C-q")
    wait_for(socket, "unsaved changes")
    tmux(socket, "send-keys", "-t", "oc", "n")
    time.sleep(0.5)
    assert "unsaved changes" not in screen(socket)
    tmux(socket, "send-keys", "-t", "oc", "C-q", "y")
    status = exit_status(socket)
    assert status == "0/", (status, screen(socket))
    assert "Traceback" not in screen(socket) and "Error" not in screen(socket)


# -- type-ahead: a burst of keys lands where the same keys typed 50 ms apart land ----------
#: Each flow: the keys (a word is typed letter by letter when slow) and what shows it is done.
FLOWS: dict[str, tuple[list[str], str]] = {
    # The reproduction: 134 Tab Campaign1 Tab CallingList1 gave application 13411.
    "fill": (["134", "Tab", "Campaign1", "Tab", "CallingList1", "Tab", "5551234"], "5551234"),
    "template-then-send": (["F4", "Down", "Down", "Down", "Enter", "C-s"], "acknowledged in"),
    "f-keys-then-typing": (["F4", "F2", "135", "Tab", "Camp"], "Camp"),
    "dialog-then-typing": (["F4", "Down", "Down", "Down", "Enter", "C-o", "mine", "Enter"],
                           "saved"),
    "quit-asks-then-typing": (["13", "C-q", "n", "4"], "134"),
    "history-then-typing": (["F4", "Down", "Down", "Down", "Enter", "C-s", "F5", "Enter",
                             "Tab", "X"], "acknowledged in"),
}
KEY_NAMES = {"Tab", "Enter", "Down", "Up", "Escape"}
_VARYING = [
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:PORT"),
    (re.compile(r"\b[0-9a-f]{32}\b|\b[0-9a-f]{8}…"), "REF"),
    (re.compile(r"\b\d\d:\d\d:\d\d\b"), "TIME"),
    (re.compile(r"in \d+ ms"), "in N ms"),
]


def normalised(text: str) -> str:
    for pattern, replacement in _VARYING:
        text = pattern.sub(replacement, text)
    return "\n".join(line.rstrip() for line in text.splitlines())


def journal_summary(path: Path) -> list[tuple[str, object]]:
    if not path.is_file():
        return []
    summary: list[tuple[str, object]] = []
    for line in path.read_text().splitlines():
        entry = json.loads(line)
        if entry["kind"] == "request":
            summary.append(("request", {k: v for k, v in entry["body"].items()
                                        if k != "referenceId"}))
        elif entry["kind"] == "verdict":
            summary.append(("verdict", entry["state"]))
    return summary


def send_slowly(socket: str, keys: list[str]) -> None:
    for key in keys:
        for one in [key] if key in KEY_NAMES or key.startswith(("F", "C-")) and \
                len(key) <= 3 else list(key):
            tmux(socket, "send-keys", "-t", "oc", one)
            time.sleep(0.05)


@pytest.mark.parametrize("flow", list(FLOWS))
def test_a_burst_of_keys_lands_where_slow_typing_lands(
        tmp_path: Path, sockets: list[str], flow: str) -> None:
    keys, done = FLOWS[flow]
    burst, slow = start(tmp_path / "burst"), start(tmp_path / "slow")
    sockets += [burst, slow]
    wait_for(burst, "connected")
    wait_for(slow, "connected")
    tmux(burst, "send-keys", "-t", "oc", *keys)  # all at once, as a laggy link delivers them
    send_slowly(slow, keys)
    wait_for(burst, done)
    wait_for(slow, done)
    # The two screens settle into the same picture (notifications come and go on their own
    # clock, so the comparison waits for them to agree), and the journals say the same.
    deadline = time.monotonic() + 20
    agreed = 0
    while agreed < 3:
        a, b = normalised(screen(burst)), normalised(screen(slow))
        agreed = agreed + 1 if a == b else 0
        if time.monotonic() > deadline:
            assert a == b
        time.sleep(0.3)
    assert journal_summary(tmp_path / "burst" / "journal.jsonl") == \
        journal_summary(tmp_path / "slow" / "journal.jsonl")
    if flow == "fill":
        assert "application  134\n" in screen(burst)
    if flow == "dialog-then-typing":
        assert (tmp_path / "burst" / "profiles" / "templates" / "Campaign1" / "CallingList1" /
                "mine.yaml").is_file()


# -- stopped by a signal: SIGTERM (kill, a supervisor) or SIGHUP (the SSH session dropped) ----
def test_sigterm_quits_the_console_as_quit_does_without_asking(
        tmp_path: Path, sockets: list[str]) -> None:
    """No one is there to answer "unsaved changes?": the console quits as after `y`, its
    terminal restored and its embedded simulator stopped. Before, the signal's default action
    killed it where it stood (the screen left in the alternate buffer, the journal's waiting
    lines lost)."""
    socket = start(tmp_path)
    sockets.append(socket)
    wait_for(socket, "connected")
    tmux(socket, "send-keys", "-t", "oc", "1")  # the form has unsaved changes
    wait_for(socket, "1")
    pid = int(tmux(socket, "display", "-p", "-t", "oc", "#{pane_pid}").strip())
    simulator = simulator_children(pid)
    assert simulator, "the embedded simulator runs in a child process"
    os.kill(pid, signal.SIGTERM)
    status = exit_status(socket)
    assert status == "0/", (status, screen(socket))
    assert "Traceback" not in screen(socket)
    assert ended_within(simulator, 10.0), "the embedded simulator outlived the console"


@pytest.mark.parametrize("busy", [False, True])
def test_a_dropped_terminal_ends_the_console_and_its_simulator(
        tmp_path: Path, sockets: list[str], busy: bool) -> None:
    """The SSH session drops (here: the tmux server is killed under the console, which gets
    SIGHUP and a terminal that is gone). The console ends within seconds, its journal
    written, its embedded simulator stopped. With an orderly quit on SIGHUP it could sleep
    forever instead: Textual's output thread died on the dead terminal and the next frames
    blocked its event loop (`busy`: keys arriving as the terminal goes)."""
    socket = start(tmp_path)
    sockets.append(socket)
    wait_for(socket, "connected")
    pid = int(tmux(socket, "display", "-p", "-t", "oc", "#{pane_pid}").strip())
    simulator = simulator_children(pid)
    if busy:
        tmux(socket, "send-keys", "-t", "oc", *list("134 Campaign1 CallingList1 5551234" * 3))
    tmux(socket, "kill-server")
    assert ended_within([pid], 10.0), "the console outlived its terminal"
    assert ended_within(simulator, 10.0), "the embedded simulator outlived the console"
    journal = (tmp_path / "journal.jsonl").read_text().splitlines()
    assert all(line.endswith("}") for line in journal)  # whole lines only
