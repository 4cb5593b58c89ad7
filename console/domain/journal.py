"""The journal: every request, response, event and verdict as one JSON line.

One file per day under the user state dir (`--journal PATH` overrides). Secrets never get in:
keys that name credentials are replaced by "[redacted]" at any depth, before writing, and the
password is cut from every line (as typed and as JSON escapes it). Every line carries the
target. Writing never raises into the engine for what it was given: text UTF-8 cannot carry
(a lone surrogate) is written as its JSON escape, and an unencodable value as its `str()`.

When a line reaches the disk (an unbuffered `os.write`, after which a `kill -9` of this
process cannot lose it):
- `write` (session, request, response, verdict, status, replay lines...): before it returns,
  together with any event lines still waiting, in order. A request line is on disk before its
  POST is sent; a verdict before anything else happens.
- `write_event`: event lines that arrive while the event loop is busy handing out one reply
  of the stream wait for the loop's next turn (at most `_BATCH` lines), then go out in one
  write. A `kill -9` can lose only those: events this process had taken in but not yet passed
  back to the loop (the stream hands out at most 64 before it lets the loop turn, so this is
  the last few milliseconds). `close()`, the next `write`, and the interpreter's exit (clean,
  Ctrl-C, an exception) write them. Outside a running event loop each line is written at once.

Cost (bench/journal.py): the search for credential keys skips, in C, the keys of every dict
whose keys are all known safe; the secret-key decision is cached per key name (keys repeat);
the JSON encoder is built once (console.domain.jsontext); the timestamp is made once per
millisecond, its seconds part once per second; the target is encoded once, an event's data
once (`Event.data_json`, shared with `watch --json`); the event lines of a turn share a write.
"""

from __future__ import annotations

import asyncio
import atexit
import datetime as dt
import json
import os
import re
import time
import weakref
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from console.domain.events import Event

import platformdirs

from console.domain.jsontext import make_encoder, quote
from console.errors import ConsoleError

__all__ = ["Journal", "JournalError", "default_journal_dir", "redact", "has_secret_key",
           "secret_key", "flush_all", "REDACTED"]

_SECRET_KEY = re.compile(r"pass(word)?|secret|token|authorization|cookie|credential|api[-_]?key",
                         re.IGNORECASE)
#: What a secret (or the value of a credential-looking key) is replaced by in a line.
REDACTED = "[redacted]"
_REDACTED = REDACTED
# Key name -> names a credential. Keys repeat (GWS sends the same few dozen), so the regex
# runs once per distinct name; bounded so a stream of random keys cannot grow it forever.
_KEY_CACHE: dict[str, bool] = {}
_KEY_CACHE_MAX = 4096
# The names known not to name a credential: a dict whose keys are all in it is cleared with
# one set operation in C (`issuperset`), not a Python loop over its keys.
_SAFE_KEYS: set[str] = set()
# What can hold a key deeper down (JSON writes a tuple as a list).
_CONTAINERS = (dict, list, tuple)
# Fields of our own that a line always has; a caller's field of the same name is kept as `_x`.
_OWN = frozenset({"ts", "kind", "target"})
_encode = make_encoder(default=str)
_quote = quote
# Event lines waiting for the event loop's next turn: at most this many.
_BATCH = 256
# The fraction part of every timestamp, made once: ".000+00:00" ... ".999+00:00".
_MILLIS = tuple(f".{n:03d}+00:00" for n in range(1000))
_CONTROL = re.compile("[\x00-\x1f]")


class JournalError(ConsoleError, OSError):
    """The journal file cannot be opened or written (a full disk, a read-only file, a
    directory): said with the file and the fix, never a traceback. Still an OSError with the
    failed write's errno."""

    def __init__(self, message: str, cause: OSError) -> None:
        super().__init__(message)
        self.errno = cause.errno

    def __str__(self) -> str:
        return str(self.args[0])  # the message, not OSError's "[Errno N] ..."


def default_journal_dir() -> Path:
    return Path(platformdirs.user_state_dir("outbound-console")) / "journal"


def secret_key(key: object) -> bool:
    """Does `key` name a credential (password, secret, token, authorization, cookie,
    credential, api key; any case, anywhere in the name)?"""
    if not isinstance(key, str):
        return False
    known = _KEY_CACHE.get(key)
    if known is None:
        known = _SECRET_KEY.search(key) is not None
        if len(_KEY_CACHE) >= _KEY_CACHE_MAX:
            _KEY_CACHE.clear()
            _SAFE_KEYS.clear()
        _KEY_CACHE[key] = known
        if not known:
            _SAFE_KEYS.add(key)
    return known


def has_secret_key(value: Any) -> bool:
    """True when some key, at any depth, names a credential (then `redact` must copy)."""
    if isinstance(value, dict):
        if not _SAFE_KEYS.issuperset(value):  # the common case skips this loop
            for key in value:
                if secret_key(key):
                    return True
        for item in value.values():
            if isinstance(item, _CONTAINERS) and has_secret_key(item):
                return True
    elif isinstance(value, (list, tuple)):
        for item in value:
            if isinstance(item, _CONTAINERS) and has_secret_key(item):
                return True
    return False


def redact(value: Any) -> Any:
    """A copy of `value` with every credential-looking key's value replaced."""
    if isinstance(value, dict):
        return {k: _REDACTED if secret_key(k) else redact(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    return value


class _Clock:
    """`2024-05-01T12:00:00.123+00:00` (UTC, milliseconds) for now; the part up to the
    seconds is formatted once per second (datetime.now().isoformat() cost 3-4 us a line)."""

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""
        self._millis = -1
        self._stamp = ""
        self.day = ""
        """Today's local date (YYYY-MM-DD, the name of the day's file) as of the last `now()`."""

    def now(self) -> str:
        millis = int(time.time() * 1000)
        if millis == self._millis:  # a flood: many lines in one millisecond
            return self._stamp
        second, fraction = divmod(millis, 1000)
        if second != self._second:
            self._second = second
            self._prefix = dt.datetime.fromtimestamp(second, dt.timezone.utc).strftime(
                "%Y-%m-%dT%H:%M:%S")
            self.day = time.strftime("%Y-%m-%d", time.localtime(second))
        self._millis = millis
        self._stamp = self._prefix + _MILLIS[fraction]
        return self._stamp


class Journal:
    """Append-only JSON lines; `path` fixes the file, otherwise one file per day in `directory`.

    `target` (profile, url, user, simulator, environment) is written into every line, so a
    line read on its own still says which server it is about."""

    def __init__(self, path: Path | None = None, directory: Path | None = None,
                 secrets: tuple[str, ...] = (), target: dict[str, Any] | None = None) -> None:
        self._fixed = path
        self._directory = directory or default_journal_dir()
        self._file: int | None = None
        self._file_path: Path | None = None
        self._file_day = ""
        self._secrets = _secret_forms(secrets)
        self.target = dict(target or {})
        # Encoded once: it rides on every line, events included.
        self._target_tail = (f', "target": {_encode(redact(self.target))}}}\n' if self.target
                             else "}\n")
        self._clock = _Clock()
        self._waiting: list[str] = []  # event lines for the loop's next turn
        self._flush_due: asyncio.AbstractEventLoop | None = None  # the loop a flush waits on
        self._kinds: dict[str, str] = {}  # kind / channel -> its JSON string
        self._failed: OSError | None = None  # a write at the loop's turn failed
        _OPEN.add(self)

    @property
    def path(self) -> Path:
        if self._fixed is not None:
            return self._fixed
        return self._directory / f"{dt.date.today().isoformat()}.jsonl"

    def write(self, kind: str, /, **fields: Any) -> None:
        """One line, on disk when this returns (with the event lines waiting before it)."""
        self._write_now(self._line(kind, fields))

    def write_encoded(self, kind: str, name: str, value: Any, text: str, /,
                      **fields: Any) -> None:
        """`write(kind, **fields, <name>=value)` with `text`, the JSON of `value`, made
        already (a record's body as posted): the line takes it as it is instead of encoding
        `value` again — unless a key in `value` names a credential; then `value` is redacted
        and encoded like any field. The same line either way, `name` last."""
        try:
            clean = not has_secret_key(value)
        except RecursionError:
            clean = False
        if not clean:
            self.write(kind, **fields, **{name: value})
            return
        self._write_now(self._line(kind, fields, f"{_quote(name)}: {text}"))

    def write_many(self, kind: str, rows: Iterable[dict[str, Any]], /) -> None:
        """One line per row (as `write(kind, **row)`), all on disk when this returns, in
        writes of `_BATCH` lines (a replay's plan: thousands of lines before the first send,
        without a system call each)."""
        lines: list[str] = []
        for row in rows:
            lines.append(self._line(kind, row))
            if len(lines) >= _BATCH:
                self._write_now("".join(lines))
                lines.clear()
        if lines:
            self._write_now("".join(lines))

    def _line(self, kind: str, fields: dict[str, Any], encoded: str | None = None) -> str:
        if self._failed is not None:
            self._raise_failed()
        if _OWN.intersection(fields):
            fields = {(f"_{k}" if k in _OWN else k): v for k, v in fields.items()}
        fields = _redacted(fields)
        head = f'{{"ts": "{self._clock.now()}", "kind": {self._quoted(kind)}'
        if fields:
            head += ", " + _safe_encode(fields)[1:-1]
        if encoded is not None:
            head += ", " + encoded
        return self._cut(head + self._target_tail)

    def _write_now(self, text: str) -> None:
        if self._waiting:
            self._waiting.append(text)
            self.flush()
        else:
            self._put(text)

    def write_event(self, event: Event, matched: str | None) -> None:
        """An event line; the event's JSON is encoded once and shared with other outputs.
        Inside a running event loop it is written at the loop's next turn (module doc)."""
        if self._failed is not None:
            self._raise_failed()
        data = event.data
        try:
            leaky = has_secret_key(data)
        except RecursionError:
            leaky = True  # _redacted says so in the line
        if leaky:
            text = _safe_encode(_redacted(data))
        else:
            try:
                text = event.data_json
            except (ValueError, TypeError, RecursionError):
                text = _safe_encode(data)
        channel = self._kinds.get(event.channel) or self._quoted(event.channel)
        line = (f'{{"ts": "{self._clock.now()}", "kind": "event", "seq": {event.seq}, '
                f'"channel": {channel}, "data": {text}, "matched": '
                f'{"null" if matched is None else _quote(matched)}{self._target_tail}')
        for secret in self._secrets:  # _cut, inline: this is the hot path
            if secret in line:
                line = line.replace(secret, _REDACTED)
        waiting = self._waiting
        waiting.append(line)
        if len(waiting) >= _BATCH:
            self.flush()
        else:
            loop = asyncio._get_running_loop()  # None, not an exception, without one
            if loop is None:  # no loop to come back to: now
                self.flush()
            elif loop is not self._flush_due:  # (a loop that stopped for good never runs it)
                loop.call_soon(self._flush_soon)
                self._flush_due = loop

    def flush(self) -> None:
        """Write the event lines still waiting (one write)."""
        if self._waiting:
            lines, self._waiting = self._waiting, []
            self._put("".join(lines))

    def _flush_soon(self) -> None:
        self._flush_due = None
        try:
            self.flush()
        except OSError as exc:
            # A loop callback has nobody to raise to: the next write() raises it instead, as
            # writing these lines at once would have.
            self._failed = exc

    def _raise_failed(self) -> None:
        exc, self._failed = self._failed, None
        if exc is not None:
            raise exc

    def _quoted(self, name: str) -> str:
        """`name` as a JSON string; kinds and channels repeat, so each is quoted once."""
        quoted = self._kinds.get(name)
        if quoted is None:
            quoted = _quote(name)
            if len(self._kinds) < 256:
                self._kinds[name] = quoted
        return quoted

    def _cut(self, line: str) -> str:
        for secret in self._secrets:
            # Belt and braces: a password that slipped into a message is cut out too.
            if secret in line:
                line = line.replace(secret, _REDACTED)
        return line

    def _put(self, text: str) -> None:
        """Write whole lines, unbuffered: once this returns they are the kernel's."""
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:
            # A lone surrogate (only ever inside a JSON string): written as its JSON escape
            # \udXXX, which keeps the line valid JSON and the engine running.
            data = text.encode("utf-8", "backslashreplace")
        try:
            fd = self._fd()
            written = os.write(fd, data)
            while written < len(data):  # a short write (a full disk, a signal): the rest
                data = data[written:]
                written = os.write(fd, data)
        except JournalError:
            raise
        except OSError as exc:
            raise JournalError(f"cannot write the journal {self.path}: "
                               f"{exc.strerror or exc}; free space or fix the file there, or "
                               "give another file with --journal PATH", exc) from exc

    def _fd(self) -> int:
        if self._file is not None and (self._fixed is not None
                                       or self._file_day == self._clock.day):
            return self._file  # the hot path: no Path built per line
        path = self.path
        if self._file is None or self._file_path != path:
            self._close_file()
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            self._file_path = path
        self._file_day = self._clock.day
        return self._file

    def close(self) -> None:
        """Write what waits and close the file (a later line opens it again)."""
        try:
            self.flush()
        finally:
            self._close_file()

    def _close_file(self) -> None:
        if self._file is not None:
            os.close(self._file)
            self._file = None


# Every journal, so that event lines still waiting are written when the interpreter exits
# (a clean exit, Ctrl-C, an exception) even if nobody closed it.
_OPEN: weakref.WeakSet[Journal] = weakref.WeakSet()


@atexit.register
def flush_all() -> None:
    """Write every open journal's waiting lines (at exit, or before ending a process at once)."""
    for journal in list(_OPEN):
        try:
            journal.flush()
        except OSError:
            pass


def _redacted(value: dict[str, Any]) -> dict[str, Any]:
    """`value` itself when no key names a credential (the common case: no copy), else a
    redacted copy; something too deep or circular to check is not written at all."""
    try:
        return redact(value) if has_secret_key(value) else value
    except RecursionError:
        return {"unwritten": "nested too deeply (or circular) to check for secrets"}


def _safe_encode(value: Any) -> str:
    """JSON text of `value`, whatever it holds (a journal line must never raise)."""
    try:
        return _encode(value)
    except (ValueError, TypeError, RecursionError) as exc:
        return _encode({"unencodable": f"{type(exc).__name__}: {exc}", "repr": repr(value)[:2000]})


def _secret_forms(secrets: tuple[str, ...]) -> tuple[str, ...]:
    """Each secret as typed and as JSON writes it (a `"` or `\\` in a password is escaped in
    the line, so cutting only the typed form would leave it readable)."""
    forms: list[str] = []
    for secret in secrets:
        if not secret:
            continue
        for form in (secret, json.dumps(secret, ensure_ascii=False)[1:-1],
                     json.dumps(secret)[1:-1]):
            # A control character (a newline...) is always escaped in a line: a form holding
            # one raw can never be found there, and must not be looked for across the "\n"
            # that ends a line.
            if form not in forms and not _CONTROL.search(form):
                forms.append(form)
    # Longest first: a form that contains another is cut whole.
    return tuple(sorted(forms, key=len, reverse=True))
