"""The footer: the keys that work now, one line, the most useful first, never cut mid-key.

Textual's Footer lists the bindings in the order they were bound and cuts the line at the
terminal's width: at 80 columns a key remapped in keymap.yaml (bound again, so listed last)
fell off the end, and a key could be cut in half. This one orders them (the focused pane's
keys, then Send, the panes, the rest, Quit; the stop and reconnect keys first of all while
they work), drops whole keys by importance until the line
fits, and keeps the command palette's key at the right.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.screen import Screen

from console.tui.plain import Plain

__all__ = ["KeyFooter"]

#: Importance of the app's own bindings by id (lower is kept first); a pane's keys come at 1.
IMPORTANCE = {"replay.stop": -1, "target.reconnect": -1, "request.send": 0, "notes.clear": 3,
              "app.quit": 2, "view.form": 3, "view.events": 3, "view.templates": 3,
              "view.history": 3}
OTHER = 4
PANE = 1


class KeyFooter(Plain):
    """One line of `key description` pairs for the bindings shown (`show=True`)."""

    DEFAULT_CSS = """
    KeyFooter { height: 1; background: $panel; color: $text; }
    KeyFooter > .key-footer--key { color: $footer-key-foreground; text-style: bold; }
    """
    COMPONENT_CLASSES = {"key-footer--key"}

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[Any]) -> None:
        if screen is self.screen:
            self.refresh()

    def keys(self) -> list[tuple[str, str, int]]:
        """(key as shown, description, importance) in display order."""
        app = self.app
        seen: set[str] = set()
        pane: list[tuple[str, str, int]] = []
        own: list[tuple[int, int, str, str]] = []
        order = {b.id: n for n, b in enumerate(app.BINDINGS) if isinstance(b, Binding)}
        palette = app.COMMAND_PALETTE_BINDING
        here = f"show('{getattr(app, 'view', '')}')"  # the key of the pane shown: no use
        for key, (node, binding, enabled, _) in self.screen.active_bindings.items():
            if not binding.show or not enabled or key == palette or binding.action in seen \
                    or binding.action == here:
                continue
            seen.add(binding.action)
            shown = app.get_key_display(binding)
            if node is app:
                importance = IMPORTANCE.get(binding.id or "", OTHER)
                own.append((importance, order.get(binding.id, 99), shown,
                            binding.description))
            else:
                pane.append((shown, binding.description, PANE))
        # Send first (it is what the console is for), then the panes, the rest, Quit last.
        ordered = sorted(own, key=lambda item: (item[0] == IMPORTANCE["app.quit"], item[0],
                                                item[1]))
        return pane + [(shown, description, importance)
                       for importance, _, shown, description in ordered]

    def render(self) -> Text:
        width = self.content_region.width or self.size.width
        key_style = self.get_component_rich_style("key-footer--key")
        palette = Text.assemble(("^p", key_style), " palette")
        keys = self.keys()
        # Drop the least important keys until the line fits beside the palette's key.
        kept = list(keys)
        while kept and sum(len(k) + len(d) + 2 for k, d, _ in kept) + palette.cell_len + 1 \
                > width:
            kept.remove(max(kept, key=lambda item: (item[2], keys.index(item))))
        line = Text(no_wrap=True, end="")
        for shown, description, _ in kept:
            line.append(shown, style=key_style)
            line.append(f" {description} ")
        line.pad_right(max(0, width - line.cell_len - palette.cell_len))
        line.append_text(palette)
        line.truncate(width)
        return line
