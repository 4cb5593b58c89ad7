"""Headless commands over the application layer: `send`, `watch`, `profiles`."""

from __future__ import annotations

import asyncio
import codecs
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from console.app.heap import resume_collection
from console.app.target import ResolvedTarget, Target, TargetOptions, resolve_target
from console.cli.exit_codes import (
    EXIT_ACK,
    EXIT_ERROR_NOTIFICATION,
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    EXIT_NO_ANSWER,
    EXIT_REFUSED,
    EXIT_UNKNOWN,
    EXIT_UNREACHABLE,
)
from console.cli.numbers import Above
from console.cli.options import (
    TargetProblem,
    given_on_command_line,
    profiles_dir_of,
    target_options,
    with_target,
)
from console.cli.process import exit_now
from console.cli.repeats import refuse_repeated_names
from console.cli.terminal_text import terminal_safe
from console.domain.events import Event, StreamStatus
from console.domain.journal import JournalError
from console.errors import ConsoleError, DuplicateReference, ProfileError, RecordInvalid
from console.profiles import list_profiles, search_path

if TYPE_CHECKING:
    from console.domain.correlation import Tracked
    from console.domain.model import AddRecord
    from console.gws.engine import Engine

__all__ = ["send", "watch", "profiles", "terminal_password", "Printer", "with_target",
           "parse_sets", "ended_by_ctrl_c", "NO_PASSWORD_TYPED"]

NO_PASSWORD_TYPED = ("no password given (the prompt ended with Ctrl-D): nothing was sent; "
                     "type it, or set OUTBOUND_CONSOLE_PASSWORD")


def terminal_password(label: str) -> str:
    """Ask on the terminal (nothing echoed); ProfileError saying what to set without one, or
    when the prompt ends with Ctrl-D (exit 6); KeyboardInterrupt on Ctrl-C (exit 130)."""
    if not sys.stdin.isatty():
        raise ProfileError("no password: set OUTBOUND_CONSOLE_PASSWORD (stdin is not a terminal)")
    try:
        return str(click.prompt(label, hide_input=True, err=True))
    except click.Abort as exc:  # click's "Aborted!", exit 1, fits no row of the table
        if ended_by_ctrl_c(exc):
            raise KeyboardInterrupt from None
        raise ProfileError(NO_PASSWORD_TYPED) from None


def ended_by_ctrl_c(abort: click.Abort) -> bool:
    """click's prompts end alike on Ctrl-C and on Ctrl-D (end of input): which it was."""
    return isinstance(abort.__context__, KeyboardInterrupt)


def parse_sets(sets: tuple[str, ...], json_values: bool = False) -> dict[str, Any]:
    """`--set name=value` pairs (UsageError for a malformed one, or a name given twice with
    different values)."""
    refuse_repeated_names("--set", sets)
    values: dict[str, Any] = {}
    for item in sets:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.UsageError(f"--set takes name=value (e.g. phoneNumber=5551234), "
                                   f"got {item!r}")
        values[key.strip()] = _scalar(key.strip(), value) if json_values else value
    return values


def _scalar(key: str, value: str) -> Any:
    """`--set otherFields={"a": 1}` as JSON; everything else stays text (the model converts)."""
    stripped = value.strip()
    if stripped.startswith(("{", "[")):
        try:
            return json.loads(stripped)
        except ValueError:
            return value
        except RecursionError:  # the decoder recurses once per level
            raise click.UsageError(f"--set {key}=...: the JSON value is nested too deeply; "
                                   "flatten it") from None
    return value


def _json_escape(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: what the output's encoding cannot carry (a lone surrogate from a
    `\\ud800` escape in event data, or any character on a non-UTF-8 terminal) is written as
    its JSON escape, which keeps a --json line valid JSON and a human line readable."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    return json.dumps(exc.object[exc.start:exc.end])[1:-1], exc.end


_ESCAPE = "outbound-console-json-escape"
codecs.register_error(_ESCAPE, _json_escape)


def _escape_unencodable() -> None:
    """Make stdout and stderr escape what they cannot encode instead of raising (an event's
    text must never end `watch` or `send` in a traceback)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors=_ESCAPE)


class Printer:
    """Human lines (the target named at the start and in every verdict), or one JSON object
    per line with --json, each carrying the target."""

    def __init__(self, as_json: bool) -> None:
        _escape_unencodable()
        self.as_json = as_json
        self.target: Target | None = None
        self._target_json = "null"
        self._announced: Target | None = None

    def set_target(self, target: Target, announce: bool = True) -> None:
        """From now on, every line names `target`; a human run says it once on stderr."""
        self.target = target
        self._target_json = json.dumps(target.as_json(), ensure_ascii=False)
        if announce and not self.as_json and self._announced != target:
            self._announced = target
            click.echo(terminal_safe(target.describe()), err=True)

    def target_failed(self, message: str) -> None:
        """A failure to open the target: said after the `target:` line (printed now if it was
        not yet), so that the error never leaves the server in doubt."""
        if self.target is not None:
            self.set_target(self.target)
        self.note("error", message)

    @property
    def tag(self) -> str:
        return f" {self.target.tag()}" if self.target is not None else ""

    def json_line(self, line: str) -> str:
        """A JSON object's text with the target added (the event hot path stays one encode)."""
        return line[:-1] + f', "target": {self._target_json}}}'

    def emit(self, obj: dict[str, Any], text: str, err: bool = False) -> None:
        if self.as_json:
            click.echo(self.json_line(json.dumps(obj, ensure_ascii=False, default=str)))
        else:
            click.echo(terminal_safe(text), err=err)  # server text never drives the terminal

    def note(self, kind: str, text: str, **extra: Any) -> None:
        self.emit({"type": kind, "message": text, **extra}, f"{kind}: {text}",
                  err=kind in ("error", "invalid", "warning"))

    def http(self, tracked: Tracked) -> None:
        ref = tracked.reference_id
        if tracked.state == "failed" and tracked.post in ("refused", "not_delivered"):
            text = f"POST AddRecord {ref}{self.tag}: failed: {tracked.reason}"
        elif tracked.post == "unknown":
            text = (f"POST AddRecord {ref}{self.tag}: outcome unknown: {tracked.post_detail}; "
                    "waiting for its acknowledgement")
        else:
            text = f"POST AddRecord {ref}{self.tag}: HTTP {tracked.http_status} statusCode 0"
        self.emit({"type": "http", **tracked.verdict()}, text)

    def event(self, event: Event) -> None:
        text = (f"  {event.channel} {event.message_type or ''} "
                f"{event.notification_type or ''} {event.summary()}").rstrip()
        self.emit(event.as_json(), text)

    def status(self, status: StreamStatus) -> None:
        self.emit(status.as_json(), f"stream {status.kind}: {status.detail}", err=True)

    def verdict(self, tracked: Tracked) -> None:
        self.emit({"type": "verdict", **tracked.verdict()},
                  f"{tracked.reference_id}: {tracked.describe()}{self.tag}")

    def fail(self, message: str, code: int) -> NoReturn:
        self.note("invalid" if code == EXIT_INVALID else "error", message)
        sys.exit(code)


def resolve_or_exit(options: TargetOptions | ResolvedTarget, out: Printer,
                    need_password: bool = True) -> ResolvedTarget:
    """The target (and its password), or exit 6 with the reason (the same code for every
    command). Given a ResolvedTarget, only the password is taken. Without a password, the
    error follows the `target:` line."""
    try:
        resolved = options if isinstance(options, ResolvedTarget) else resolve_target(
            options, need_password=False)
    except ProfileError as exc:
        out.fail(str(exc), EXIT_UNREACHABLE)
    if not need_password:
        return resolved
    try:  # no terminal: no prompt, and the error names the profile's variable
        return resolved.with_password(
            prompt=terminal_password if sys.stdin.isatty() else None)
    except ProfileError as exc:
        out.set_target(resolved.target, announce=False)
        out.target_failed(str(exc))
        sys.exit(EXIT_UNREACHABLE)
    except KeyboardInterrupt:  # Ctrl-C at the password prompt
        sys.exit(_nothing_sent(out))


@click.command()
@with_target
@click.option("--template", "-t", metavar="TEMPLATE",
              help="A request template: a file (or a flat YAML map of fields), campaign/list/"
              "name, or a name (yours first, then the shipped examples).")
@click.option("--set", "sets", multiple=True, metavar="FIELD=VALUE",
              help="Set a field or a template placeholder, e.g. --set phoneNumber=5551234 "
              "(repeatable; a name nothing uses is refused).")
@click.option("--no-wait", is_flag=True, help="Return after the HTTP reply.")
@click.option("--timeout", default=10.0, show_default=True, type=Above(0),
              help="Seconds to wait for the acknowledgement (not with --no-wait).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_context
def send(ctx: click.Context, profile_name: str | None, profiles_dir: Path | None,
         url: str | None, user: str | None, journal_path: Path | None, template: str | None,
         sets: tuple[str, ...], no_wait: bool, timeout: float, as_json: bool) -> None:
    """Send one AddRecord and report what GWS answered.

    \b
    Exit codes: 0 acknowledged, 2 invalid input, 3 refused by GWS, 4 error notification,
    5 no answer, 6 GWS unreachable (nothing delivered) or profile problem,
    7 unknown (sent, outcome not seen: it may have been accepted; check before re-sending),
    130 stopped by Ctrl-C (its verdict printed: unknown once the POST was sent).
    """
    from console.app.send import STAND_IN_DEVICE, check_fields, request_fields

    options = target_options(ctx, profile_name, profiles_dir, url, user, journal_path)
    if no_wait and given_on_command_line(ctx, "timeout"):
        raise click.UsageError("--timeout is how long to wait for the acknowledgement; "
                               "--no-wait does not wait: give one of them")
    values = parse_sets(sets, json_values=True)  # malformed or contradictory: before all else
    out = Printer(as_json)
    resolved = resolve_or_exit(options, out, need_password=False)  # the target first
    out.set_target(resolved.target, announce=False)
    source: str | None = None
    try:
        loaded = None
        if template is not None:  # templates (and YAML) only for a send that has one
            from console.domain.templates import (
                load_template,
                resolve_template,
                template_dirs,
            )

            path = resolve_template(template, template_dirs(search_path(options.profiles_dir)))
            loaded, source = load_template(path), str(path)
        fields = request_fields(loaded, values)
        check_fields(fields, source, STAND_IN_DEVICE)
    except ConsoleError as exc:  # RecordInvalid or TemplateError: the input, said how
        out.fail(str(exc), EXIT_INVALID)
    resolved = resolve_or_exit(resolved, out)  # the password once the input is known good
    try:
        code = asyncio.run(_send(resolved, fields, no_wait, timeout, out, source))
    except KeyboardInterrupt:
        # Only when SIGINT is ignored (a script's background job) and SIGTERM stopped it
        # (console.cli.process): the verdict or "nothing sent" is printed already.
        code = EXIT_INTERRUPTED
    exit_now(code)


async def _send(resolved: ResolvedTarget, fields: dict[str, Any], no_wait: bool,
                timeout: float, out: Printer, source: str | None) -> int:
    from console.app.target import open_target
    from console.domain.model import AddRecord

    try:
        opened = await open_target(resolved, ack_timeout_s=timeout, stream=not no_wait,
                                   start=False)
    except ConsoleError as exc:
        out.target_failed(str(exc))
        return EXIT_UNREACHABLE
    except asyncio.CancelledError:  # Ctrl-C while starting the simulator: nothing was sent
        _uncancel()
        return _nothing_sent(out)
    record: AddRecord | None = None
    try:
        async with opened:
            out.set_target(opened.target)  # before logging in: a failure names the server
            engine = opened.engine
            try:
                await engine.open()
            except ConsoleError as exc:
                out.target_failed(str(exc))
                return EXIT_UNREACHABLE
            except asyncio.CancelledError:  # Ctrl-C while logging in: nothing was sent
                _uncancel()
                return _nothing_sent(out)
            resume_collection()  # the imports are done (console.app.heap)
            assert engine.me is not None
            for warning in engine.me.warnings:
                out.note("warning", warning)
            fields.setdefault("devicePath", engine.session.device_path)
            try:
                record = AddRecord.parse(fields, source)
            except RecordInvalid as exc:
                out.note("invalid", str(exc), problems=[str(p) for p in exc.problems])
                return EXIT_INVALID
            try:
                return await _send_one(engine, record, no_wait, timeout, out)
            except asyncio.CancelledError:
                # Ctrl-C: a verdict all the same, never "refused": the POST may have reached
                # GWS, or its acknowledgement may still come (the journal gets it too).
                _uncancel()
                tracked = engine.tracker.get(record.reference_id)
                if tracked is None:
                    return _nothing_sent(out)
                engine.stop_waiting(tracked, "stopped by Ctrl-C")
                out.verdict(tracked)
                return EXIT_INTERRUPTED
    except JournalError as exc:  # a full disk mid-send: said, not a traceback
        return _journal_failed(opened.engine, record, exc, out)


def _journal_failed(engine: Engine, record: AddRecord | None, exc: Exception,
                    out: Printer) -> int:
    """The journal stopped taking lines: nothing sent (6), or the record's verdict as far as
    it is known (unknown while it waits: the POST left, 7), its lines maybe not journaled."""
    tracked = engine.tracker.get(record.reference_id) if record is not None else None
    if tracked is None or tracked.post is None:  # its request line comes before its POST
        out.note("error", f"{exc}. Nothing was sent{out.tag}")
        return EXIT_UNREACHABLE
    out.note("error", f"{exc}. The journal may lack the lines of {tracked.reference_id}"
             f"{out.tag}")
    if tracked.state == "pending":
        out.emit({"type": "verdict", **tracked.verdict(), "state": "unknown"},
                 f"{tracked.reference_id}: unknown: no verdict yet when the journal stopped; "
                 f"it may have been accepted by GWS: check before re-sending{out.tag}")
        return EXIT_UNKNOWN
    out.verdict(tracked)
    return _exit_for(tracked)


def _nothing_sent(out: Printer) -> int:
    """Ctrl-C before the POST left: said with the target; exit 130."""
    out.note("interrupted", f"stopped before sending: nothing was sent{out.tag}")
    return EXIT_INTERRUPTED


def _uncancel() -> None:
    """The Ctrl-C that cancelled this task is handled: later timeouts (closing the engine)
    work as usual, and asyncio.run returns the exit code instead of raising."""
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()


async def _send_one(engine: Engine, record: AddRecord, no_wait: bool, timeout: float,
                    out: Printer) -> int:
    """POST `record`, print what comes back, and the exit code of its verdict."""
    trailed = asyncio.Event()  # the user event that trails the ack was printed
    feed = asyncio.get_running_loop().create_task(_echo(engine, record, out, trailed))
    try:
        try:
            tracked = await engine.send(record)
        except DuplicateReference as exc:  # nothing was sent
            out.note("invalid", str(exc))
            return EXIT_INVALID
        out.http(tracked)
        if tracked.state == "failed" and tracked.post in ("refused", "not_delivered"):
            if out.as_json:  # every outcome ends with its verdict line (scripts filter on it)
                out.verdict(tracked)
            return _exit_for(tracked)
        # OCS's Error may overtake the HTTP reply: then it is the verdict, printed below.
        if no_wait and tracked.post != "unknown" and tracked.state != "failed":
            return EXIT_ACK
        if not no_wait:
            await engine.wait(tracked, timeout)
            try:  # let the user event that trails the ack print (GWS sends it right after)
                async with asyncio.timeout(0.05):
                    await trailed.wait()
            except TimeoutError:
                pass
    finally:
        feed.cancel()
    if tracked.state == "pending":  # --no-wait on an unknown POST: it stays unknown
        out.emit({"type": "verdict", **tracked.verdict(), "state": "unknown"},
                 f"{tracked.reference_id}: unknown: {tracked.post_detail}{out.tag}")
        return EXIT_UNKNOWN
    out.verdict(tracked)
    return _exit_for(tracked)


async def _echo(engine: Engine, record: AddRecord, out: Printer, trailed: asyncio.Event
                ) -> None:
    async for item in engine.items():
        if isinstance(item, Event):
            tracked = engine.tracker.get(record.reference_id)
            if tracked is not None and item in (tracked.ack, tracked.user_event):
                out.event(item)
                if item is tracked.user_event:
                    trailed.set()
        elif item.kind != "connected":
            out.status(item)


def _exit_for(tracked: Tracked) -> int:
    if tracked.state == "acknowledged":
        return EXIT_ACK
    if tracked.state == "no_answer":
        return EXIT_NO_ANSWER
    if tracked.state == "unknown":
        return EXIT_UNKNOWN
    if tracked.post == "not_delivered":
        return EXIT_UNREACHABLE
    if tracked.post in ("accepted", "unknown"):  # then an Error notification failed it
        return EXIT_ERROR_NOTIFICATION
    return EXIT_REFUSED


@click.command()
@with_target
@click.option("--channel", "-c", "channels", multiple=True,
              help="Channel to subscribe to (repeatable; default: the profile's).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line (for jq).")
@click.pass_context
def watch(ctx: click.Context, profile_name: str | None, profiles_dir: Path | None,
          url: str | None, user: str | None, journal_path: Path | None,
          channels: tuple[str, ...], as_json: bool) -> None:
    """Print every notification as it arrives, until Ctrl-C (reconnects by itself)."""
    options = target_options(ctx, profile_name, profiles_dir, url, user, journal_path)
    out = Printer(as_json)
    resolved = resolve_or_exit(options, out)
    out.set_target(resolved.target, announce=False)
    try:
        sys.exit(asyncio.run(_watch(resolved, channels or None, out)))
    except KeyboardInterrupt:  # Ctrl-C, SIGTERM, SIGHUP (console.cli.process)
        sys.exit(EXIT_INTERRUPTED)


async def _watch(resolved: ResolvedTarget, channels: tuple[str, ...] | None,
                 out: Printer) -> int:
    from console.app.target import open_target

    writer = _StdoutWriter(out)
    try:
        opened = await open_target(resolved, channels=channels, start=False,
                                   on_item=writer.write)
        out.set_target(opened.target)
        async with opened:
            await opened.engine.open(wait_connected_s=0)
            resume_collection()  # the imports are done (console.app.heap)
            failed = asyncio.ensure_future(opened.engine.until_stream_failed())
            gone = asyncio.ensure_future(writer.reader_gone.wait())
            await asyncio.wait([failed, gone], return_when=asyncio.FIRST_COMPLETED)  # or ^C
            for waiter in (failed, gone):
                waiter.cancel()
            if failed.done() and not failed.cancelled():
                return EXIT_UNREACHABLE  # the stream stopped for good: its status said why
    except ConsoleError as exc:
        out.target_failed(str(exc))
        return EXIT_UNREACHABLE
    return 0


class _StdoutWriter:
    """Writes each event as it comes; flushes once per burst, not once per line."""

    def __init__(self, out: Printer) -> None:
        self.out = out
        self.stdout = sys.stdout
        self.flush_pending = False
        self.reader_gone = asyncio.Event()

    def write(self, item: Event | StreamStatus) -> None:
        if isinstance(item, Event):
            line = self.out.json_line(item.json_line()) if self.out.as_json \
                else _event_line(item)
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
@click.option("--profiles", "profiles_dir", type=click.Path(path_type=Path, file_okay=False),
              help="Directory searched first for profiles.")
@click.pass_context
def profiles_list(ctx: click.Context, profiles_dir: Path | None) -> None:
    """Profiles on the search path, with their environment (PRODUCTION, SIMULATOR...)."""
    for item in list_profiles(search_path(profiles_dir_of(ctx, profiles_dir))):
        if isinstance(item, ProfileError):
            click.echo(terminal_safe(f"! {item}"))
        else:
            where = item.url or "embedded simulator"
            mark = "SIMULATOR" if item.simulator else (
                "PRODUCTION" if item.production else item.environment.upper() or "-")
            click.echo(terminal_safe(f"{item.name:<20} {mark:<11} {where:<40} "
                                     f"{item.username or ''}"))


@profiles.command("show")
@click.argument("name")
@click.option("--profiles", "profiles_dir", type=click.Path(path_type=Path, file_okay=False),
              help="Directory searched first for profiles.")
@click.pass_context
def profiles_show(ctx: click.Context, name: str, profiles_dir: Path | None) -> None:
    """One profile, as the console will use it."""
    from console.app.target import choose_profile

    try:
        profile = choose_profile(name, profiles_dir_of(ctx, profiles_dir), None, None)
    except ProfileError as exc:
        raise TargetProblem(str(exc)) from None
    for key, value in profile.describe().items():
        click.echo(terminal_safe(f"{key}: {value}"))  # a profile's text, as it was typed
