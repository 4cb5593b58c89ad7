"""Ties CometD notifications to the requests that caused them.

A request is tracked from just before its POST (an acknowledgement may overtake the HTTP
reply) until one verdict: acknowledged (with the latency from POST start to the ack, in ms),
failed (GWS refused the POST, it could not be delivered, or an Error notification came for
its referenceId), no answer (GWS accepted the POST, nothing came within the timeout, 10 s by
default), or unknown (the POST was sent but its reply was lost — reset, timeout, unreadable —
and no acknowledgement came either: GWS may have accepted it).

What happened to the POST itself is kept apart (`Tracked.post`): accepted, refused (a reply in
which GWS says no), not_delivered (nothing left: safe to send again) or unknown. An unknown POST
keeps waiting for its acknowledgement, which may still come.

Two requests waiting at the same time never share a referenceId: the second is refused
(DuplicateReference) before anything is sent.

The rule for the `DeviceUserEventMessage`, which has no referenceId: among the tracked requests
that have no user event yet and whose campaignName, callingList, phoneNumber and applicationId
(and chainId, when the request named one) equal its GSW_CAMPAIGN_NAME, GSW_CALLING_LIST,
GSW_PHONE, GSW_APPLICATION_ID (and GSW_CHAIN_ID), it belongs to the oldest that already has its
OutboundRecordMessage (GWS sends that first), else to the oldest. It is evidence; the verdict
comes from the OutboundRecordMessage, except that a user event whose GSW_USER_EVENT is `Error`
fails a still-pending request when it is the only one that could own it.

OCS refuses a record in one of two ways, and the verdict reads the same in both: `failed`,
with OCS's reason in words. Either GWS refuses the POST at once (a statusCode, e.g. 6 for an
unknown campaign), or it accepts it (statusCode 0) and OCS answers later with an Error
`OutboundRecordMessage` (errorMessage / errorCode) and an Error `DeviceUserEventMessage`
(GSW_ERROR / GSW_ERROR_NUMBER): the reason is then `refused by OCS: <GSW_ERROR>
(GSW_ERROR_NUMBER <n>)`, and `Tracked.ocs_error` keeps the pair. A refusal that says no agent
is logged in on the DN (no contact-centre session) says so and names the fix: the profile key
`contact_center_session` [inferred: GWS's statusCode 2 names the state, OCS's text names the
agent; the number is not documented, so the words decide].
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

from console.domain.events import Event
from console.domain.model import AddRecord
from console.errors import DuplicateReference

__all__ = ["Tracker", "Tracked", "State", "PostOutcome"]


def _key(record: AddRecord) -> tuple[Any, ...]:
    return (record.campaign_name, record.calling_list, record.phone_number, record.application_id)

State = Literal["pending", "acknowledged", "failed", "no_answer", "unknown"]
TERMINAL: frozenset[str] = frozenset({"acknowledged", "failed", "no_answer", "unknown"})
#: What became of the POST: GWS took it, GWS said no, it never left, or nobody knows.
PostOutcome = Literal["accepted", "refused", "not_delivered", "unknown"]
UNKNOWN_ADVICE = "it may have been accepted by GWS; check before re-sending"
#: Words of a refusal due to no agent logged in on the DN (GWS statusCode 2 or OCS's error).
_NO_SESSION = re.compile(r"not logged in|no agent logged in|StartContactCenterSession",
                         re.IGNORECASE)
NO_SESSION_FIX = ("no agent is logged in on the device's DN (no contact-centre session): set "
                  "`contact_center_session: {start: true}` in the profile so the console "
                  "starts one (StartContactCenterSession) after login, or log the agent in "
                  "on that DN")


def ocs_words(text: Any, number: Any) -> str:
    """OCS's refusal in words: `<GSW_ERROR> (GSW_ERROR_NUMBER <n>)`."""
    words = str(text) if text not in (None, "") else "no detail given"
    return words + (f" (GSW_ERROR_NUMBER {number})" if number not in (None, "") else "")


def session_fix(reason: str, contact_center: str | None = None) -> str:
    """`reason`, plus what to do when it says no agent is logged in on the DN. With
    `contact_center` (the session the console started), the fix is to check that session."""
    if not _NO_SESSION.search(reason):
        if "statusCode 2 (" in reason and not contact_center:
            # GWS's bare "invalid for the current state": for AddRecord the likeliest state is
            # no agent on the DN [inferred], so the fix is offered as a likelihood.
            return f"{reason} — most likely {NO_SESSION_FIX}"
        return reason
    if contact_center:
        return (f"{reason} — no agent logged in on the record's DN although the console "
                f"started a contact-centre session ({contact_center}): check that the "
                "record's devicePath is that session's device (profile device_path, "
                "contact_center_session.place)")
    return f"{reason} — {NO_SESSION_FIX}"


@dataclass(eq=False)  # one POST each: two are never "equal" (and `in` stays cheap)
class Tracked:
    """One request and what is known of its outcome."""

    record: AddRecord
    """The request as sent."""
    sent_at: float
    """Monotonic time the POST started."""
    sent_wall: float
    """Wall-clock time the POST started."""
    state: State = "pending"
    """pending, acknowledged, failed, no_answer or unknown."""
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
    post: PostOutcome | None = None
    """What became of the POST (None while it is in flight)."""
    post_detail: str = ""
    """Why the POST's outcome is unknown (reset, timeout, unreadable reply), when it is."""
    interrupted: str = ""
    """What interrupted the notification stream while it waited (its ack may be lost)."""
    ocs_error: tuple[str, Any] | None = None
    """(GSW_ERROR, GSW_ERROR_NUMBER) when OCS refused the record after GWS accepted it."""
    verdict_written: bool = field(default=False, repr=False)
    """The verdict is in the journal (it is written once, when both it and the POST's outcome
    are known: an Error may overtake the HTTP reply)."""
    done: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    on_done: Callable[[Tracked], None] | None = field(default=None, repr=False)
    """Called once with the request when its verdict is reached (a replay follows thousands
    of requests this way instead of a task waiting on each `done`)."""

    @property
    def reference_id(self) -> str:
        return self.record.reference_id

    def verdict(self) -> dict[str, Any]:
        latency = None if self.latency_ms is None else round(self.latency_ms, 1)
        verdict: dict[str, Any] = {"referenceId": self.reference_id, "state": self.state,
                                   "latencyMs": latency, "reason": self.reason,
                                   "httpStatus": self.http_status, "post": self.post}
        if self.ocs_error is not None:
            verdict["ocsError"] = {"GSW_ERROR": self.ocs_error[0],
                                   "GSW_ERROR_NUMBER": self.ocs_error[1]}
        return verdict

    def describe(self) -> str:
        if self.state == "acknowledged":
            return f"acknowledged in {self.latency_ms:.0f} ms"
        if self.state == "failed":
            return f"failed: {self.reason}"
        if self.state == "no_answer":
            return f"no answer: {self.reason}"
        if self.state == "unknown":
            return f"unknown: {self.reason}"
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
        self.contact_center: str | None = None
        """The contact-centre session the console started (for a no-session refusal's fix)."""

    def __len__(self) -> int:
        return len(self._by_ref)

    def get(self, reference_id: str) -> Tracked | None:
        return self._by_ref.get(reference_id)

    def sent(self, record: AddRecord) -> Tracked:
        """Start tracking `record` (just before its POST); DuplicateReference when a request
        with the same referenceId is still waiting."""
        earlier = self._by_ref.get(record.reference_id)
        if earlier is not None and earlier.state == "pending":
            raise DuplicateReference(record.reference_id)
        if earlier is not None:
            self._forget_awaiting(earlier)
            del self._by_ref[record.reference_id]
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
        tracked.post = "accepted"

    def http_failed(self, tracked: Tracked, reason: str, http_status: int | None = None,
                    post: PostOutcome = "refused") -> None:
        """GWS said no (`refused`) or the POST never left (`not_delivered`)."""
        tracked.http_status = http_status
        tracked.post = post
        self._finish(tracked, "failed",
                     session_fix(reason, self.contact_center) if post == "refused" else reason)

    def http_unknown(self, tracked: Tracked, reason: str) -> None:
        """The POST was sent but its reply was lost: GWS may have accepted it, so it keeps
        waiting for the acknowledgement; without one its verdict is `unknown`."""
        tracked.post = "unknown"
        tracked.post_detail = reason

    def give_up(self, tracked: Tracked, why: str) -> None:
        """The caller stops waiting (e.g. Ctrl-C): a request still pending becomes `unknown`,
        never refused: its POST may have reached GWS, or its acknowledgement may still come."""
        if tracked.state != "pending":
            return
        where = "while the POST was in flight" if tracked.post is None else \
            "before its acknowledgement"
        if tracked.post is None:
            self.http_unknown(tracked, f"{why} {where}")
        self._finish(tracked, "unknown", f"{why} {where}: {UNKNOWN_ADVICE}")

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
            message = event.data.get("errorMessage")
            if notification == "Error":
                # OCS's answer relayed by GWS: errorMessage / errorCode are GSW_ERROR and
                # GSW_ERROR_NUMBER [inferred: the Error user event carries the same pair].
                tracked.ocs_error = (str(message or ""), code)
                reason = f"refused by OCS: {ocs_words(message, code)}"
            else:
                detail = f"{notification or 'unexpected'} notification"
                reason = detail + (f" {code}" if code is not None else "") + (
                    f": {message}" if message else "")
            self._finish(tracked, "failed", session_fix(reason, self.contact_center))
        return tracked

    def _user_event(self, event: Event) -> Tracked | None:
        ud = event.user_data
        key = (ud.get("GSW_CAMPAIGN_NAME"), ud.get("GSW_CALLING_LIST"), str(ud.get("GSW_PHONE")),
               ud.get("GSW_APPLICATION_ID"))
        error = ud.get("GSW_USER_EVENT") == "Error"
        chain = ud.get("GSW_CHAIN_ID")
        oldest: Tracked | None = None
        answered: Tracked | None = None
        candidates = 0
        # One pass, oldest first, stopping as soon as the choice is made: in a replay every
        # request shares the key, and the oldest usually is the one (acks come in order).
        for t in self._awaiting_event.get(key, ()):
            if t.record.chain_id is not None and chain != t.record.chain_id:
                continue
            candidates += 1
            if oldest is None:
                oldest = t
            if answered is None and t.ack is not None:
                answered = t  # GWS sends the OutboundRecordMessage first: the better match
                if not error:
                    break  # only an Error needs to know whether others could own it
            if error and candidates > 1 and answered is not None:
                break
        if oldest is None:
            return None
        tracked = answered or oldest
        tracked.user_event = event
        self._forget_awaiting(tracked)
        if error and tracked.state == "pending" and candidates == 1:
            # Only when no other identical request could own it.
            tracked.ocs_error = (str(ud.get("GSW_ERROR") or ""), ud.get("GSW_ERROR_NUMBER"))
            reason = (f"refused by OCS (user event): "
                      f"{ocs_words(ud.get('GSW_ERROR'), ud.get('GSW_ERROR_NUMBER'))}")
            self._finish(tracked, "failed", session_fix(reason, self.contact_center))
        return tracked

    def stream_interrupted(self, detail: str) -> None:
        """The stream reconnected, failed or reported a gap: every request still waiting may
        miss its notifications; a timeout then says so."""
        for tracked in self._by_ref.values():
            if tracked.state == "pending" and not tracked.interrupted:
                tracked.interrupted = detail

    def expire(self) -> list[Tracked]:
        """Give pending requests older than the timeout the verdict no_answer."""
        now = self._clock()
        expired = [t for t in self._by_ref.values()
                   if t.state == "pending" and now - t.sent_at >= self.timeout_s]
        for tracked in expired:
            self._time_out(tracked, self.timeout_s)
        return expired

    async def wait(self, tracked: Tracked, timeout_s: float | None = None) -> Tracked:
        """Wait for a verdict; after the timeout the request is marked no_answer."""
        limit = self.timeout_s if timeout_s is None else timeout_s
        remaining = limit - (self._clock() - tracked.sent_at)
        try:
            async with asyncio.timeout(max(0.0, remaining)):  # no task per wait (wait_for's)
                await tracked.done.wait()
        except TimeoutError:
            self._time_out(tracked, limit)
        return tracked

    def _time_out(self, tracked: Tracked, limit: float) -> None:
        gap = (f"; the notification stream was interrupted while it waited "
               f"({tracked.interrupted[:160]}): its acknowledgement may have been published "
               "then and lost, so the record may be in the list; check before re-sending"
               if tracked.interrupted else "")
        if tracked.post == "unknown":
            self._finish(tracked, "unknown", f"{tracked.post_detail}; no acknowledgement within "
                         f"{limit:g} s either{gap or ': ' + UNKNOWN_ADVICE}")
        else:
            self._finish(tracked, "no_answer", f"no acknowledgement within {limit:g} s{gap}")

    @staticmethod
    def _finish(tracked: Tracked, state: State, reason: str) -> None:
        if tracked.state != "pending":
            return
        tracked.state = state
        tracked.reason = reason
        tracked.done.set()
        if tracked.on_done is not None:
            tracked.on_done(tracked)
