"""The header: which server this is (SIMULATOR / PRODUCTION, profile, server, user, device) and
the stream's status, always on one line.

The badge, the profile and the status never leave the line: when it is too narrow, the server,
user and device are cut first, each with an ellipsis, then the last gap's times, then the
server, user and device again, then the status's detail (see `StatusHeader.render`). The
badges are readable by their attributes alone (bold, reverse, underline), so they survive
NO_COLOR and terminals with 8 colours.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.reactive import reactive

from console.tui.plain import Plain

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


class StatusHeader(Plain):
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
        # Never cut: the badge, the profile and the stream's status (with since when, while
        # reconnecting). The rest gives way in this order when the line is short: device,
        # server and user down to a few characters, the last gap's times (down to `gap…`),
        # the device, server and user down to nothing or an ellipsis, then the status's
        # detail (next try in N s, why it failed), then the gap mark.
        status = Text(f"● {self.status}", style=STATUS_STYLE.get(self.status, ""))
        gap = ""
        if self.status == "reconnecting":
            # The previous gap is history: what matters now is since when events are missing.
            if self.since:
                status.append(f" since {self.since}", style="bold yellow")
        elif self.gap:
            gap = self.gap
        detail = self.detail if self.status != "reconnecting" else ""
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        badge = self._badge()
        if badge is not None:
            text.append(badge[0], style=badge[1])
            text.append(" ")
        text.append(self.profile or "-", style="bold")
        device = self.device.rsplit("/", 1)[-1] if self.device else "-"
        server, user = self.server or "-", self.user or "-"
        wanted = {"server": len(server), "user": len(user), "device": len(device),
                  "gap": len(gap), "detail": len(detail)}
        sizes = dict(wanted)
        room = width - text.cell_len - 1 - status.cell_len - 1  # a cell spare at the end
        stages = (("device", min(len(device), 2)), ("server", min(len(server), 10)),
                  ("user", min(len(user), 4)), ("gap", min(len(gap), 4)), ("device", 0),
                  ("server", 1), ("user", 1), ("detail", 0), ("gap", 0))
        for name, floor in stages:
            over = _needed(sizes) - room
            if over <= 0:
                break
            sizes[name] = max(floor, sizes[name] - over)
        text.append(" " + _cut(server, sizes["server"]))
        text.append(" " + _cut(user, sizes["user"]), style="cyan")
        if sizes["device"]:
            text.append(" dev " + _cut(device, sizes["device"]))
        text.append(" ")
        text.append_text(status)
        if sizes["gap"]:
            text.append(" " + _cut(gap, sizes["gap"]), style="bold yellow")
        if sizes["detail"]:
            text.append(" " + _cut(detail, sizes["detail"]), style="dim")
        if text.cell_len > width:
            # Still too long (a profile name longer than the line): the status stays whole,
            # what is before it is cut.
            keep = max(0, width - status.cell_len - 1)
            head = text[: text.cell_len - status.cell_len - 1]
            head.truncate(keep, overflow="ellipsis")
            text = head + Text(" ") + status
            text.truncate(width, overflow="ellipsis")
        return text


def _needed(sizes: dict[str, int]) -> int:
    """Cells taken by the parts that give way at these sizes (with their spaces)."""
    return 1 + sizes["server"] + 1 + sizes["user"] + \
        (5 + sizes["device"] if sizes["device"] else 0) + \
        (1 + sizes["gap"] if sizes["gap"] else 0) + (1 + sizes["detail"] if sizes["detail"] else 0)
