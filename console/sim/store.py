"""What the simulator accepted, kept in memory, and its counters.

Tests read it through `/sim/state` to prove that nothing was lost or doubled: every accepted
AddRecord is here once, with what happened to its notifications.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class AcceptedRecord:
    """One AddRecord the simulator answered with statusCode 0."""

    record_handle: int
    """Handle OCS gave the record (a counter)."""
    user: str
    """User who posted it."""
    body: dict[str, Any]
    """The request body, as received."""
    chain_id: int
    """Chain the record joined (the request's chainId, or a new one)."""
    chain_n: int
    """Position of the record in its chain (0 for the first)."""
    received_at: float
    """Wall-clock time (epoch seconds) the POST was accepted."""
    fate: str = "ack"
    """What the notifications do: 'ack', 'drop' (none sent) or 'error' (Error notification)."""
    notified_at: float | None = None
    """When the notifications were published (None while pending or when dropped)."""

    @property
    def reference_id(self) -> str | None:
        ref = self.body.get("referenceId")
        return ref if isinstance(ref, str) else None

    def as_json(self) -> dict[str, Any]:
        return {
            "recordHandle": self.record_handle, "user": self.user, "referenceId": self.reference_id,
            "chainId": self.chain_id, "chainN": self.chain_n, "receivedAt": self.received_at,
            "fate": self.fate, "notifiedAt": self.notified_at, "body": self.body,
        }


@dataclass
class RecordStore:
    """Accepted records plus the outcome counters of every AddRecord POST."""

    records: list[AcceptedRecord] = field(default_factory=list)
    counters: Counter[str] = field(default_factory=Counter)
    status_codes: Counter[int] = field(default_factory=Counter)
    _chains: dict[int, int] = field(default_factory=dict)
    _next_chain: int = 1000

    def accept(self, user: str, body: dict[str, Any], fate: str) -> AcceptedRecord:
        chain_id = body.get("chainId")
        if chain_id is None:
            chain_id = self._next_chain
            while chain_id in self._chains:
                chain_id += 1
            self._next_chain = chain_id + 1
        chain_n = self._chains.get(chain_id, 0)
        self._chains[chain_id] = chain_n + 1
        record = AcceptedRecord(
            record_handle=len(self.records) + 1, user=user, body=body, chain_id=chain_id,
            chain_n=chain_n, received_at=time.time(), fate=fate,
        )
        self.records.append(record)
        self.counters["accepted"] += 1
        return record

    def reset(self) -> None:
        self.records.clear()
        self.counters.clear()
        self.status_codes.clear()
        self._chains.clear()
        self._next_chain = 1000

    def summary(self) -> dict[str, Any]:
        by_ref: Counter[str] = Counter(r.reference_id for r in self.records if r.reference_id)
        return {
            "accepted": len(self.records),
            "counters": dict(self.counters),
            "statusCodes": {str(k): v for k, v in sorted(self.status_codes.items())},
            "duplicateReferenceIds": sorted(ref for ref, n in by_ref.items() if n > 1),
        }
