"""Ties CometD notifications to the requests that caused them.

A request is tracked from just before its POST (an acknowledgement may overtake the HTTP
reply) until one verdict: acknowledged (with the latency from POST start to the ack, in ms),
failed (statusCode != 0, an HTTP error, or an Error notification for its referenceId), or no
answer (nothing within the timeout, 10 s by default).

The rule for the `DeviceUserEventMessage`, which has no referenceId: among the tracked requests
that have no user event yet and whose campaignName, callingList, phoneNumber and applicationId
(and chainId, when the request named one) equal its GSW_CAMPAIGN_NAME, GSW_CALLING_LIST,
GSW_PHONE, GSW_APPLICATION_ID (and GSW_CHAIN_ID), it belongs to the oldest that already has its
OutboundRecordMessage (GWS sends that first), else to the oldest. It is evidence; the verdict
comes from the OutboundRecordMessage, except that a user event whose GSW_USER_EVENT is `Error`
fails a still-pending request when it is the only one that could own it.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

from console.events import Event
from console.model import AddRecord

__all__ = ["Tracker", "Tracked", "State"]


def _key(record: AddRecord) -> tuple[Any, ...]:
    return (record.campaign_name, record.calling_list, record.phone_number, record.application_id)

State = Literal["pending", "acknowledged", "failed", "no_answer"]
TERMINAL: frozenset[str] = frozenset({"acknowledged", "failed", "no_answer"})


@dataclass
class Tracked:
    """One request and what is known of its outcome."""

    record: AddRecord
    """The request as sent."""
    sent_at: float
    """Monotonic time the POST started."""
    sent_wall: float
    """Wall-clock time the POST started."""
    state: State = "pending"
    """pending, acknowledged, failed or no_answer."""
    latency_ms: float | None = None
    """POST start to acknowledgement, for acknowledged requests."""
    reason: str = ""
    """Why it failed or what was (not) received."""
    ack: Event | None = None
    """The OutboundRecordMessage that decided it (ack or Error)."""
    user_event: Event | None = None
    """The DeviceUserEventMessage tied to it by the GSW_* rule."""
    http_status: int | None = None
    """HTTP status of the POST, once known."""
    done: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    @property
    def reference_id(self) -> str:
        return self.record.reference_id

    def verdict(self) -> dict[str, Any]:
        return {"referenceId": self.reference_id, "state": self.state,
                "latencyMs": None if self.latency_ms is None else round(self.latency_ms, 1),
                "reason": self.reason, "httpStatus": self.http_status}

    def describe(self) -> str:
        if self.state == "acknowledged":
            return f"acknowledged in {self.latency_ms:.0f} ms"
        if self.state == "failed":
            return f"failed: {self.reason}"
        if self.state == "no_answer":
            return f"no answer: {self.reason}"
        return "pending"


class Tracker:
    """Requests by referenceId, and their verdicts."""

    def __init__(self, timeout_s: float = 10.0, keep: int = 10000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.timeout_s = timeout_s
        self._keep = keep
        self._clock = clock
        self._by_ref: OrderedDict[str, Tracked] = OrderedDict()
        # Requests still without a user event, by (campaign, list, phone, application), oldest
        # first: a user event finds its candidates without a scan of every request.
        self._awaiting_event: dict[tuple[Any, ...], list[Tracked]] = {}

    def __len__(self) -> int:
        return len(self._by_ref)

    def get(self, reference_id: str) -> Tracked | None:
        return self._by_ref.get(reference_id)

    def sent(self, record: AddRecord) -> Tracked:
        tracked = Tracked(record, self._clock(), time.time())
        self._by_ref[record.reference_id] = tracked
        self._awaiting_event.setdefault(_key(record), []).append(tracked)
        while len(self._by_ref) > self._keep:
            _, old = self._by_ref.popitem(last=False)
            self._forget_awaiting(old)
        return tracked

    def _forget_awaiting(self, tracked: Tracked) -> None:
        waiting = self._awaiting_event.get(_key(tracked.record))
        if waiting is not None and tracked in waiting:
            waiting.remove(tracked)
            if not waiting:
                del self._awaiting_event[_key(tracked.record)]

    def http_ok(self, tracked: Tracked, http_status: int) -> None:
        tracked.http_status = http_status

    def http_failed(self, tracked: Tracked, reason: str, http_status: int | None = None) -> None:
        tracked.http_status = http_status
        self._finish(tracked, "failed", reason)

    def observe(self, event: Event) -> Tracked | None:
        """Attach an event to its request; returns the request it matched, if any."""
        if event.message_type == "DeviceUserEventMessage":
            return self._user_event(event)
        ref = event.reference_id
        tracked = self._by_ref.get(ref) if ref else None
        if tracked is None:
            return None
        notification = event.notification_type or ""
        if tracked.state != "pending":
            return tracked
        tracked.ack = event
        if notification.endswith("Acknowledge"):
            tracked.latency_ms = (self._clock() - tracked.sent_at) * 1000.0
            self._finish(tracked, "acknowledged", notification)
        else:
            code = event.data.get("errorCode")
            message = event.data.get("errorMessage") or notification or "unexpected notification"
            detail = f"{notification} notification" + (f" {code}" if code is not None else "")
            self._finish(tracked, "failed", f"{detail}: {message}")
        return tracked

    def _user_event(self, event: Event) -> Tracked | None:
        ud = event.user_data
        key = (ud.get("GSW_CAMPAIGN_NAME"), ud.get("GSW_CALLING_LIST"), str(ud.get("GSW_PHONE")),
               ud.get("GSW_APPLICATION_ID"))
        candidates = [t for t in self._awaiting_event.get(key, ())
                      if t.record.chain_id is None or ud.get("GSW_CHAIN_ID") == t.record.chain_id]
        if not candidates:
            return None
        # GWS sends the OutboundRecordMessage first: a request that has it is the better match.
        answered = [t for t in candidates if t.ack is not None]
        tracked = answered[0] if answered else candidates[0]
        tracked.user_event = event
        self._forget_awaiting(tracked)
        if (ud.get("GSW_USER_EVENT") == "Error" and tracked.state == "pending"
                and len(candidates) == 1):
            # Only when no other identical request could own it.
            self._finish(tracked, "failed",
                         f"OCS error user event: {ud.get('GSW_ERROR', 'no detail')}")
        return tracked

    def expire(self) -> list[Tracked]:
        """Give pending requests older than the timeout the verdict no_answer."""
        now = self._clock()
        expired = [t for t in self._by_ref.values()
                   if t.state == "pending" and now - t.sent_at >= self.timeout_s]
        for tracked in expired:
            self._finish(tracked, "no_answer",
                         f"no acknowledgement within {self.timeout_s:g} s")
        return expired

    async def wait(self, tracked: Tracked, timeout_s: float | None = None) -> Tracked:
        """Wait for a verdict; after the timeout the request is marked no_answer."""
        limit = self.timeout_s if timeout_s is None else timeout_s
        remaining = limit - (self._clock() - tracked.sent_at)
        try:
            await asyncio.wait_for(tracked.done.wait(), max(0.0, remaining))
        except asyncio.TimeoutError:
            if tracked.state == "pending":
                self._finish(tracked, "no_answer", f"no acknowledgement within {limit:g} s")
        return tracked

    @staticmethod
    def _finish(tracked: Tracked, state: State, reason: str) -> None:
        if tracked.state != "pending":
            return
        tracked.state = state
        tracked.reason = reason
        tracked.done.set()
