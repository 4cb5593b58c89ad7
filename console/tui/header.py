"""The header: SIMULATOR or the profile, server, user, device, stream status — always visible."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

__all__ = ["StatusHeader"]

STATUS_STYLE = {
    "connected": "bold green", "connecting": "yellow", "reconnecting": "bold yellow",
    "gap": "bold yellow", "failed": "bold red", "closed": "dim", "starting": "dim",
}


class StatusHeader(Static):
    """Always one line (cut with an ellipsis), so the layout never jumps."""

    DEFAULT_CSS = """
    StatusHeader { height: 1; background: $panel; padding: 0 1; }
    """

    profile = reactive("")
    server = reactive("")
    user = reactive("")
    device = reactive("")
    status = reactive("starting")
    detail = reactive("")
    gap = reactive("")
    """The last gap (events may be missing), kept visible after reconnecting."""
    simulator = reactive(False)

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        if self.simulator:
            text.append(" SIMULATOR ", style="bold white on red")
            text.append(" ")
        text.append(self.profile or "-", style="bold")
        text.append(f" {self.server} ", style="")
        text.append(f"{self.user or '-'} ", style="cyan")
        device = self.device.rsplit("/", 1)[-1][:8] if self.device else "-"
        text.append(f"dev {device} ", style="")
        text.append(f"● {self.status}", style=STATUS_STYLE.get(self.status, ""))
        if self.gap:
            text.append(f" {self.gap}", style="bold yellow")
        if self.detail:
            text.append(f" {self.detail}", style="dim")
        return text
