"""Tables for pandas: a replay's verdicts (one row per record, the columns of `replay --json`),
events (one row per event, as `watch --json`), and requests sent one by one.

    to_frame(result)              # seq, template, referenceId, state, reason, latencyMs, ...
    to_frame(table.events)        # seq, receivedAt, channel, event, referenceId, summary, data
    to_frame([tracked, ...])      # referenceId, state, latencyMs, reason, httpStatus, post, ...
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from console.app.replay import ReplayResult
from console.app.replay_engine import Outcome
from console.domain.correlation import Tracked
from console.domain.events import Event
from console.notebook.reprs import event_kind, target_of

__all__ = ["to_frame", "VERDICT_COLUMNS", "EVENT_COLUMNS", "REQUEST_COLUMNS"]

#: The columns of a `replay --json` result line (its `type` aside), target last.
VERDICT_COLUMNS = ("seq", "template", "referenceId", "state", "reason", "latencyMs",
                   "httpStatus", "source", "target")
#: One per event; `event` is the notificationType, or the messageType of a user event.
EVENT_COLUMNS = ("seq", "receivedAt", "channel", "event", "referenceId", "summary", "data")
REQUEST_COLUMNS = ("referenceId", "state", "latencyMs", "reason", "httpStatus", "post",
                   "campaignName", "callingList", "phoneNumber", "sentAt", "target")


def to_frame(items: ReplayResult | Iterable[Outcome] | Iterable[Event] | Iterable[Tracked],
             target: str | None = None) -> pd.DataFrame:
    """A DataFrame of a replay's verdicts, of events, or of requests (see the module).
    `target` fills the target column of bare outcomes (a ReplayResult knows its own)."""
    if isinstance(items, ReplayResult):
        return _verdicts(items.outcomes, items.target.tag()[1:-1])
    listed = list(items)
    if not listed:
        return pd.DataFrame(columns=list(VERDICT_COLUMNS))
    first = listed[0]
    if isinstance(first, Outcome):
        return _verdicts(_only(listed, Outcome), target)
    if isinstance(first, Event):
        return _events(_only(listed, Event))
    if isinstance(first, Tracked):
        return _requests(_only(listed, Tracked))
    raise TypeError(f"to_frame takes a ReplayResult, Outcomes, Events or Tracked requests; "
                    f"got {type(first).__name__}")


def _only(items: list[Any], kind: type) -> list[Any]:
    odd = next((i for i in items if not isinstance(i, kind)), None)
    if odd is not None:
        raise TypeError(f"to_frame: a {type(odd).__name__} among {kind.__name__}s")
    return items


def _verdicts(outcomes: Iterable[Outcome], target: str | None) -> pd.DataFrame:
    rows = [{**o.as_json(), "target": target} for o in outcomes]
    frame = pd.DataFrame(rows, columns=list(VERDICT_COLUMNS))
    frame["latencyMs"] = frame["latencyMs"].astype("Float64")
    frame["httpStatus"] = frame["httpStatus"].astype("Int64")
    return frame


def _events(events: Iterable[Event]) -> pd.DataFrame:
    rows = [{"seq": e.seq, "receivedAt": pd.Timestamp(e.received_at, unit="s", tz="UTC"),
             "channel": e.channel, "event": event_kind(e), "referenceId": e.reference_id,
             "summary": e.summary(), "data": e.data} for e in events]
    return pd.DataFrame(rows, columns=list(EVENT_COLUMNS))


def _requests(requests: Iterable[Tracked]) -> pd.DataFrame:
    rows = []
    for t in requests:
        target = target_of(t)
        rows.append({**t.verdict(), "campaignName": t.record.campaign_name,
                     "callingList": t.record.calling_list, "phoneNumber": t.record.phone_number,
                     "sentAt": pd.Timestamp(t.sent_wall, unit="s", tz="UTC"),
                     "target": target.tag()[1:-1] if target else None})
    frame = pd.DataFrame(rows, columns=list(REQUEST_COLUMNS))
    frame["latencyMs"] = frame["latencyMs"].astype("Float64")
    frame["httpStatus"] = frame["httpStatus"].astype("Int64")
    return frame
