"""The CometD notifications GWS sends, built as in the documentation.

- After an AddRecord: `OutboundRecordMessage`/`AddRecordAcknowledge` and the
  `DeviceUserEventMessage`, key for key as the Create Record sample (documented); the `Error`
  forms of both (inferred: GWS's other Error notifications carry the request's referenceId with
  errorCode/errorMessage; OCS's error user events carry GSW_ERROR/GSW_ERROR_NUMBER).
- Device and call state changes on /v2/me/devices and /v2/me/calls, shaped as the GWS
  "CometD notifications" page's DeviceStateChangeMessage / CallStateChangeMessage examples
  (documented shapes; the simulator's values are made up).
"""

from __future__ import annotations

import time
from typing import Any

from console.sim.catalog import Device
from console.sim.store import AcceptedRecord

OUTBOUND_CHANNEL = "/v2/me/outbound"
INTERNAL_CHANNEL = "/me/internal"
DEVICES_CHANNEL = "/v2/me/devices"
CALLS_CHANNEL = "/v2/me/calls"


def _record(record: AcceptedRecord) -> dict[str, Any]:
    body = record.body
    return {
        "devicePath": body["devicePath"],
        "callingList": body["callingList"],
        "applicationId": body["applicationId"],
        "campaignName": body["campaignName"],
    }


def acknowledgement(record: AcceptedRecord) -> dict[str, Any]:
    """`OutboundRecordMessage` / `AddRecordAcknowledge`, key for key as the sample."""
    data: dict[str, Any] = {
        "record": _record(record),
        "notificationType": "AddRecordAcknowledge",
        "messageType": "OutboundRecordMessage",
    }
    if record.reference_id is not None:
        data["referenceId"] = record.reference_id
    return data


def error_notification(record: AcceptedRecord, code: int, message: str) -> dict[str, Any]:
    """An Error notification for the request (GWS style: errorCode/errorMessage + referenceId)."""
    data: dict[str, Any] = {
        "record": _record(record),
        "notificationType": "Error",
        "messageType": "OutboundRecordMessage",
        "errorCode": code,
        "errorMessage": message,
    }
    if record.reference_id is not None:
        data["referenceId"] = record.reference_id
    return data


def user_event(record: AcceptedRecord, user_event_name: str, started_ns: int,
               extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """`DeviceUserEventMessage` with the GSW_* user data OCS attaches to its answer (the chain
    keys only when the record is in a chain)."""
    body = record.body
    now_ns = time.perf_counter_ns()
    user_data: dict[str, Any] = {
        "GSW_APPLICATION_ID": body["applicationId"],
        "GSW_USER_EVENT": user_event_name,
        "GSW_CALLING_LIST": body["callingList"],
        "GSW_PHONE": body["phoneNumber"],
        "GSW_CAMPAIGN_NAME": body["campaignName"],
    }
    if record.chain_n is not None:
        user_data["GSW_CHAIN_N"] = record.chain_n
    if record.chain_id is not None:
        user_data["GSW_CHAIN_ID"] = record.chain_id
    if extra:
        user_data.update(extra)
    return {
        "metrics": {
            "eventProcessing": {
                "serverGenerationTimestamp": int(time.time() * 1000),
                "nodeProcessingTimeNanos": max(0, now_ns - started_ns),
                "serverProcessingTimeTotalMs": max(0, (now_ns - started_ns) // 1_000_000),
            }
        },
        "userData": user_data,
        "deviceId": body["devicePath"].rsplit("/", 1)[-1],
        "messageType": "DeviceUserEventMessage",
    }


def device_state_change(device: Device, logged_in: bool,
                        do_not_disturb: bool = False) -> dict[str, Any]:
    """`DeviceStateChangeMessage` for one device (channel /v2/me/devices)."""
    return {"messageType": "DeviceStateChangeMessage",
            "devices": [device.as_json(full=True, logged_in=logged_in,
                                       do_not_disturb=do_not_disturb)]}


def call_state_change(call_id: str, device: Device, state: str, other: str) -> dict[str, Any]:
    """`CallStateChangeMessage` for a call on `device` (channel /v2/me/calls)."""
    return {
        "messageType": "CallStateChangeMessage",
        "notificationType": "StatusChange",
        "call": {
            "id": call_id,
            "path": f"/calls/{call_id}",
            "state": state,
            "callType": "Inbound",
            "deviceUri": f"/api/v2/devices/{device.id}",
            "participants": [{"formattedPhoneNumber": other, "phoneNumber": other,
                              "digits": other}],
            "ani": other,
            "dnis": device.phone_number,
            "userData": {},
            "capabilities": (["Answer"] if state == "Ringing" else
                             ["Hold", "Release"] if state == "Established" else []),
        },
    }
