"""The engine: one GWS session, its CometD stream, the tracker and the journal, together.

It imports no UI. The CLI, the TUI and a notebook all use it the same way:

    async with Engine(connection) as engine:
        tracked = await engine.send(record)
        await engine.wait(tracked)
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from console.domain.correlation import Tracked, Tracker
from console.domain.events import Event, StreamItem, StreamStatus
from console.domain.journal import Journal
from console.domain.model import AddRecord
from console.errors import (
    EngineClosed,
    GwsError,
    GwsHttpError,
    GwsOutcomeUnknown,
    GwsStatusError,
    GwsUnreachable,
)
from console.gws.connection import Connection
from console.gws.session import GwsSession, Me
from console.gws.stream import EventStream
from console.tasks import cancel_and_wait

log = logging.getLogger(__name__)

__all__ = ["Engine", "check_seconds"]


class Engine:
    """Send AddRecords and follow what GWS says about them."""

    def __init__(self, connection: Connection, *, journal: Journal | None = None,
                 ack_timeout_s: float = 10.0, channels: tuple[str, ...] | None = None,
                 stream: bool = True, clock: Callable[[], float] | None = None) -> None:
        check_seconds(ack_timeout_s, "ack_timeout_s")
        self.connection = connection
        self.journal = journal
        self.closed = False
        """Closed: `send` refuses (a POST then would be sent with nobody to hear its
        acknowledgement, and called "no answer")."""
        self.session = GwsSession(connection)
        self.tracker = Tracker(ack_timeout_s, clock=clock) if clock else Tracker(ack_timeout_s)
        self.stream: EventStream | None = (
            EventStream(connection, http=self.session.http, channels=channels)
            if stream else None)
        self.me: Me | None = None
        self.status: StreamStatus | None = None
        self._listeners: list[asyncio.Queue[StreamItem]] = []
        self._callbacks: list[Callable[[StreamItem], None]] = []
        self._cleanups: list[Callable[[], Awaitable[None]]] = []
        self._pump: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()

    async def __aenter__(self) -> Engine:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def open(self, wait_connected_s: float = 15.0) -> Engine:
        """Start the GWS session and the stream; waits (up to `wait_connected_s`; 0: not at
        all) until the server has confirmed the subscriptions: from then on a request's
        notifications reach us, and the first connect is answered while the caller sends."""
        self.me = await self.session.start()
        self._journal("session", url=self.connection.base_url, user=self.me.user_name,
                      devices=list(self.me.devices), features=list(self.me.features),
                      warnings=list(self.me.warnings))
        started = await self.session.start_contact_center()
        if started is not None:
            self.tracker.contact_center = started
            self._journal("contact_center", action="started", detail=started)
        if self.stream is not None:
            await self.stream.start()
            self._pump = asyncio.get_running_loop().create_task(self._pump_stream())
            if wait_connected_s > 0:
                await self._until_subscribed_or_failed(wait_connected_s)
        return self

    async def _until_subscribed_or_failed(self, limit_s: float) -> None:
        """GwsError unless the stream's subscriptions are confirmed within `limit_s`; at once
        when it stops for good (e.g. told not to reconnect, or no session affinity behind a
        balancer)."""
        stream = self.stream
        assert stream is not None
        waiters = [asyncio.ensure_future(stream.subscribed.wait()),
                   asyncio.ensure_future(stream.failed.wait())]
        try:
            await asyncio.wait(waiters, timeout=limit_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        if stream.subscribed.is_set():
            return
        url = self.connection.notifications_url
        if stream.failure is not None:
            raise GwsError(f"the CometD stream at {url} stopped: {stream.failure.detail}")
        raise GwsError(f"the CometD stream at {url} did not connect within {limit_s:g} s"
                       + (f" ({self.status.detail})" if self.status else ""))

    async def close(self) -> None:
        self.closed = True
        if self.stream is not None:
            await self.stream.close()
        await cancel_and_wait(self._pump)
        ended = await self.session.end_contact_center()
        if ended is not None:
            self._journal("contact_center", action="ended", detail=ended)
        await self.session.close()
        if self.journal is not None:
            self.journal.close()
        for cleanup in reversed(self._cleanups):
            await cleanup()
        self._cleanups.clear()

    # -- events ----------------------------------------------------------------------------
    async def _pump_stream(self) -> None:
        assert self.stream is not None
        async for item in self.stream:
            if isinstance(item, Event):
                tracked = self.tracker.observe(item)
                if self.journal is not None:
                    self.journal.write_event(item, tracked.reference_id if tracked else None)
                if tracked is not None:
                    self._verdict(tracked)
            else:
                self.status = item
                if item.kind == "connected":
                    self._connected.set()
                elif item.kind in ("reconnecting", "failed"):
                    self._connected.clear()
                if item.kind in ("reconnecting", "failed", "gap"):
                    # Notifications for requests still waiting may be lost meanwhile.
                    self.tracker.stream_interrupted(item.detail)
                self._journal("status", **item.as_json())
            for callback in self._callbacks:
                try:
                    callback(item)
                except Exception:  # one consumer's bug must not make every other one deaf
                    log.exception("a consumer of the stream failed on %s; the stream goes on",
                                  type(item).__name__)
            for queue in self._listeners:
                queue.put_nowait(item)

    def on_item(self, callback: Callable[[StreamItem], None]) -> None:
        """Call `callback` for every event and status change, in the stream's own task (the
        cheapest way to follow a flood; the callback must not block)."""
        self._callbacks.append(callback)

    @property
    def connected(self) -> bool:
        """The stream is subscribed (or there is no stream): an ack sent now would be seen."""
        return self.stream is None or self._connected.is_set()

    async def until_connected(self) -> None:
        await self._connected.wait()

    async def until_stream_failed(self) -> StreamStatus:
        """Wait until the stream stops for good (the server said not to reconnect); its
        `failed` status says why. Never returns when there is no stream."""
        if self.stream is None:
            await asyncio.Event().wait()
        assert self.stream is not None
        await self.stream.failed.wait()
        assert self.stream.failure is not None
        return self.stream.failure

    async def items(self) -> AsyncIterator[StreamItem]:
        """Every event and status change from now on (one independent feed per caller)."""
        queue: asyncio.Queue[StreamItem] = asyncio.Queue()
        self._listeners.append(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._listeners.remove(queue)

    # -- sending ---------------------------------------------------------------------------
    def on_close(self, cleanup: Callable[[], Awaitable[None]]) -> None:
        """Run `cleanup` when the engine closes (e.g. stop an embedded simulator)."""
        self._cleanups.append(cleanup)

    def record(self, fields: dict[str, Any]) -> AddRecord:
        """An AddRecord from GWS field names; devicePath defaults to the session's device."""
        fields = dict(fields)
        if not fields.get("devicePath") and self.session.device_path:
            fields["devicePath"] = self.session.device_path
        return AddRecord.parse(fields)

    async def send(self, record: AddRecord | dict[str, Any]) -> Tracked:
        """POST one record; the returned Tracked gets its verdict as notifications arrive.

        DuplicateReference (nothing sent) when a request with its referenceId is still
        waiting. The POST's outcome is in `Tracked.post`: accepted, refused (GWS said no),
        not_delivered (it never left) or unknown (sent, reply lost: it keeps waiting for the
        acknowledgement, which decides)."""
        if self.closed:
            raise EngineClosed(f"not sent: the connection to {self.connection.base_url} is "
                               "closed; open it again (connect) to send")
        if isinstance(record, dict):
            record = self.record(record)
        tracked = self.tracker.sent(record)
        if self.journal is not None:  # the body as posted, encoded once for both
            self.journal.write_encoded("request", "body", record.body_view(),
                                       record.body_json(), method="POST",
                                       path="/api/v2/me/outbound-records",
                                       url=self.connection.api + "/me/outbound-records")
        ref = record.reference_id
        try:
            result = await self.session.add_record(record)
        except GwsStatusError as exc:
            self.tracker.http_failed(tracked, str(exc), exc.http_status)
            self._journal("response", referenceId=ref, outcome="refused",
                          httpStatus=exc.http_status, statusCode=exc.status_code,
                          statusMessage=exc.status_message)
        except GwsHttpError as exc:
            self.tracker.http_failed(tracked, str(exc), exc.status)
            self._journal("response", referenceId=ref, outcome="refused", httpStatus=exc.status,
                          error=str(exc))
        except GwsUnreachable as exc:
            self.tracker.http_failed(tracked, f"not delivered: {exc}", post="not_delivered")
            self._journal("response", referenceId=ref, outcome="not_delivered", error=str(exc))
        except GwsError as exc:
            # GwsOutcomeUnknown, and anything else we cannot place: it may have been taken.
            detail = str(exc) if isinstance(exc, GwsOutcomeUnknown) else \
                f"{exc} (outcome of the POST unknown)"
            self.tracker.http_unknown(tracked, detail)
            self._journal("response", referenceId=ref, outcome="unknown", error=detail)
        else:
            self.tracker.http_ok(tracked, result.http_status)
            self._journal("response", referenceId=ref, outcome="accepted",
                          httpStatus=result.http_status, body=result.body,
                          elapsedMs=round(result.elapsed_ms, 1))
        self._verdict(tracked)
        return tracked

    async def wait(self, tracked: Tracked, timeout_s: float | None = None) -> Tracked:
        if timeout_s is not None:
            check_seconds(timeout_s, "timeout_s")
        await self.tracker.wait(tracked, timeout_s)
        self._verdict(tracked)
        return tracked

    def stop_waiting(self, tracked: Tracked, why: str) -> None:
        """The user stopped waiting for `tracked` (Ctrl-C): if it had no verdict yet it gets
        `unknown` (it may have been accepted), journaled like any verdict."""
        self.tracker.give_up(tracked, why)
        self._verdict(tracked)

    def _verdict(self, tracked: Tracked) -> None:
        """Journal the verdict once, when it and the POST's outcome are both known."""
        settled = tracked.post is not None or tracked.state in ("no_answer", "unknown")
        if tracked.state != "pending" and settled and not tracked.verdict_written:
            tracked.verdict_written = True
            self._journal("verdict", **tracked.verdict())

    def _journal(self, kind: str, **fields: Any) -> None:
        if self.journal is not None:
            self.journal.write(kind, **fields)


def check_seconds(value: float, name: str) -> None:
    """A wait must be a finite number of seconds above 0: nan, 0 or -1 made every record
    "no answer" at once, acknowledged a moment later."""
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number of seconds above 0, got {value!r}")
