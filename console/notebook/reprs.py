"""How the objects a notebook user holds display: a request (`Tracked`), an `Event`, a stream
status, a replay result, the console and its target. Each has an HTML form (a state badge,
the target, the ack and user event as collapsible highlighted JSON) and a short plain-text
form for IPython's terminal and `print`.

The domain classes carry no HTML: `register()` adds these renderings to IPython's display
formatters for those types (done when `console.notebook` is imported), and `rich(obj)` wraps
any of them for display where no IPython is running (nbconvert, a plain `repr`).
"""

from __future__ import annotations

import html
import json
import time
from collections.abc import Callable
from typing import Any

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import JsonLexer

from console.api import Console, consoles
from console.app.replay import ReplayResult
from console.app.target import Target
from console.domain.correlation import Tracked
from console.domain.events import Event, StreamStatus
from console.gws.engine import Engine

__all__ = ["html_of", "text_of", "rich", "Rich", "register", "badge", "json_block",
           "STATE_COLOURS", "target_line"]

#: A badge colour per verdict or stream state; the word is always written too (no colour
#: alone carries meaning).
STATE_COLOURS = {
    "acknowledged": "#1a7f37", "connected": "#1a7f37",
    "failed": "#cf222e", "not_delivered": "#cf222e", "invalid": "#cf222e",
    "no_answer": "#bc4c00", "reconnecting": "#bc4c00", "gap": "#bc4c00",
    "unknown": "#8250df", "unconfirmed": "#8250df", "stopped": "#8250df",
    "halted": "#cf222e",
    "pending": "#57606a", "not_sent": "#57606a", "connecting": "#57606a", "closed": "#57606a",
    "SIMULATOR": "#0969da", "PRODUCTION": "#cf222e",
}
_FORMATTER = HtmlFormatter(noclasses=True, nowrap=True, style="default")


def badge(word: str, colour: str | None = None) -> str:
    """A coloured label holding `word` (escaped)."""
    shade = colour or STATE_COLOURS.get(word, "#57606a")
    return (f'<span style="background:{shade};color:#fff;border-radius:3px;padding:1px 6px;'
            f'font-family:monospace;font-size:90%">{html.escape(word)}</span>')


def json_block(title: str, data: Any, open_: bool = False) -> str:
    """`data` as highlighted, indented JSON in a collapsible block titled `title`."""
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    body = highlight(text, JsonLexer(), _FORMATTER)
    return (f'<details{" open" if open_ else ""}><summary>{html.escape(title)}</summary>'
            f'<pre style="margin:2px 0 4px 12px;line-height:1.3">{body}</pre></details>')


def target_line(target: Target | None) -> str:
    if target is None:
        return ""
    mark = badge(target.marker) if target.marker else ""
    return (f'{mark} <span style="font-family:monospace">profile {html.escape(target.profile)}'
            f", {html.escape(target.url)}, user {html.escape(target.user)}</span>")


def target_of(tracked: Tracked) -> Target | None:
    """The target of the open console whose tracker holds this very request."""
    for console in consoles():
        if console.engine.tracker.get(tracked.reference_id) is tracked:
            return console.target
    return None


def _clock(epoch: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(epoch)) + f".{int(epoch % 1 * 1000):03d}"


# -- one request ---------------------------------------------------------------------------
def tracked_text(tracked: Tracked) -> str:
    target = target_of(tracked)
    tag = f" {target.tag()}" if target else ""
    post = f", POST {tracked.post}" if tracked.post else ""
    return f"AddRecord {tracked.reference_id}{tag}: {tracked.describe()}{post}"


def tracked_html(tracked: Tracked) -> str:
    latency = "" if tracked.latency_ms is None else f" in {tracked.latency_ms:.0f} ms"
    reason = "" if tracked.state in ("acknowledged", "pending") else \
        f'<div style="margin:2px 0">{html.escape(tracked.reason)}</div>'
    http = "" if tracked.http_status is None else f", HTTP {tracked.http_status}"
    record = tracked.record
    parts = [
        f'<div class="oc-request">{badge(tracked.state)}{html.escape(latency)} '
        f'<b>AddRecord</b> <code>{html.escape(tracked.reference_id)}</code> '
        f"{html.escape(record.campaign_name)}/{html.escape(record.calling_list)} "
        f"phone {html.escape(record.phone_number)}",
        f'<div style="margin:2px 0">{target_line(target_of(tracked))}</div>',
        f'<div style="margin:2px 0;color:#57606a">POST {html.escape(tracked.post or "in flight")}'
        f"{html.escape(http)}, sent {_clock(tracked.sent_wall)}"
        f'{html.escape(", " + tracked.post_detail) if tracked.post_detail else ""}</div>',
        reason,
        json_block("request", record.body()),
    ]
    if tracked.ack is not None:
        parts.append(json_block(f"ack: {tracked.ack.notification_type or 'notification'} "
                                f"({tracked.ack.channel})", tracked.ack.data, open_=True))
    if tracked.user_event is not None:
        ud = tracked.user_event.user_data
        parts.append(json_block(f"user event: {ud.get('GSW_USER_EVENT', '?')} "
                                f"({tracked.user_event.channel})", tracked.user_event.data))
    return "".join(parts) + "</div>"


# -- events and status ---------------------------------------------------------------------
def event_kind(event: Event) -> str:
    """notificationType, or messageType when there is none (a user event)."""
    return event.notification_type or event.message_type or "?"


def event_text(event: Event) -> str:
    ref = f" {event.reference_id}" if event.reference_id else ""
    return f"Event #{event.seq} {_clock(event.received_at)} {event.channel} " \
           f"{event_kind(event)}{ref} {event.summary()}".rstrip()


def event_html(event: Event) -> str:
    kind = event_kind(event)
    colour = "#cf222e" if kind == "Error" or event.user_data.get("GSW_USER_EVENT") == "Error" \
        else "#1a7f37" if kind.endswith("Acknowledge") else "#57606a"
    ref = f' <code>{html.escape(event.reference_id)}</code>' if event.reference_id else ""
    return (f"<div>{badge(kind, colour)} #{event.seq} {_clock(event.received_at)} "
            f"<code>{html.escape(event.channel)}</code>{ref} {html.escape(event.summary())}"
            f"{json_block('data', event.data)}</div>")


def status_text(status: StreamStatus) -> str:
    text = f"stream {status.kind}"
    if status.kind == "gap" and status.gap_from is not None and status.gap_to is not None:
        text += f" {_clock(status.gap_from)}-{_clock(status.gap_to)} (events may be missing)"
    return text + (f": {status.detail}" if status.detail else "")


def status_html(status: StreamStatus) -> str:
    rest = status_text(status)[len(f"stream {status.kind}"):]
    return f"<span>stream {badge(status.kind)}{html.escape(rest)}</span>"


# -- replay --------------------------------------------------------------------------------
def result_text(result: ReplayResult) -> str:
    rows = [("target", result.target.tag()[1:-1]), ("run", result.run_id),
            *result.summary.rows()]
    width = max(len(k) for k, _ in rows)
    lines = [f"{key:<{width}}  {value}" for key, value in rows]
    lines += [f"  {n} x {reason}" for reason, n in result.summary.reasons.most_common(10)]
    lines += [f"file {path}" for path in result.files]
    return "\n".join(lines)


def result_html(result: ReplayResult) -> str:
    cells = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
                    f"<td style='text-align:left'>{html.escape(v)}</td></tr>"
                    for k, v in result.summary.rows())
    reasons = "".join(f"<li>{n} x {html.escape(r)}</li>"
                      for r, n in result.summary.reasons.most_common(10))
    files = "".join(f"<li><code>{html.escape(str(p))}</code></li>" for p in result.files)
    worst = result.worst()
    return (f'<div class="oc-replay">{badge(worst)} <b>replay {html.escape(result.run_id)}</b> '
            f"{html.escape(result.progress.line())}"
            + (f"<div>stopped: {html.escape(result.halted)}</div>" if result.halted else "")
            + f"<div>{target_line(result.target)}</div>"
            f"<table>{cells}</table>"
            + (f"<ul>{reasons}</ul>" if reasons else "")
            + (f"<div>files:</div><ul>{files}</ul>" if files else "")
            + "</div>")


# -- the console ---------------------------------------------------------------------------
def console_text(console: Console) -> str:
    status = status_text(console.status) if console.status else "stream not started"
    user = f", GWS user {console.me.user_name}" if console.me else ""
    return f"Console {console.target.describe()}{user}; {status}"


def console_html(console: Console) -> str:
    status = status_html(console.status) if console.status else "stream not started"
    devices = ", ".join(console.devices) or "none"
    return (f'<div class="oc-console"><b>outbound-console</b> {target_line(console.target)}'
            f"<div>{status}; device {html.escape(devices)}</div></div>")


def _console_of(engine: Engine) -> Console | None:
    return next((c for c in consoles() if c.engine is engine), None)


def engine_text(engine: Engine) -> str:
    """An engine opened by a console shows as that console (with its target); another one
    (built by hand) by its URL, user and stream status."""
    console = _console_of(engine)
    if console is not None:
        return console_text(console)
    status = status_text(engine.status) if engine.status else "stream not started"
    return f"Engine {engine.connection.base_url}, user {engine.connection.username}; {status}"


def engine_html(engine: Engine) -> str:
    console = _console_of(engine)
    if console is not None:
        return console_html(console)
    return f"<div>{html.escape(engine_text(engine))}</div>"


def target_text(target: Target) -> str:
    return target.describe()


def target_html(target: Target) -> str:
    return f"<div>{target_line(target)}</div>"


_RENDERERS: dict[type, tuple[Callable[[Any], str], Callable[[Any], str]]] = {
    Tracked: (tracked_html, tracked_text),
    Event: (event_html, event_text),
    StreamStatus: (status_html, status_text),
    ReplayResult: (result_html, result_text),
    Console: (console_html, console_text),
    Engine: (engine_html, engine_text),
    Target: (target_html, target_text),
}


def _renderers(obj: Any) -> tuple[Callable[[Any], str], Callable[[Any], str]]:
    for kind, pair in _RENDERERS.items():
        if isinstance(obj, kind):
            return pair
    raise TypeError(f"no notebook display for {type(obj).__name__}; displayable: "
                    + ", ".join(k.__name__ for k in _RENDERERS))


def html_of(obj: Any) -> str:
    """The HTML display of a request, event, status, replay result, console or target."""
    return _renderers(obj)[0](obj)


def text_of(obj: Any) -> str:
    """Its plain-text display (IPython's terminal, `print(rich(obj))`)."""
    return _renderers(obj)[1](obj)


class Rich:
    """Any displayable object, with the display methods Jupyter looks for."""

    def __init__(self, obj: Any) -> None:
        _renderers(obj)  # TypeError now, not when displayed
        self.obj = obj

    def _repr_html_(self) -> str:
        return html_of(self.obj)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(text_of(self.obj))

    def __repr__(self) -> str:
        return text_of(self.obj)


def rich(obj: Any) -> Rich:
    """`obj` wrapped for display (where `register()` could not run)."""
    return Rich(obj)


def register(shell: Any | None = None) -> bool:
    """Add the HTML and text displays to IPython's formatters (the running shell, or
    `shell`); False when there is no IPython."""
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return False
        shell = get_ipython()
        if shell is None:
            return False
    formatters = shell.display_formatter.formatters
    for kind, (as_html, as_text) in _RENDERERS.items():
        formatters["text/html"].for_type(kind, as_html)
        formatters["text/plain"].for_type(
            kind, lambda obj, printer, cycle, _text=as_text: printer.text(_text(obj)))
    return True
