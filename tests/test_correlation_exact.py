"""The tracker's words and numbers, exactly: what `describe()` and `verdict()` say in each
state (the CLI's verdict lines and --json objects are made of them), latencies from a fake
clock, and the timeout boundaries. Written to kill the mutants tools/mutate.py found alive."""

from __future__ import annotations

from console.domain.correlation import UNKNOWN_ADVICE, Tracker
from console.domain.model import AddRecord
from tests.helpers import sample_request
from tests.test_correlation import ack


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def tracker_and_clock(timeout_s: float = 10.0) -> tuple[Tracker, Clock]:
    clock = Clock()
    return Tracker(timeout_s=timeout_s, clock=clock), clock


def test_describe_and_verdict_of_an_acknowledged_request() -> None:
    tracker, clock = tracker_and_clock()
    tracked = tracker.sent(AddRecord.parse(sample_request()))
    assert tracked.describe() == "pending"
    tracker.http_ok(tracked, 200)
    clock.now += 0.01234  # 12.34 ms
    tracker.observe(ack("123456789"))
    assert tracked.describe() == "acknowledged in 12 ms"
    assert tracked.verdict() == {"referenceId": "123456789", "state": "acknowledged",
                                 "latencyMs": 12.3, "reason": "AddRecordAcknowledge",
                                 "httpStatus": 200, "post": "accepted"}


def test_describe_and_verdict_of_a_failed_request() -> None:
    tracker, _ = tracker_and_clock()
    tracked = tracker.sent(AddRecord.parse(sample_request()))
    tracker.http_failed(tracked, "statusCode 6: no such list", 400)
    assert tracked.describe() == "failed: statusCode 6: no such list"
    assert tracked.verdict() == {"referenceId": "123456789", "state": "failed",
                                 "latencyMs": None, "reason": "statusCode 6: no such list",
                                 "httpStatus": 400, "post": "refused"}


def test_describe_of_no_answer_and_of_unknown() -> None:
    tracker, clock = tracker_and_clock(timeout_s=5)
    quiet = tracker.sent(AddRecord.parse(sample_request(referenceId="quiet")))
    tracker.http_ok(quiet, 200)
    lost = tracker.sent(AddRecord.parse(sample_request(referenceId="lost")))
    tracker.http_unknown(lost, "connection reset after the POST")
    assert lost.state == "pending" and lost.post == "unknown"
    clock.now += 5
    assert tracker.expire() == [quiet, lost]
    assert quiet.describe() == "no answer: no acknowledgement within 5 s"
    assert lost.describe() == ("unknown: connection reset after the POST; no acknowledgement "
                               f"within 5 s either: {UNKNOWN_ADVICE}")
    assert lost.verdict()["state"] == "unknown" and lost.verdict()["post"] == "unknown"


def test_expire_takes_only_what_reached_the_timeout() -> None:
    tracker, clock = tracker_and_clock(timeout_s=5)
    old = tracker.sent(AddRecord.parse(sample_request(referenceId="old")))
    clock.now = 101.0
    young = tracker.sent(AddRecord.parse(sample_request(referenceId="young")))
    clock.now = 104.5
    assert tracker.expire() == []
    clock.now = 105.0  # old is exactly 5 s old: its time is up
    assert tracker.expire() == [old]
    assert young.state == "pending"


def test_a_reference_still_waiting_is_refused_and_a_finished_one_can_be_reused() -> None:
    import pytest

    from console.errors import DuplicateReference

    tracker, _ = tracker_and_clock()
    first = tracker.sent(AddRecord.parse(sample_request(referenceId="same")))
    with pytest.raises(DuplicateReference):
        tracker.sent(AddRecord.parse(sample_request(referenceId="same")))
    assert tracker.get("same") is first and len(tracker) == 1
    tracker.observe(ack("same"))
    again = tracker.sent(AddRecord.parse(sample_request(referenceId="same")))
    assert tracker.get("same") is again and again.state == "pending" and len(tracker) == 1
    # The finished one no longer competes for user events: the new one gets the next.
    from tests.test_correlation import user_event
    assert tracker.observe(user_event()) is again


def test_defaults_are_the_documented_ones() -> None:
    tracker = Tracker()
    assert tracker.timeout_s == 10.0  # "10 s by default" (module docstring, README)
    for n in range(10_001):
        tracker.sent(AddRecord.parse(sample_request(referenceId=f"r{n}")))
    assert len(tracker) == 10_000 and tracker.get("r0") is None and tracker.get("r1") is not None


def test_evicted_requests_no_longer_take_user_events() -> None:
    from tests.test_correlation import user_event

    tracker = Tracker(keep=2)
    a = tracker.sent(AddRecord.parse(sample_request(referenceId="a")))
    b = tracker.sent(AddRecord.parse(sample_request(referenceId="b")))
    assert tracker.observe(user_event()) is a  # the oldest takes the first user event
    c = tracker.sent(AddRecord.parse(sample_request(referenceId="c")))  # a is forgotten
    assert tracker.get("a") is None and len(tracker) == 2
    d = tracker.sent(AddRecord.parse(sample_request(referenceId="d")))  # b, still waiting, too
    assert tracker.get("b") is None
    assert tracker.observe(user_event()) is c  # not b, which is gone
    assert tracker.observe(user_event()) is d
    assert tracker.observe(user_event()) is None
    assert b.user_event is None


def test_a_decided_request_keeps_the_notification_that_decided_it() -> None:
    tracker, _ = tracker_and_clock()
    refused = tracker.sent(AddRecord.parse(sample_request(referenceId="refused")))
    tracker.http_failed(refused, "statusCode 6", 400)
    assert tracker.observe(ack("refused")) is refused
    assert refused.ack is None and refused.state == "failed"
    acked = tracker.sent(AddRecord.parse(sample_request(referenceId="acked")))
    first = ack("acked")
    tracker.observe(first)
    tracker.observe(ack("acked", "Error", errorCode=1))
    assert acked.ack is first and acked.state == "acknowledged"


def test_a_user_event_prefers_the_request_that_already_has_its_outbound_message() -> None:
    from tests.test_correlation import user_event

    tracker, _ = tracker_and_clock()
    older = tracker.sent(AddRecord.parse(sample_request(referenceId="older")))
    newer = tracker.sent(AddRecord.parse(sample_request(referenceId="newer")))
    tracker.observe(ack("newer"))
    assert tracker.observe(user_event()) is newer  # GWS sends the OutboundRecordMessage first
    assert tracker.observe(user_event()) is older


async def test_wait_returns_the_request_with_its_verdict() -> None:
    tracker, clock = tracker_and_clock(timeout_s=5)
    tracked = tracker.sent(AddRecord.parse(sample_request()))
    clock.now += 6  # already past its timeout when the wait starts
    assert await tracker.wait(tracked) is tracked
    assert tracked.reason == "no acknowledgement within 5 s"


def test_an_ack_before_a_failed_http_reply_keeps_its_verdict() -> None:
    tracker, _ = tracker_and_clock()
    tracked = tracker.sent(AddRecord.parse(sample_request()))
    tracker.observe(ack("123456789"))  # the ack overtook the HTTP reply
    tracker.http_failed(tracked, "HTTP 502", 502)
    assert tracked.state == "acknowledged" and tracked.reason == "AddRecordAcknowledge"
