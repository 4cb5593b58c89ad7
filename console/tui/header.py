"""The header: which server this is (SIMULATOR / PRODUCTION, profile, server, user, device) and
the stream's status, always on one line.

The target and the status never leave the line: when it is too narrow, the server, user and
device are cut first, each with an ellipsis. The badges are readable by their attributes alone
(bold, reverse, underline), so they survive NO_COLOR and terminals with 8 colours.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

__all__ = ["StatusHeader", "BADGES"]

STATUS_STYLE = {
    "connected": "bold green", "connecting": "yellow", "reconnecting": "bold yellow",
    "failed": "bold red", "closed": "dim", "starting": "dim", "unreachable": "bold yellow",
}
#: Badge text and style. Reverse video carries them without colour; the colours (written as
#: RGB, so an 8-colour terminal gets the nearest red/yellow, never a theme's magenta) are
#: what reverse shows when there is colour.
BADGES = {
    "production": (" PRODUCTION ", Style(bold=True, reverse=True, underline=True,
                                         color="#d70000", bgcolor="#ffffff")),
    "simulator": (" SIMULATOR ", Style(bold=True, reverse=True, color="#ffd700",
                                       bgcolor="#000000")),
}


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


class StatusHeader(Static):
    """Always one line, so the layout never jumps."""

    DEFAULT_CSS = """
    StatusHeader { height: 1; background: $panel; padding: 0 1; }
    StatusHeader.-production { background: #5f0000; }
    """

    profile = reactive("")
    server = reactive("")
    user = reactive("")
    device = reactive("")
    status = reactive("starting")
    detail = reactive("")
    gap = reactive("")
    """The last gap (events may be missing), kept visible once connected again."""
    since = reactive("")
    """When the stream went down (shown while reconnecting)."""
    simulator = reactive(False)
    production = reactive(False)
    environment = reactive("")
    """The profile's environment when it is neither production nor the simulator."""

    def watch_production(self, production: bool) -> None:
        self.set_class(production, "-production")

    def _badge(self) -> tuple[str, Style] | None:
        if self.production:
            return BADGES["production"]
        if self.simulator:
            return BADGES["simulator"]
        if self.environment:
            return f" {self.environment.upper()} ", Style(bold=True, underline=True)
        return None

    def render(self) -> Text:
        width = max(1, self.content_region.width or self.size.width)
        # Right: the stream's status, never cut.
        status = Text(f"● {self.status}", style=STATUS_STYLE.get(self.status, ""))
        if self.status == "reconnecting":
            # The previous gap is history: what matters now is since when events are missing.
            if self.since:
                status.append(f" since {self.since}", style="bold yellow")
        elif self.gap:
            status.append(f" {self.gap}", style="bold yellow")
        if self.detail and self.status != "reconnecting":
            status.append(f" {self.detail}", style="dim")
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        badge = self._badge()
        if badge is not None:
            text.append(badge[0], style=badge[1])
            text.append(" ")
        text.append(self.profile or "-", style="bold")
        # What is left for server, user and device once the badge, profile and status fit.
        room = width - text.cell_len - min(status.cell_len, width // 2) - 2
        device = self.device.rsplit("/", 1)[-1] if self.device else "-"
        server, user = self.server or "-", self.user or "-"
        wanted = [len(server), len(user), len(device) + 4]
        minimum = [min(len(server), 10), min(len(user), 4), min(len(device) + 4, 6)]
        sizes = list(wanted)
        for index in (2, 0, 1):  # cut the device first, then the server, then the user
            over = sum(sizes) + 3 - room
            if over <= 0:
                break
            sizes[index] = max(minimum[index], sizes[index] - over)
        text.append(" " + _cut(server, sizes[0]))
        text.append(" " + _cut(user, sizes[1]), style="cyan")
        text.append(" dev " + _cut(device, max(1, sizes[2] - 4)))
        text.append(" ")
        text.append_text(status)
        if text.cell_len > width:
            # Still too long: the status must stay whole, so cut what is before it.
            keep = max(0, width - status.cell_len - 1)
            head = text[: text.cell_len - status.cell_len - 1]
            head.truncate(keep, overflow="ellipsis")
            text = head + Text(" ") + status
            text.truncate(width, overflow="ellipsis")
        return text
