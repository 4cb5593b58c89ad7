"""Text the console did not write (GWS's statusMessage, a stream status, a value typed in a
rows file) is shown as it is, never read as Textual markup: a `[/oops]` in a refusal raised
MarkupError inside the request-state update, which ended the console."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Static
from textual.widgets.tree import TreeNode

from console.profiles import Profile
from console.tui.history_pane import HistoryList
from console.tui.templates_pane import TemplateTree
from tests.cli_helpers import CALLBACK
from tests.hostile import HostileServer, Reply
from tests.tui_helpers import GOOD, fill, make_app, ready, wait_until


def nodes(node: TreeNode[Any]) -> list[TreeNode[Any]]:
    return [node] + [n for child in node.children for n in nodes(child)]


MARKUP = "closing [/oops] and [bold]opening[/bold] [link=http://x]here[/link]"


async def test_a_refusal_that_looks_like_markup_is_shown_as_it_is(tmp_path: Path) -> None:
    async with HostileServer(timeout_ms=2000) as server:
        server.script = lambda seen: Reply(
            {"statusCode": 2, "statusMessage": MARKUP}, status=400) \
            if seen.path == "/api/v2/me/outbound-records" else None
        profile = Profile(name="lab", url=server.url, username="agent", environment="test")
        app = make_app(tmp_path, profile, password="pw")
        # A campaign and a calling list named with brackets, in the templates tree.
        odd = tmp_path / "profiles" / "templates" / "Camp[/x]" / "List[b]"
        odd.mkdir(parents=True)
        (odd / "odd.yaml").write_text(CALLBACK.read_text().replace(
            "campaignName: Campaign1", "campaignName: Camp[/x]").replace(
            "callingList: CallingList1", "callingList: List[b]"))
        async with app.run_test(size=(120, 40)) as pilot:
            await ready(pilot)
            fill(app, **GOOD)
            await pilot.press("ctrl+s")
            state = app.query_one("#state", Static)
            await wait_until(pilot, lambda: "[/oops]" in str(state.render()))
            assert "[bold]opening[/bold]" in str(state.render())
            await pilot.press("f5")  # the history lists the refusal
            history = app.query_one(HistoryList)
            await wait_until(pilot, lambda: history.option_count > 0)
            assert "failed" in str(history.get_option_at_index(0).prompt)
            await pilot.press("f4")
            tree = app.query_one(TemplateTree)
            await wait_until(pilot, lambda: any("Camp[/x]" in str(n.label)
                                                for n in nodes(tree.root)))
            app.notify(MARKUP)  # a note quoting it too
            await pilot.press("f3")  # the console goes on
            await pilot.pause()
        assert app.return_code in (None, 0)
