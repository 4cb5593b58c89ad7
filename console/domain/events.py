"""What the CometD stream yields: typed events and status changes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from console.domain.jsontext import make_encoder

__all__ = ["Event", "StreamStatus", "StreamItem", "StatusKind"]

StatusKind = Literal["connecting", "connected", "reconnecting", "gap", "failed", "closed"]
# One encoder for every event, built once (json.dumps builds a new one per call). No
# circular-reference bookkeeping: event data comes from json.loads, which cannot make a cycle.
_encode_data = make_encoder(check_circular=False)


@dataclass(frozen=True)
class Event:
    """One notification from GWS."""

    channel: str
    """CometD channel, e.g. /v2/me/outbound."""
    data: dict[str, Any]
    """The notification's `data` object, as received."""
    received_at: float
    """Wall-clock time (epoch seconds) it arrived."""
    seq: int = 0
    """Arrival order within this stream (1, 2, ...)."""

    @property
    def message_type(self) -> str | None:
        value = self.data.get("messageType")
        return value if isinstance(value, str) else None

    @property
    def notification_type(self) -> str | None:
        value = self.data.get("notificationType")
        return value if isinstance(value, str) else None

    @property
    def reference_id(self) -> str | None:
        value = self.data.get("referenceId")
        return value if isinstance(value, str) else None

    @property
    def user_data(self) -> dict[str, Any]:
        value = self.data.get("userData")
        return value if isinstance(value, dict) else {}

    def summary(self) -> str:
        """A short human line: what this event says."""
        if self.message_type == "DeviceUserEventMessage":
            ud = self.user_data
            return (f"{ud.get('GSW_USER_EVENT', '?')} {ud.get('GSW_CAMPAIGN_NAME', '')}/"
                    f"{ud.get('GSW_CALLING_LIST', '')} phone {ud.get('GSW_PHONE', '')} "
                    f"chain {ud.get('GSW_CHAIN_ID', '')}").strip()
        record = self.data.get("record")
        if isinstance(record, dict):
            text = f"{record.get('campaignName', '')}/{record.get('callingList', '')}"
            if self.notification_type == "Error":
                text += f" error {self.data.get('errorCode', '')}: {self.data.get('errorMessage', '')}"
            return text
        return ""

    def as_json(self) -> dict[str, Any]:
        return {"type": "event", "seq": self.seq, "receivedAt": self.received_at,
                "channel": self.channel, "data": self.data}

    @property
    def data_json(self) -> str:
        """`data` encoded once, shared by the journal line and the `--json` line."""
        # Kept in the instance's __dict__ by hand: functools.cached_property takes a lock on
        # every first access (Python 3.11), which cost more than the encoding saved.
        cached: str | None = self.__dict__.get("_data_json")
        if cached is None:
            cached = self.__dict__["_data_json"] = _encode_data(self.data)
        return cached

    def json_line(self) -> str:
        """`as_json()` encoded, reusing `data_json` (the hot path of `watch --json`)."""
        return (f'{{"type": "event", "seq": {self.seq}, "receivedAt": {self.received_at!r}, '
                f'"channel": {json.dumps(self.channel)}, "data": {self.data_json}}}')


@dataclass(frozen=True)
class StreamStatus:
    """A change in the stream's health."""

    kind: StatusKind
    """connecting, connected, reconnecting, gap (events may be missing), failed, closed."""
    detail: str = ""
    """Why, in words."""
    at: float = 0.0
    """When (epoch seconds)."""
    gap_from: float | None = None
    """For a gap: last moment events were surely received."""
    gap_to: float | None = None
    """For a gap: when receiving resumed."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Counters worth showing (e.g. events the server dropped)."""

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": "status", "status": self.kind, "detail": self.detail,
                                "at": self.at}
        if self.kind == "gap":
            body.update({"gapFrom": self.gap_from, "gapTo": self.gap_to})
        if self.extra:
            body["extra"] = self.extra
        return body


StreamItem = Event | StreamStatus
