"""The AddRecord form as ipywidgets: the 12 fields with fitting widgets, a message beside each
field the model refuses, Send, and the TUI's templates (per campaign / calling list) to load
and save.

    form = RecordForm(console)          # console.api.connect()
    form                                # displays; Send posts and shows the verdict

Widgets, as the TUI's form decides them: ids (applicationId, chainId) are text boxes checked
by the model, so a letter typed into them is shown as an error instead of being dropped (an
IntText would drop it); phoneType is a dropdown of the 12 documented types; devicePath a
dropdown of the session's devices (the session's own first); from/until are time pickers to
the second; otherFields are rows of name and value (text, as in the TUI) with add/remove;
referenceId is optional (blank: a fresh one per send).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as w

from console.api import Console
from console.domain.correlation import Tracked
from console.domain.fields import PHONE_TYPES, parse_time_of_day, repeated_name
from console.domain.templates import (
    Template,
    TemplateError,
    find_templates,
    save_template,
    template_dirs,
    template_path,
)
from console.errors import ConsoleError, DuplicateReference, RecordInvalid
from console.notebook.reprs import target_line, tracked_html
from console.profiles import search_path

__all__ = ["RecordForm", "TEXT_FIELDS", "OtherFieldRow"]

#: (GWS name, label, hint) of the fields typed as text, in the order people fill them.
TEXT_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("applicationId", "application", "OCS application DBID, e.g. 134"),
    ("campaignName", "campaign", "e.g. Campaign1"),
    ("callingList", "calling list", "e.g. CallingList1"),
    ("phoneNumber", "phone", "digits, or an address for e-mail/IM"),
    ("timeZone", "time zone", "Genesys time zone, e.g. GMT"),
    ("chainId", "chain", "optional: add to this chain"),
    ("referenceId", "referenceId", "optional: blank = a fresh one per send"),
)
INT_FIELDS = frozenset({"applicationId", "chainId"})
_LABEL = w.Layout(width="110px")
_ERROR = "color:#cf222e"


def _seconds_to_time(seconds: int) -> dt.time:
    return dt.time(seconds // 3600, seconds % 3600 // 60, seconds % 60)


class OtherFieldRow(w.HBox):  # type: ignore[misc]
    """One otherFields entry: name, value, remove."""

    def __init__(self, key: str = "", value: str = "",
                 on_remove: Callable[[OtherFieldRow], None] | None = None) -> None:
        self.key = w.Text(value=key, placeholder="field name", layout=w.Layout(width="160px"))
        self.value = w.Text(value=value, placeholder="value", layout=w.Layout(width="240px"))
        self.remove = w.Button(description="remove", layout=w.Layout(width="80px"))
        if on_remove is not None:
            self.remove.on_click(lambda _: on_remove(self))
        super().__init__([self.key, self.value, self.remove])

    def pair(self) -> tuple[str, str]:
        return self.key.value.strip(), self.value.value


class RecordForm(w.VBox):  # type: ignore[misc]
    """The form; `send()` (the Send button) posts through the console and shows the
    verdict; `sent` holds every request sent from it."""

    def __init__(self, console: Console, *, profiles_dir: Path | str | None = None,
                 on_sent: Callable[[Tracked], None] | None = None) -> None:
        self.console = console
        self.profiles_dir = None if profiles_dir is None else Path(profiles_dir).expanduser()
        self.on_sent: list[Callable[[Tracked], None]] = [on_sent] if on_sent else []
        self.sent: list[Tracked] = []
        """Requests sent from this form, oldest first."""
        self.last_send: asyncio.Task[Tracked | None] | None = None
        """The send the button started (await it to follow it from code)."""
        self.loaded: Template | None = None
        self.inputs: dict[str, Any] = {}
        self.messages: dict[str, w.HTML] = {}
        rows: list[Any] = []
        target = console.target
        self.header = w.HTML(f"<b>AddRecord</b> to {target_line(target)}")
        rows.append(self.header)
        for name, label, hint in TEXT_FIELDS:
            self.inputs[name] = w.Text(placeholder=hint, layout=w.Layout(width="320px"))
            rows.append(self._row(name, label))
            if name == "phoneNumber":
                self.inputs["phoneType"] = w.Dropdown(options=[("choose", None)] + [
                    (t, t) for t in PHONE_TYPES], value=None, layout=w.Layout(width="320px"))
                rows.append(self._row("phoneType", "phone type"))
            if name == "timeZone":
                for clock in ("from", "until"):
                    self.inputs[clock] = w.TimePicker(step=1, layout=w.Layout(width="320px"))
                    rows.append(self._row(clock, clock))
        self.inputs["devicePath"] = w.Dropdown(options=console.devices or ["(no device)"],
                                               layout=w.Layout(width="320px"))
        rows.append(self._row("devicePath", "device"))
        self.other_rows = w.VBox([])
        self.add_other = w.Button(description="add field")
        self.add_other.on_click(lambda _: self.add_other_field())
        self.messages["otherFields"] = w.HTML()
        rows.append(w.HBox([w.Label("otherFields", layout=_LABEL),
                            w.VBox([self.other_rows, self.add_other]),
                            self.messages["otherFields"]]))
        # Templates: the TUI's, found the same way (profile dirs, then the shipped examples).
        self.template_choice = w.Dropdown(description="template", layout=w.Layout(width="480px"))
        self.load_button = w.Button(description="load")
        self.load_button.on_click(lambda _: self.load_selected())
        self.save_name = w.Text(placeholder="name to save as", layout=w.Layout(width="200px"))
        self.save_button = w.Button(description="save")
        self.save_button.on_click(lambda _: self.save(self.save_name.value))
        self.send_button = w.Button(description="Send", button_style="primary")
        self.send_button.on_click(lambda _: self.click_send())
        self.notice = w.HTML()
        self.verdict = w.HTML()
        rows += [w.HBox([self.template_choice, self.load_button]),
                 w.HBox([self.save_name, self.save_button]),
                 w.HBox([self.send_button, self.notice]), self.verdict]
        super().__init__(rows)
        self.refresh_templates()

    def _row(self, name: str, label: str) -> w.HBox:
        self.messages[name] = w.HTML()
        return w.HBox([w.Label(label, layout=_LABEL), self.inputs[name], self.messages[name]])

    # -- values ------------------------------------------------------------------------------
    def add_other_field(self, key: str = "", value: str = "") -> OtherFieldRow:
        row = OtherFieldRow(key, value, on_remove=self._remove_other)
        self.other_rows.children = (*self.other_rows.children, row)
        return row

    def _remove_other(self, row: OtherFieldRow) -> None:
        self.other_rows.children = tuple(r for r in self.other_rows.children if r is not row)

    def values(self) -> dict[str, Any]:
        """The fields as typed (GWS names); blank ones left out."""
        fields: dict[str, Any] = {}
        for name, _, _ in TEXT_FIELDS:
            text = str(self.inputs[name].value).strip()
            if text:
                fields[name] = int(text) if name in INT_FIELDS and text.isascii() and \
                    text.isdigit() else text
        if self.inputs["phoneType"].value is not None:
            fields["phoneType"] = self.inputs["phoneType"].value
        for clock in ("from", "until"):
            value = self.inputs[clock].value
            if isinstance(value, dt.time):
                fields[clock] = value.strftime("%H:%M:%S")
        device = self.inputs["devicePath"].value
        if device and device.startswith("/devices/"):
            fields["devicePath"] = device
        other: dict[str, Any] = {}
        for row in self.other_rows.children:
            key, value = row.pair()
            if key or value:
                other[key] = value  # a value without a name: the model says so, beside it
        if other:
            fields["otherFields"] = other
        return fields

    def load(self, fields: dict[str, Any]) -> None:
        """Fill the form (a template's request, a history entry); unknown keys are shown as a
        problem, never dropped."""
        self.clear_messages()
        for name, _, _ in TEXT_FIELDS:
            value = fields.get(name)
            self.inputs[name].value = "" if value is None else str(value)
        kind = fields.get("phoneType")
        self.inputs["phoneType"].value = kind if kind in PHONE_TYPES else None
        if kind is not None and kind not in PHONE_TYPES:
            self._say("phoneType", f"{kind!r} is not a phoneType: choose one")
        for clock in ("from", "until"):
            value = fields.get(clock)
            try:
                self.inputs[clock].value = None if value in (None, "") else \
                    _seconds_to_time(parse_time_of_day(value))
            except ValueError:
                self.inputs[clock].value = None
                self._say(clock, f"{value!r} is not a time of day: pick one")
        device = fields.get("devicePath")
        if device:
            options = list(self.inputs["devicePath"].options)
            if device not in options:
                self.inputs["devicePath"].options = [*options, str(device)]
            self.inputs["devicePath"].value = str(device)
        elif self.console.devices:
            self.inputs["devicePath"].value = self.console.devices[0]
        self.other_rows.children = ()
        other = fields.get("otherFields")
        if isinstance(other, dict):
            for key, value in other.items():
                self.add_other_field(str(key), str(value))
        unknown = sorted(set(fields) - {n for n, _, _ in TEXT_FIELDS} - {
            "phoneType", "from", "until", "devicePath", "otherFields", "operationName"})
        if unknown:
            self.notice.value = f'<span style="{_ERROR}">not AddRecord fields, not loaded: ' \
                                f'{html.escape(", ".join(unknown))}</span>'

    # -- messages ----------------------------------------------------------------------------
    def clear_messages(self) -> None:
        for message in self.messages.values():
            message.value = ""
        self.notice.value = ""

    def _say(self, name: str, text: str) -> None:
        where = self.messages.get(name)
        line = f'<span style="{_ERROR}">{html.escape(text)}</span>'
        if where is None:
            self.notice.value += line + " "
        else:
            where.value = line

    def problems(self) -> dict[str, str]:
        """Field -> what is wrong with it, as shown beside it."""
        return {name: m.value for name, m in self.messages.items() if m.value}

    # -- sending -----------------------------------------------------------------------------
    def check(self) -> Any:
        """The AddRecord the form makes, or None with a message beside each bad field."""
        self.clear_messages()
        try:
            repeated = repeated_name([row.pair()[0] for row in self.other_rows.children])
            if repeated is not None:
                raise RecordInvalid([repeated])
            return self.console.record(self.values())
        except RecordInvalid as exc:
            for problem in exc.problems:
                expected = problem.expected
                given = "" if problem.given is None else f"got {problem.given!r}; "
                self._say(problem.field, f"{given}expected {expected}")
            self.notice.value = f'<span style="{_ERROR}">not sent: {len(exc.problems)} ' \
                                f'field{"s" if len(exc.problems) != 1 else ""} to fix</span>'
            return None

    def click_send(self) -> None:
        """The Send button: checks now, then sends in the kernel's event loop."""
        record = self.check()
        if record is None:
            return
        self.send_button.disabled = True
        self.last_send = asyncio.get_event_loop().create_task(self._send(record))

    async def send(self) -> Tracked | None:
        """Send the form (as the button does) and wait for the verdict."""
        record = self.check()
        return None if record is None else await self._send(record)

    async def _send(self, record: Any) -> Tracked | None:
        try:
            self.notice.value = f"sending {html.escape(record.reference_id)} ..."
            try:
                tracked = await self.console.send(record)
            except DuplicateReference as exc:
                self._say("referenceId", str(exc))
                self.notice.value = ""
                return None
            except ConsoleError as exc:
                self.notice.value = f'<span style="{_ERROR}">{html.escape(str(exc))}</span>'
                return None
            self.sent.append(tracked)
            for callback in self.on_sent:
                callback(tracked)
            self.verdict.value = tracked_html(tracked)
            await self.console.wait(tracked)
            self.verdict.value = tracked_html(tracked)
            self.notice.value = html.escape(tracked.describe())
            return tracked
        finally:
            self.send_button.disabled = False

    # -- templates ---------------------------------------------------------------------------
    def _dirs(self) -> list[Path]:
        return template_dirs(search_path(self.profiles_dir))

    def refresh_templates(self) -> None:
        """The template list: `campaign / list / name`, the user's own, then the examples."""
        from console.example_templates import DIR as EXAMPLES

        options: list[tuple[str, int | None]] = [("(choose a template)", None)]
        self.templates: list[Template] = []
        seen: set[str] = set()
        for source, dirs in (("", self._dirs()), ("example: ", [EXAMPLES])):
            for found in find_templates(dirs):
                if isinstance(found, TemplateError):
                    continue  # a broken file is reported when it is used by name
                label = f"{source}{found.campaign} / {found.calling_list} / {found.name}"
                if label.removeprefix("example: ") in seen:
                    continue
                seen.add(label)
                options.append((label, len(self.templates)))
                self.templates.append(found)
        self.template_choice.options = options
        self.template_choice.value = None

    def load_selected(self) -> None:
        index = self.template_choice.value
        if index is not None:
            self.load_template(self.templates[index])

    def load_template(self, template: Template) -> None:
        """Fill the form from `template`; placeholders nobody gave stay visible to fill in."""
        try:
            fields = template.render({n: "${" + n + "}" for n in template.placeholders()})
        except TemplateError as exc:
            self.notice.value = f'<span style="{_ERROR}">{html.escape(str(exc))}</span>'
            return
        self.load({k: v for k, v in fields.items() if k != "referenceId"})
        self.loaded = template
        self.save_name.value = template.name
        self.notice.value = f"loaded template {html.escape(template.name)}"

    def save(self, name: str) -> Path | None:
        """Save the form as template `name` under <campaign>/<list>/ in the first profiles
        folder (as the TUI does); the session's own device is left out."""
        name = name.strip()
        if not name:
            self.notice.value = f'<span style="{_ERROR}">give the template a name</span>'
            return None
        values = {k: v for k, v in self.values().items() if k != "referenceId"}
        if values.get("devicePath") == self.console.engine.session.device_path:
            values.pop("devicePath")
        dirs = self._dirs()
        base = next((d for d in dirs if d.is_dir()), dirs[-1])
        description = self.loaded.description if self.loaded else ""
        try:
            path = template_path(base, str(values.get("campaignName") or "no-campaign"),
                                 str(values.get("callingList") or "no-list"), name)
            self.loaded = save_template(Template(name=name, request=values,
                                                 description=description), path)
        except TemplateError as exc:
            self.notice.value = f'<span style="{_ERROR}">not saved: {html.escape(str(exc))}</span>'
            return None
        self.notice.value = f"saved {html.escape(str(path))}"
        self.refresh_templates()
        return path
