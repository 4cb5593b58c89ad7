"""How the simulated GWS/OCS is configured: behaviours a real deployment chooses (or we choose
to model one way or another), set at start and switchable at run time (`PUT /sim/settings`).

Each default is labelled, here and in the README's simulator section:
- `csrf`: documented (GWS option `enableCsrfProtection`, "CSRF protection" deployment page).
- `ocs_refusals`: inferred. AddRecord travels to OCS as a T-Server user event on the agent's
  DN (Create Record: devicePath is "used for sending the TLib request"); the campaign, calling
  list and time zone are OCS's to resolve, and OCS answers desktop requests with user events
  carrying GSW_ERROR / GSW_ERROR_NUMBER. So GWS accepts (statusCode 0) and the refusal comes
  later on CometD: the default is "async". "sync" keeps the simulator's earlier behaviour
  (statusCode 6 at once) for clients that must also handle a GWS that checks up front.
- `session_required`: our choice, off by default (the Create Record sample works without a
  contact-centre session). "sync": GWS refuses with statusCode 2 "invalid for the current
  state" (inferred: the documented code for an operation the current state forbids; GWS knows
  the DN's agent state, which it publishes on /v2/me/devices). "async": OCS refuses with an
  Error event ("agent not logged in"), for clients that must handle that form too.
- `user_event_channel`: the sample shows the DeviceUserEventMessage on /me/internal
  (documented); GWS's topic for device messages is /v2/me/devices (inferred: where a real node
  most likely publishes it). The default follows the sample.
- `noise_per_s`: our choice, 0 (off): unrelated traffic on /v2/me/devices and /v2/me/calls
  would disturb tests that count events; switch it on to exercise filtering.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from console.sim.knobs import KnobRules, apply_changes
from console.sim.knobs import parse_assignments as _parse_assignments

__all__ = ["GwsSettings", "SettingError", "apply_gws_settings", "parse_setting_assignments"]

INTERNAL_CHANNEL = "/me/internal"
DEVICES_CHANNEL = "/v2/me/devices"


class SettingError(ValueError):
    """A setting that cannot be used; the message names the key and the fix."""


@dataclass
class GwsSettings:
    """Behaviour settings of the simulated deployment (see the module docstring for labels)."""

    csrf: bool = True
    """GWS `enableCsrfProtection`: GETs return X-CSRF-HEADER/X-CSRF-TOKEN and POST/PUT/DELETE
    need the token and the session cookie. False: no CSRF headers and no check."""
    ocs_refusals: str = "async"
    """Unknown application/campaign/calling list/time zone: "async" (statusCode 0, then an
    Error notification and an Error user event from OCS) or "sync" (statusCode 6 at once)."""
    session_required: str = "off"
    """AddRecord before StartContactCenterSession logged an agent in on the device's DN:
    "off" (allowed), "sync" (statusCode 2) or "async" (accepted, then an OCS Error)."""
    user_event_channel: str = INTERNAL_CHANNEL
    """Channel of the DeviceUserEventMessage: /me/internal (the sample) or /v2/me/devices."""
    noise_per_s: float = 0.0
    """Unrelated notifications per second per user (device and call state changes on
    /v2/me/devices and /v2/me/calls); 0 is off."""

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


RULES = KnobRules(
    kind="setting",
    choices={"ocs_refusals": ("async", "sync"), "session_required": ("off", "sync", "async"),
             "user_event_channel": (INTERNAL_CHANNEL, DEVICES_CHANNEL)},
    ranges={"noise_per_s": (0, 1000, "notifications per second")},
)


def apply_gws_settings(base: GwsSettings, changes: Any) -> GwsSettings:
    """A copy of `base` with `changes` applied; SettingError names a bad key or value."""
    return apply_changes(base, changes, RULES, SettingError)


def parse_setting_assignments(items: list[str] | tuple[str, ...]) -> dict[str, str]:
    """`["csrf=false", ...]` from the command line into a mapping."""
    return _parse_assignments(items, "--setting", SettingError)
