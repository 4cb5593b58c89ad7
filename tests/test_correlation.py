"""The tracker: verdicts by referenceId, the GSW_* rule for user events, timeouts."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from console.domain.correlation import Tracked, Tracker
from console.domain.events import Event
from console.domain.model import AddRecord
from tests.helpers import sample, sample_request


def ack(ref: str, kind: str = "AddRecordAcknowledge", **extra: Any) -> Event:
    data = {"record": {}, "notificationType": kind, "messageType": "OutboundRecordMessage",
            "referenceId": ref, **extra}
    return Event("/v2/me/outbound", data, 0.0)


def user_event(**user_data: Any) -> Event:
    data = dict(sample()["notifications"][1]["data"])
    data["userData"] = {**data["userData"], **user_data}
    return Event("/me/internal", data, 0.0)


def test_ack_before_http_reply_is_not_lost() -> None:
    tracker = Tracker()
    tracked = tracker.sent(AddRecord.parse(sample_request()))
    assert tracker.observe(ack("123456789")) is tracked
    tracker.http_ok(tracked, 200)
    assert tracked.state == "acknowledged" and tracked.latency_ms is not None


def test_error_notification_fails_with_its_message() -> None:
    tracker = Tracker()
    tracked = tracker.sent(AddRecord.parse(sample_request()))
    tracker.observe(ack("123456789", "Error", errorCode=13, errorMessage="OCS said no"))
    assert tracked.state == "failed" and "13" in tracked.reason and "OCS said no" in tracked.reason


def test_other_reference_ids_do_not_match() -> None:
    tracker = Tracker()
    tracked = tracker.sent(AddRecord.parse(sample_request()))
    assert tracker.observe(ack("someone-else")) is None
    assert tracked.state == "pending"


def test_first_verdict_wins() -> None:
    tracker = Tracker()
    tracked = tracker.sent(AddRecord.parse(sample_request()))
    tracker.http_failed(tracked, "statusCode 6", 404)
    tracker.observe(ack("123456789"))
    assert tracked.state == "failed"


def test_user_event_rule() -> None:
    tracker = Tracker()
    first = tracker.sent(AddRecord.parse(sample_request(referenceId="a")))
    second = tracker.sent(AddRecord.parse(sample_request(referenceId="b")))
    other = tracker.sent(AddRecord.parse(sample_request(referenceId="c", phoneNumber="999")))
    assert tracker.observe(user_event()) is first
    assert tracker.observe(user_event()) is second
    assert tracker.observe(user_event(GSW_PHONE="999")) is other
    assert tracker.observe(user_event(GSW_CHAIN_ID=5)) is None  # chainId 2 was asked for


def test_error_user_event_fails_a_pending_request() -> None:
    tracker = Tracker()
    tracked = tracker.sent(AddRecord.parse(sample_request()))
    tracker.observe(user_event(GSW_USER_EVENT="Error", GSW_ERROR="no such list"))
    assert tracked.state == "failed" and "no such list" in tracked.reason


async def test_wait_gives_no_answer_after_the_timeout() -> None:
    tracker = Tracker(timeout_s=0.1)
    tracked = tracker.sent(AddRecord.parse(sample_request()))
    await tracker.wait(tracked)
    assert tracked.state == "no_answer" and "0.1 s" in tracked.reason


async def test_wait_returns_at_the_ack() -> None:
    tracker = Tracker(timeout_s=5)
    tracked = tracker.sent(AddRecord.parse(sample_request()))
    asyncio.get_running_loop().call_later(0.05, tracker.observe, ack("123456789"))
    await asyncio.wait_for(tracker.wait(tracked), 1.0)
    assert tracked.state == "acknowledged"


def test_expire() -> None:
    now = [0.0]
    tracker = Tracker(timeout_s=10, clock=lambda: now[0])
    tracked = tracker.sent(AddRecord.parse(sample_request()))
    now[0] = 9.9
    assert tracker.expire() == []
    now[0] = 10.0
    assert tracker.expire() == [tracked] and tracked.state == "no_answer"


def test_tracker_is_bounded() -> None:
    tracker = Tracker(keep=3)
    for n in range(5):
        tracker.sent(AddRecord.parse(sample_request(referenceId=f"r{n}")))
    assert len(tracker) == 3 and tracker.get("r0") is None and tracker.get("r4") is not None


def test_user_event_goes_to_the_request_of_its_chain_not_the_oldest() -> None:
    tracker = Tracker()
    other_chain = tracker.sent(AddRecord.parse(sample_request(referenceId="a", chainId=7)))
    this_chain = tracker.sent(AddRecord.parse(sample_request(referenceId="b", chainId=2)))
    assert tracker.observe(user_event(GSW_CHAIN_ID=2)) is this_chain
    assert other_chain.user_event is None


def test_error_user_event_fails_none_of_several_identical_requests() -> None:
    tracker = Tracker()
    first = tracker.sent(AddRecord.parse(sample_request(referenceId="a")))
    second = tracker.sent(AddRecord.parse(sample_request(referenceId="b")))
    owner = tracker.observe(user_event(GSW_USER_EVENT="Error", GSW_ERROR="no such list"))
    assert owner is first and first.user_event is not None  # kept as evidence...
    assert (first.state, second.state) == ("pending", "pending")  # ...but it decides nothing


async def test_wait_counts_its_timeout_from_the_post_not_from_the_wait() -> None:
    now = [0.0]
    tracker = Tracker(timeout_s=10, clock=lambda: now[0])
    tracked = tracker.sent(AddRecord.parse(sample_request()))
    now[0] = 9.95  # the wait starts 9.95 s after the POST: 0.05 s are left
    await asyncio.wait_for(tracker.wait(tracked), 2.0)
    assert tracked.state == "no_answer" and "10 s" in tracked.reason


def test_ocs_refusal_reads_the_same_from_either_message() -> None:
    by_notification, by_user_event = Tracker(), Tracker()
    first = by_notification.sent(AddRecord.parse(sample_request()))
    by_notification.observe(ack("123456789", "Error", errorCode=105,
                                errorMessage="Time zone 'Mars' not found"))
    second = by_user_event.sent(AddRecord.parse(sample_request()))
    by_user_event.observe(user_event(GSW_USER_EVENT="Error", GSW_ERROR_NUMBER=105,
                                     GSW_ERROR="Time zone 'Mars' not found"))
    for tracked in (first, second):
        assert tracked.state == "failed"
        assert tracked.reason.endswith("Time zone 'Mars' not found (GSW_ERROR_NUMBER 105)")
        assert tracked.verdict()["ocsError"] == {"GSW_ERROR": "Time zone 'Mars' not found",
                                                 "GSW_ERROR_NUMBER": 105}
    # An Error without a number or a text still says what it can.
    bare = Tracker()
    tracked = bare.sent(AddRecord.parse(sample_request()))
    bare.observe(ack("123456789", "Error"))
    assert tracked.reason == "refused by OCS: no detail given"


def test_a_no_session_refusal_names_the_fix() -> None:
    tracker = Tracker()
    tracked = tracker.sent(AddRecord.parse(sample_request()))
    tracker.observe(ack("123456789", "Error", errorCode=106,
                        errorMessage="Agent not logged in on DN 5001"))
    assert "contact_center_session: {start: true}" in tracked.reason
    started = Tracker()
    started.contact_center = "voice on place Place_5002"
    tracked = started.sent(AddRecord.parse(sample_request()))
    started.http_failed(tracked, "AddRecord: GWS answered statusCode 2 (...): Device '/d' "
                        "(DN 5001) has no agent logged in", 400)
    assert "although the console started a contact-centre session (voice on place " \
           "Place_5002)" in tracked.reason
    bare = Tracker()  # GWS's bare statusCode 2: the likely cause, as a likelihood
    tracked = bare.sent(AddRecord.parse(sample_request()))
    bare.http_failed(tracked, "AddRecord: GWS answered statusCode 2 (the operation is not "
                     "valid in the current state): Invalid for the current state", 400)
    assert "most likely no agent is logged in" in tracked.reason
    other = Tracker()  # unrelated refusals carry no hint
    tracked = other.sent(AddRecord.parse(sample_request()))
    other.http_failed(tracked, "statusCode 6: Campaign 'Nope' not found", 404)
    assert "contact_center_session" not in tracked.reason


async def test_a_timeout_after_a_stream_interruption_says_the_ack_may_be_lost() -> None:
    tracker = Tracker(timeout_s=0.05)
    tracked = tracker.sent(AddRecord.parse(sample_request()))
    tracker.http_ok(tracked, 200)
    tracker.stream_interrupted("connect refused: 402::session_unknown")
    calm = tracker.sent(AddRecord.parse(sample_request(referenceId="later")))
    tracker.http_ok(calm, 200)
    await tracker.wait(tracked)
    await tracker.wait(calm)
    assert tracked.state == "no_answer" and "interrupted while it waited" in tracked.reason
    assert "402::session_unknown" in tracked.reason
    assert calm.reason == "no acknowledgement within 0.05 s"



def test_letting_old_requests_go_never_compares_records_field_by_field(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # One Tracked per POST, told apart by identity. Compared by value (a dataclass's __eq__),
    # the bookkeeping of the requests awaiting a user event (`in`, `remove`) compared every
    # field of each request it passed, records included: past `keep` requests, every new one
    # paid that for the one it let go (a replay of 100,000 records does so 90,000 times).
    compared = []
    original = AddRecord.__eq__

    def counting(self: AddRecord, other: object) -> bool:
        compared.append(1)
        return original(self, other)

    monkeypatch.setattr(AddRecord, "__eq__", counting)
    tracker = Tracker(keep=3)
    waiting = []
    for n in range(8):
        waiting.append(tracker.sent(AddRecord.parse({**sample_request(),
                                                     "referenceId": f"ref-{n}"})))
    tracker.observe(user_event())  # the oldest takes it and leaves the waiting list
    for n in range(8, 12):
        tracker.sent(AddRecord.parse({**sample_request(), "referenceId": f"ref-{n}"}))
    assert compared == []
    first, second = waiting[-1], Tracked(waiting[-1].record, 1.0, 1.0)
    assert first != second and first == first
