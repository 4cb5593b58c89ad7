"""What every GWS node of the simulated cluster talks to, shared by all of them: the
configuration (users, catalog), T-Server (which DNs have an agent logged in), OCS (the records
it keeps and how and when it answers) and the run-time settings and faults.

Labels (also in the README):
- A record's notifications go to the user's Bayeux sessions on every node: our choice (GWS
  clusters share notifications between nodes through their own back end; the documentation
  only says a client must stay on one node, "Load Balancing" page).
- A notification still pending when the node that accepted the POST restarts is lost: our
  choice (that node's T-Server link was waiting for OCS's answer).
- An agent stays logged in on a DN until EndContactCenterSession, whatever happens to the
  HTTP session or the node: our choice (T-Server keeps the agent state).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from console.sim.bayeux import BayeuxServer, Delivery
from console.sim.catalog import Catalog, Device, User
from console.sim.faults import FaultInjector
from console.sim.notifications import (
    DEVICES_CHANNEL,
    OUTBOUND_CHANNEL,
    acknowledgement,
    device_state_change,
    error_notification,
    user_event,
)
from console.sim.settings import GwsSettings
from console.sim.store import AcceptedRecord, RecordStore
from console.sim.validation import OCS_AGENT_NOT_LOGGED_IN, ocs_refusal

__all__ = ["ACK_ERROR_CODE", "Backend"]

#: errorCode / GSW_ERROR_NUMBER of the `ack_error` fault (kept from the first simulator).
ACK_ERROR_CODE = 13
ACK_ERROR_TEXT = "OCS refused the record (simulated fault ack_error)"


class Backend:
    """Shared state of the cluster and the OCS side of AddRecord."""

    def __init__(self, users: dict[str, User], catalog: Catalog, injector: FaultInjector,
                 settings: GwsSettings) -> None:
        self.users = users
        self.catalog = catalog
        self.injector = injector
        self.settings = settings
        self.store = RecordStore()
        self.servers: dict[str, BayeuxServer] = {}
        """Each node's Bayeux server, by node name: where notifications are published."""
        self.logged_in: dict[str, set[str]] = {}
        """User name -> ids of the devices (DNs) with the user logged in as an agent."""
        self._pending: dict[int, tuple[asyncio.Handle, AcceptedRecord]] = {}

    # -- publishing ------------------------------------------------------------------------
    def publish(self, channel: str, data: dict[str, Any], user: str,
                delivery: Delivery | None = None) -> int:
        """Queue a notification for the user's sessions on every node; how many got a copy."""
        return sum(server.publish(channel, data, user, delivery)
                   for server in self.servers.values())

    # -- T-Server: agents on DNs -----------------------------------------------------------
    def is_logged_in(self, user: User, device: Device) -> bool:
        return device.id in self.logged_in.get(user.user_name, set())

    def logged_in_ids(self, user: User) -> frozenset[str]:
        return frozenset(self.logged_in.get(user.user_name, set()))

    def log_in(self, user: User, device: Device) -> bool:
        """Log the agent in on the DN; False when it already was. Tells the user's sessions."""
        devices = self.logged_in.setdefault(user.user_name, set())
        if device.id in devices:
            return False
        devices.add(device.id)
        self.publish(DEVICES_CHANNEL, device_state_change(device, logged_in=True),
                     user.user_name)
        return True

    def log_out(self, user: User) -> list[Device]:
        """Log the agent out of every DN; the devices it was logged in on."""
        ids = self.logged_in.pop(user.user_name, set())
        devices = [d for d in user.devices if d.id in ids]
        for device in devices:
            self.publish(DEVICES_CHANNEL, device_state_change(device, logged_in=False),
                         user.user_name)
        return devices

    # -- OCS: AddRecord --------------------------------------------------------------------
    def add_record(self, user: User, body: dict[str, Any], node: str,
                   started_ns: int) -> AcceptedRecord:
        """A record GWS answered with statusCode 0: what OCS makes of it, and its notifications
        scheduled."""
        refusal: tuple[int, str] | None = None
        if self.settings.ocs_refusals == "async":
            found = ocs_refusal(body, self.catalog)
            if found is not None:
                refusal = (found.number, found.text)
        if refusal is None and self.settings.session_required == "async":
            device = user.device_at(body["devicePath"])
            if device is not None and not self.is_logged_in(user, device):
                refusal = (OCS_AGENT_NOT_LOGGED_IN,
                           f"Agent not logged in on DN {device.phone_number}")
        store = self.store
        if refusal is not None:
            store.counters["ocs_refused"] += 1
            record = store.accept(user.user_name, body, "refused", node, ocs_error=refusal)
        else:
            record = store.accept(user.user_name, body, self.injector.ack_fate(), node)
        self._schedule(record, started_ns)
        return record

    def _schedule(self, record: AcceptedRecord, started_ns: int) -> None:
        if record.fate == "drop":
            self.store.counters["acks_dropped"] += 1
            return
        loop = asyncio.get_running_loop()
        delay = self.injector.ack_delay_s()
        handle: asyncio.TimerHandle | asyncio.Handle
        if delay > 0:
            handle = loop.call_later(delay, self._notify, record, started_ns)
        else:
            handle = loop.call_soon(self._notify, record, started_ns)
        self._pending[record.record_handle] = (handle, record)

    def _notify(self, record: AcceptedRecord, started_ns: int) -> None:
        self._pending.pop(record.record_handle, None)
        counters = self.store.counters
        delivery = Delivery(lambda d, delivered: self._settled(record, d, delivered))
        record.ack_delivery = delivery
        channel = self.settings.user_event_channel
        if record.fate in ("error", "refused"):
            counters["errors_sent"] += 1
            number, text = record.ocs_error or (ACK_ERROR_CODE, ACK_ERROR_TEXT)
            copies = self.publish(OUTBOUND_CHANNEL, error_notification(record, number, text),
                                  record.user, delivery)
            self.publish(channel, user_event(record, "Error", started_ns, {
                "GSW_ERROR": text, "GSW_ERROR_NUMBER": number}), record.user)
        else:
            counters["acks_sent"] += 1
            copies = self.publish(OUTBOUND_CHANNEL, acknowledgement(record), record.user,
                                  delivery)
            self.publish(channel, user_event(record, "AddRecordAcknowledge", started_ns),
                         record.user)
        record.notified_at = time.time()
        if copies == 0:
            self.store.lost(record, "unheard")

    def _settled(self, record: AcceptedRecord, delivery: Delivery, delivered: bool) -> None:
        if delivered:
            if record.delivered_at is None:
                record.delivered_at = time.time()
                self.store.counters["acks_delivered"] += 1
        elif delivery.pending == 0 and delivery.delivered == 0:
            self.store.lost(record, delivery.last_loss or "unknown")

    def node_restarted(self, node: str) -> int:
        """A node went down: the notifications it was still waiting for are lost."""
        lost = [record for _, record in self._pending.values() if record.node == node]
        for record in lost:
            handle, _ = self._pending.pop(record.record_handle)
            handle.cancel()
            self.store.lost(record, "restart")
        return len(lost)

    def cancel_pending(self) -> None:
        for handle, _ in self._pending.values():
            handle.cancel()
        self._pending.clear()
