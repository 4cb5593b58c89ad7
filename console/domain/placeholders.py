"""Placeholders in request templates: `${name}` expanded at send time.

Sources, in order: values given for this record (`--set name=value`, a rows-file column),
then the built-ins — `${env:NAME}` (the environment), `${uuid}` (a fresh id), `${now}` /
`${now:FORMAT}` (the current UTC time, ISO 8601 or strftime), `${today}` (YYYY-MM-DD),
`${seq}` (the record's number in the run, from 1). `$${` writes a literal `${`.
A placeholder with no value is an error that names it; so is a `${` that does not form one
(`${ticket`, `${ ticket }`, `${env:}`): a typo is never sent as literal text.

`${env:NAME}` never expands a secret (also in the README): the console's own password
variables, the variable a profile's `password_from: env:NAME` names (once that profile has
been read), any variable listed in `OUTBOUND_CONSOLE_SECRET_ENV`, any variable whose name
says it holds a secret (PASSWORD, PASSWD, SECRET, TOKEN, CREDENTIAL, PRIVATE, APIKEY, or a
`_`-separated word PASS, PW, KEY, AUTH, COOKIE, or PWD beside another word as in MYSQL_PWD:
the shell's own `PWD` is the working folder), and any variable holding the same value as
one of those. A secret value is never written into a record, a dry run or an error.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import uuid
from collections.abc import Mapping
from typing import Any

from console.profile import PASSWORD_ENV

__all__ = ["PLACEHOLDER", "PlaceholderError", "names_in", "env_names_in", "expand",
           "check_syntax", "BUILT_INS", "SECRET_ENV", "SECRET_LIST_ENV", "mark_secret_env",
           "secret_env", "refuse_secret"]

#: `$${`, `${name}` / `${name:arg}`, or (group 3) a `${` that forms neither: an error.
PLACEHOLDER = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_.-]*)(?::([^}]*))?\}|(\$\{)")
#: What `${env:NAME}` may name: any name the environment can hold (`-` included), no spaces.
_VARIABLE = re.compile(r"[^\s=]+")
BUILT_INS = frozenset({"uuid", "now", "today", "seq", "env"})
#: The console's own secrets (the second is `console.cli.SIM_PASSWORD_ENV`, not imported:
#: the CLI module is heavy; a test keeps the two in step).
SECRET_ENV = frozenset({PASSWORD_ENV, "OUTBOUND_CONSOLE_SIM_PASSWORD"})
#: A user's own list of secret variables: names separated by commas or spaces.
SECRET_LIST_ENV = "OUTBOUND_CONSOLE_SECRET_ENV"
_SECRET_NAME = re.compile(
    r"PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|CREDENTIAL|PRIVATE|APIKEY"
    r"|(?:^|[^A-Z0-9])(?:PASS|PW|KEY|AUTH|COOKIE)(?:$|[^A-Z0-9])"
    r"|[^A-Z0-9]PWD(?:$|[^A-Z0-9])|^PWD[^A-Z0-9]", re.IGNORECASE)
# Variables named by the profiles read in this process (`password_from: env:NAME`).
_marked: set[str] = set()


class PlaceholderError(ValueError):
    """A placeholder that cannot be expanded; `name` says which."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


def names_in(text: str) -> list[str]:
    """Placeholder names used in `text` (`env` for `${env:X}`)."""
    return [m.group(1) for m in PLACEHOLDER.finditer(text) if m.group(1)]


def env_names_in(text: str) -> list[str]:
    """The variables `text` reads with `${env:NAME}`."""
    return [m.group(2) or "" for m in PLACEHOLDER.finditer(text) if m.group(1) == "env"]


def _malformed(text: str, start: int) -> PlaceholderError:
    """The error for the `${` at `start` that forms no placeholder, quoting it."""
    end = text.find("}", start)
    shown = text[start:end + 1] if 0 <= end < start + 40 else text[start:start + 20]
    return PlaceholderError("", f"{shown!r} is not a placeholder: write ${{name}} (letters, "
                            "digits, '_', '.', '-'; no spaces) with its closing '}', or $${ "
                            "for a literal ${")


def _env_name(arg: str | None) -> str:
    """The variable a `${env:NAME}` names; PlaceholderError when it names none."""
    if not arg:
        raise PlaceholderError("env", "${env:NAME} is missing the variable name: write "
                               "${env:NAME} with NAME the environment variable to read")
    if not _VARIABLE.fullmatch(arg):
        raise PlaceholderError("env", f"${{env:{arg}}}: {arg!r} is not an environment variable "
                               "name (no spaces or '=')")
    return arg


def check_syntax(text: str) -> None:
    """PlaceholderError for the first `${` in `text` that is not a usable placeholder (a typo
    such as `${ticket` or `${ ticket }`, or an `${env:}` naming no variable)."""
    if "${" not in text:
        return
    for match in PLACEHOLDER.finditer(text):
        if match.group(3):
            raise _malformed(text, match.start())
        if match.group(1) == "env":
            _env_name(match.group(2))


def mark_secret_env(name: str) -> None:
    """Never expand `name` (a profile's `password_from: env:NAME` calls this)."""
    _marked.add(name)


@functools.lru_cache(maxsize=1024)
def _secret_name(name: str) -> bool:
    return name in SECRET_ENV or _SECRET_NAME.search(name) is not None


def _listed() -> set[str]:
    return {name for name in re.split(r"[\s,]+", os.environ.get(SECRET_LIST_ENV, "")) if name}


def secret_env(name: str) -> str | None:
    """Why `${env:NAME}` must not be expanded, or None when it may be."""
    if name in SECRET_ENV:
        return "it holds the console's own password"
    if name in _marked:
        return "a profile reads its GWS password from it (password_from)"
    if name in _listed():
        return f"{SECRET_LIST_ENV} lists it as secret"
    if _secret_name(name):
        return "its name says it holds a secret"
    value = os.environ.get(name)
    if value and len(value) >= 4:  # a copy of a password under another name
        secret_names = _marked | _listed()
        for other, other_value in os.environ.items():
            if other_value == value and other != name and (
                    other in secret_names or _secret_name(other)):
                return f"it holds the same value as {other}, a secret"
    return None


def refuse_secret(name: str) -> None:
    """PlaceholderError (naming the variable, never its value) when `name` is secret."""
    reason = secret_env(name)
    if reason is not None:
        raise PlaceholderError("env", f"${{env:{name}}} is not expanded: {reason}; a request "
                               "never carries a secret (give a non-secret value with --set "
                               "or a rows column)")


def _value(name: str, arg: str | None, values: Mapping[str, Any], seq: int,
           now: dt.datetime) -> str:
    if name in values and arg is None:
        return str(values[name])
    if name == "env":
        arg = _env_name(arg)
        refuse_secret(arg)
        if arg not in os.environ:
            raise PlaceholderError(name, f"${{env:{arg}}}: the environment variable {arg} is "
                                   "not set")
        return os.environ[arg]
    if name == "uuid":
        return uuid.uuid4().hex
    if name == "now":
        return now.strftime(arg) if arg else now.isoformat(timespec="seconds")
    if name == "today":
        return now.date().isoformat()
    if name == "seq":
        return str(seq)
    raise PlaceholderError(name, f"no value for ${{{name}}}: give it with --set {name}=... or a "
                           f"rows-file column named {name}")


def expand(value: Any, values: Mapping[str, Any], seq: int = 1,
           now: dt.datetime | None = None) -> Any:
    """`value` with every placeholder in its strings (at any depth) replaced."""
    if isinstance(value, str):
        if "$" not in value:
            return value  # most fields: no clock read
        moment = now or dt.datetime.now(dt.timezone.utc)

        def replace(match: re.Match[str]) -> str:
            if match.group(0) == "$${":
                return "${"
            if match.group(3):
                raise _malformed(value, match.start())
            return _value(match.group(1), match.group(2), values, seq, moment)

        return PLACEHOLDER.sub(replace, value)
    if isinstance(value, dict):
        moment = now or dt.datetime.now(dt.timezone.utc)  # one moment for the whole value
        return {k: expand(v, values, seq, moment) for k, v in value.items()}
    if isinstance(value, list):
        moment = now or dt.datetime.now(dt.timezone.utc)
        return [expand(v, values, seq, moment) for v in value]
    return value  # a number, true/false, null: no clock read
