"""The journal: every request, response, event and verdict as one JSON line.

One file per day under the user state dir (`--journal PATH` overrides). Each line is written
and flushed on its own, so a `kill -9` loses nothing already written. Secrets never get in:
keys that name credentials are replaced by "[redacted]" at any depth, before writing, and the
password is cut from every line (as typed and as JSON escapes it). Every line carries the
target. Writing never raises into the engine for what it was given: text UTF-8 cannot carry
(a lone surrogate) is written as its JSON escape, and an unencodable value as its `str()`.

Cost (bench/journal.py): the secret-key decision is cached per key name (keys repeat), the
timestamp's seconds part is formatted once per second, the target is encoded once, and an
event's data is encoded once (`Event.data_json`, shared with `watch --json`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from console.domain.events import Event

import platformdirs

__all__ = ["Journal", "default_journal_dir", "redact", "has_secret_key", "secret_key"]

_SECRET_KEY = re.compile(r"pass(word)?|secret|token|authorization|cookie|credential|api[-_]?key",
                         re.IGNORECASE)
_REDACTED = "[redacted]"
# Key name -> names a credential. Keys repeat (GWS sends the same few dozen), so the regex
# runs once per distinct name; bounded so a stream of random keys cannot grow it forever.
_KEY_CACHE: dict[str, bool] = {}
_KEY_CACHE_MAX = 4096
# The names known not to name a credential: a dict whose keys are all in it is cleared with
# one set operation in C (`issuperset`), not a Python loop over its keys.
_SAFE_KEYS: set[str] = set()
# Fields of our own that a line always has; a caller's field of the same name is kept as `_x`.
_OWN = frozenset({"ts", "kind", "target"})
_encode = json.JSONEncoder(ensure_ascii=False, default=str).encode
_quote = json.encoder.encode_basestring  # a str as a JSON string, the C function


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
            if isinstance(item, (dict, list)) and has_secret_key(item):
                return True
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, (dict, list)) and has_secret_key(item):
                return True
    return False


def redact(value: Any) -> Any:
    """A copy of `value` with every credential-looking key's value replaced."""
    if isinstance(value, dict):
        return {k: _REDACTED if secret_key(k) else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


class _Clock:
    """`2024-05-01T12:00:00.123+00:00` (UTC, milliseconds) for now; the part up to the
    seconds is formatted once per second (datetime.now().isoformat() cost 3-4 us a line)."""

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""
        self.day = ""
        """Today's local date (YYYY-MM-DD, the name of the day's file) as of the last `now()`."""

    def now(self) -> str:
        moment = time.time()
        second = int(moment)
        if second != self._second:
            self._second = second
            self._prefix = dt.datetime.fromtimestamp(second, dt.timezone.utc).strftime(
                "%Y-%m-%dT%H:%M:%S")
            self.day = time.strftime("%Y-%m-%d", time.localtime(second))
        millis = int((moment - second) * 1000)
        return f"{self._prefix}.{millis:03d}+00:00"


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
        self._target_tail = (f', "target": {_encode(redact(self.target))}}}' if self.target
                             else "}")
        self._clock = _Clock()

    @property
    def path(self) -> Path:
        if self._fixed is not None:
            return self._fixed
        return self._directory / f"{dt.date.today().isoformat()}.jsonl"

    def write(self, kind: str, /, **fields: Any) -> None:
        if _OWN.intersection(fields):
            fields = {(f"_{k}" if k in _OWN else k): v for k, v in fields.items()}
        fields = _redacted(fields)
        head = f'{{"ts": "{self._clock.now()}", "kind": {_quote(kind)}'
        if fields:
            body = _safe_encode(fields)
            head += ", " + body[1:-1]
        self._append(head + self._target_tail)

    def write_event(self, event: Event, matched: str | None) -> None:
        """An event line; the event's JSON is encoded once and shared with other outputs."""
        checked = _redacted(event.data)
        if checked is not event.data:
            data = _safe_encode(checked)
        else:
            try:
                data = event.data_json
            except (ValueError, TypeError, RecursionError):
                data = _safe_encode(event.data)
        self._append(f'{{"ts": "{self._clock.now()}", "kind": "event", "seq": {event.seq}, '
                     f'"channel": {_quote(event.channel)}, "data": {data}, "matched": '
                     f'{"null" if matched is None else _quote(matched)}{self._target_tail}')

    def _append(self, line: str) -> None:
        for secret in self._secrets:
            # Belt and braces: a password that slipped into a message is cut out too.
            if secret in line:
                line = line.replace(secret, _REDACTED)
        try:
            data = (line + "\n").encode("utf-8")
        except UnicodeEncodeError:
            # A lone surrogate (only ever inside a JSON string): written as its JSON escape
            # \udXXX, which keeps the line valid JSON and the engine running.
            data = (line + "\n").encode("utf-8", "backslashreplace")
        # One unbuffered write per line: after it returns, the line is the kernel's, and a
        # kill -9 of this process cannot lose it.
        os.write(self._fd(), data)

    def _fd(self) -> int:
        if self._file is not None and (self._fixed is not None
                                       or self._file_day == self._clock.day):
            return self._file  # the hot path: no Path built per line
        path = self.path
        if self._file is None or self._file_path != path:
            self.close()
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            self._file_path = path
        self._file_day = self._clock.day
        return self._file

    def close(self) -> None:
        if self._file is not None:
            os.close(self._file)
            self._file = None


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
            if form not in forms:
                forms.append(form)
    # Longest first: a form that contains another is cut whole.
    return tuple(sorted(forms, key=len, reverse=True))
