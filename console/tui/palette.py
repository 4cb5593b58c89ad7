"""The console's actions for the command palette (ctrl+p), each shown with its key.

Every binding with an id appears here, so an action found in the palette also teaches its key;
the key shown is the user's (keymap.yaml) when it overrides the default.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from textual.binding import Binding

__all__ = ["PALETTE", "PaletteAction", "default_keys", "key_for"]


@dataclass(frozen=True)
class PaletteAction:
    """One palette entry."""

    binding_id: str
    """The id of the binding that runs the same action (keymap.yaml uses it)."""
    title: str
    """What the palette lists and searches."""
    help: str
    """The line under the title (the key is appended)."""
    view: str | None
    """The pane shown first (the action belongs to it), or None."""
    action: str
    """The action run: an app action, or `pane.action` for one of the pane's widgets."""


PALETTE: tuple[PaletteAction, ...] = (
    PaletteAction("request.send", "Send the record", "POST the form as an AddRecord",
                  None, "send"),
    PaletteAction("view.form", "Show the form", "The AddRecord fields", None, "show('form')"),
    PaletteAction("view.events", "Show the events", "The live CometD events", None,
                  "show('events')"),
    PaletteAction("view.templates", "Show the templates",
                  "Campaign -> calling list -> template", None, "show('templates')"),
    PaletteAction("view.history", "Show the history", "Requests of this session and the "
                  "journal", None, "show('history')"),
    PaletteAction("events.filter", "Filter the events", "By text, channel or referenceId",
                  None, "filter"),
    PaletteAction("events.follow", "Follow new events", "Jump to the newest and keep up",
                  "events", "events.follow"),
    PaletteAction("events.open", "Open the event under the cursor", "Its full JSON; c copies",
                  "events", "events.open"),
    PaletteAction("request.save", "Save the form as a template", "Under profiles/templates",
                  None, "save_template"),
    PaletteAction("request.curl", "Copy as curl", "The current request, without the password",
                  None, "copy_curl"),
    PaletteAction("form.add_other", "Add an otherFields row", "A name/value pair",
                  "form", "form.add_other"),
    PaletteAction("templates.replay", "Replay templates", "The marked ones, the one under the "
                  "cursor, or all under a campaign/calling list", "templates",
                  "templates.replay"),
    PaletteAction("replay.stop", "Stop the replay", "Nothing more is sent; partial verdict, "
                  "resume and unconfirmed files", None, "stop_replay"),
    PaletteAction("target.reconnect", "Reconnect to GWS now", "Try again at once instead of "
                  "waiting for the next try", None, "reconnect"),
    PaletteAction("templates.mark", "Mark the template under the cursor",
                  "For a replay together", "templates", "templates.mark"),
    PaletteAction("notes.clear", "Clear the notifications", "Close every note on screen",
                  None, "clear_notes"),
    PaletteAction("templates.reload", "Reload the templates", "Read the files again",
                  "templates", "templates.reload"),
)


def default_keys(*binding_lists: Iterable[object]) -> dict[str, str]:
    """Binding id -> its keys as declared."""
    return {b.id: b.key for bindings in binding_lists for b in bindings
            if isinstance(b, Binding) and b.id}


def key_for(binding_id: str, defaults: dict[str, str], keymap: dict[str, str]) -> str:
    """The key that runs a binding now: the keymap's first key, else the declared one."""
    keys = keymap.get(binding_id) or defaults.get(binding_id, "")
    return keys.split(",")[0].strip()
