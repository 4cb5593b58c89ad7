"""AddRecord request validation, as the simulated GWS applies it.

GWS checks a request in this order, and so do we (the order decides which statusCode a request
with several faults gets): operationName, missing required parameters (statusCode 1), unknown
parameters and wrong types/values (10), then the configuration lookups (6: application,
campaign, calling list, time zone, device).

Choices where the documentation is silent, written down here and in the README:
- integers must be JSON integers (a numeric string or a boolean is a type error, 10);
- unknown top-level keys are rejected (10), so a misspelt optional field is not silently lost;
- `from`/`until` must lie in 0..86399 (seconds since midnight); `until < from` is accepted, as
  OCS treats it as a window that wraps past midnight;
- a calling list must belong to the named campaign (6).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from console.sim.catalog import Catalog, User

OPERATION = "AddRecord"

#: The twelve phoneType values of the documentation, in its order.
PHONE_TYPES: tuple[str, ...] = (
    "NoContactType",
    "HomePhone",
    "DirectBusinessPhone",
    "BusinessWithExt",
    "Mobile",
    "VacationPhone",
    "Pager",
    "Modem",
    "VoiceMail",
    "PinPager",
    "EmailAddress",
    "InstantMessaging",
)

#: Time Zone objects configured in the simulated Genesys configuration (names, not IANA ids).
TIME_ZONES: frozenset[str] = frozenset(
    {"GMT", "UTC", "ECT", "CET", "EET", "WET", "BST", "EST", "CST", "MST", "PST", "AKST",
     "HST", "IST", "JST", "AET", "SGT"}
)

REQUIRED: tuple[str, ...] = (
    "applicationId", "campaignName", "callingList", "phoneNumber", "timeZone", "phoneType",
    "from", "until", "devicePath",
)
INT_FIELDS: tuple[str, ...] = ("chainId", "applicationId", "from", "until")
STR_FIELDS: tuple[str, ...] = (
    "campaignName", "callingList", "phoneNumber", "timeZone", "phoneType", "devicePath",
    "referenceId",
)
KNOWN: frozenset[str] = frozenset(
    {"operationName", "otherFields", *REQUIRED, *INT_FIELDS, *STR_FIELDS}
)
SECONDS_PER_DAY = 86400


@dataclass(frozen=True)
class Rejection:
    """Why GWS refused the request: its statusCode and statusMessage."""

    status_code: int
    """GWS statusCode (1 missing parameter, 6 not found, 10 input validation, ...)."""
    message: str
    """GWS statusMessage, naming the parameter."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_add_record(body: Any, user: User, catalog: Catalog) -> Rejection | None:
    """Check an AddRecord body; None when GWS would accept it."""
    if not isinstance(body, dict):
        return Rejection(10, "Request body must be a JSON object")
    op = body.get("operationName")
    if op is None:
        return Rejection(1, "Missing required parameter 'operationName'")
    if op != OPERATION:
        return Rejection(
            10, f"Invalid value for parameter 'operationName': {op!r} (this endpoint's "
            "operation is 'AddRecord'; the simulator implements no other here)"
        )
    missing = [name for name in REQUIRED if body.get(name) is None]
    if missing:
        names = ", ".join(f"'{m}'" for m in missing)
        plural = "s" if len(missing) > 1 else ""
        return Rejection(1, f"Missing required parameter{plural} {names}")
    unknown = sorted(set(body) - KNOWN)
    if unknown:
        return Rejection(10, f"Unknown parameter '{unknown[0]}'")
    for name in INT_FIELDS:
        if name in body and not _is_int(body[name]):
            return Rejection(10, f"Parameter '{name}' must be an integer, got {body[name]!r}")
    for name in STR_FIELDS:
        if name in body and (not isinstance(body[name], str) or not body[name].strip()):
            return Rejection(
                10, f"Parameter '{name}' must be a non-empty string, got {body[name]!r}"
            )
    for name in ("chainId", "applicationId"):
        if name in body and body[name] < 0:
            return Rejection(10, f"Parameter '{name}' must not be negative, got {body[name]}")
    for name in ("from", "until"):
        if not 0 <= body[name] < SECONDS_PER_DAY:
            return Rejection(
                10, f"Parameter '{name}' must be seconds since midnight (0..86399), "
                f"got {body[name]}"
            )
    if body["phoneType"] not in PHONE_TYPES:
        return Rejection(
            10, f"Invalid value for parameter 'phoneType': {body['phoneType']!r}; "
            f"expected one of {', '.join(PHONE_TYPES)}"
        )
    other = body.get("otherFields")
    if other is not None:
        if not isinstance(other, dict):
            return Rejection(10, "Parameter 'otherFields' must be a JSON object (a map)")
        for key, value in other.items():
            if value is not None and not isinstance(value, (str, int, float)):
                return Rejection(
                    10, f"otherFields['{key}'] must be a string or a number, got {value!r}"
                )
    return _lookup(body, user, catalog)


def _lookup(body: dict[str, Any], user: User, catalog: Catalog) -> Rejection | None:
    if body["applicationId"] not in catalog.applications:
        return Rejection(6, f"Application {body['applicationId']} not found")
    campaign = catalog.campaign(body["campaignName"])
    if campaign is None:
        return Rejection(6, f"Campaign '{body['campaignName']}' not found")
    if body["callingList"] not in campaign.calling_lists:
        if body["callingList"] in catalog.all_calling_lists():
            return Rejection(
                6, f"Calling list '{body['callingList']}' is not part of campaign "
                f"'{campaign.name}'"
            )
        return Rejection(6, f"Calling list '{body['callingList']}' not found")
    if body["timeZone"] not in TIME_ZONES:
        return Rejection(6, f"Time zone '{body['timeZone']}' not found")
    if body["devicePath"] not in {d.path for d in user.devices}:
        return Rejection(6, f"Device '{body['devicePath']}' not found for user {user.user_name}")
    return None
