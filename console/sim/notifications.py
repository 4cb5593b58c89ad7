"""The CometD notifications GWS sends after an AddRecord, built as in the documentation sample."""

from __future__ import annotations

import time
from typing import Any

from console.sim.store import AcceptedRecord

OUTBOUND_CHANNEL = "/v2/me/outbound"
INTERNAL_CHANNEL = "/me/internal"


def acknowledgement(record: AcceptedRecord) -> dict[str, Any]:
    """`OutboundRecordMessage` / `AddRecordAcknowledge`, key for key as the sample."""
    body = record.body
    data: dict[str, Any] = {
        "record": {
            "devicePath": body["devicePath"],
            "callingList": body["callingList"],
            "applicationId": body["applicationId"],
            "campaignName": body["campaignName"],
        },
        "notificationType": "AddRecordAcknowledge",
        "messageType": "OutboundRecordMessage",
    }
    if record.reference_id is not None:
        data["referenceId"] = record.reference_id
    return data


def error_notification(record: AcceptedRecord, code: int, message: str) -> dict[str, Any]:
    """An Error notification for the request (GWS style: errorCode/errorMessage + referenceId)."""
    body = record.body
    data: dict[str, Any] = {
        "record": {
            "devicePath": body["devicePath"],
            "callingList": body["callingList"],
            "applicationId": body["applicationId"],
            "campaignName": body["campaignName"],
        },
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
    """`DeviceUserEventMessage` with the GSW_* user data OCS attaches to its answer."""
    body = record.body
    now_ns = time.perf_counter_ns()
    user_data: dict[str, Any] = {
        "GSW_APPLICATION_ID": body["applicationId"],
        "GSW_USER_EVENT": user_event_name,
        "GSW_CALLING_LIST": body["callingList"],
        "GSW_PHONE": body["phoneNumber"],
        "GSW_CAMPAIGN_NAME": body["campaignName"],
        "GSW_CHAIN_N": record.chain_n,
        "GSW_CHAIN_ID": record.chain_id,
    }
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
