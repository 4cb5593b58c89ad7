"""The panes as an engineer on a slow link uses them: events, header, form, history, keymap,
templates (Pilot, against the in-process simulator)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
import yaml
from textual import events as textual_events
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import Input, Select, Static

from console.domain.events import Event, StreamStatus
from console.profiles import Profile
from console.tui.app import OutboundApp, profile_label
from console.tui.dialogs import Confirm, EventDetail
from console.tui.event_list import EventList, GapRow
from console.tui.footer import KeyFooter
from console.tui.form import RecordForm
from console.tui.header import StatusHeader
from console.tui.history_pane import HistoryPane
from console.tui.templates_pane import EXAMPLES_LABEL, TemplatesPane, is_example
from tests.tui_helpers import GOOD, fill, make_app, ready, settle, wait_until

REF = "3f2a9c0e5b7d4e1f8a6b2c9d0e1f2a3b"


def line_of(widget: Widget, y: int = 0) -> str:
    """What a widget shows on its line `y`."""
    strip = widget.render_lines(Region(0, y, widget.size.width, 1))[0]
    return "".join(segment.text for segment in strip)


def state_text(app: OutboundApp) -> str:
    return str(app.query_one("#state", Static).render())


def an_event(n: int, at: float | None = None, ref: str | None = None) -> Event:
    return Event("/v2/me/outbound", {"messageType": "OutboundRecordMessage",
                                     "notificationType": "AddRecordAcknowledge",
                                     "referenceId": ref or f"{n:032x}",
                                     "record": {"campaignName": "Campaign1",
                                                "callingList": "CallingList1"}},
                 time.time() if at is None else at, n)


def on_screen(events: EventList, index: int) -> bool:
    top = events.scroll_offset.y
    return top <= index < top + events.scrollable_content_region.height


# -- events ------------------------------------------------------------------------------
async def test_events_that_arrived_while_hidden_show_the_newest(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        for n in range(1, 33):  # a 15-record replay's worth, while the form is shown
            app._collect(an_event(n))
        events = app._events()
        await wait_until(pilot, lambda: len(events.rows) == 32)
        await pilot.press("f3")
        await pilot.pause(0.1)
        assert events.following and events.cursor == 31 and on_screen(events, 31)
        assert events.scroll_offset.y == events.max_scroll_y > 0
        status = str(app.query_one("#event-status", Static).render())
        assert status.startswith("32 events | 32 shown") and "PAUSED" not in status
        await pilot.press("end")  # already following: still the newest
        assert on_screen(events, 31)
        await pilot.press(*["up"] * 25)
        assert not events.following and on_screen(events, events.cursor)
        await pilot.press("end")
        await pilot.pause(0.05)
        assert events.following and events.cursor == 31 and on_screen(events, 31)
        # No horizontal scrollbar over the bottom row: the columns fit the width.
        assert not events.show_horizontal_scrollbar
        assert events.virtual_size.width <= events.scrollable_content_region.width
        # Enter opens the row under the cursor, which is on screen.
        await pilot.press("up", "up", "up", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, EventDetail))
        assert isinstance(app.screen, EventDetail)
        assert app.screen.event is events.view[28] and on_screen(events, 28)


async def test_headings_and_columns_fit_80_and_120_columns(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        app._collect(an_event(1, ref=REF))
        events = app._events()
        await wait_until(pilot, lambda: len(events.rows) == 1)
        await pilot.press("f3")
        await pilot.pause(0.1)
        headings = str(app.query_one("#event-headings", Static).render())
        assert headings.split()[:3] == ["time", "channel", "event"] and "reference" in headings
        row = events.row_text(events.rows[0])
        assert row.index(REF[:8] + "…") == headings.index("reference")  # aligned, cut visibly
        assert len(row) <= events.scrollable_content_region.width
        await pilot.resize_terminal(120, 40)  # side by side: the pane is about 59 wide
        await wait_until(pilot, lambda: events.scrollable_content_region.width < 70)
        await pilot.pause(0.1)
        headings = str(app.query_one("#event-headings", Static).render())
        row = events.row_text(events.rows[0])
        assert "reference" in headings and REF[:8] + "…" in row
        assert row.index(REF[:8]) == headings.index("reference")
        assert len(row) <= events.scrollable_content_region.width
        await pilot.resize_terminal(250, 40)  # room for the whole referenceId
        await wait_until(pilot, lambda: events.scrollable_content_region.width > 110)
        assert REF in events.row_text(events.rows[0])


async def test_a_gap_is_a_row_of_its_own_and_times_are_human(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        now = time.time()
        app._collect(an_event(1, at=now - 10))
        app._collect(StreamStatus("gap", "events published while disconnected may be missing",
                                  now - 2, now - 9, now - 2))
        app._collect(an_event(2, at=now - 1))
        events = app._events()
        await wait_until(pilot, lambda: len(events.rows) == 3)
        gap = events.rows[1]
        assert isinstance(gap, GapRow)
        hms = time.strftime("%H:%M:%S", time.localtime(now - 9))
        text = events.row_text(gap)
        assert f"gap {hms} - " in text and "events may be missing" in text
        assert events.row_text(events.rows[0]).startswith(
            time.strftime("%H:%M:%S", time.localtime(now - 10)))
        header = app.main(StatusHeader)
        assert header.gap == f"gap {hms}-{time.strftime('%H:%M:%S', time.localtime(now - 2))}"
        # An event from another day carries its date.
        app._collect(an_event(3, at=now - 2 * 86400))
        await wait_until(pilot, lambda: len(events.rows) == 4)
        assert events.row_text(events.rows[3]).startswith(
            time.strftime("%m-%d %H:%M:%S", time.localtime(now - 2 * 86400)))


async def test_a_reference_filter_keeps_the_requests_user_event_and_esc_clears_it(
        tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        fill(app, **GOOD)
        ref = app.main(RecordForm).reference_id
        await pilot.press("ctrl+s")
        events = app._events()
        await wait_until(pilot, lambda: len(events.rows) == 2 and bool(events.tied))
        app._collect(an_event(99))  # someone else's event
        await wait_until(pilot, lambda: len(events.rows) == 3)
        await pilot.press("ctrl+f", *ref[:12], "enter")
        await pilot.pause(0.05)
        kinds = [e.message_type for e in events.view if isinstance(e, Event)]
        assert kinds == ["OutboundRecordMessage", "DeviceUserEventMessage"]
        assert f"~{ref[:7]}" in events.row_text(events.view[1])  # tied by the GSW rule
        assert app.focused is events
        await pilot.press("escape")  # from the list, not only from the box
        await pilot.pause(0.05)
        assert events.filter_text == "" and len(events.view) == 3
        assert not app.query_one("#filter", Input).has_class("shown")


# -- header ------------------------------------------------------------------------------
async def test_the_header_keeps_the_gap_times_at_80_columns(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        header = app.main(StatusHeader)
        now = time.time()
        app._show_status(StreamStatus("gap", "missing", now, now - 30, now - 3))
        await pilot.pause(0.05)
        shown = line_of(header)
        assert header.gap in shown and shown.rstrip().endswith(header.gap), shown
        assert "SIMULATOR" in shown and "demo" in shown
        # Reconnecting: since when, not the previous gap as if it were current.
        app._show_status(StreamStatus("reconnecting", "connection lost", now))
        await pilot.pause(0.05)
        shown = line_of(header)
        since = time.strftime("%H:%M:%S", time.localtime(now))
        assert f"reconnecting since {since}" in shown and "gap" not in shown, shown


async def test_the_device_path_is_cut_with_an_ellipsis_at_120_columns(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        select = app.query_one("#f-devicePath", Select)
        label = select.query_one("SelectCurrent #label")
        shown = line_of(label).rstrip()
        assert shown.endswith("…") and shown[:-1] in app.main(RecordForm).values()["devicePath"]


def test_a_profile_made_of_flags_is_named_by_its_url() -> None:
    from console.profiles import password_label

    flags = Profile(name="(flags)", url="https://gws.example:8443", username="agent7")
    assert profile_label(flags) == "--url"
    assert password_label(flags) == "GWS password for agent7 at https://gws.example:8443"
    assert "(flags)" not in password_label(flags)


# -- form --------------------------------------------------------------------------------
async def test_letters_in_an_id_field_are_kept_and_explained(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("1", "3", "x", "4")
        form = app.main(RecordForm)
        assert app.query_one("#f-applicationId", Input).value == "13x4"
        await pilot.pause(0.05)
        assert "integer" in form.error_text("applicationId")
        app.query_one("#f-chainId", Input).focus()
        await pilot.pause(0.05)
        app.post_message(textual_events.Paste("13x4"))  # a bracketed paste
        await settle(pilot)
        assert app.query_one("#f-chainId", Input).value == "13x4"
        assert "integer" in form.error_text("chainId")
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)
        assert app.engine is not None and len(app.engine.tracker) == 0  # refused, not sent


async def test_a_template_without_a_device_gets_the_sessions_and_saves_integers(
        tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("f4", "down", "down", "enter")  # callback-mobile: no devicePath
        form = app.main(RecordForm)
        await wait_until(pilot, lambda: app.loaded_template is not None)
        assert "devicePath" not in app.loaded_template.request  # type: ignore[union-attr]
        assert app.engine is not None
        assert form.values()["devicePath"] == app.engine.session.device_path
        fill(app, phoneNumber="5550100", chainId="7")
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: app.screen.query("Ask #answer"))
        app.screen.query_one(Input).value = "ints"
        await pilot.press("enter")
        saved = tmp_path / "profiles" / "templates" / "Campaign1" / "CallingList1" / "ints.yaml"
        await wait_until(pilot, saved.exists)
        request = yaml.safe_load(saved.read_text())["request"]
        assert request["applicationId"] == 134 and request["chainId"] == 7


async def test_the_focused_fields_label_is_marked(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        assert app.query_one("#l-applicationId").has_class("-focused")
        await pilot.press("tab", "tab", "tab", "tab")  # to the phone type Select
        assert app.query_one("#l-phoneType").has_class("-focused")
        assert not app.query_one("#l-applicationId").has_class("-focused")


# -- history -----------------------------------------------------------------------------
async def test_history_words_reason_target_reference_and_search(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        assert app.connection is not None
        url = app.connection.base_url
        async with httpx.AsyncClient(base_url=url) as http:
            await http.put("/sim/faults", json={"status_code": 6, "status_rate": 1.0})
            fill(app, **GOOD)
            failed_ref = app.main(RecordForm).reference_id
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: "failed" in state_text(app))
            await http.delete("/sim/faults")
        fill(app, phoneNumber="5550000")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "acknowledged in" in state_text(app))
        await pilot.press("f5")
        pane = app.main(HistoryPane)
        await wait_until(pilot, lambda: len(pane.shown) == 2)
        newest, older = (pane.entry_text(e).plain for e in pane.shown)
        assert "acknowledged in" in newest and "5550000" in newest
        assert "failed" in older and "why:" in older and failed_ref in older
        assert f"demo @ {url}" in older and "no_answer" not in newest + older
        await pilot.press(*failed_ref[:10])
        await pilot.pause(0.05)
        assert [e.reference_id for e in pane.shown] == [failed_ref]
        await pilot.press("escape")
        await pilot.pause(0.05)
        assert len(pane.shown) == 2


def test_history_states_are_in_the_forms_words() -> None:
    from console.domain.history import HistoryEntry

    def words(state: str, reason: str = "", latency: float | None = None) -> str:
        return HistoryEntry(0.0, {}, state=state, reason=reason, latency_ms=latency).words()

    assert words("no_answer", "no acknowledgement within 10 s") == "no answer"
    assert words("acknowledged", latency=12.4) == "acknowledged in 12 ms"
    assert words("failed", "statusCode 6") == "failed: statusCode 6"
    assert words("sent") == "sent, no verdict"


async def test_loading_right_after_a_send_does_not_ask(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        fill(app, **GOOD)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "acknowledged in" in state_text(app))
        await pilot.press("f5", "enter")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, Confirm)
        assert app.view == "form"


async def test_history_from_the_journal_says_where_and_when(tmp_path: Path) -> None:
    first = make_app(tmp_path)
    async with first.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        fill(first, **GOOD)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "acknowledged in" in state_text(first))
        assert first.connection is not None
        url = first.connection.base_url
    sent = time.time()
    again = make_app(tmp_path)
    async with again.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        entry = again.history_entries[0]
        assert (entry.profile, entry.server, entry.source) == ("demo", url, "journal")
        assert abs(entry.sent_at - sent) < 60  # the journal's UTC, read as the moment it was
        assert entry.words().startswith("acknowledged in")


# -- keymap and footer -------------------------------------------------------------------
async def test_a_remapped_key_shows_in_the_footer_and_an_unknown_id_warns(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "keymap.yaml").write_text("request.send: f9\nrequest.sned: f8\n")
    monkeypatch.setenv("OUTBOUND_CONSOLE_HOME", str(home))
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("f3")  # the pane with the most keys of its own: the line is full
        await pilot.pause(0.1)
        footer = line_of(app.main(KeyFooter))
        assert "f9 Send" in footer and footer.rstrip().endswith("^p palette"), footer
        assert "^s" not in footer
        messages = [n.message for n in app._notifications]
        assert any("request.sned" in m and "did you mean request.send" in m
                   for m in messages), messages


# -- templates ---------------------------------------------------------------------------
async def test_typing_a_name_in_the_tree_finds_the_template(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("f4", *"rem")
        pane = app.main(TemplatesPane)
        found = pane.selected()
        assert found is not None and found.name == "reminder"
        await pilot.press(*"zzz")  # after a pause of its own it would be a new search
        info = str(pane.query_one("#template-info", Static).render())
        assert "no template matches" in info and pane.selected() is found
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.main("#f-campaignName", Input).value
                         == "Collections_EU")


async def test_the_examples_are_shown_apart_from_the_users_templates(tmp_path: Path) -> None:
    app = make_app(tmp_path, user_templates=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("f4")
        pane = app.main(TemplatesPane)
        tree = pane.query_one("#template-tree")
        roots = [str(node.label) for node in tree.root.children]  # type: ignore[attr-defined]
        assert roots == [EXAMPLES_LABEL]
        names = sorted(t.name for t in pane.all_templates())
        assert names == ["callback-mobile", "doc-sample", "email-followup", "night-window",
                         "reminder"]
        assert all(is_example(t) for t in pane.all_templates())


async def test_the_palette_lists_templates_by_name(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Template doc-sample" in titles and "Template reminder" in titles
        await pilot.press("ctrl+p", *"template doc-sample")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.main("#f-phoneNumber", Input).value == "12345")


async def test_the_console_opens_on_a_template_and_a_send_typed_ahead_waits(
        tmp_path: Path) -> None:
    from console.launch import find_start_template

    template = find_start_template("doc-sample", None)
    app = make_app(tmp_path, template=template)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+s")  # before the console is connected
        assert app.main("#f-phoneNumber", Input).value == "12345"
        await wait_until(pilot, lambda: "acknowledged in" in state_text(app), timeout=20)
        assert app.engine is not None and len(app.engine.tracker) == 1


@pytest.mark.parametrize("argv", [["--template", "doc-sample"],
                                  ["--template=Campaign1/CallingList1/doc-sample",
                                   "--journal", "j.jsonl"]])
def test_the_template_option_parses_alike_on_both_paths(argv: list[str]) -> None:
    from console.launch import console_args
    from tests.test_launch import click_params

    assert console_args(argv) == click_params(argv)
