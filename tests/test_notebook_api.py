"""The notebook API and displays: reprs of requests, events, statuses, replay results and the
console (HTML and text, registered with IPython), `to_frame`, replay over a DataFrame, and
`connect` asking for a missing password with getpass — which then shows up nowhere."""

from __future__ import annotations

import asyncio
import getpass
from collections.abc import AsyncIterator
from pathlib import Path

import pandas as pd
import pytest
from IPython.core.interactiveshell import InteractiveShell

from console.api import Console, connect
from console.app.replay import NotConfirmed, ReplayInputError
from console.domain.events import Event, StreamStatus
from console.errors import ProfileError
from console.notebook import rich, to_frame
from console.notebook.frames import EVENT_COLUMNS, VERDICT_COLUMNS
from console.notebook.reprs import html_of, register, text_of
from console.sim import Simulator
from tests.cli_helpers import write_profile

SAMPLE = {"chainId": 2, "applicationId": 134, "campaignName": "Campaign1",
          "callingList": "CallingList1", "phoneNumber": "12345", "timeZone": "GMT",
          "phoneType": "InstantMessaging", "from": 0, "until": 86339}


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    opened = await connect(journal=tmp_path / "journal.jsonl")
    yield opened
    await opened.close()


async def test_a_request_displays_its_verdict_target_and_ack(console: Console) -> None:
    tracked = await console.send_and_wait(SAMPLE)
    assert tracked.state == "acknowledged"
    text = text_of(tracked)
    assert text.startswith(f"AddRecord {tracked.reference_id} [SIMULATOR demo demo@")
    assert "acknowledged in" in text and "POST accepted" in text
    page = html_of(tracked)
    assert ">acknowledged</span>" in page and "SIMULATOR</span>" in page
    assert "<details open><summary>ack: AddRecordAcknowledge (/v2/me/outbound)" in page
    assert "<summary>request</summary>" in page
    # Registered with IPython: what a notebook cell shows.
    shell = InteractiveShell.instance()
    assert register(shell)
    data, _ = shell.display_formatter.format(tracked)
    assert data["text/plain"] == text and data["text/html"] == page
    data, _ = shell.display_formatter.format(console)
    assert "SIMULATOR" in data["text/html"] and "stream" in data["text/html"]
    assert data["text/plain"].startswith("Console target: SIMULATOR profile demo")
    assert repr(rich(tracked)) == text and rich(tracked)._repr_html_() == page
    # The engine of a console shows as its console: target and stream, not dataclass text.
    assert text_of(console.engine) == text_of(console)
    assert "SIMULATOR</span>" in html_of(console.engine)


def test_events_and_statuses_display_what_they_say() -> None:
    error = Event("/v2/me/outbound", {"messageType": "OutboundRecordMessage",
                                      "notificationType": "Error", "referenceId": "r<1>",
                                      "errorCode": 203, "errorMessage": "no such list",
                                      "record": {"campaignName": "C", "callingList": "L"}},
                  1_700_000_000.25, seq=7)
    text = text_of(error)
    assert text.startswith("Event #7 ") and "/v2/me/outbound Error r<1>" in text
    assert "error 203: no such list" in text
    page = html_of(error)
    assert "r&lt;1&gt;" in page and "r<1>" not in page  # escaped
    assert "#cf222e" in page  # red badge, and the word Error beside it
    gap = StreamStatus("gap", "new session", at=5.0, gap_from=1.0, gap_to=4.0)
    assert "events may be missing" in text_of(gap) and ">gap</span>" in html_of(gap)
    with pytest.raises(TypeError, match="no notebook display for int"):
        rich(3)


async def test_replay_over_a_dataframe_gives_the_replay_json_columns(
        console: Console, tmp_path: Path) -> None:
    rows = pd.DataFrame({"phone": ["5550101", 5550102, None], "ticket": ["A", "B", "C"]})
    result = await console.replay("callback-mobile", rows=rows.iloc[:2], rate=50,
                                  resume_dir=tmp_path, progress=False)
    frame = to_frame(result)
    assert tuple(frame.columns) == VERDICT_COLUMNS
    assert list(frame["state"]) == ["acknowledged", "acknowledged"]
    assert list(frame["source"]) == ["DataFrame:1", "DataFrame:2"]
    assert frame["target"].str.startswith("SIMULATOR demo").all()
    assert list(frame["seq"]) == [1, 2]
    assert "2/2 sent, 2 acknowledged" in html_of(result)
    assert text_of(result).startswith("target ")
    # The same rows as `replay --json` gives them (Outcome.as_json), column for column.
    for (_, row), outcome in zip(frame.iterrows(), result.outcomes, strict=True):
        expected = outcome.as_json()
        assert {k: row[k] for k in expected} == expected
    # Events as a frame, one row each.
    events = to_frame(_events(console))
    assert tuple(events.columns) == EVENT_COLUMNS
    # An empty cell is an empty value, refused with its row like a CSV's.
    with pytest.raises(ReplayInputError, match="DataFrame:3"):
        await console.replay("callback-mobile", rows=rows, progress=False, resume_dir=tmp_path)


def _events(console: Console) -> list[Event]:
    found = [t.ack for t in console.engine.tracker._by_ref.values() if t.ack is not None]
    assert found
    return found


async def test_a_dataframe_column_nothing_uses_is_refused(console: Console) -> None:
    rows = pd.DataFrame({"phone": ["5550101"], "tikcet": ["A"]})
    with pytest.raises(ReplayInputError,
                       match="^DataFrame: column 'tikcet' .*did you mean 'ticket'"):
        await console.replay("callback-mobile", rows=rows, progress=False)


async def test_connect_asks_for_a_missing_password_and_keeps_it_nowhere(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    password = "nb-secret-Zq81x"
    async with Simulator(user="agent7", password=password) as sim:
        profiles = tmp_path / "profiles"
        write_profile(profiles, "prod", sim.url, "agent7", environment="production")
        monkeypatch.delenv("OUTBOUND_CONSOLE_PASSWORD", raising=False)
        asked: list[str] = []

        def fake_getpass(prompt: str = "") -> str:
            asked.append(prompt)
            return password

        monkeypatch.setattr(getpass, "getpass", fake_getpass)
        console = await connect("prod", profiles_dir=profiles, journal=tmp_path / "j.jsonl")
        try:
            assert len(asked) == 1 and "prod" in asked[0] and password not in asked[0]
            tracked = await console.send_and_wait(SAMPLE)
            assert tracked.state == "acknowledged"
            shown = [text_of(console), html_of(console), text_of(tracked), html_of(tracked),
                     repr(console), text_of(console.target), repr(console.opened.connection)]
            assert "PRODUCTION" in shown[0] and "PRODUCTION" in shown[3]
            for text in shown:
                assert password not in text
        finally:
            await console.close()
        assert password not in (tmp_path / "j.jsonl").read_text()
        # ask=None: never a prompt, a ProfileError that says what to set.
        with pytest.raises(ProfileError, match="no password"):
            await connect("prod", profiles_dir=profiles, ask=None)

        # A kernel without stdin (a notebook run headless): the same kind of error.
        def no_stdin(prompt: str = "") -> str:
            raise NotImplementedError("getpass was called, but this frontend does not "
                                      "support input requests.")

        monkeypatch.setattr(getpass, "getpass", no_stdin)
        with pytest.raises(ProfileError, match="nobody to ask.*OUTBOUND_CONSOLE_PASSWORD"):
            await connect("prod", profiles_dir=profiles)


async def test_a_replay_running_as_a_task_stops_with_a_partial_verdict(
        console: Console, tmp_path: Path) -> None:
    task = asyncio.ensure_future(console.replay(
        "callback-mobile", count=40, sets={"phone": "5550111"},
        rate=20, resume_dir=tmp_path, progress=False))
    deadline = asyncio.get_running_loop().time() + 20
    while console.last_replay is None or console.last_replay.progress.sent < 2:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.02)
    console.stop_replay()  # what a later cell (or a button) does
    result = await asyncio.wait_for(task, 30)
    assert result.stopped and 2 <= result.progress.sent < 40
    frame = to_frame(result)
    assert len(frame) == 40 and (frame["state"] == "not_sent").sum() >= 1
    assert result.resume_file is not None and result.resume_file.parent == tmp_path
    assert ">stopped</span>" in html_of(result)


async def test_a_production_replay_asks_first_and_sends_nothing_without_yes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with Simulator(user="agent7", password="pw-Prod-1") as sim:
        write_profile(tmp_path / "profiles", "prod", sim.url, "agent7",
                      environment="production")
        console = await connect("prod", profiles_dir=tmp_path / "profiles",
                                password="pw-Prod-1", journal=tmp_path / "j.jsonl")
        asked: list[str] = []
        monkeypatch.setattr("builtins.input", lambda q="": asked.append(q) or "n")
        try:
            with pytest.raises(NotConfirmed, match="nothing sent to PRODUCTION"):
                await console.replay("callback-mobile", sets={"phone": "5550111"},
                                     progress=False, resume_dir=tmp_path)
            assert len(asked) == 1 and "PRODUCTION server" in asked[0]
            assert sim.state()["records"] == []
            result = await console.replay("callback-mobile", sets={"phone": "5550111"},
                                          progress=False, resume_dir=tmp_path, confirm=True)
            assert result.summary.counts["acknowledged"] == 1 and len(asked) == 1
        finally:
            await console.close()


async def test_replay_takes_a_template_object_and_a_rows_file(console: Console,
                                                              tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("phone,ticket\n5550121,T1\n5550122,T2\n")
    template = console.template("callback-mobile")
    result = await console.replay(template, rows=str(rows), rate=50, progress=False,
                                  resume_dir=tmp_path)
    frame = to_frame(result)
    assert list(frame["state"]) == ["acknowledged", "acknowledged"]
    assert list(frame["source"]) == [f"{rows}:2", f"{rows}:3"]
    with pytest.raises(ReplayInputError, match=r"rows.csv:3"):
        rows.write_text("phone,ticket\n5550121,T1\nnot a phone,T2\n")
        await console.replay(template, rows=rows, progress=False, resume_dir=tmp_path)


async def test_the_progress_bar_counts_sent_records_and_its_button_stops(
        console: Console, tmp_path: Path) -> None:
    from console.notebook.progress import ReplayProgressBar

    bar = ReplayProgressBar(stop_button=True)
    run = console.prepare_replay("callback-mobile", count=40, sets={"phone": "5550131"},
                                 rate=20, resume_dir=tmp_path, on_progress=bar.update)
    bar.start(run)
    task = asyncio.ensure_future(run.run())
    deadline = asyncio.get_running_loop().time() + 20
    while bar.bar.n < 2:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.02)
    bar.stop_button.click()
    assert bar.stop_button.disabled
    result = await asyncio.wait_for(task, 30)
    bar.close(result.progress)
    assert result.stopped and bar.bar.n == result.progress.sent < 40
    assert bar.stop_button.description == "stopped"
    assert "stopped:" in bar.bar.postfix


async def test_a_closed_console_sends_nothing_and_says_so(tmp_path: Path) -> None:
    """Found by a newcomer: after close(), send still POSTed (GWS stored the record) and,
    with nobody listening any more, its verdict was "no answer": an invitation to send it
    again. A replay after close() hung for good."""
    from console.errors import EngineClosed

    console = await connect(journal=tmp_path / "j.jsonl")
    await console.close()
    with pytest.raises(EngineClosed, match="closed"):
        await console.send(SAMPLE)
    with pytest.raises(EngineClosed, match="closed"):
        await asyncio.wait_for(console.replay("doc-sample"), 10)
    journal = (tmp_path / "j.jsonl").read_text()
    assert '"kind": "request"' not in journal


@pytest.mark.parametrize("bad", [float("nan"), 0, -1.0, float("inf")])
async def test_a_wait_of_no_sensible_length_is_refused(console: Console, bad: float,
                                                       tmp_path: Path) -> None:
    """`timeout_s=nan` (or 0, -1) returned "no answer" at once for a record acknowledged a
    moment later."""
    with pytest.raises(ValueError, match="finite number of seconds above 0"):
        await console.send_and_wait(SAMPLE, timeout_s=bad)
    assert len(console.engine.tracker) == 0  # refused before the POST, not after it
    with pytest.raises(ValueError, match="finite number of seconds above 0"):
        await connect(journal=tmp_path / "k.jsonl", ack_timeout_s=bad)


async def test_a_dataframe_with_a_column_twice_is_refused(console: Console) -> None:
    """pandas' to_dict kept one of two `phone` columns, silently (a CSV file is refused)."""
    frame = pd.DataFrame([["5550101", "5550199"]], columns=["phone", "phone"])
    with pytest.raises(ReplayInputError, match="'phone' appears more than once"):
        await console.replay("callback-mobile", rows=frame)
