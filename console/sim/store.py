"""What the simulator accepted, kept in memory, and its counters.

Tests read it through `/sim/state` to prove that nothing was lost or doubled: every AddRecord
GWS answered with statusCode 0 is here once, with what OCS did with it and whether its
notification reached a client. The store is OCS's side, shared by every node of a cluster.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from console.sim.bayeux import Delivery

#: Counter of the records whose acknowledgement (or Error) was lost, by reason.
LOSS_COUNTERS: dict[str, str] = {
    "restart": "acks_lost_in_restart", "swept": "acks_lost_in_sweep",
    "disconnected": "acks_lost_in_disconnect", "overflow": "acks_lost_in_overflow",
    "write_failed": "acks_lost_on_write", "stopped": "acks_lost_at_stop",
    "unheard": "acks_unheard",
}


@dataclass
class AcceptedRecord:
    """One AddRecord the simulator answered with statusCode 0."""

    record_handle: int
    """Handle OCS gave the record (a counter)."""
    user: str
    """User who posted it."""
    body: dict[str, Any]
    """The request body, as received."""
    chain_id: int | None
    """Chain the record joined (the request's chainId, or a new one); for a record OCS refused,
    the request's chainId (None when it named none: no chain was made)."""
    chain_n: int | None
    """Position of the record in its chain (0 for the first); None when OCS refused it."""
    received_at: float
    """Wall-clock time (epoch seconds) the POST was accepted."""
    fate: str = "ack"
    """What OCS does: 'ack', 'drop' (no notification sent), 'error' (fault ack_error),
    'refused' (OCS refused it, see `ocs_error`), or 'lost' (a node restart lost the
    notification before any client got it)."""
    node: str = "node1"
    """The GWS node that accepted the POST."""
    ocs_error: tuple[int, str] | None = None
    """GSW_ERROR_NUMBER and GSW_ERROR when OCS refused the record."""
    reply_fault: str | None = None
    """What happened to the HTTP reply instead of `{"statusCode": 0}` (accept_then_*)."""
    notified_at: float | None = None
    """When the notifications were published (None while pending or when dropped)."""
    delivered_at: float | None = None
    """When a connect reply carrying the acknowledgement/Error was written to a client."""
    lost_reason: str | None = None
    """Why no client got the acknowledgement/Error (restart, swept, unheard...), if so."""
    ack_delivery: Delivery | None = field(default=None, repr=False)
    """Follows the copies of the acknowledgement/Error in session queues."""

    @property
    def reference_id(self) -> str | None:
        ref = self.body.get("referenceId")
        return ref if isinstance(ref, str) else None

    @property
    def delivery(self) -> str:
        """'pending', 'delivered', 'lost' or 'none' (no notification sent: fault ack_drop)."""
        if self.delivered_at is not None:
            return "delivered"
        if self.lost_reason is not None:
            return "lost"
        return "none" if self.fate == "drop" else "pending"

    def as_json(self) -> dict[str, Any]:
        return {
            "recordHandle": self.record_handle, "user": self.user, "node": self.node,
            "referenceId": self.reference_id, "chainId": self.chain_id, "chainN": self.chain_n,
            "receivedAt": self.received_at, "fate": self.fate,
            "ocsError": ({"number": self.ocs_error[0], "text": self.ocs_error[1]}
                         if self.ocs_error else None),
            "replyFault": self.reply_fault, "notifiedAt": self.notified_at,
            "delivery": self.delivery, "deliveredAt": self.delivered_at,
            "lostReason": self.lost_reason, "body": self.body,
        }


@dataclass
class RecordStore:
    """Accepted records plus the outcome counters of every AddRecord POST."""

    records: list[AcceptedRecord] = field(default_factory=list)
    counters: Counter[str] = field(default_factory=Counter)
    status_codes: Counter[int] = field(default_factory=Counter)
    _chains: dict[int, int] = field(default_factory=dict)
    _next_chain: int = 1000

    def accept(self, user: str, body: dict[str, Any], fate: str, node: str = "node1",
               ocs_error: tuple[int, str] | None = None) -> AcceptedRecord:
        """Keep a record GWS answered with statusCode 0; OCS puts it in a chain unless it
        refused it (`ocs_error`)."""
        chain_id = body.get("chainId")
        chain_n: int | None = None
        if ocs_error is None:
            if chain_id is None:
                chain_id = self._next_chain
                while chain_id in self._chains:
                    chain_id += 1
                self._next_chain = chain_id + 1
            chain_n = self._chains.get(chain_id, 0)
            self._chains[chain_id] = chain_n + 1
        record = AcceptedRecord(
            record_handle=len(self.records) + 1, user=user, body=body, chain_id=chain_id,
            chain_n=chain_n, received_at=time.time(), fate=fate, node=node,
            ocs_error=ocs_error,
        )
        self.records.append(record)
        self.counters["accepted"] += 1
        return record

    def lost(self, record: AcceptedRecord, reason: str) -> None:
        """No client got the record's notification: count it once, under its reason."""
        if record.lost_reason is not None or record.delivered_at is not None:
            return
        record.lost_reason = reason
        if reason == "restart":
            record.fate = "lost"
        self.counters[LOSS_COUNTERS.get(reason, f"acks_lost_{reason}")] += 1

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
            "fates": dict(Counter(r.fate for r in self.records)),
            "deliveries": dict(Counter(r.delivery for r in self.records)),
            "counters": dict(self.counters),
            "statusCodes": {str(k): v for k, v in sorted(self.status_codes.items())},
            "duplicateReferenceIds": sorted(ref for ref, n in by_ref.items() if n > 1),
        }
