"""The console, driven by Pilot against the in-process simulator (real sockets)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import yaml
from textual.command import CommandPalette
from textual.widgets import Input, Label, Static, Tree

from console.domain.events import Event
from console.domain.history import ReplayEntry
from console.profiles import Profile
from console.sim import Simulator
from console.tui.app import OutboundApp
from console.tui.dialogs import Ask, Confirm, EventDetail, ShowText
from console.tui.event_list import EventList
from console.tui.form import RecordForm
from console.tui.header import StatusHeader
from console.tui.history_pane import HistoryPane
from console.tui.replay_dialog import ReplayDialog
from console.tui.templates_pane import TemplatesPane, TemplateTree
from tests.tui_helpers import GOOD, fill, make_app, ready, wait_until


def state_text(app: OutboundApp) -> str:
    return str(app.query_one("#state", Static).render())


async def test_fill_send_and_see_the_acknowledgement_highlighted(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        header = app.query_one(StatusHeader)
        assert header.simulator and header.status == "connected"
        fill(app, **GOOD)
        form = app.query_one(RecordForm)
        sent_ref = form.reference_id
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "acknowledged in" in state_text(app))
        assert sent_ref in state_text(app)
        assert form.reference_id != sent_ref  # renewed for the next send
        events = app.query_one(EventList)
        await wait_until(pilot, lambda: len(events.rows) == 2)
        assert sent_ref in events.highlight
        ack, user_event = events.rows
        assert ack.reference_id == sent_ref
        assert user_event.seq in events.highlight_seqs  # the GSW user event is tied to it
    journal = (tmp_path / "journal.jsonl").read_text()
    assert '"kind": "verdict"' in journal and sent_ref in journal


async def test_invalid_field_is_refused_and_focused(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        fill(app, **{**GOOD, "until": "25:99", "phoneNumber": "call me"})
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)
        # The first bad field in form order gets the focus; both errors are shown inline.
        assert app.focused is app.query_one("#f-phoneNumber")
        form = app.main(RecordForm)
        assert "digits" in form.error_text("phoneNumber")
        assert "HH:MM" in form.error_text("until")
        assert app.engine is not None and len(app.engine.tracker) == 0  # nothing was sent


async def test_errors_appear_as_soon_as_a_field_is_touched(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("x")  # into applicationId: an integer input ignores letters
        app.query_one("#f-from", Input).focus()
        await pilot.press("9", "9", ":", "9", "9")
        await pilot.pause(0.1)
        form = app.main(RecordForm)
        assert "HH:MM" in form.error_text("from")
        assert form.error_text("campaignName") == ""  # untouched


async def test_load_a_template_then_save_the_form_as_one(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("f4")
        tree = app.query_one("#template-tree")
        assert app.focused is tree
        # Campaign1 > CallingList1 > callback-mobile is the first leaf.
        await pilot.press("down", "down", "enter")
        await wait_until(pilot, lambda: app.query_one("#f-campaignName", Input).value
                         == "Campaign1")
        assert app.query_one("#f-phoneNumber", Input).value == "${phone}"
        assert app.loaded_template is not None and app.loaded_template.name == "callback-mobile"
        fill(app, phoneNumber="5550100")
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: isinstance(app.screen, Ask))
        app.screen.query_one(Input).value = "from-the-form"
        await pilot.press("enter")
        saved = tmp_path / "profiles" / "templates" / "Campaign1" / "CallingList1" / \
            "from-the-form.yaml"
        await wait_until(pilot, saved.exists)
        data = yaml.safe_load(saved.read_text())
        assert data["request"]["phoneNumber"] == "5550100"
        assert "referenceId" not in data["request"] and "devicePath" not in data["request"]
        assert not app.query_one(RecordForm).dirty


async def test_unsaved_changes_are_not_lost_silently(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        fill(app, campaignName="MyEdits")
        await pilot.pause(0.05)
        await pilot.press("f4", "down", "down", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("n")
        await pilot.pause(0.1)
        assert app.query_one("#f-campaignName", Input).value == "MyEdits"


async def test_replay_a_template_and_read_the_verdict(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("f4", "down", "down", "down")  # Campaign1 > CallingList1 > doc-sample
        pane = app.query_one(TemplatesPane)
        selected = pane.selected()
        assert selected is not None and selected.name == "doc-sample"
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, ReplayDialog))
        assert "SIMULATOR demo" in str(app.screen.query_one("#replay-target", Label).render())
        app.screen.query_one("#r-count", Input).value = "3"
        app.screen.query_one("#r-count", Input).focus()
        await pilot.press("enter")
        verdict = pane.query_one("#replay-verdict", Static)
        await wait_until(pilot, lambda: "latency" in str(verdict.render()), timeout=20)
        text = str(verdict.render())
        assert "acknowledged" in text and "records                  3" in text
        # The replay is in the history with its verdict.
        [entry] = [e for e in app.history_entries if isinstance(e, ReplayEntry)]
        assert entry.state == "finished" and entry.counts.get("acknowledged") == 3
        await pilot.press("f5")
        await pilot.pause(0.2)
        pane_h = app.query_one(HistoryPane)
        listed = " ".join(str(pane_h.entry_text(e)) for e in pane_h.shown)
        assert "replay 3 (doc-sample): 3 sent; 3 acknowledged" in listed
        assert entry.run_id in listed


async def test_replay_several_templates_marked_or_under_a_calling_list(tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("phone,ticket\n5550101,T-1\n5550102,T-2\n", encoding="utf-8")
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("f4", "down")  # Campaign1 > CallingList1: its two templates
        pane = app.query_one(TemplatesPane)
        assert [t.name for t in pane.to_replay()] == ["callback-mobile", "doc-sample"]
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, ReplayDialog))
        dialog = app.screen
        assert "2 templates" in str(dialog.query_one(".title", Label).render())
        assert dialog.placeholders == ["phone"]  # one field each (ticket has a default)
        dialog.query_one("#r-rows", Input).value = str(rows)
        dialog.query_one("#r-rows", Input).focus()
        await pilot.press("enter")
        verdict = pane.query_one("#replay-verdict", Static)
        await wait_until(pilot, lambda: "latency" in str(verdict.render()), timeout=20)
        text = str(verdict.render())
        assert "records                  4" in text and "acknowledged             4" in text
        # Marks win over the cursor: only the marked one is replayed; m again unmarks.
        # space marks callback-mobile; doc-sample on, then off
        await pilot.press("down", "space", "down", "space", "space")
        assert [t.name for t in pane.to_replay()] == ["callback-mobile"]
        leaves = pane.query_one("#template-tree", Tree).root.children[0].children[0].children
        assert [str(n.label) for n in leaves] == ["● callback-mobile", "doc-sample"]


async def test_other_fields_rows_added_edited_removed_with_keys_and_sent(tmp_path: Path) -> None:
    import httpx

    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        fill(app, **GOOD)
        form = app.query_one(RecordForm)
        await pilot.press("ctrl+n")  # a row; the focus goes to its name
        await wait_until(pilot, lambda: app.focused is not None
                         and app.focused.has_class("of-key"))
        await pilot.press(*"Ticket", "tab", *"T-9")
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: len(form.query(".of-key")) == 2
                         and app.focused is form.query(".of-key").last())
        await pilot.press(*"Drop", "tab", *"me")
        assert form.values()["otherFields"] == {"Ticket": "T-9", "Drop": "me"}
        # Edit the first value, then remove the second row from its del button.
        form.query(".of-value").first().focus()
        await pilot.press("end", "backspace", "7")  # focus selects all: go to the end
        form.query(".of-value").last().focus()
        await pilot.press("tab", "enter")  # tab reaches the row's del button
        await wait_until(pilot, lambda: len(form.query(".of-key")) == 1)
        assert form.values()["otherFields"] == {"Ticket": "T-7"}
        sent_ref = form.reference_id
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "acknowledged in" in state_text(app))
        assert app.connection is not None
        async with httpx.AsyncClient(base_url=app.connection.base_url) as http:
            records = (await http.get("/sim/state")).json()["records"]
        mine = [r for r in records if r["body"].get("referenceId") == sent_ref]
        assert len(mine) == 1 and mine[0]["body"]["otherFields"] == {"Ticket": "T-7"}


async def test_event_detail_and_copy(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        fill(app, **GOOD)
        await pilot.press("ctrl+s")
        events = app.query_one(EventList)
        await wait_until(pilot, lambda: len(events.rows) == 2)
        await pilot.press("f3", "up", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, EventDetail))
        assert isinstance(app.screen, EventDetail)
        assert app.screen.event is events.rows[0]
        await pilot.press("c")
        copied = app.clipboard or ""
        assert '"AddRecordAcknowledge"' in copied
        # receivedAt as a local time people read (and tools parse), not epoch seconds.
        import json
        from datetime import datetime

        received = json.loads(copied)["receivedAt"]
        assert isinstance(received, str)
        assert abs(datetime.fromisoformat(received).timestamp()
                   - events.rows[0].received_at) < 0.01


async def test_copy_as_curl_runs_once_asks_once_and_never_reuses_the_forms_reference(
        tmp_path: Path) -> None:
    import httpx

    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        fill(app, **GOOD)
        form = app.query_one(RecordForm)
        form_ref = form.reference_id
        await pilot.press("ctrl+y")
        await wait_until(pilot, lambda: isinstance(app.screen, ShowText))
        command = app.clipboard or ""
        assert app.connection is not None
        password = app.connection.password.reveal()
        assert "outbound-records" in command and password not in command
        assert form_ref not in command  # a referenceId of its own
        # Run it as a person would, in a shell: the password is asked once, on stderr.
        shell = await asyncio.create_subprocess_exec(
            "sh", "-c", command, cwd=tmp_path, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(shell.communicate(password.encode() + b"\n"), 30)
        assert shell.returncode == 0 and b'"statusCode": 0' in out, (out, err)
        assert err.decode().count("GWS password for demo") == 1
        await pilot.press("escape")
        await pilot.press("ctrl+s")  # the form after the curl: no duplicate referenceId
        await wait_until(pilot, lambda: "acknowledged in" in state_text(app))
        async with httpx.AsyncClient(base_url=app.connection.base_url) as http:
            records = (await http.get("/sim/state")).json()["records"]
        refs = [r["body"]["referenceId"] for r in records]
        assert len(refs) == 2 and len(set(refs)) == 2 and form_ref in refs


async def test_follow_pauses_on_scroll_up_and_resumes(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("f3")
        events = app.query_one(EventList)
        events.add_events(Event("/v2/me/outbound", {"referenceId": f"r{n}"}, 0.0, n)
                          for n in range(100))
        await pilot.pause(0.05)
        assert events.following and events.cursor == 99
        await pilot.press("up", "up")
        assert not events.following
        events.add_events(Event("/v2/me/outbound", {"referenceId": f"s{n}"}, 0.0, 100 + n)
                          for n in range(7))
        await pilot.pause(0.05)
        status = str(app.query_one("#event-status", Static).render())
        assert "PAUSED 7 new" in status
        assert events.cursor == 97
        await pilot.press("end")
        assert events.following and events.cursor == 106 and events.unseen == 0


async def test_filter_and_bounded_rows(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    app.max_rows = 50
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        events = app.query_one(EventList)
        events.rows = type(events.rows)(maxlen=50)
        events.add_events(Event("/v2/me/outbound", {"referenceId": f"r{n}",
                                                     "notificationType": "X"}, 0.0, n)
                          for n in range(80))
        assert len(events.rows) == 50 and events.left_view == 30
        await pilot.press("ctrl+f")
        await pilot.press(*"r7")
        await pilot.pause(0.05)
        assert [e.reference_id for e in events.view] == ["r70", "r71", "r72", "r73", "r74",
                                                         "r75", "r76", "r77", "r78", "r79"]
        status = str(app.query_one("#event-status", Static).render())
        assert "30 left the view" in status and "filter 'r7'" in status
        await pilot.press("escape")
        assert len(events.view) == 50


async def test_simulator_restart_shows_reconnecting_then_a_gap(tmp_path: Path) -> None:
    password = "pw-restart-6Zq"
    async with Simulator(password=password) as sim:
        profile = Profile(name="lab", url=sim.url, username="demo")
        app = make_app(tmp_path, profile, password=password)
        async with app.run_test(size=(120, 40)) as pilot:
            await ready(pilot)
            header = app.query_one(StatusHeader)
            assert not header.simulator and header.server == sim.url
            seen: list[str] = []
            original = app._show_status

            def spy(status: object) -> None:
                seen.append(getattr(status, "kind", "?"))
                original(status)  # type: ignore[arg-type]

            app._show_status = spy  # type: ignore[method-assign]
            await sim.restart()
            await wait_until(pilot, lambda: "gap" in seen, timeout=15)
            assert "reconnecting" in seen[:seen.index("gap") + 1]
            assert header.gap.startswith("gap ")
            await wait_until(pilot, lambda: header.status == "connected", timeout=15)
            # The password typed at the prompt shows nowhere: not on screen, not in the journal.
            assert password not in app.export_screenshot()
            assert password not in (tmp_path / "journal.jsonl").read_text()


async def test_keymap_overrides_a_binding(tmp_path: Path, monkeypatch: object) -> None:
    import pytest

    home = tmp_path / "home"
    home.mkdir()
    (home / "keymap.yaml").write_text("request.send: f9\n")
    mp = monkeypatch
    assert isinstance(mp, pytest.MonkeyPatch)
    mp.setenv("OUTBOUND_CONSOLE_HOME", str(home))
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        fill(app, **GOOD)
        await pilot.press("f9")
        await wait_until(pilot, lambda: "acknowledged in" in state_text(app))
        # The palette teaches the user's key, not the default.
        helps = {c.title: c.help for c in app.get_system_commands(app.screen)}
        assert helps["Send the record"].endswith("(f9)")


def test_every_binding_with_an_id_is_in_the_palette() -> None:
    from console.tui.palette import PALETTE, default_keys

    declared = default_keys(OutboundApp.BINDINGS, RecordForm.BINDINGS, EventList.BINDINGS,
                            TemplatesPane.BINDINGS, TemplateTree.BINDINGS)
    # Quit is already among Textual's own palette commands (and runs our action_quit).
    assert {p.binding_id for p in PALETTE} == set(declared) - {"app.quit"}


async def test_palette_runs_actions_and_shows_their_keys(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        helps = {c.title: c.help for c in app.get_system_commands(app.screen)}
        assert helps["Send the record"].endswith("(ctrl+s)")
        assert helps["Replay templates"].endswith("(ctrl+r)")
        # Keys only: open the palette, search, run.
        fill(app, **GOOD)
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"copy as curl")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ShowText))
        assert "outbound-records" in (app.clipboard or "")
        await pilot.press("escape")
        # A pane's own action: the palette shows the pane first, then runs it there.
        await pilot.press("f4", "f2")
        pane = app.query_one(TemplatesPane)
        folder = tmp_path / "profiles" / "templates" / "Campaign1" / "CallingList1"
        text = (folder / "doc-sample.yaml").read_text(encoding="utf-8")
        (folder / "added-later.yaml").write_text(text.replace("doc-sample", "added-later"),
                                                 encoding="utf-8")
        assert "added-later" not in [t.name for t in pane.all_templates()]
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"reload the templates")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.view == "templates"
                         and app.focused is app.query_one("#template-tree"))
        assert "added-later" in [t.name for t in pane.all_templates()]


async def test_narrow_screen_switches_panes(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        assert app.main("#body").has_class("narrow")
        assert not app.query_one("#right").display or not app.query_one("#right").region.width
        await pilot.press("f3")
        await pilot.pause(0.05)
        assert app.query_one("#right").region.width == 80
        assert app.query_one("#left").region.width == 0
        await pilot.press("f2")
        await pilot.pause(0.05)
        assert app.query_one("#left").region.width == 80
        # The terminal grows (a wider SSH window): side by side; shrinks back: switching.
        await pilot.resize_terminal(140, 40)
        await wait_until(pilot, lambda: app.query_one("#right").region.width > 40)
        assert not app.main("#body").has_class("narrow")
        assert app.query_one("#left").region.width > 40
        await pilot.resize_terminal(80, 24)
        await wait_until(pilot, lambda: app.query_one("#right").region.width == 0)
        assert app.query_one("#left").region.width == 80
    wide = make_app(tmp_path / "wide")
    async with wide.run_test(size=(140, 40)) as pilot:
        await ready(pilot)
        assert wide.query_one("#left").region.width > 40
        assert wide.query_one("#right").region.width > 40


async def test_events_keep_arriving_while_a_dialog_is_open(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        fill(app, **GOOD)
        await pilot.press("ctrl+s")
        events = app.main(EventList)
        await wait_until(pilot, lambda: len(events.rows) == 2)
        await pilot.press("f3", "up", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, EventDetail))
        assert app.engine is not None
        tracked = await app.engine.send(app.engine.record({**GOOD, "referenceId": "during"}))
        await wait_until(pilot, lambda: len(events.rows) == 4)
        assert isinstance(app.screen, EventDetail) and tracked.state == "acknowledged"
        await pilot.press("escape")
        assert not isinstance(app.screen, EventDetail)


async def test_history_from_an_earlier_session_and_resend(tmp_path: Path) -> None:
    first = make_app(tmp_path)
    async with first.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        fill(first, **GOOD)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "acknowledged in" in state_text(first))
    again = make_app(tmp_path)  # same journal: the earlier request is in the history
    async with again.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        assert [e.source for e in again.history_entries] == ["journal"]
        assert again.history_entries[0].state == "acknowledged"
        await pilot.press("f5", "enter")
        await wait_until(pilot, lambda: again.main("#f-phoneNumber", Input).value == "5551234")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "acknowledged in" in state_text(again))
        assert [e.source for e in again.history_entries] == ["journal", "session"]


async def test_quit_with_unsaved_changes_asks_and_never_crashes(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("1", "ctrl+q")
        await wait_until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("ctrl+q")  # asked once, not twice
        assert len(app.screen_stack) == 2
        await pilot.press("n")
        await wait_until(pilot, lambda: not isinstance(app.screen, Confirm))
        assert app.is_running and app.main("#f-applicationId", Input).value == "1"
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("y")
        await wait_until(pilot, lambda: not app.is_running)
    assert app.return_code in (0, None)


async def test_checks_held_while_the_engine_imports_are_made_once_released() -> None:
    """The console holds the form's checks until its engine (pydantic) is imported, so the
    first key typed echoes at once: what was typed meanwhile is checked then, nothing is
    skipped, and from then on every change is checked as it happens."""
    from textual.app import App, ComposeResult

    class FormOnly(App[None]):
        def compose(self) -> ComposeResult:
            yield RecordForm(id="form", checks_held=True)

    app = FormOnly()
    async with app.run_test(size=(80, 24)) as pilot:
        form = app.query_one(RecordForm)
        app.query_one("#f-from", Input).focus()
        await pilot.press("9", "9", ":", "9", "9")
        await pilot.pause(0.05)
        assert form.error_text("from") == ""  # held: not checked yet
        assert "from" in form.touched
        form.release_checks()
        await pilot.pause(0.05)
        assert "HH:MM" in form.error_text("from")
        app.query_one("#f-until", Input).focus()
        await pilot.press("2", "5", ":", "9", "9")
        await pilot.pause(0.05)
        assert "HH:MM" in form.error_text("until")  # checked at once now
        assert form.error_text("campaignName") == ""  # untouched


async def test_two_other_fields_rows_of_one_name_are_refused_not_merged(tmp_path: Path) -> None:
    """Ticket=INC-1 then Ticket=INC-2 sent only INC-2, with no word (the map kept the last)."""
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        fill(app, **GOOD)
        form = app.query_one(RecordForm)
        for value in ("INC-1", "INC-2"):
            await pilot.press("ctrl+n")
            await wait_until(pilot, lambda: app.focused is form.query(".of-key").last())
            await pilot.press(*"Ticket", "tab", *value)
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        assert app.engine is not None and len(app.engine.tracker) == 0  # nothing sent
        assert "'Ticket' is in two rows" in str(
            form.query_one("#err-otherFields", Static).render())
