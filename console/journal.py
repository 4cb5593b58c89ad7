"""The journal: every request, response, event and verdict as one JSON line.

One file per day under the user state dir (`--journal PATH` overrides). Each line is written
and flushed on its own, so a `kill -9` loses nothing already written. Secrets never get in:
keys that name credentials are replaced by "[redacted]" at any depth, before writing.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from console.events import Event

import platformdirs

__all__ = ["Journal", "default_journal_dir", "redact"]

_SECRET_KEY = re.compile(r"pass(word)?|secret|token|authorization|cookie|credential|api[-_]?key",
                         re.IGNORECASE)


def default_journal_dir() -> Path:
    return Path(platformdirs.user_state_dir("outbound-console")) / "journal"


def has_secret_key(value: Any) -> bool:
    """True when some key, at any depth, names a credential (then `redact` must copy)."""
    if isinstance(value, dict):
        return any((isinstance(k, str) and _SECRET_KEY.search(k) is not None)
                   or has_secret_key(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_secret_key(v) for v in value)
    return False


def redact(value: Any) -> Any:
    """A copy of `value` with every credential-looking key's value replaced."""
    if isinstance(value, dict):
        return {k: "[redacted]" if isinstance(k, str) and _SECRET_KEY.search(k) else redact(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


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
        self._secrets = tuple(s for s in secrets if s)
        self.target = dict(target or {})
        # Encoded once: it rides on every line, events included.
        self._target_json = json.dumps(redact(self.target), ensure_ascii=False, default=str)

    @property
    def path(self) -> Path:
        if self._fixed is not None:
            return self._fixed
        return self._directory / f"{dt.date.today().isoformat()}.jsonl"

    def write(self, kind: str, **fields: Any) -> None:
        entry = {"ts": _now(), "kind": kind, **redact(fields)}
        if self.target:
            entry["target"] = self.target
        self._append(json.dumps(entry, ensure_ascii=False, default=str))

    def write_event(self, event: Event, matched: str | None) -> None:
        """An event line; the event's JSON is encoded once and shared with other outputs."""
        data = event.data_json if not has_secret_key(event.data) else json.dumps(
            redact(event.data), ensure_ascii=False)
        self._append(f'{{"ts": "{_now()}", "kind": "event", "seq": {event.seq}, '
                     f'"channel": {json.dumps(event.channel)}, "data": {data}, '
                     f'"matched": {json.dumps(matched)}'
                     + (f', "target": {self._target_json}' if self.target else "") + "}")

    def _append(self, line: str) -> None:
        for secret in self._secrets:
            # Belt and braces: a password that slipped into a message is cut out too.
            line = line.replace(secret, "[redacted]")
        # One unbuffered write per line: after it returns, the line is the kernel's, and a
        # kill -9 of this process cannot lose it.
        os.write(self._fd(), (line + "\n").encode("utf-8"))

    def _fd(self) -> int:
        path = self.path
        if self._file is None or self._file_path != path:
            self.close()
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            self._file_path = path
        return self._file

    def close(self) -> None:
        if self._file is not None:
            os.close(self._file)
            self._file = None


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")
