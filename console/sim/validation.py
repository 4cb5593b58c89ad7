"""AddRecord request validation, as the simulated GWS and OCS apply it.

GWS checks a request in this order, and so do we (the order decides which statusCode a request
with several faults gets): operationName, missing required parameters (statusCode 1), unknown
parameters and wrong types/values (10), then the configuration lookups (6: application,
campaign, calling list, time zone, device).

Who refuses what (labels as in the README):
- the parameters (1, 10) and the device (6): GWS, at once. Documented: statusCodes 1/10/6 and
  their meanings (Return Values); inferred: GWS resolves `devicePath` itself, as it needs the
  DN to send the TLib request.
- application, campaign, calling list, time zone: inferred to be OCS's, which answers later
  with an Error user event (setting `ocs_refusals: async`, the default); with `sync` GWS
  refuses them at once with statusCode 6, in the order above.
- GSW_ERROR_NUMBER values of `OcsRefusal`: our choice. OCS's desktop protocol documents
  GSW_ERROR (text) and GSW_ERROR_NUMBER (integer) on its error events (Outbound Contact
  Reference Manual, "Communication Protocols"; public client code reads them as a string and
  an int), but its table of numbers was not available to us: the numbers below are stand-ins,
  and a client must treat them as opaque and show GSW_ERROR.

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


@dataclass(frozen=True)
class OcsRefusal:
    """Why OCS refuses a record: the GSW_ERROR_NUMBER / GSW_ERROR of its Error event, and the
    statusMessage GWS gives when it refuses the same thing at once (`ocs_refusals: sync`)."""

    number: int
    """GSW_ERROR_NUMBER (our stand-in values, see the module docstring)."""
    text: str
    """GSW_ERROR: OCS's words."""
    status_message: str
    """statusMessage of the synchronous statusCode 6 refusal."""


#: GSW_ERROR_NUMBER stand-ins (our choice, see the module docstring).
OCS_UNKNOWN_APPLICATION = 101
OCS_UNKNOWN_CAMPAIGN = 102
OCS_UNKNOWN_CALLING_LIST = 103
OCS_LIST_NOT_IN_CAMPAIGN = 104
OCS_UNKNOWN_TIME_ZONE = 105
OCS_AGENT_NOT_LOGGED_IN = 106


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_add_record(body: Any, user: User, catalog: Catalog,
                        ocs_sync: bool = True) -> Rejection | None:
    """Check an AddRecord body; None when GWS would accept it. With `ocs_sync` False the
    configuration OCS resolves is left to `ocs_refusal` (after GWS accepted)."""
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
    if ocs_sync:
        refusal = ocs_refusal(body, catalog)
        if refusal is not None:
            return Rejection(6, refusal.status_message)
    if user.device_at(body["devicePath"]) is None:
        return Rejection(6, f"Device '{body['devicePath']}' not found for user {user.user_name}")
    return None


def ocs_refusal(body: dict[str, Any], catalog: Catalog) -> OcsRefusal | None:
    """What OCS says of a record GWS let through: None when it adds it to the calling list."""
    application = body["applicationId"]
    if application not in catalog.applications:
        return OcsRefusal(OCS_UNKNOWN_APPLICATION, f"Unknown application DBID {application}",
                          f"Application {application} not found")
    name = body["campaignName"]
    campaign = catalog.campaign(name)
    if campaign is None:
        return OcsRefusal(OCS_UNKNOWN_CAMPAIGN, f"Campaign '{name}' not found",
                          f"Campaign '{name}' not found")
    calling_list = body["callingList"]
    if calling_list not in campaign.calling_lists:
        if calling_list in catalog.all_calling_lists():
            words = f"Calling list '{calling_list}' is not part of campaign '{campaign.name}'"
            return OcsRefusal(OCS_LIST_NOT_IN_CAMPAIGN, words, words)
        return OcsRefusal(OCS_UNKNOWN_CALLING_LIST, f"Calling list '{calling_list}' not found",
                          f"Calling list '{calling_list}' not found")
    zone = body["timeZone"]
    if zone not in TIME_ZONES:
        return OcsRefusal(OCS_UNKNOWN_TIME_ZONE, f"Time zone '{zone}' not found",
                          f"Time zone '{zone}' not found")
    return None
