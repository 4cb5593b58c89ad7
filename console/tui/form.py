"""The AddRecord form: one fitting widget per field, errors inline, a key for everything."""

from __future__ import annotations

from typing import Any

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.geometry import Size
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Select, Static

from console.domain.fields import (
    PHONE_TYPES,
    format_time_of_day,
    parse_time_of_day,
    repeated_name,
)
from console.errors import FieldProblem, RecordInvalid
from console.tui.plain import Plain, plain

__all__ = ["RecordForm", "FIELD_ORDER"]

#: (GWS name, label, placeholder) in the order people fill them.
FIELD_ORDER: tuple[tuple[str, str, str], ...] = (
    ("applicationId", "application", "OCS application DBID, e.g. 134"),
    ("campaignName", "campaign", "e.g. Campaign1"),
    ("callingList", "calling list", "e.g. CallingList1"),
    ("phoneNumber", "phone", "digits, or an address for e-mail/IM"),
    ("phoneType", "phone type", ""),
    ("timeZone", "time zone", "Genesys time zone, e.g. GMT"),
    ("from", "from", "HH:MM[:SS] or seconds"),
    ("until", "until", "HH:MM[:SS] or seconds"),
    ("chainId", "chain", "optional: add to this chain"),
    ("devicePath", "device", ""),
)
INT_FIELDS = {"applicationId", "chainId"}
"""Typed as text and checked like the rest: a letter in them is shown as an error, never
dropped (Textual's integer Input drops it silently, and empties the field on a paste)."""
#: Fields edited with a Select, and the prompt shown before a value is chosen.
SELECTS = {"phoneType": "choose", "devicePath": "(discovering devices)"}
#: Fields with a hint beside them (the time in seconds).
HINTED = ("from", "until")


class SpanningStatic(Plain):
    """A Static spanning all the form's grid columns.

    Textual sizes an auto grid row by asking each widget for its height at the width of every
    single column it covers, not at the width it spans, so wrapped text would get the height
    of the narrowest column. This one measures itself at the form's width instead."""

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return super().get_content_height(container, viewport,
                                          max(1, container.width - self.styles.gutter.width))


class KeyButton(Static, can_focus=True):
    """A one-line button pressed with enter, space or a click.

    Textual's Button would bring 7 KB of CSS to parse and match before the first frame for
    the form's single button; this is all the form needs of one."""

    DEFAULT_CSS = """
    KeyButton { width: auto; height: 1; padding: 0 1; background: $boost; text-style: bold; }
    KeyButton:focus { background: $accent; color: $text; }
    """
    BINDINGS = [Binding("enter,space", "press", "Press", show=False)]

    class Pressed(Message):
        """The button was pressed."""

        def __init__(self, button: KeyButton) -> None:
            super().__init__()
            self.button = button

        @property
        def control(self) -> KeyButton:
            return self.button

    def action_press(self) -> None:
        self.post_message(self.Pressed(self))

    def on_click(self) -> None:
        self.action_press()


class FieldInput(Input):
    """A form field's text box: focused, its cursor goes to the end, the value not selected.

    Textual's Input selects all on focus, so the first key typed after Tab (or after a
    refused send focused the field) replaced the whole value, unseen without colour."""

    def __init__(self, value: str | None = None, placeholder: str = "", *,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(value, placeholder, id=id, classes=classes, select_on_focus=False)

    def on_focus(self) -> None:
        self.cursor_position = len(self.value)


class OtherFieldRow(Horizontal):
    """One otherFields entry: name, value, remove."""

    DEFAULT_CSS = """
    OtherFieldRow { height: 1; }
    OtherFieldRow Input { width: 1fr; }
    OtherFieldRow KeyButton { width: 5; }
    """

    def __init__(self, key: str = "", value: str = "") -> None:
        super().__init__()
        self._key, self._value = key, value

    def compose(self) -> ComposeResult:
        yield FieldInput(self._key, placeholder="field name", classes="of-key")
        yield FieldInput(self._value, placeholder="value", classes="of-value")
        remove = KeyButton("del", classes="of-remove")
        remove.tooltip = "Remove this field"
        yield remove

    def pair(self) -> tuple[str, str]:
        inputs = list(self.query(Input))
        if len(inputs) < 2:  # not composed yet: what it was created with
            return self._key.strip(), self._value
        return inputs[0].value.strip(), inputs[1].value

    @on(KeyButton.Pressed, ".of-remove")
    def remove_row(self) -> None:
        form = next((a for a in self.ancestors if isinstance(a, RecordForm)), None)
        self.remove()
        if form is not None:
            form.mark_changed("otherFields")


class RecordForm(VerticalScroll):
    """Every AddRecord field; `values()` gives GWS names; `check()` shows errors inline."""

    BINDINGS = [
        # Not in the footer: the form's own button says "+ add (^n)".
        Binding("ctrl+n", "add_other", "Add field", id="form.add_other", show=False),
    ]

    # One grid (label | field | hint) rather than a row container per field: half the widgets,
    # and siblings share computed styles, which is most of the time to the first frame.
    DEFAULT_CSS = """
    RecordForm { padding: 0 1; layout: grid; grid-size: 3; grid-columns: 13 1fr 12;
                 grid-rows: auto; }
    RecordForm .wide { column-span: 2; }
    RecordForm .full { column-span: 3; }
    RecordForm .label { color: $text-muted; }
    /* The focused field's label is in reverse video: a mark without colour (NO_COLOR, 8
       colours), where a background tint alone would vanish. */
    RecordForm .label.-focused { color: $text; text-style: bold reverse; }
    RecordForm Input { height: 1; border: none; padding: 0; }
    RecordForm Input:focus { background: $boost; border: none; }
    /* Our own error line says what is wrong; Input's red frame would not fit in one row. */
    RecordForm Input.-invalid, RecordForm Input.-invalid:focus { border: none; }
    RecordForm Select { height: 1; }
    RecordForm SelectCurrent { height: 1; border: none; padding: 0; }
    RecordForm Select:focus > SelectCurrent { border: none; background: $accent 40%;
                                              text-style: bold; }
    RecordForm SelectCurrent Static#label { text-wrap: nowrap; text-overflow: ellipsis; }
    RecordForm SelectOverlay { max-height: 14; }
    RecordForm .error { color: $error; height: auto; padding-left: 13; }
    RecordForm .hint { color: $text-muted; }
    RecordForm .select-stub { color: $text-muted; background: $boost; }
    RecordForm #other-rows { height: auto; }
    RecordForm #reference { color: $text-muted; }
    RecordForm #state { height: auto; }
    """

    class Changed(Message):
        """The form's values changed (it is now unsaved)."""

    def __init__(self, *, id: str | None = None, checks_held: bool = False) -> None:
        super().__init__(id=id)
        self.checks_held = checks_held
        """Checking a change waits for `release_checks()`. The console holds them while the
        engine (and with it the model) is imported in a thread: a check before would
        import it on the event loop, or wait for that thread, and the first key typed would
        echo late (bench/tui.py, "usable"). What is typed meanwhile is checked then."""
        self._check_due = False
        self.touched: set[str] = set()
        self.show_all_errors = False
        self._loading = False
        self._state_shown = ("", "")  # the state line's text and kind as last drawn
        self._baseline: dict[str, Any] = {}
        self.reference_id = ""
        self._selects_ready = False
        self._pending_values: dict[str, str] = {}  # for Selects not mounted yet
        self._devices: list[str] = []
        self._default_device: str | None = None  # the session's device

    def on_mount(self) -> None:
        self.mark_clean()
        # The two Selects cost ~25 ms to build: they come just after the first frame.
        self.call_after_refresh(self._mount_selects)

    def _mount_selects(self) -> None:
        for name, prompt in SELECTS.items():
            options: list[tuple[Any, str]] = [(p, p) for p in PHONE_TYPES] \
                if name == "phoneType" else [(plain(d), d) for d in self._devices]
            pending = self._pending_values.pop(name, None)
            # Given to the constructor: a value set before mounting is kept but not shown.
            select: Select[str] = Select(
                options, id=f"f-{name}", prompt=prompt, allow_blank=True, classes="wide",
                value=self._choice(name, pending, [v for _, v in options]))
            stub = self.query_one(f"#stub-{name}")
            self.mount(select, before=stub)
            stub.remove()
        self._selects_ready = True

    def _choice(self, name: str, value: str | None, options: list[str]) -> Any:
        """`value` when it is one of the options; else blank, saying so (never dropped
        silently: e.g. a template's phoneType that is not one of the 12)."""
        if value is None or value in options:
            return Select.NULL if value is None else value
        self.notify(f"{name} {value!r} is not one of the choices: choose one",
                    severity="warning", timeout=10)
        return Select.NULL

    def compose(self) -> ComposeResult:
        for name, label, placeholder in FIELD_ORDER:
            yield Plain(label, id=f"l-{name}", classes="label")
            # from/until leave the third column to their hint; the others span it.
            span = "" if name in HINTED else "wide"
            if name in SELECTS:
                # A stand-in for the first frame; the Select replaces it right after.
                yield Plain(SELECTS[name], id=f"stub-{name}", classes=f"select-stub {span}")
            else:
                yield FieldInput(placeholder=placeholder, id=f"f-{name}", classes=span)
            if name in HINTED:
                yield Plain("", id=f"hint-{name}", classes="hint")
            # Error lines are mounted when first needed: fewer widgets, a faster first frame.
        yield Plain("other fields", id="l-otherFields", classes="label")
        yield KeyButton("+ add (^n)", id="other-add", classes="wide")
        yield Vertical(id="other-rows", classes="full")
        yield SpanningStatic("", id="reference", classes="full")
        yield SpanningStatic("", id="state", classes="full")

    @property
    def dirty(self) -> bool:
        """The form differs from what was last loaded or saved (referenceId aside)."""
        return self._content() != self._baseline

    def mark_clean(self) -> None:
        self._baseline = self._content()

    def _content(self) -> dict[str, Any]:
        return {k: v for k, v in self.values().items() if k != "referenceId"}

    # -- reading and writing ---------------------------------------------------------------
    def widget_for(self, name: str) -> Widget:
        if name == "otherFields":
            return self.query_one("#other-add")
        if name in SELECTS and not self._selects_ready:
            return self.query_one(f"#stub-{name}")
        return self.query_one(f"#f-{name}")

    def values(self) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for name, _, _ in FIELD_ORDER:
            widget = self.widget_for(name)
            if name in SELECTS and not isinstance(widget, Select):
                if name in self._pending_values:
                    fields[name] = self._pending_values[name]
            elif isinstance(widget, Select):
                # Until it is mounted a Select's value reads blank; what it was given (and
                # will show) is kept aside: the form does not seem to change meanwhile.
                value = widget._value if widget.is_blank() else widget.value  # noqa: SLF001
                if value != Select.NULL:
                    fields[name] = value
            elif isinstance(widget, Input):
                text = widget.value.strip()
                if text:
                    # An id is an integer (a template saved from the form says 134, not
                    # '134'); anything else stays as typed, for the check to explain.
                    fields[name] = int(text) if name in INT_FIELDS and text.isascii() and \
                        text.isdigit() else text
        other: dict[str, Any] = {}
        for row in self.query(OtherFieldRow):
            key, value = row.pair()
            if key or value:
                other[key] = value
        if other:
            fields["otherFields"] = other
        if self.reference_id:
            fields["referenceId"] = self.reference_id
        return fields

    def load(self, fields: dict[str, Any]) -> None:
        """Fill the form (from a template or history); it is then not dirty."""
        self._loading = True
        try:
            for name, _, _ in FIELD_ORDER:
                widget = self.widget_for(name)
                value = fields.get(name)
                if name == "devicePath" and not value:
                    value = self._default_device  # as the CLI: the session's device
                if name in SELECTS and not isinstance(widget, Select):
                    if name == "devicePath" and value and value not in self._devices:
                        self._devices.append(str(value))
                    if value is None:
                        self._pending_values.pop(name, None)
                    else:
                        self._pending_values[name] = str(value)
                elif isinstance(widget, Select):
                    if name == "devicePath" and value:
                        self.add_device(str(value))
                    options = [str(v) for _, v in widget._options  # noqa: SLF001
                               if v != Select.NULL]
                    choice = self._choice(name, None if value is None else str(value), options)
                    if choice == Select.NULL:
                        widget.clear()
                    else:
                        widget.value = choice
                elif isinstance(widget, Input):
                    if name in ("from", "until") and isinstance(value, int):
                        value = format_time_of_day(value)
                    widget.value = "" if value is None else str(value)
            rows = self.query_one("#other-rows", Vertical)
            rows.remove_children()
            other = fields.get("otherFields") or {}
            if isinstance(other, dict):
                rows.mount_all([OtherFieldRow(str(k), str(v)) for k, v in other.items()])
            self.touched.clear()
            self.show_all_errors = False
        finally:
            self._loading = False
        self.mark_clean()
        self.call_after_refresh(self.check)

    def set_devices(self, devices: list[str], default: str | None) -> None:
        was_clean = not self.dirty
        self._devices = list(devices)
        self._default_device = default
        if not self._selects_ready:
            if default and "devicePath" not in self._pending_values:
                self._pending_values["devicePath"] = default
            if was_clean:
                self.mark_clean()
            return
        select = self.query_one("#f-devicePath", Select)
        current = select.value
        select.set_options([(plain(d), d) for d in devices])  # GWS's names, not markup
        select.prompt = "choose a device"
        if not select.is_blank() and current in devices:
            select.value = current
        elif default:
            select.value = default
        if was_clean:
            self.mark_clean()  # discovering the device is not an edit

    def add_device(self, path: str) -> None:
        if path not in self._devices:
            self._devices.append(path)
        if not self._selects_ready:
            return
        select = self.query_one("#f-devicePath", Select)
        options = [str(v) for _, v in select._options if v != select.NULL]  # noqa: SLF001
        if path not in options:
            select.set_options([(d, d) for d in [*options, path]])

    def set_reference(self, reference_id: str) -> None:
        self.reference_id = reference_id
        self.query_one("#reference", Static).update(f"referenceId  {reference_id}")

    def set_state(self, text: str, kind: str = "") -> None:
        if (text, kind) == self._state_shown:
            return  # the app sets it again on every tick of the stream: nothing to redraw
        self._state_shown = (text, kind)
        state = self.query_one("#state", Static)
        state.update(text)
        state.set_classes(f"full {kind}")

    # -- checking --------------------------------------------------------------------------
    def check(self) -> list[FieldProblem]:
        """Validate; show errors for touched fields (all after a send attempt)."""
        from console.domain.model import (
            AddRecord,  # the model: imported after the first frame
        )

        try:
            AddRecord.parse(self.values())
            problems: list[FieldProblem] = []
        except RecordInvalid as exc:
            problems = exc.problems
        repeated = repeated_name([row.pair()[0] for row in self.query(OtherFieldRow)])
        if repeated is not None:
            problems = [*problems, repeated]
        by_field = {p.field: p for p in problems}
        for name in [n for n, _, _ in FIELD_ORDER] + ["otherFields"]:
            problem = by_field.get(name)
            shown = problem is not None and (self.show_all_errors or name in self.touched)
            box = self._error_box(name, create=bool(shown))
            if box is not None:
                box.update(f"^ {problem.expected}" if shown and problem else "")
                box.display = bool(shown)
        for name in HINTED:
            hint = self.query_one(f"#hint-{name}", Static)
            try:
                seconds = parse_time_of_day(self.query_one(f"#f-{name}", Input).value)
                hint.update(f"= {seconds} s")
            except ValueError:
                hint.update("")
        return problems

    def _error_box(self, name: str, create: bool) -> Static | None:
        found = self.query(f"#err-{name}")
        if found:
            box = found.first()
            assert isinstance(box, Static)
            return box
        if not create:
            return None
        box = SpanningStatic("", id=f"err-{name}", classes="error full")
        after = self.query_one("#other-rows") if name == "otherFields" else \
            self.query_one(f"#hint-{name}") if name in HINTED else self.widget_for(name)
        self.mount(box, after=after)
        return box

    def error_text(self, name: str) -> str:
        """The error shown under a field ('' when none)."""
        box = self._error_box(name, create=False)
        return str(box.render()) if box is not None and box.display else ""

    def first_problem(self, problems: list[FieldProblem]) -> FieldProblem:
        """The problem of the field that comes first in the form."""
        order = [n for n, _, _ in FIELD_ORDER] + ["otherFields"]
        return min(problems, key=lambda p: order.index(p.field) if p.field in order else 99)

    def mark_changed(self, name: str) -> None:
        if self._loading:
            return
        self.touched.add(name)
        if self.checks_held:
            self._check_due = True
        else:
            self.check()
        self.post_message(self.Changed())

    def release_checks(self) -> None:
        """Check changes at once from now on (and what changed while they were held)."""
        self.checks_held = False
        if self._check_due:
            self._check_due = False
            self.check()

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        widget_id = event.input.id or ""
        name = widget_id[2:] if widget_id.startswith("f-") else "otherFields"
        self.mark_changed(name)

    @on(Input.Blurred)
    def _normalise_time(self, event: Input.Blurred) -> None:
        if event.input.id in ("f-from", "f-until"):
            try:
                seconds = parse_time_of_day(event.input.value)
            except ValueError:
                return
            text = format_time_of_day(seconds)
            if event.input.value != text:
                event.input.value = text

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        self.mark_changed((event.select.id or "f-")[2:])

    def _field_of(self, widget: Widget) -> str | None:
        """The form field a focused widget belongs to (a Select's parts included)."""
        for node in widget.ancestors_with_self:
            if node is self:
                return None
            if isinstance(node, OtherFieldRow) or node.id == "other-add":
                return "otherFields"
            if node.id and node.id.startswith("f-"):
                return node.id[2:]
        return None

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        self._mark_label(event.widget, True)

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        self._mark_label(event.widget, False)

    def _mark_label(self, widget: Widget, focused: bool) -> None:
        name = self._field_of(widget)
        if name is not None:
            self.query_one(f"#l-{name}").set_class(focused, "-focused")

    @on(KeyButton.Pressed, "#other-add")
    def action_add_other(self) -> None:
        row = OtherFieldRow()
        self.query_one("#other-rows", Vertical).mount(row)
        self.call_after_refresh(lambda: row.query_one(".of-key", Input).focus())
        self.mark_changed("otherFields")
