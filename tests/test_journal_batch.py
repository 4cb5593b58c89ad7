"""When journal lines reach the disk: event lines of one turn of the event loop share a write;
every other line is on disk (with the events before it) when `write` returns; nothing waiting
is lost at a clean exit, Ctrl-C or an exception; a `kill -9` loses at most the events of the
turn it interrupts."""

from __future__ import annotations

import asyncio
import errno
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from console.domain.events import Event
from console.domain.journal import Journal

ROOT = Path(__file__).parent.parent


def event(n: int) -> Event:
    return Event("/v2/me/outbound", {"referenceId": f"r{n}", "n": n}, 1.0, seq=n)


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def count_writes(monkeypatch: pytest.MonkeyPatch, journal: Journal) -> list[int]:
    """Sizes of the `os.write` calls to the journal's file."""
    sizes: list[int] = []
    real = os.write

    def counting(fd: int, data: Any) -> int:
        if fd == journal._file:
            sizes.append(len(data))
        return real(fd, data)

    monkeypatch.setattr(os, "write", counting)
    return sizes


def test_the_events_of_one_turn_of_the_loop_share_one_write(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "b.jsonl"
    journal = Journal(path=path, target={"profile": "p"})
    journal.write("session")  # opens the file
    writes = count_writes(monkeypatch, journal)

    async def stream() -> None:
        for reply in range(3):  # three Bayeux replies of 40 events
            for n in range(40):
                journal.write_event(event(reply * 40 + n), None)
            await asyncio.sleep(0)
            assert len(lines(path)) == 1 + (reply + 1) * 40  # on disk once the loop turned

    asyncio.run(stream())
    journal.close()
    assert len(writes) == 3
    assert [entry["seq"] for entry in lines(path)[1:]] == list(range(120))


def test_a_long_burst_is_written_every_256_lines_without_waiting_for_the_loop(
        tmp_path: Path) -> None:
    path = tmp_path / "l.jsonl"
    journal = Journal(path=path)

    async def flood() -> None:
        for n in range(600):
            journal.write_event(event(n), None)
        assert len(lines(path)) == 512

    asyncio.run(flood())
    assert len(lines(path)) == 600  # and the rest at the loop's turn
    journal.close()


def test_a_line_written_with_write_is_on_disk_after_the_events_before_it(
        tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    journal = Journal(path=path)

    async def send() -> None:
        journal.write_event(event(1), "r1")
        journal.write_event(event(2), None)
        journal.write("request", body={"referenceId": "r3"})
        # No await since: the request line is the kernel's before the POST could be sent.
        assert [entry["kind"] for entry in lines(path)] == ["event", "event", "request"]
        journal.write("verdict", referenceId="r1", state="acknowledged")
        assert lines(path)[-1]["kind"] == "verdict"

    asyncio.run(send())
    journal.close()


def test_outside_an_event_loop_every_event_line_is_written_at_once(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    journal = Journal(path=path)
    journal.write_event(event(1), None)
    assert len(lines(path)) == 1
    journal.close()


def test_events_left_waiting_by_a_loop_that_never_turns_again_go_with_the_next_loop(
        tmp_path: Path) -> None:
    path = tmp_path / "two.jsonl"
    journal = Journal(path=path)

    async def interrupted() -> None:
        journal.write_event(event(1), None)
        raise KeyboardInterrupt  # out of the loop before it turns

    loop = asyncio.new_event_loop()
    with pytest.raises(KeyboardInterrupt):
        loop.run_until_complete(interrupted())
    loop.close()

    async def later() -> None:
        journal.write_event(event(2), None)
        await asyncio.sleep(0)

    asyncio.run(later())
    assert [entry["seq"] for entry in lines(path)] == [1, 2]
    journal.close()


def run_script(body: str, path: Path) -> subprocess.CompletedProcess[str]:
    script = (
        "import asyncio, os, signal, sys\n"
        "from pathlib import Path\n"
        "from console.domain.events import Event\n"
        "from console.domain.journal import Journal\n"
        f"j = Journal(path=Path({str(path)!r}), target={{'profile': 'p'}})\n"
        "def ev(n):\n"
        "    return Event('/v2/me/outbound', {'referenceId': f'r{n}'}, 1.0, seq=n)\n"
        + body)
    return subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


def test_kill_9_loses_at_most_the_events_of_the_turn_it_interrupts(tmp_path: Path) -> None:
    path = tmp_path / "k.jsonl"
    proc = run_script(
        "async def main():\n"
        "    for reply in range(10):\n"
        "        for n in range(30):\n"
        "            j.write_event(ev(reply * 30 + n), None)\n"
        "        await asyncio.sleep(0)\n"
        "    j.write_event(ev(300), None)\n"
        "    j.write('request', referenceId='r301')\n"
        "    j.write('verdict', referenceId='r301', state='acknowledged')\n"
        "    for n in range(302, 310):\n"
        "        j.write_event(ev(n), None)\n"  # waits for a turn that never comes
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "asyncio.run(main())\n", path)
    assert proc.returncode == -9, proc.stderr
    found = lines(path)
    assert [entry.get("seq") for entry in found[:301]] == list(range(301))
    assert [entry["kind"] for entry in found[301:303]] == ["request", "verdict"]
    # What the kill may take: the events of the interrupted turn, none or some, in order.
    assert [entry["seq"] for entry in found[303:]] == list(range(302, 302 + len(found) - 303))


@pytest.mark.parametrize("ending", [
    "raise KeyboardInterrupt",  # Ctrl-C while the loop is busy: the loop never turns again
    "raise RuntimeError('a bug')",
    "sys.exit(0)",
])
def test_events_still_waiting_are_written_when_the_interpreter_exits(
        tmp_path: Path, ending: str) -> None:
    path = tmp_path / "x.jsonl"
    proc = run_script(
        "async def main():\n"
        "    for n in range(5):\n"
        "        j.write_event(ev(n), None)\n"
        f"    {ending}\n"
        "loop = asyncio.new_event_loop()\n"
        "loop.run_until_complete(main())\n", path)
    assert proc.returncode != -9, proc.stderr
    assert [entry["seq"] for entry in lines(path)] == list(range(5))


def test_a_failed_write_at_the_loops_turn_is_raised_by_the_next_write() -> None:
    """/dev/full fails every write with ENOSPC, like a full disk."""
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    journal = Journal(path=Path("/dev/full"))
    with pytest.raises(OSError) as at_once:
        journal.write("request")
    assert at_once.value.errno == errno.ENOSPC
    handled: list[dict[str, Any]] = []

    async def main() -> None:
        asyncio.get_running_loop().set_exception_handler(lambda _, ctx: handled.append(ctx))
        journal.write_event(event(1), None)
        await asyncio.sleep(0)  # the write fails in a loop callback: nobody to raise to...
        with pytest.raises(OSError) as later:
            journal.write("verdict")  # ...so the next line raises it
        assert later.value.errno == errno.ENOSPC

    asyncio.run(main())
    assert handled == []
    journal.close()


def test_a_password_holding_a_newline_never_breaks_a_line(tmp_path: Path) -> None:
    """The typed form of such a password can never be inside a line (JSON escapes it); looked
    for, it would be found across the end of one."""
    path = tmp_path / "n.jsonl"
    password = '}\n'
    journal = Journal(path=path, secrets=(password,), target={"profile": "p"})
    journal.write("error", message=f"bad password {password}")

    async def main() -> None:
        journal.write_event(event(1), None)
        journal.write_event(event(2), None)

    asyncio.run(main())
    journal.close()
    found = lines(path)
    assert [entry["kind"] for entry in found] == ["error", "event", "event"]
    assert json.dumps(password)[1:-1] not in path.read_text(encoding="utf-8")
    assert found[0]["message"] == "bad password [redacted]"


def test_lines_that_wait_for_the_loop_are_redacted_and_cut_like_the_others(
        tmp_path: Path) -> None:
    from tests.test_journal import ODD_SECRET_KEYS, nest

    path = tmp_path / "w.jsonl"
    journal = Journal(path=path, secrets=("hunter2",), target={"profile": "p"})
    leaf = {key: f"leak-{n}" for n, key in enumerate(ODD_SECRET_KEYS)} | {"keep": "hunter2"}

    async def flood() -> None:
        for depth in (0, 1, 2, 5, 12):
            journal.write_event(Event("/me/internal", {"userData": nest(depth, leaf)}, 1.0,
                                      depth), None)
        journal.write("request", body=nest(3, leaf))  # goes out with them

    asyncio.run(flood())
    journal.close()
    text = path.read_text(encoding="utf-8")
    assert "leak-" not in text and "hunter2" not in text
    assert len(lines(path)) == 6
    assert text.count("[redacted]") == 6 * (len(ODD_SECRET_KEYS) + 1)
