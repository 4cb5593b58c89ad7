"""The journal: every request, response, event and verdict as one JSON line.

One file per day under the user state dir (`--journal PATH` overrides). Each line is written
and flushed on its own, so a `kill -9` loses nothing already written. Secrets never get in:
keys that name credentials are replaced by "[redacted]" at any depth, before writing.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import IO, Any

import platformdirs

__all__ = ["Journal", "default_journal_dir", "redact"]

_SECRET_KEY = re.compile(r"pass(word)?|secret|token|authorization|cookie|credential|api[-_]?key",
                         re.IGNORECASE)


def default_journal_dir() -> Path:
    return Path(platformdirs.user_state_dir("outbound-console")) / "journal"


def redact(value: Any) -> Any:
    """A copy of `value` with every credential-looking key's value replaced."""
    if isinstance(value, dict):
        return {k: "[redacted]" if isinstance(k, str) and _SECRET_KEY.search(k) else redact(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


class Journal:
    """Append-only JSON lines; `path` fixes the file, otherwise one file per day in `directory`."""

    def __init__(self, path: Path | None = None, directory: Path | None = None,
                 secrets: tuple[str, ...] = ()) -> None:
        self._fixed = path
        self._directory = directory or default_journal_dir()
        self._file: IO[str] | None = None
        self._file_path: Path | None = None
        self._secrets = tuple(s for s in secrets if s)

    @property
    def path(self) -> Path:
        if self._fixed is not None:
            return self._fixed
        return self._directory / f"{dt.date.today().isoformat()}.jsonl"

    def write(self, kind: str, **fields: Any) -> None:
        entry = {"ts": dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"),
                 "kind": kind, **redact(fields)}
        line = json.dumps(entry, ensure_ascii=False, default=str)
        for secret in self._secrets:
            # Belt and braces: a password that slipped into a message is cut out too.
            line = line.replace(secret, "[redacted]")
        handle = self._handle()
        handle.write(line + "\n")
        handle.flush()

    def _handle(self) -> IO[str]:
        path = self.path
        if self._file is None or self._file_path != path:
            if self._file is not None:
                self._file.close()
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 (kept open, flushed per line)
            self._file_path = path
        return self._file

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
