"""The TUI's replay is the application layer's (ReplayRun): confirmed, stoppable, resumable,
in the history; a start that fails is retried; a send refused before it left is shown."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from textual.widgets import Input, Label

from console.domain.history import ReplayEntry
from console.domain.rows import read_rows
from console.profiles import Profile
from console.sim import Simulator
from console.sim.faults import Faults
from console.tui.dialogs import Ask, Confirm, TypeToConfirm
from console.tui.footer import KeyFooter
from console.tui.form import RecordForm
from console.tui.header import StatusHeader
from console.tui.replay_dialog import ReplayDialog
from tests.tui_helpers import GOOD, fill, make_app, ready, wait_until

PASSWORD = "pw-replay-3Kd"


def journal_lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def requests_without_verdict(path: Path) -> list[str]:
    """referenceIds the journal shows a request for and no verdict."""
    lines = journal_lines(path)
    sent = {str(e["body"]["referenceId"]) for e in lines  # type: ignore[index]
            if e.get("kind") == "request"}
    judged = {str(e.get("referenceId")) for e in lines if e.get("kind") == "verdict"}
    return sorted(sent - judged)


def production(sim: Simulator) -> Profile:
    return Profile(name="eu-prod", url=sim.url, username="demo", environment="production")


async def open_replay(pilot: object, count: str, rate: str = "2",
                      again: bool = False) -> ReplayDialog:
    """F4, doc-sample, ^r (`again`: the cursor is on it already): the dialog, filled with a
    count and a rate."""
    app = pilot.app  # type: ignore[attr-defined]
    keys = ["ctrl+r"] if again else ["f4", "down", "down", "down", "ctrl+r"]
    await pilot.press(*keys)  # type: ignore[attr-defined]
    await wait_until(pilot, lambda: isinstance(app.screen, ReplayDialog))  # type: ignore[arg-type]
    dialog: ReplayDialog = app.screen
    dialog.query_one("#r-count", Input).value = count
    dialog.query_one("#r-rate", Input).value = rate
    dialog.query_one("#r-count", Input).focus()
    return dialog


async def test_production_replay_asks_for_the_count_is_stopped_and_resumes_the_rest(
        tmp_path: Path) -> None:
    async with Simulator(password=PASSWORD, faults=Faults(ack_delay_ms=300)) as sim:
        app = make_app(tmp_path, production(sim), password=PASSWORD, resume_dir=tmp_path)
        async with app.run_test(size=(100, 30)) as pilot:
            await ready(pilot)
            dialog = await open_replay(pilot, "12")
            target = str(dialog.query_one("#replay-target", Label).render())
            assert "PRODUCTION eu-prod" in target and sim.url in target
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, TypeToConfirm))
            assert "12 records" in app.screen.question and sim.url in app.screen.question
            # A wrong answer sends nothing and keeps asking.
            await pilot.press("y", "enter")
            await pilot.pause(0.3)
            assert isinstance(app.screen, TypeToConfirm) and not sim.store.records
            await pilot.press("1", "2", "enter")
            await wait_until(pilot, lambda: app.replay_run is not None)
            run = app.replay_run
            assert run is not None
            footer = app.query_one(KeyFooter)
            assert ("^c", "Stop replay") in [(k, d) for k, d, _ in footer.keys()]
            await wait_until(pilot, lambda: run.progress.sent >= 4, timeout=20)
            await pilot.press("ctrl+c")
            await wait_until(pilot, lambda: app.replay_run is None, timeout=20)
            verdict = str(app.query_one("#replay-verdict").render())
            assert "STOPPED" in verdict and "resume" in verdict
            [entry] = [e for e in app.history_entries if isinstance(e, ReplayEntry)]
            assert entry.state == "stopped" and entry.files
            sent_first = len(sim.store.records)
            assert 4 <= sent_first < 12
            resume = tmp_path / f"replay-{run.run_id}.resume.csv"
            assert str(resume) in verdict
            assert requests_without_verdict(tmp_path / "journal.jsonl") == []
            # Resume from the TUI: the rows file is the resume file; exactly the rest goes. The
            # file names its template: the cursor on another one (up: a calling list, its
            # templates) does not change what is sent, nor what the question names.
            await pilot.press("up")
            dialog = await open_replay(pilot, "1", rate="50", again=True)
            dialog.query_one("#r-rows", Input).value = str(resume)
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, TypeToConfirm))
            name = run.inputs.templates[0].name
            assert f"({name})" in app.screen.question, app.screen.question
            expected = str(len(read_rows(resume)))
            for char in expected:
                await pilot.press(char)
            await pilot.press("enter")
            # The second run is in History once it has ended (it can start and end between
            # two looks: 8 records at 50/s with acks after 300 ms).
            await wait_until(pilot, lambda: app.replay_run is None and len(
                [e for e in app.history_entries if isinstance(e, ReplayEntry)]) == 2,
                timeout=30)
            unconfirmed = tmp_path / f"replay-{run.run_id}.unconfirmed.csv"
            again = len(read_rows(unconfirmed)) if unconfirmed.exists() else 0
            assert len(sim.store.records) + again == 12
            phones = [r.body.get("phoneNumber") for r in sim.store.records]
            refs = [r.body.get("referenceId") for r in sim.store.records]
            assert len(set(refs)) == len(refs) and len(phones) == len(refs)


async def test_quit_during_a_replay_asks_then_stops_writes_files_and_exits(
        tmp_path: Path) -> None:
    async with Simulator(password=PASSWORD, faults=Faults(ack_delay_ms=300)) as sim:
        profile = Profile(name="lab", url=sim.url, username="demo")
        app = make_app(tmp_path, profile, password=PASSWORD, resume_dir=tmp_path)
        async with app.run_test(size=(100, 30)) as pilot:
            await ready(pilot)
            await open_replay(pilot, "20")
            await pilot.press("enter")
            await wait_until(pilot, lambda: app.replay_run is not None)
            run = app.replay_run
            assert run is not None
            await wait_until(pilot, lambda: run.progress.sent >= 3, timeout=20)
            await pilot.press("ctrl+q")
            await wait_until(pilot, lambda: isinstance(app.screen, Confirm))
            assert "replay is running" in app.screen.question
            await pilot.press("n")  # cancel: it goes on
            await pilot.pause(0.2)
            assert app.replay_run is run and not run.progress.stopped
            await pilot.press("ctrl+q")
            await wait_until(pilot, lambda: isinstance(app.screen, Confirm))
            await pilot.press("y")
            await wait_until(pilot, lambda: not app.is_running, timeout=20)
        assert app.return_code in (0, None)
        assert (tmp_path / f"replay-{run.run_id}.resume.csv").exists()
        assert requests_without_verdict(tmp_path / "journal.jsonl") == []
        ends = [e for e in journal_lines(tmp_path / "journal.jsonl")
                if e.get("kind") == "replay" and e.get("event") == "end"]
        assert ends and ends[-1]["stopped"] is True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_start_before_the_server_is_up_then_it_starts_and_the_console_connects(
        tmp_path: Path) -> None:
    port = free_port()
    profile = Profile(name="late", url=f"http://127.0.0.1:{port}", username="demo")
    app = make_app(tmp_path, profile, password=PASSWORD)
    async with app.run_test(size=(100, 30)) as pilot:
        header = app.query_one(StatusHeader)
        await wait_until(pilot, lambda: header.status == "unreachable", timeout=15)
        await wait_until(pilot, lambda: "next try in" in header.detail)
        footer = app.query_one(KeyFooter)
        assert ("^t", "Reconnect") in [(k, d) for k, d, _ in footer.keys()]
        async with Simulator(password=PASSWORD, port=port):
            await pilot.press("ctrl+t")  # at once, not at the end of the countdown
            await wait_until(pilot, lambda: header.status == "connected", timeout=15)
            await ready(pilot)
            fill(app, **GOOD)
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: app.current is not None
                             and app.current.state == "acknowledged", timeout=15)
            await pilot.press("ctrl+q")


async def test_a_wrong_password_asks_again_naming_the_server(tmp_path: Path) -> None:
    async with Simulator(password=PASSWORD) as sim:
        profile = Profile(name="lab", url=sim.url, username="demo")
        app = make_app(tmp_path, profile, password="wrong-one")
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, Ask), timeout=15)
            question = app.screen.question
            assert "401" in question and sim.url in question and "demo" in question
            await pilot.press(*"still-wrong", "enter")
            await wait_until(pilot, lambda: isinstance(app.screen, Ask)
                             and app.screen.query_one(Input).value == "", timeout=15)
            app.screen.query_one(Input).value = PASSWORD
            await pilot.press("enter")
            await ready(pilot)
            assert PASSWORD not in (tmp_path / "journal.jsonl").read_text()


async def test_a_send_refused_before_it_left_is_shown_not_a_traceback(tmp_path: Path) -> None:
    async with Simulator(password=PASSWORD, faults=Faults(ack_delay_ms=3000)) as sim:
        profile = Profile(name="lab", url=sim.url, username="demo")
        # Every send gets the same referenceId: the second is refused while the first waits.
        app = make_app(tmp_path, profile, password=PASSWORD, reference_ids=lambda: "same-ref")
        async with app.run_test(size=(100, 30)) as pilot:
            await ready(pilot)
            fill(app, **GOOD)
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: app.current is not None)
            fill(app, **GOOD)
            await pilot.press("ctrl+s")
            form = app.query_one(RecordForm)
            await wait_until(pilot, lambda: "not sent" in str(
                form.query_one("#state").render()))
            assert app.is_running
            assert [e.state for e in app.history_entries][-1] == "not_sent"
            assert len(sim.store.records) == 1


async def test_the_stop_key_does_nothing_but_say_so_when_no_replay_runs(tmp_path: Path) -> None:
    from textual.command import CommandPalette

    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        fill(app, phoneNumber="555")
        await pilot.press("ctrl+c")  # no replay: the key is the field's again, nothing breaks
        await pilot.pause(0.1)
        assert app.is_running and app.replay_run is None
        assert "Stop replay" not in [d for _, d, _ in app.query_one(KeyFooter).keys()]
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"Stop the replay")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, CommandPalette))
        await pilot.pause(0.2)
        assert any("nothing to do now" in str(n.message) for n in app._notifications)


async def test_quit_while_waiting_for_the_next_try_exits_cleanly(tmp_path: Path) -> None:
    port = free_port()
    profile = Profile(name="late", url=f"http://127.0.0.1:{port}", username="demo")
    app = make_app(tmp_path, profile, password=PASSWORD)
    async with app.run_test(size=(100, 30)) as pilot:
        header = app.query_one(StatusHeader)
        await wait_until(pilot, lambda: "next try in" in header.detail, timeout=15)
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: not app.is_running, timeout=10)
    assert app.return_code in (0, None)
