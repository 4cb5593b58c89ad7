"""Widgets that show text as it is: never read as Textual markup.

What the console shows is mostly not its own: GWS's statusMessage, a stream status, a value
from a rows file or a template, a YAML error quoting the file. Read as markup, a `[/x]` in it
raised MarkupError in the middle of an update and ended the console, and `[b]` restyled it.
The console writes no markup of its own, so every text widget it makes comes from here."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Label, Static

__all__ = ["Plain", "PlainLabel", "plain"]


class Plain(Static):
    """A Static whose strings are shown as they are."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["markup"] = False
        super().__init__(*args, **kwargs)


class PlainLabel(Label):
    """A Label whose strings are shown as they are."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["markup"] = False
        super().__init__(*args, **kwargs)


def plain(text: str) -> Text:
    """`text` for widgets that read a str as markup (tree labels, select and list options)."""
    return Text(text)
