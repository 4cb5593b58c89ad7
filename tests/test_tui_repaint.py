"""Issue 11: the stream's repaints coalesced to at most N a second (thin SSH links), nothing
lost by it, keys still immediate; the rate chosen by option or profile, refused when bad."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.strip import Strip

from console.domain.events import Event
from console.errors import ProfileError
from console.launch import repaint_rate
from console.profile import DEMO
from console.profiles import read_profile
from console.tui.app import OutboundApp
from console.tui.event_list import EventList, EventStatus
from console.tui.repaint import RepaintRateError, parse_max_repaint_rate
from tests.cli_helpers import isolated_env, run_bin
from tests.tui_helpers import FIXED_TIME, make_app, ready, wait_until


def an_event(n: int) -> Event:
    return Event("/v2/me/outbound", {"messageType": "OutboundRecordMessage",
                                     "notificationType": "AddRecordAcknowledge",
                                     "referenceId": f"{n:032x}"}, FIXED_TIME, n)


class PaintCounter:
    """Counts full repaints of the event list (its first line rendered)."""

    def __init__(self, events: EventList) -> None:
        self.count = 0
        render = events.render_line

        def counted(y: int) -> Strip:
            if y == 0:
                self.count += 1
            return render(y)

        events.render_line = counted  # type: ignore[method-assign]


async def stream(pilot: Pilot[None], app: OutboundApp, count: int, per_tick: int,
                 start: int = 1) -> float:
    """Events `start`.. up to `count`, `per_tick` every 50 ms, as the stream delivers them;
    seconds taken."""
    started = time.monotonic()
    for first in range(start, count + 1, per_tick):
        for n in range(first, min(count + 1, first + per_tick)):
            app._collect(an_event(n))
        await pilot.pause(0.05)
    return time.monotonic() - started


def status(app: OutboundApp) -> str:
    return app.query_one("#event-status", EventStatus).text


def list_lines(events: EventList) -> list[str]:
    return [events.render_line(y).text for y in range(events.scrollable_content_region.height)]


async def streamed(tmp_path: Path, rate: float, count: int) -> tuple[list[str], str, int,
                                                                    float, bool]:
    """A console at 80x24 with the events pane shown, `count` events streamed in at 200/s:
    (the list's lines once settled, the status line, list repaints while streaming, seconds
    streaming, whether `limited` was shown while streaming)."""
    app = make_app(tmp_path, deterministic=True, max_repaint_rate=rate)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("f3")
        events = app._events()
        await pilot.pause(0.2)
        counter = PaintCounter(events)
        seconds = await stream(pilot, app, count, per_tick=10)
        repaints = counter.count
        limited = "limited" in status(app)
        # Nothing lost: every event is taken in at once, painted or not yet.
        assert app.events_seen == count and len(events.rows) == count
        await wait_until(pilot, lambda: status(app).startswith(f"{count} events | {count} shown")
                         and events.cursor == count - 1)
        await pilot.pause(0.1)
        return list_lines(events), status(app), repaints, seconds, limited


async def test_a_fast_stream_is_painted_at_most_n_times_a_second_and_nothing_is_lost(
        tmp_path: Path) -> None:
    lines, shown, repaints, seconds, limited = await streamed(tmp_path / "a", 2.0, 300)
    # At most 2 a second (plus the first and the last); without the limit every 50 ms tick.
    assert repaints <= 2 * seconds + 2, (repaints, seconds)
    assert limited
    # The pane and its counts are what an unlimited console shows for the same events.
    plain_lines, plain_shown, plain_repaints, plain_seconds, plain_limited = await streamed(
        tmp_path / "b", 0.0, 300)
    # (One column wider: a limited list has no scrollbar; the rows fit as they are.)
    assert [line.rstrip() for line in lines] == [line.rstrip() for line in plain_lines]
    assert "AddRecordAcknowledge" in lines[-1] and len(lines[0]) == len(plain_lines[0]) + 1
    assert shown.split(" | ")[:2] == plain_shown.split(" | ")[:2] == ["300 events", "300 shown"]
    assert not plain_limited and "limited" not in plain_shown


async def test_the_indicator_shows_while_limited_and_goes_when_the_stream_stops(
        tmp_path: Path) -> None:
    app = make_app(tmp_path, deterministic=True, max_repaint_rate=2.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("f3")
        await stream(pilot, app, 60, per_tick=5)
        await wait_until(pilot, lambda: status(app).startswith(
            "60 events | 60 shown | limited 2/s"))
        await wait_until(pilot, lambda: "limited" not in status(app))
        assert status(app).startswith("60 events | 60 shown")


async def test_keys_repaint_at_once_with_every_row_taken_in(tmp_path: Path) -> None:
    # One stream repaint every 10 s: whatever a key shows, it did not wait for that.
    app = make_app(tmp_path, deterministic=True, max_repaint_rate=0.1)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("f3")
        events = app._events()
        await stream(pilot, app, 10, per_tick=10)  # painted at once: the first in a while
        await wait_until(pilot, lambda: events.cursor == 9)
        await stream(pilot, app, 40, per_tick=10, start=11)  # 11..40 wait for the next repaint
        await pilot.pause(0.2)
        assert len(events.rows) == 40 and events.cursor == 9  # held back...
        await pilot.press("end")  # ...until a key: the list is current at once
        height = events.scrollable_content_region.height
        assert events.cursor == 39 and events.scroll_offset.y == 40 - height > 0
        assert "AddRecordAcknowledge" in list_lines(events)[-1]
        await pilot.press("up")
        assert events.cursor == 38 and not events.following
        assert "PAUSED 0 new" in status(app) and status(app).startswith("40 events")


# -- the setting -----------------------------------------------------------------------------
@pytest.mark.parametrize(("given", "rate"), [
    ("2", 2.0), ("0.5", 0.5), (3, 3.0), (1.5, 1.5), ("0", 0.0), (0, 0.0), ("off", 0.0),
    ("OFF", 0.0), ("unlimited", 0.0), ("100", 100.0), (False, 0.0)])
def test_a_repaint_rate_is_a_number_per_second_or_off(given: object, rate: float) -> None:
    assert parse_max_repaint_rate(given) == rate


@pytest.mark.parametrize("given", ["fast", "", "-1", -2, "0.01", "1000", "nan", "inf", True,
                                   None, [2], "2/s"])
def test_a_bad_repaint_rate_is_refused_saying_what_is_accepted(given: object) -> None:
    with pytest.raises(RepaintRateError, match=r"repaints per second from 0.1 to 100, or 0 / "
                                               r"off for unlimited, got"):
        parse_max_repaint_rate(given)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "jump.yaml"
    path.write_text("url: https://gws.example.com:8090\nusername: agent\n" + text)
    return path


def test_a_profile_sets_the_rate_and_a_bad_one_is_refused_at_its_line(tmp_path: Path) -> None:
    assert read_profile(write(tmp_path, "max_repaint_rate: 1\n")).max_repaint_rate == 1.0
    assert read_profile(write(tmp_path, "max_repaint_rate: off\n")).max_repaint_rate == 0.0
    assert read_profile(write(tmp_path, "")).max_repaint_rate is None
    with pytest.raises(ProfileError) as refused:
        read_profile(write(tmp_path, "timeout: 5\nmax_repaint_rate: fast\n"))
    assert str(refused.value).startswith(f"{tmp_path / 'jump.yaml'}:4: max_repaint_rate: ")
    assert "or 0 / off for unlimited, got 'fast'" in str(refused.value)


@pytest.fixture
def over_ssh(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("SSH_CLIENT", raising=False)
    monkeypatch.setenv("SSH_CONNECTION", "192.0.2.7 50022 192.0.2.1 22")
    yield


def test_the_option_wins_over_the_profile_which_wins_over_the_ssh_default(
        over_ssh: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    assert repaint_rate(None, DEMO) == 2.0  # under SSH: limited by default
    assert repaint_rate(None, replace(DEMO, max_repaint_rate=0.0)) == 0.0
    assert repaint_rate("5", replace(DEMO, max_repaint_rate=0.0)) == 5.0
    assert repaint_rate("off", replace(DEMO, max_repaint_rate=1.0)) == 0.0
    monkeypatch.delenv("SSH_CONNECTION")
    assert repaint_rate(None, DEMO) == 0.0  # locally: unlimited


async def test_the_cli_refuses_a_bad_rate_and_the_rate_before_a_command(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    code, out, err = await run_bin("--max-repaint-rate", "fast", env=env, cwd=tmp_path)
    assert code == 2 and "Invalid value for '--max-repaint-rate'" in err
    assert "or 0 / off for unlimited, got 'fast'" in err and "Traceback" not in err
    code, out, err = await run_bin("--max-repaint-rate=-3", env=env, cwd=tmp_path)
    assert code == 2 and "got '-3'" in err
    code, out, err = await run_bin("--max-repaint-rate", "2", "templates", "list", env=env,
                                   cwd=tmp_path)
    assert code == 2 and "--max-repaint-rate is the console's" in err


# -- end to end: the installed console in tmux at 80x24, as over SSH ---------------------------
@pytest.fixture
def flood_sim(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A simulator process: (its URL, the password)."""
    import subprocess

    from tests.test_cli_engine import BIN

    password = "pw-thin-link-4Rt"
    env = {**isolated_env(tmp_path / "sim"), "OUTBOUND_CONSOLE_SIM_PASSWORD": password}
    sim = subprocess.Popen([BIN, "sim", "--port", "0"], stdout=subprocess.PIPE, text=True,
                           env=env, cwd=tmp_path)
    assert sim.stdout is not None
    url = sim.stdout.readline().split()[-1]
    assert url.startswith("http://127.0.0.1:"), url
    yield url, password
    sim.terminate()
    sim.wait(timeout=10)


def flood(url: str, count: int) -> None:
    import json
    import urllib.request

    request = urllib.request.Request(f"{url}/sim/flood", method="POST",
                                     data=json.dumps({"count": count}).encode(),
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).read()


def journaled_events(path: Path) -> int:
    import json

    return sum(json.loads(line)["kind"] == "event" for line in path.read_text().splitlines())


@pytest.mark.parametrize("option", ["", "--max-repaint-rate off"])
def test_over_ssh_the_console_limits_its_repaints_and_says_so(
        tmp_path: Path, flood_sim: tuple[str, str], option: str) -> None:
    from tests.test_tui_tmux import screen, start, tmux, wait_for

    url, password = flood_sim
    socket = start(tmp_path, f"--url {url} --user demo {option}", env={
        "SSH_CONNECTION": "'192.0.2.7 50022 192.0.2.1 22'",
        "OUTBOUND_CONSOLE_PASSWORD": password})
    try:
        wait_for(socket, "connected")
        tmux(socket, "send-keys", "-t", "oc", "F3")
        seen_limited = False
        # 40 rounds of 5 events, ~0.1 s apart: a count, not 4 s of rounds (on a busy machine
        # fewer rounds fitted in 4 s than the 150 events checked below).
        for _ in range(40):
            flood(url, 5)
            seen_limited |= "limited 2/s" in screen(socket)
            time.sleep(0.1)
        time.sleep(1.0)
        journal = tmp_path / "journal.jsonl"
        count = journaled_events(journal)
        assert count >= 150
        # Nothing lost: the screen comes to show every event the journal holds.
        shown = wait_for(socket, f"{count} events | {count} shown")
        if option:  # unlimited, as asked: never limited
            assert not seen_limited and "limited" not in shown
        else:  # under SSH by default: limited, and it says so until the stream calms down
            assert seen_limited
            deadline = time.monotonic() + 10.0
            while "limited" in screen(socket):
                assert time.monotonic() < deadline, screen(socket)
                time.sleep(0.1)
    finally:
        tmux(socket, "kill-server")


async def test_the_status_line_changes_without_a_layout_and_only_when_its_text_does(
        tmp_path: Path) -> None:
    from typing import Any

    from textual.widgets import Static

    app = make_app(tmp_path, deterministic=True)  # unlimited: a repaint per stream tick
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("f3")
        line = app.query_one("#event-status", Static)
        refreshes: list[bool] = []
        refresh = line.refresh

        def spy(*regions: Any, **options: Any) -> Any:
            refreshes.append(bool(options.get("layout")))
            return refresh(*regions, **options)

        line.refresh = spy  # type: ignore[method-assign]
        await stream(pilot, app, 50, per_tick=10)
        await wait_until(pilot, lambda: status(app).startswith("50 events"))
        assert refreshes and not any(refreshes)  # each update of the line: no layout pass
        before = len(refreshes)
        app._event_status()  # the same text again: nothing to draw
        app._event_status()
        assert len(refreshes) == before


@pytest.mark.parametrize("argv", [["--max-repaint-rate", "2"], ["--max-repaint-rate=off"],
                                  ["--url", "http://127.0.0.1:1", "--max-repaint-rate", "0.5"]])
def test_the_fast_start_takes_the_rate_as_click_does(argv: list[str]) -> None:
    from console.launch import console_args
    from tests.test_launch import click_params

    assert console_args(argv) == click_params(argv)


def test_a_bad_rate_is_left_to_click_which_refuses_it() -> None:
    import click

    from console.cli.main import main
    from console.launch import console_args

    assert console_args(["--max-repaint-rate", "fast"]) is None
    with pytest.raises(click.BadParameter, match="got 'fast'"):
        main.make_context("outbound-console", ["--max-repaint-rate", "fast"])


async def test_the_forms_state_line_is_not_redrawn_by_the_stream_when_unchanged(
        tmp_path: Path) -> None:
    from typing import Any

    from textual.widgets import Static

    from tests.tui_helpers import GOOD, fill

    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        fill(app, **GOOD)
        await pilot.press("ctrl+s")
        line = app.query_one("#state", Static)
        await wait_until(pilot, lambda: "acknowledged in" in str(line.render()))
        await pilot.pause(0.3)
        redraws: list[object] = []
        refresh = line.refresh

        def spy(*regions: Any, **options: Any) -> Any:
            redraws.append(options)
            return refresh(*regions, **options)

        line.refresh = spy  # type: ignore[method-assign]
        seen = app.events_seen
        await stream(pilot, app, 1039, per_tick=5, start=1000)  # the form stays shown
        await wait_until(pilot, lambda: app.events_seen == seen + 40)
        assert redraws == [] and "acknowledged in" in str(line.render())
