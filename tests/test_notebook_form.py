"""The notebook's widget form and live event table without a browser: values set on the
widgets, Send pressed through the button's click handlers, and what the simulator received
(`/sim/state`) and the form displays checked."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from console.api import Console, connect
from console.domain.events import Event, StreamStatus
from console.domain.templates import load_template
from console.notebook import EventTable, RecordForm


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    opened = await connect(journal=tmp_path / "journal.jsonl", profiles_dir=tmp_path / "profiles")
    yield opened
    await opened.close()


async def sim_records(console: Console) -> list[dict[str, Any]]:
    async with httpx.AsyncClient() as client:
        reply = await client.get(console.target.url + "/sim/state")
    records: list[dict[str, Any]] = reply.json()["records"]
    return records


def fill_sample(form: RecordForm) -> None:
    """The documentation sample, typed into the widgets."""
    form.inputs["chainId"].value = "2"
    form.inputs["applicationId"].value = "134"
    form.inputs["campaignName"].value = "Campaign1"
    form.inputs["callingList"].value = "CallingList1"
    form.inputs["phoneNumber"].value = "12345"
    form.inputs["timeZone"].value = "GMT"
    form.inputs["phoneType"].value = "InstantMessaging"
    form.inputs["from"].value = dt.time(0, 0, 0)
    form.inputs["until"].value = dt.time(23, 58, 59)


async def test_send_button_posts_the_form_and_shows_the_verdict(console: Console) -> None:
    form = RecordForm(console)
    assert "SIMULATOR</span>" in form.header.value  # the target, on the form itself
    fill_sample(form)
    row = form.add_other_field("Ticket", "INC-42")
    assert row in form.other_rows.children
    form.send_button.click()  # what a click in the browser runs
    assert form.last_send is not None and form.send_button.disabled
    tracked = await asyncio.wait_for(form.last_send, 20)
    assert tracked is not None and tracked.state == "acknowledged"
    assert not form.send_button.disabled
    received = [r for r in await sim_records(console)
                if r["referenceId"] == tracked.reference_id]
    assert len(received) == 1
    body = received[0]["body"]
    assert body["applicationId"] == 134 and body["chainId"] == 2
    assert body["from"] == 0 and body["until"] == 86339
    assert body["phoneType"] == "InstantMessaging" and body["phoneNumber"] == "12345"
    assert body["otherFields"] == {"Ticket": "INC-42"}
    assert body["devicePath"] == console.devices[0]
    assert ">acknowledged</span>" in form.verdict.value
    assert tracked.reference_id in form.verdict.value
    assert form.notice.value.startswith("acknowledged in")
    assert form.sent == [tracked]


async def test_bad_fields_are_shown_beside_them_and_nothing_is_sent(console: Console) -> None:
    form = RecordForm(console)
    fill_sample(form)
    form.inputs["applicationId"].value = "13a4"  # a letter in a number field
    form.inputs["phoneType"].value = "Mobile"
    form.inputs["phoneNumber"].value = "call me"
    form.add_other_field("", "orphan value")
    before = len(await sim_records(console))
    form.send_button.click()
    assert form.last_send is None and form.sent == []
    problems = form.problems()
    assert "13a4" in problems["applicationId"] and "integer" in problems["applicationId"]
    assert "phoneNumber" in problems and "digits" in problems["phoneNumber"]
    assert "otherFields" in problems
    assert "not sent: 3 fields to fix" in form.notice.value
    assert len(await sim_records(console)) == before
    # Fixed, it goes: the messages go away.
    form.inputs["applicationId"].value = "134"
    form.inputs["phoneNumber"].value = "5551234"
    form.other_rows.children[0].remove.click()
    tracked = await form.send()
    assert tracked is not None and tracked.state == "acknowledged"
    assert form.problems() == {}


async def test_templates_load_and_save_like_the_tui(console: Console, tmp_path: Path) -> None:
    (tmp_path / "profiles" / "templates").mkdir(parents=True)  # the first that exists, as the TUI
    form = RecordForm(console, profiles_dir=tmp_path / "profiles")
    labels = [label for label, _ in form.template_choice.options]
    assert "example: Campaign1 / CallingList1 / doc-sample" in labels
    form.template_choice.value = dict(form.template_choice.options)[
        "example: Campaign1 / CallingList1 / callback-mobile"]
    form.load_button.click()
    assert form.inputs["phoneNumber"].value == "${phone}"  # visible, for the user to fill
    assert form.inputs["phoneType"].value == "Mobile"
    assert form.inputs["from"].value == dt.time(8, 0)
    assert [r.pair()[0] for r in form.other_rows.children] == ["Ticket", "Source", "Created"]
    form.inputs["phoneNumber"].value = "5550199"
    form.save_name.value = "mobile-5550199"
    form.save_button.click()
    saved = tmp_path / "profiles" / "templates" / "Campaign1" / "CallingList1" / \
        "mobile-5550199.yaml"
    assert "saved" in form.notice.value and saved.is_file()
    template = load_template(saved)
    assert template.request["phoneNumber"] == "5550199"
    assert "devicePath" not in template.request  # the session's own device is not fixed
    assert "Campaign1 / CallingList1 / mobile-5550199" in [
        label for label, _ in form.template_choice.options]
    # A template that cannot be saved says why, and writes nothing.
    form.inputs["campaignName"].value = ""
    assert form.save("broken") is None and "not saved" in form.notice.value


async def test_the_live_table_highlights_the_request_just_sent(console: Console) -> None:
    table = EventTable(console, max_rows=3, redraw_s=0.01)
    form = RecordForm(console, on_sent=table.highlight)
    fill_sample(form)
    first = await form.send()
    form.inputs["phoneNumber"].value = "5551234"
    form.inputs["phoneType"].value = "Mobile"
    second = await form.send()
    assert first is not None and second is not None
    deadline = asyncio.get_running_loop().time() + 20
    while second.user_event is None or second.user_event not in table.events:
        assert asyncio.get_running_loop().time() < deadline, table.events
        await asyncio.sleep(0.02)
    table.redraw()
    assert table.highlighted == {second.reference_id}
    marked = [e for e in table.events if table.is_highlighted(e)]
    assert second.ack in marked and second.user_event in marked
    assert first.ack not in marked
    # Bounded: 4 events arrived, the table keeps 3 and says where the rest are.
    assert len(table.rows) == 3 and table.left_view >= 1
    assert "older left the table: see the journal" in table.header.value
    assert "SIMULATOR" in table.header.value and "connected" in table.header.value
    assert table.body.value.count("&#9654;") == 2  # the two highlighted rows, not by colour
    table.stop()


async def test_the_live_table_shows_gaps_and_status(console: Console) -> None:
    table = EventTable(console, redraw_s=0.01)
    table.stop()  # fed by hand: a gap as the stream reports one
    table.add(StreamStatus("reconnecting", "connect failed", at=1.0))
    table.add(StreamStatus("gap", "new session", at=3.0, gap_from=1.0, gap_to=2.5))
    table.add(Event("/v2/me/outbound", {"messageType": "OutboundRecordMessage",
                                        "notificationType": "AddRecordAcknowledge",
                                        "referenceId": "r1"}, 3.0, seq=9))
    table.redraw()
    assert "1 gap" in table.header.value
    assert "events may be missing" in table.body.value
    assert "gap" in table.header.value


async def test_two_other_fields_of_the_same_name_are_a_problem_not_a_silent_loss(
        console: Console) -> None:
    """Found by a newcomer: Ticket=INC-1 and Ticket=INC-2 sent only INC-2, with no word."""
    form = RecordForm(console)
    fill_sample(form)
    form.add_other_field("Ticket", "INC-1")
    form.add_other_field("Ticket", "INC-2")
    before = len(await sim_records(console))
    assert await form.send() is None
    assert "Ticket&#x27; is in two rows" in form.problems()["otherFields"]
    assert len(await sim_records(console)) == before
