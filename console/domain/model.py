"""The AddRecord request: the 12 documented fields, validated, serialised to the GWS body.

Choices where GWS documents nothing (also in the README):
- `from`/`until` accept seconds (0..86399) or `HH:MM[:SS]`; `until < from` is accepted and
  means a dial window that wraps past midnight (OCS reads it so).
- Integers given as text (`"134"`, from a form or `--set`) are accepted; `true`, `1.5`, `-1`
  are not.
- `phoneNumber` must look like a number (an optional `+`, digits and the separators
  ` -./()`; `BusinessWithExt` also `x`, `,`, `#`) except for `EmailAddress` (an address) and
  `InstantMessaging` (any handle without spaces; the documentation sample sends `12345`).
- The body is strict JSON and fits what GWS stores: ids (applicationId, chainId) are DBIDs,
  32-bit signed integers, so 0..2147483647; `otherFields` numbers are finite (no NaN or
  Infinity, which JSON cannot carry) and integers fit a 64-bit long; text is valid Unicode
  (no lone surrogate, which UTF-8 cannot carry); text fields hold at most 255 characters and
  `otherFields` values at most 4000 (our bounds, so a pasted megabyte is caught here).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal, get_args

from console.domain.fields import (
    PHONE_TYPES,
    format_time_of_day,
    new_reference_id,
    parse_time_of_day,
)
from console.domain.jsontext import make_encoder
from console.errors import FieldProblem, RecordInvalid

__all__ = ["AddRecord", "PHONE_TYPES", "PhoneType", "parse_time_of_day", "format_time_of_day",
           "new_reference_id", "MAX_DBID", "MAX_TEXT", "MAX_OTHER_TEXT"]

PhoneType = Literal[
    "NoContactType", "HomePhone", "DirectBusinessPhone", "BusinessWithExt", "Mobile",
    "VacationPhone", "Pager", "Modem", "VoiceMail", "PinPager", "EmailAddress",
    "InstantMessaging",
]
assert PHONE_TYPES == get_args(PhoneType)  # one list, two spellings (Literal for typing)
OPERATION = "AddRecord"
_DIGITS = re.compile(r"^\+?[0-9][0-9 ()./-]*$")
_DIGITS_EXT = re.compile(r"^\+?[0-9][0-9 ()./,#x-]*$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DEVICE = re.compile(r"^/devices/[A-Za-z0-9._:-]+$")
# C0 controls, DEL and C1 controls: never meant in a campaign, list, phone or field name.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # but \t \n \r
#: GWS/Configuration Server DBIDs are 32-bit signed integers.
MAX_DBID = 2**31 - 1
#: `otherFields` integers: what a Java long (GWS) holds.
_MAX_LONG = 2**63 - 1
#: Characters in a text field, and in an `otherFields` text value.
MAX_TEXT = 255
MAX_OTHER_TEXT = 4000
#: A bad value longer than this is shortened in error messages.
_SHOWN = 80
# json.dumps(ensure_ascii=False, allow_nan=False) from one reused encoder (json.dumps with
# arguments builds a new one per call: two thirds of the cost of a body).
_encode_body = make_encoder(allow_nan=False)


class _Refusal(ValueError):
    """A validator's refusal that says what is expected (instead of the field's usual words)."""


def _dbid(value: Any) -> int:
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError("not an integer")
    if isinstance(value, str):
        text = value.strip()
        if not text.isdigit() or len(text) > 10:
            raise ValueError("not an integer in range")
        value = int(text)
    if not isinstance(value, int) or not 0 <= value <= MAX_DBID:
        raise ValueError("not a non-negative 32-bit integer")
    return value


def _unicode(value: str, what: str) -> str:
    """`value` when UTF-8 can carry it; a lone surrogate (from a JSON `\\ud800` escape or a
    broken paste) is refused here, not by the encoder halfway through a send."""
    if value.isascii():
        return value  # the common case, without encoding a copy
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise _Refusal(f"{what} without invalid characters: {value[exc.start]!r} at position "
                       f"{exc.start + 1} is half a UTF-16 surrogate pair, which UTF-8 cannot "
                       "carry; retype it") from None
    return value


_EXPECTED: dict[str, str] = {
    "chainId": f"an integer 0..{MAX_DBID} (or nothing, for a new chain); GWS stores it as a "
               "32-bit integer",
    "applicationId": f"an integer 0..{MAX_DBID} (the OCS application DBID; DBIDs are 32-bit "
                     "integers)",
    "campaignName": "the name of an outbound campaign (non-empty text)",
    "callingList": "the name of a calling list of that campaign (non-empty text)",
    "phoneNumber": "a phone number for this phoneType",
    "timeZone": "the name of a Genesys Time Zone object, e.g. GMT, PST (not an IANA name)",
    "phoneType": "one of " + ", ".join(PHONE_TYPES),
    "from": "seconds since midnight 0..86399 or HH:MM[:SS]",
    "until": "seconds since midnight 0..86399 or HH:MM[:SS]",
    "otherFields": "a map of field names to text or numbers",
    "devicePath": "a device path like /devices/<id>",
    "referenceId": "non-empty text without spaces (or leave the field out: one is generated; "
                   "an empty value is not left out)",
    "operationName": "AddRecord",
}


@dataclass(frozen=True, kw_only=True)
class AddRecord:
    """One AddRecord request, valid by construction (`parse`); `body()` is what GWS receives.

    Checked by hand, without a validation library: pydantic's import and model build were
    ~30% of what one `send` costs as a whole process (issue 15). The rules are the ones a
    pydantic model with `extra="forbid"` and `populate_by_name` applied: each field by its GWS
    name (or its Python name when the GWS one is absent), in field order, then the names
    nothing uses; text fields also take UTF-8 bytes; the phone check once every field is good.
    """

    chain_id: int | None = None
    """Chain to add the record to; absent: GWS creates a new chain."""
    application_id: int
    """DBID of the OCS application."""
    campaign_name: str
    """Outbound campaign used for the operation."""
    calling_list: str
    """Calling list the record is added to."""
    phone_number: str
    """The record's phone number (an address for EmailAddress / InstantMessaging)."""
    time_zone: str
    """Name of a Genesys Time Zone object (e.g. GMT)."""
    phone_type: PhoneType
    """One of the 12 documented contact types."""
    from_: int
    """Start of the dial window, seconds since midnight in the record's time zone."""
    until: int
    """End of the dial window; smaller than `from` means it wraps past midnight."""
    other_fields: dict[str, str | int | float] | None = None
    """Calling-list fields attached to the record as user data."""
    device_path: str
    """Device used for the TLib request, `/devices/<id>`."""
    reference_id: str
    """Maps this request to its CometD answer; generated when absent."""

    # -- construction and serialisation ----------------------------------------------------
    @classmethod
    def parse(cls, data: dict[str, Any], source: str | None = None) -> AddRecord:
        """Validate `data` (GWS field names); RecordInvalid lists every bad field."""
        if not isinstance(data, dict):
            raise RecordInvalid([FieldProblem("(request)", data, "a map of AddRecord fields")],
                                source)
        fields = dict(data)
        op = fields.pop("operationName", OPERATION)
        problems: list[FieldProblem] = []
        if op != OPERATION:
            problems.append(FieldProblem("operationName", op, "AddRecord"))
        values, errors = _validate(fields)
        if not errors and not phone_fits(values["phone_number"], values["phone_type"]):
            errors.append(_Error("", "phone"))
        if errors:
            problems.extend(_problems(errors, fields))
            # The phone check needs both fields valid; when others fail, run it here too so
            # every bad field is named at once.
            named = {p.field for p in problems}
            number, kind = fields.get("phoneNumber"), fields.get("phoneType")
            if ("phoneNumber" not in named and "phoneType" not in named
                    and isinstance(number, str) and kind in PHONE_TYPES
                    and not phone_fits(number.strip(), str(kind))):
                problems.append(FieldProblem("phoneNumber", number,
                                             _phone_expectation(str(kind))))
            raise RecordInvalid(problems, source) from None
        if problems:
            raise RecordInvalid(problems, source)
        return cls(**values)

    def body(self) -> dict[str, Any]:
        """The JSON body of `POST /api/v2/me/outbound-records` (a copy: the caller may change
        it)."""
        body = dict(self.body_view())
        if "otherFields" in body:
            body["otherFields"] = dict(body["otherFields"])
        return body

    def body_json(self) -> str:
        """`body()` as strict JSON text (`allow_nan=False`: never NaN or Infinity on the
        wire, even if a float slipped past validation)."""
        # The record is frozen, so its body is built and encoded once, however often it is
        # posted, journaled or shown (a replay asks several times). Kept in the instance's
        # __dict__ by hand, as Event.data_json is: functools.cached_property takes a lock on
        # every first access (Python 3.11). `dataclasses.replace` (as in `renewed`) builds a
        # new instance without it.
        cached: str | None = self.__dict__.get("_body_json")
        if cached is None:
            cached = self.__dict__["_body_json"] = _encode_body(self.body_view())
        return cached

    def body_view(self) -> dict[str, Any]:
        """The body itself, not a copy: to read only (the journal's request line)."""
        cached: dict[str, Any] | None = self.__dict__.get("_body_dict")
        if cached is None:
            cached = {"operationName": OPERATION}
            for spec in _SPECS:
                value = getattr(self, spec.name)
                if value is not None:
                    cached[spec.alias] = dict(value) if isinstance(value, dict) else value
            self.__dict__["_body_dict"] = cached
        return cached

    def renewed(self) -> AddRecord:
        """The same request with a fresh referenceId (for the next send)."""
        return replace(self, reference_id=new_reference_id())


# -- the checks, field by field ------------------------------------------------------------
class _TypeMismatch(ValueError):
    """A value of the wrong type for its field (after its own check)."""


def _ids(value: Any) -> Any:
    return None if value is None else _dbid(value)


def _required_int(value: Any) -> int:
    if not isinstance(value, int):
        raise _TypeMismatch("not an integer")
    return value


def _text(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        if not value:
            raise ValueError("empty")
        _bounded(_unicode(_printable(value, "text"), "text"), MAX_TEXT)
    return value


def _free_text(value: str, what: str) -> str:
    """`value` unless it holds a control character other than tab, newline and carriage
    return (free text keeps its lines; an ESC from a terminal paste would be stored)."""
    found = _CONTROL_IN_TEXT.search(value)
    if found is not None:
        raise _Refusal(f"{what} without control characters other than tab and line breaks: "
                       f"{found.group()!r} at position {found.start() + 1}; retype it")
    return value


def _printable(value: str, what: str) -> str:
    """`value` unless it holds a control character (a `\r` from a Windows paste or a CSV
    cell, an ESC from a terminal): sent, GWS would store it in the calling list."""
    found = _CONTROL.search(value)
    if found is not None:
        raise _Refusal(f"{what} without control characters: {found.group()!r} at position "
                       f"{found.start() + 1}; retype it")
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, str):
        _bounded(_unicode(value, "text"), MAX_TEXT)
    return value


def _string(value: Any) -> str:
    """Text as a str field takes it: a str (a subclass made plain), or UTF-8 bytes."""
    if isinstance(value, str):
        return value if type(value) is str else str.__str__(value)
    if isinstance(value, (bytes, bytearray)):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            raise _TypeMismatch("not UTF-8") from None
    raise _TypeMismatch("not text")


def _non_empty(value: Any) -> str:
    text = _string(value)
    if not text:
        raise _TypeMismatch("empty")
    return text


def _phone_type(value: Any) -> str:
    if isinstance(value, str) and value in PHONE_TYPES:
        return str.__str__(value)
    raise _TypeMismatch("not a phone type")


def _device(value: str) -> str:
    if not _DEVICE.match(value):
        raise ValueError("not a device path")
    return value


def _reference(value: str) -> str:
    if not value or any(c.isspace() for c in value) or len(value) > 128:
        raise ValueError("bad referenceId")
    return value


def _other(value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError("not a map")
    for key, item in value.items():
        if not isinstance(key, str) or not key.strip():
            raise ValueError("field names must be text")
        _bounded(_unicode(_printable(key, "field names"), "field names"), MAX_TEXT)
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            raise ValueError(f"{key}: not text or a number")
        if isinstance(item, str):
            _bounded(_unicode(_free_text(item, f"{key}: text"), f"{key}: text"), MAX_OTHER_TEXT,
                     key)
        elif isinstance(item, float) and not math.isfinite(item):
            raise _Refusal(f"{key}: a finite number or text ({item!r} is not a number JSON "
                           "can carry)")
        elif isinstance(item, int) and not -_MAX_LONG - 1 <= item <= _MAX_LONG:
            raise _Refusal(f"{key}: a whole number within +-{_MAX_LONG} (a 64-bit "
                           "integer) or text")
    return dict(value)


@dataclass(frozen=True)
class _Spec:
    """One field: its GWS name, Python name, and the checks its value goes through."""

    alias: str
    """The GWS name (the body's key)."""
    name: str
    """The attribute."""
    checks: tuple[Callable[[Any], Any], ...]
    """Applied in order; a ValueError names the field (a _Refusal says what is expected)."""
    default: Callable[[], Any] | None = None
    """Makes the field optional: its value when absent."""


_SPECS = (
    _Spec("chainId", "chain_id", (_ids,), lambda: None),
    _Spec("applicationId", "application_id", (_ids, _required_int)),
    _Spec("campaignName", "campaign_name", (_text, _non_empty)),
    _Spec("callingList", "calling_list", (_text, _non_empty)),
    _Spec("phoneNumber", "phone_number", (_text, _non_empty)),
    _Spec("timeZone", "time_zone", (_text, _non_empty)),
    _Spec("phoneType", "phone_type", (_phone_type,)),
    _Spec("from", "from_", (parse_time_of_day,)),
    _Spec("until", "until", (parse_time_of_day,)),
    _Spec("otherFields", "other_fields", (_other,), lambda: None),
    _Spec("devicePath", "device_path", (_plain, _string, _device)),
    _Spec("referenceId", "reference_id", (_plain, _string, _reference), new_reference_id),
)


@dataclass(frozen=True)
class _Error:
    """A field that failed: its name as given (GWS name, or a key nothing uses) and why."""

    field: str
    """The GWS name, the unknown key, or "" for the phone check across fields."""
    kind: str
    """missing, extra, key (a key that is not text), value, phone."""
    cause: Exception | None = None
    """The check's exception (for `kind` value)."""


# (attribute, value as given) -> the value its checks gave, for plain text and whole numbers
# that passed: a replay's records repeat most values (every record of a template has the
# same campaign, calling list, time zone...), and the checks depend on the value alone. The
# exact types keep `1` apart from `True` and `"1"`; bounded, so random values cannot grow it.
_CHECKED: dict[tuple[str, Any], Any] = {}
_CHECKED_MAX = 4096


def _validate(fields: dict[Any, Any]) -> tuple[dict[str, Any], list[_Error]]:
    """The attributes from `fields`, and what failed: the fields in their order, then the
    keys nothing uses in the order given."""
    values: dict[str, Any] = {}
    errors: list[_Error] = []
    used: set[Any] = set()
    for spec in _SPECS:
        key = spec.alias if spec.alias in fields else spec.name if spec.name in fields else None
        if key is None:
            if spec.default is None:
                errors.append(_Error(spec.alias, "missing"))
            else:
                values[spec.name] = spec.default()
            continue
        used.add(key)
        value = fields[key]
        memo = (spec.name, value) if type(value) is str or type(value) is int else None
        if memo is not None:
            # One lookup: another thread (the console's engine) may clear it meanwhile.
            checked = _CHECKED.get(memo, _CHECKED)
            if checked is not _CHECKED:
                values[spec.name] = checked
                continue
        try:
            for check in spec.checks:
                value = check(value)
        except (ValueError, AssertionError) as exc:
            errors.append(_Error(key, "value", exc))  # named as given (pydantic did too)
            continue
        values[spec.name] = value
        if memo is not None:
            if len(_CHECKED) >= _CHECKED_MAX:
                _CHECKED.clear()
            _CHECKED[memo] = value
    for key in fields:
        if key not in used:
            errors.append(_Error(key, "extra") if isinstance(key, str) else
                          _Error(str(key), "key"))
    return values, errors


def phone_fits(number: str, kind: str) -> bool:
    """Does `number` look right for the phoneType `kind`?"""
    if kind == "EmailAddress":
        return bool(_EMAIL.match(number))
    if kind == "InstantMessaging":
        return bool(number) and not any(c.isspace() for c in number)
    pattern = _DIGITS_EXT if kind == "BusinessWithExt" else _DIGITS
    return bool(pattern.match(number)) and 3 <= sum(c.isdigit() for c in number) <= 32


def _bounded(value: str, limit: int, key: str | None = None) -> str:
    if len(value) > limit:
        what = f"{key}: text" if key else "text"
        raise _Refusal(f"{what} of at most {limit} characters (got {len(value):,})")
    return value


class _Said(str):
    """Text an error message shows as is (no quotes added by repr)."""

    def __repr__(self) -> str:
        return str(self)


def _shown(value: Any) -> Any:
    """A value as an error message shows it: long text cut and huge numbers summarised (a
    pasted megabyte is not repeated back; Python will not print a 5000-digit int)."""
    if isinstance(value, str) and len(value) > _SHOWN:
        return _Said(f"{value[:_SHOWN]!r}... ({len(value):,} characters)")
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return _Said(f"an integer of about {int(value.bit_length() * 0.30103) + 1:,} digits")
    if isinstance(value, dict):
        shown = {_shown(k): _shown(v) for k, v in list(value.items())[:10]}
        if len(value) > 10:
            shown[_Said("...")] = _Said(f"({len(value):,} fields)")
        return shown
    if isinstance(value, list):
        return [_shown(v) for v in value[:10]] + ([_Said("...")] if len(value) > 10 else [])
    return value


def _problems(errors: list[_Error], given: dict[str, Any]) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    seen: set[str] = set()
    given = {k: _shown(v) for k, v in given.items()}
    for error in errors:
        name = error.field
        if error.kind == "extra":
            close = difflib.get_close_matches(name, list(_EXPECTED), n=1) or [
                k for k in _EXPECTED if k.lower() == name.lower()][:1]
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(FieldProblem(name, given.get(name), f"no such AddRecord field{hint}; "
                                         "known: " + ", ".join(sorted(_EXPECTED))))
            continue
        if error.kind == "missing":
            if name not in seen:
                seen.add(name)
                problems.append(FieldProblem(name, None, _EXPECTED.get(name, "a value") +
                                             " (required)"))
            continue
        if error.kind == "phone":  # the check across phoneNumber and phoneType
            phone_type = given.get("phoneType")
            problems.append(FieldProblem("phoneNumber", given.get("phoneNumber"),
                                         _phone_expectation(str(phone_type))))
            continue
        if name in seen:
            continue
        seen.add(name)
        cause = error.cause
        expected = str(cause) if isinstance(cause, _Refusal) else _EXPECTED.get(name,
                                                                              "a valid value")
        problems.append(FieldProblem(name, given.get(name), expected))
    return problems


def _phone_expectation(phone_type: str) -> str:
    if phone_type == "EmailAddress":
        return "an e-mail address (phoneType EmailAddress)"
    if phone_type == "InstantMessaging":
        return "an IM handle without spaces (phoneType InstantMessaging)"
    if phone_type == "BusinessWithExt":
        return "digits (3 to 32) with an optional + and separators, extension after x , or #"
    return f"digits (3 to 32) with an optional + and separators ' -./()' (phoneType {phone_type})"
