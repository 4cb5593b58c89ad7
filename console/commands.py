"""Headless commands over the engine: `send`, `watch`, `profiles`."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from console.correlation import Tracked
from console.engine import Engine
from console.errors import ConsoleError, ProfileError, RecordInvalid
from console.events import Event, StreamStatus
from console.journal import Journal
from console.model import AddRecord
from console.profiles import list_profiles, search_path
from console.target import choose_profile, open_connection
from console.templates import TemplateError, load_template

__all__ = ["send", "watch", "profiles"]

EXIT_ACK = 0
EXIT_INVALID = 2
EXIT_REFUSED = 3
EXIT_ERROR_NOTIFICATION = 4
EXIT_NO_ANSWER = 5
EXIT_UNREACHABLE = 6

target_options = [
    click.option("--profile", "-p", "profile_name", help="Profile name (default: demo, the "
                 "embedded simulator)."),
    click.option("--profiles", "profiles_dir", type=click.Path(path_type=Path, file_okay=False),
                 help="Directory searched first for profiles."),
    click.option("--url", help="GWS base URL (overrides the profile)."),
    click.option("--user", help="GWS user (overrides the profile)."),
    click.option("--journal", "journal_path", type=click.Path(path_type=Path, dir_okay=False),
                 help="Journal file (default: one per day in the user state dir)."),
]


def with_target(func: Any) -> Any:
    for option in reversed(target_options):
        func = option(func)
    return func


def _prompt(label: str) -> str:
    if not sys.stdin.isatty():
        raise ProfileError("no password: set OUTBOUND_CONSOLE_PASSWORD (stdin is not a terminal)")
    return str(click.prompt(label, hide_input=True))


def _fields_from(template: Path | None, sets: tuple[str, ...]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for item in sets:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.UsageError(f"--set takes field=value (e.g. phoneNumber=5551234), got {item!r}")
        values[key.strip()] = _scalar(value)
    if template is None:
        return values
    try:
        # --set gives placeholder values and overrides fields of the same name.
        return load_template(template).render(values)
    except TemplateError as exc:
        raise RecordInvalid([], str(exc)) from None


def _scalar(value: str) -> Any:
    """`--set otherFields={"a": 1}` as JSON; everything else stays text (the model converts)."""
    stripped = value.strip()
    if stripped.startswith(("{", "[")):
        try:
            return json.loads(stripped)
        except ValueError:
            return value
    return value


@click.command()
@with_target
@click.option("--template", "-t", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="A request template file (see `templates`), or a flat YAML map of fields.")
@click.option("--set", "sets", multiple=True, metavar="FIELD=VALUE",
              help="Set a field, e.g. --set phoneNumber=5551234 --set from=08:00 (repeatable).")
@click.option("--no-wait", is_flag=True, help="Return after the HTTP reply.")
@click.option("--timeout", default=10.0, show_default=True, type=float,
              help="Seconds to wait for the acknowledgement.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def send(profile_name: str | None, profiles_dir: Path | None, url: str | None, user: str | None,
         journal_path: Path | None, template: Path | None, sets: tuple[str, ...], no_wait: bool,
         timeout: float, as_json: bool) -> None:
    """Send one AddRecord and report what GWS answered.

    \b
    Exit codes: 0 acknowledged, 2 invalid input, 3 HTTP/statusCode failure,
    4 error notification, 5 no answer, 6 GWS unreachable or profile problem.
    """
    try:
        profile = choose_profile(profile_name, profiles_dir, url, user)
        fields = _fields_from(template, sets)
    except RecordInvalid as exc:
        _fail(str(exc.source or exc), EXIT_INVALID, as_json)
    except ProfileError as exc:
        _fail(str(exc), EXIT_UNREACHABLE, as_json)
    code = asyncio.run(_send(profile, fields, journal_path, no_wait, timeout, as_json,
                             str(template) if template else None))
    sys.exit(code)


async def _send(profile: Any, fields: dict[str, Any], journal_path: Path | None, no_wait: bool,
                timeout: float, as_json: bool, source: str | None) -> int:
    out = _Printer(as_json)
    try:
        async with open_connection(profile, _prompt) as connection:
            journal = Journal(path=journal_path, secrets=(connection.password.reveal(),))
            engine = Engine(connection, journal=journal, ack_timeout_s=timeout,
                            stream=not no_wait)
            try:
                await engine.open()
                assert engine.me is not None
                for warning in engine.me.warnings:
                    out.note("warning", warning)
                fields.setdefault("devicePath", engine.session.device_path)
                try:
                    record = AddRecord.parse(fields, source)
                except RecordInvalid as exc:
                    out.note("invalid", str(exc), problems=[str(p) for p in exc.problems])
                    return EXIT_INVALID
                feed = asyncio.get_running_loop().create_task(_echo(engine, record, out))
                tracked = await engine.send(record)
                out.http(tracked, connection.simulator)
                if tracked.state == "failed":
                    feed.cancel()
                    return _exit_for(tracked)  # an Error notification may beat the HTTP reply
                if no_wait:
                    feed.cancel()
                    return EXIT_ACK
                await engine.wait(tracked, timeout)
                await asyncio.sleep(0.05)  # let the user event that trails the ack print
                feed.cancel()
                out.verdict(tracked)
                return _exit_for(tracked)
            finally:
                await engine.close()
    except ProfileError as exc:
        out.note("error", str(exc))
        return EXIT_UNREACHABLE
    except ConsoleError as exc:
        out.note("error", str(exc))
        return EXIT_UNREACHABLE


async def _echo(engine: Engine, record: AddRecord, out: _Printer) -> None:
    async for item in engine.items():
        if isinstance(item, Event):
            tracked = engine.tracker.get(record.reference_id)
            if tracked is not None and item in (tracked.ack, tracked.user_event):
                out.event(item)
        elif item.kind != "connected":
            out.status(item)


def _exit_for(tracked: Tracked) -> int:
    if tracked.state == "acknowledged":
        return EXIT_ACK
    if tracked.state == "no_answer":
        return EXIT_NO_ANSWER
    if tracked.ack is not None or tracked.user_event is not None:
        return EXIT_ERROR_NOTIFICATION
    return EXIT_REFUSED


class _Printer:
    """Human lines, or one JSON object per line with --json."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    def _emit(self, obj: dict[str, Any], text: str, err: bool = False) -> None:
        if self.as_json:
            click.echo(json.dumps(obj, ensure_ascii=False, default=str))
        else:
            click.echo(text, err=err)

    def note(self, kind: str, text: str, **extra: Any) -> None:
        self._emit({"type": kind, "message": text, **extra}, f"{kind}: {text}",
                   err=kind in ("error", "invalid", "warning"))

    def http(self, tracked: Tracked, simulator: bool) -> None:
        where = " [SIMULATOR]" if simulator else ""
        if tracked.state == "failed":
            text = f"POST AddRecord {tracked.reference_id}{where}: {tracked.reason}"
        else:
            text = (f"POST AddRecord {tracked.reference_id}{where}: HTTP "
                    f"{tracked.http_status} statusCode 0")
        self._emit({"type": "http", **tracked.verdict()}, text)

    def event(self, event: Event) -> None:
        text = (f"  {event.channel} {event.message_type or ''} "
                f"{event.notification_type or ''} {event.summary()}").rstrip()
        self._emit(event.as_json(), text)

    def status(self, status: StreamStatus) -> None:
        self._emit(status.as_json(), f"stream {status.kind}: {status.detail}", err=True)

    def verdict(self, tracked: Tracked) -> None:
        self._emit({"type": "verdict", **tracked.verdict()},
                   f"{tracked.reference_id}: {tracked.describe()}")


def _fail(message: str, code: int, as_json: bool) -> None:
    _Printer(as_json).note("error" if code != EXIT_INVALID else "invalid", message)
    sys.exit(code)


@click.command()
@with_target
@click.option("--channel", "-c", "channels", multiple=True,
              help="Channel to subscribe to (repeatable; default: the profile's).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line (for jq).")
def watch(profile_name: str | None, profiles_dir: Path | None, url: str | None,
          user: str | None, journal_path: Path | None, channels: tuple[str, ...],
          as_json: bool) -> None:
    """Print every notification as it arrives, until Ctrl-C (reconnects by itself)."""
    try:
        profile = choose_profile(profile_name, profiles_dir, url, user)
    except ProfileError as exc:
        _fail(str(exc), EXIT_UNREACHABLE, as_json)
    try:
        sys.exit(asyncio.run(_watch(profile, journal_path, channels or None, as_json)))
    except KeyboardInterrupt:
        sys.exit(0)


async def _watch(profile: Any, journal_path: Path | None, channels: tuple[str, ...] | None,
                 as_json: bool) -> int:
    out = _Printer(as_json)
    try:
        async with open_connection(profile, _prompt) as connection:
            journal = Journal(path=journal_path, secrets=(connection.password.reveal(),))
            engine = Engine(connection, journal=journal, channels=channels)
            writer = _StdoutWriter(out)
            engine.on_item(writer.write)
            try:
                await engine.open(wait_connected_s=0)
                failed = asyncio.ensure_future(engine.until_stream_failed())
                gone = asyncio.ensure_future(writer.reader_gone.wait())
                await asyncio.wait([failed, gone], return_when=asyncio.FIRST_COMPLETED)  # or ^C
                for waiter in (failed, gone):
                    waiter.cancel()
                if failed.done() and not failed.cancelled():
                    return EXIT_UNREACHABLE  # the stream stopped for good: its status said why
            finally:
                await engine.close()
    except ConsoleError as exc:
        out.note("error", str(exc))
        return EXIT_UNREACHABLE
    return 0


class _StdoutWriter:
    """Writes each event as it comes; flushes once per burst, not once per line."""

    def __init__(self, out: _Printer) -> None:
        self.out = out
        self.stdout = sys.stdout
        self.flush_pending = False
        self.reader_gone = asyncio.Event()

    def write(self, item: Event | StreamStatus) -> None:
        if isinstance(item, Event):
            line = item.json_line() if self.out.as_json else _event_line(item)
            self.stdout.write(line + "\n")
            if not self.flush_pending:
                self.flush_pending = True
                asyncio.get_running_loop().call_soon(self._flush)
        else:
            self._flush()
            self.out.status(item)

    def _flush(self) -> None:
        self.flush_pending = False
        try:
            self.stdout.flush()
        except BrokenPipeError:  # `watch | head`: the reader is gone, stop quietly
            self.reader_gone.set()


def _event_line(event: Event) -> str:
    clock = time.strftime("%H:%M:%S", time.localtime(event.received_at))
    return (f"{clock} {event.channel} {event.message_type or '-'} "
            f"{event.notification_type or '-'} ref={event.reference_id or '-'} "
            f"{event.summary()}").rstrip()


@click.group()
def profiles() -> None:
    """List and show profiles (secrets are never shown: profiles hold none)."""


@profiles.command("list")
@click.option("--profiles", "profiles_dir", type=click.Path(path_type=Path, file_okay=False))
def profiles_list(profiles_dir: Path | None) -> None:
    """Profiles on the search path."""
    for item in list_profiles(search_path(profiles_dir)):
        if isinstance(item, ProfileError):
            click.echo(f"! {item}")
        else:
            target = item.url or "embedded simulator"
            click.echo(f"{item.name:<20} {target:<40} {item.username or ''}")


@profiles.command("show")
@click.argument("name")
@click.option("--profiles", "profiles_dir", type=click.Path(path_type=Path, file_okay=False))
def profiles_show(name: str, profiles_dir: Path | None) -> None:
    """One profile, as the console will use it."""
    try:
        profile = choose_profile(name, profiles_dir, None, None)
    except ProfileError as exc:
        raise click.ClickException(str(exc)) from None
    for key, value in profile.describe().items():
        click.echo(f"{key}: {value}")
