"""A Bayeux 1.0 long-polling server core, independent of the HTTP framework.

It follows `shared/reference/bayeux.md` (server rules): handshake / connect / subscribe /
unsubscribe / disconnect, advice, immediate answer to the first connect and to
`advice.timeout: 0`, held connects, `402::session_unknown` with handshake advice, a sweep of
sessions silent for interval + maxInterval, a second connect answering the held one, a bounded
per-session queue whose drops are counted and reported, and wildcard subscriptions.

Events are JSON-encoded once when published and queued as text, so fan-out to many sessions
costs one `json.dumps` per event, not one per subscriber.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from console.tasks import cancel_and_wait

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


@dataclass
class BayeuxSettings:
    """Server timing and limits; the defaults are CometD's."""

    timeout_ms: int = 30000
    """How long a connect is held when nothing is to be delivered (advice.timeout)."""
    interval_ms: int = 0
    """advice.interval given to clients."""
    max_interval_ms: int = 10000
    """A session with no connect for interval + maxInterval is swept."""
    sweep_period_s: float = 1.0
    """How often sessions are swept."""
    queue_max: int = 10000
    """Most events queued for one session; older ones are dropped (and counted) past it."""


@dataclass
class Counters:
    """Protocol counters, exposed by the simulator's state endpoint."""

    handshakes: int = 0
    connects: int = 0
    held_connects: int = 0
    duplicate_connects: int = 0
    subscribes: int = 0
    unsubscribes: int = 0
    disconnects: int = 0
    unknown_client: int = 0
    sessions_swept: int = 0
    events_published: int = 0
    events_delivered: int = 0
    events_dropped: int = 0
    protocol_errors: int = 0


class Session:
    """One Bayeux client session."""

    __slots__ = ("client_id", "user", "subscriptions", "queue", "dropped", "dropped_unreported",
                 "waiter", "last_seen", "connected", "pending_close")

    def __init__(self, client_id: str, user: str) -> None:
        self.client_id = client_id
        self.user = user
        self.subscriptions: set[str] = set()
        self.queue: deque[str] = deque()
        self.dropped = 0
        self.dropped_unreported = 0
        self.waiter: asyncio.Future[str] | None = None
        self.last_seen = time.monotonic()
        self.connected = False
        self.pending_close = False

    def wake(self, reason: str = "event") -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(reason)


@dataclass
class Reply:
    """What the HTTP layer sends back for one POST to the Bayeux endpoint."""

    parts: list[str] = field(default_factory=list)
    """JSON-encoded messages, joined into one array by `body()`."""
    abort: bool = False
    """True when the connection should be dropped without a reply (a simulated crash)."""

    def body(self) -> str:
        return "[" + ",".join(self.parts) + "]"


def _valid_channel(name: Any) -> bool:
    """A channel name: `/seg/seg`, wildcards `*` / `**` only as the whole last segment."""
    if not isinstance(name, str) or not name.startswith("/") or name == "/":
        return False
    segments = name[1:].split("/")
    if any(not s for s in segments) or any("*" in s for s in segments[:-1]):
        return False
    last = segments[-1]
    return "*" not in last or last in ("*", "**")


def _patterns_for(channel: str) -> list[str]:
    """Subscription patterns that match `channel`: itself, parent `/*`, ancestors' `/**`."""
    patterns = [channel]
    segments = channel.split("/")  # ['', 'v2', 'me', 'outbound']
    for depth in range(len(segments) - 1, 0, -1):
        prefix = "/".join(segments[:depth])
        if depth == len(segments) - 1:
            patterns.append(prefix + "/*")
        patterns.append(prefix + "/**")
    return patterns


class BayeuxServer:
    """Sessions, subscriptions and delivery; `handle()` answers one POSTed batch."""

    def __init__(self, settings: BayeuxSettings | None = None) -> None:
        self.settings = settings or BayeuxSettings()
        self.counters = Counters()
        self.sessions: dict[str, Session] = {}
        self._subscribers: dict[str, set[Session]] = {}
        self.hold_forever = False
        self._sweeper: asyncio.Task[None] | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        if self._sweeper is None:
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep_loop())

    async def stop(self) -> None:
        await cancel_and_wait(self._sweeper)
        self._sweeper = None
        self.drop_all(reason="close")

    def drop_all(self, reason: str = "restart") -> int:
        """Forget every session (a node restart); held connects are aborted."""
        count = len(self.sessions)
        for session in list(self.sessions.values()):
            self._remove(session, wake_reason=reason)
        return count

    async def _sweep_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.sweep_period_s)
            self.sweep()

    def sweep(self, now: float | None = None) -> int:
        """Remove sessions with no connect for interval + maxInterval; returns how many."""
        now = time.monotonic() if now is None else now
        limit = (self.settings.interval_ms + self.settings.max_interval_ms) / 1000.0
        stale = [s for s in self.sessions.values()
                 if (s.waiter is None or s.waiter.done()) and now - s.last_seen > limit]
        for session in stale:
            self._remove(session)
        self.counters.sessions_swept += len(stale)
        return len(stale)

    def _remove(self, session: Session, wake_reason: str = "gone") -> None:
        self.sessions.pop(session.client_id, None)
        for pattern in session.subscriptions:
            subs = self._subscribers.get(pattern)
            if subs is not None:
                subs.discard(session)
                if not subs:
                    del self._subscribers[pattern]
        session.subscriptions.clear()
        session.wake(wake_reason)

    # -- delivery --------------------------------------------------------------------------
    def publish(self, channel: str, data: dict[str, Any], user: str | None = None) -> int:
        """Queue an event for every matching session (of `user`, when given); returns count."""
        self.counters.events_published += 1
        targets: set[Session] = set()
        for pattern in _patterns_for(channel):
            subs = self._subscribers.get(pattern)
            if subs:
                targets.update(subs)
        if not targets:
            return 0
        encoded = _dumps({"data": data, "channel": channel})
        limit = self.settings.queue_max
        delivered = 0
        for session in targets:
            if user is not None and session.user != user:
                continue
            queue = session.queue
            if len(queue) >= limit:
                queue.popleft()
                session.dropped += 1
                session.dropped_unreported += 1
                self.counters.events_dropped += 1
            queue.append(encoded)
            delivered += 1
            session.wake()
        return delivered

    # -- one POST --------------------------------------------------------------------------
    async def handle(self, messages: list[Any], user: str) -> Reply:
        """Answer one batch of messages from an authenticated `user`."""
        reply = Reply()
        first = messages[0] if messages else None
        if isinstance(first, dict) and first.get("channel") == "/meta/handshake":
            # A handshake batched with other messages: only the handshake is processed.
            reply.parts.append(_dumps(self._handshake(first, user)))
            return reply
        connect: tuple[dict[str, Any], Session] | None = None
        for message in messages:
            if not isinstance(message, dict):
                self.counters.protocol_errors += 1
                reply.parts.append(_dumps({"successful": False,
                                           "error": "400::message is not a JSON object"}))
                continue
            answer = self._check(message)
            if answer is not None:
                reply.parts.append(_dumps(answer))
                continue
            channel = message["channel"]
            if channel == "/meta/handshake":
                reply.parts.append(_dumps(self._handshake(message, user)))
                continue
            session = self._session_for(message)
            if session is None:
                reply.parts.append(_dumps(self._unknown(message)))
                continue
            if channel == "/meta/connect" and connect is None:
                connect = (message, session)
            elif channel == "/meta/connect":
                reply.parts.append(_dumps(self._error(message, "400::one connect per batch")))
            elif channel == "/meta/subscribe":
                reply.parts.append(_dumps(self._subscribe(message, session)))
            elif channel == "/meta/unsubscribe":
                reply.parts.append(_dumps(self._unsubscribe(message, session)))
            elif channel == "/meta/disconnect":
                self.counters.disconnects += 1
                self._remove(session, wake_reason="disconnect")
                reply.parts.append(_dumps(self._ok(message)))
            elif channel.startswith("/meta/"):
                reply.parts.append(_dumps(self._error(message, "404::unknown meta channel")))
            else:
                # GWS does not let clients publish; notifications only flow server -> client.
                reply.parts.append(_dumps(self._error(message, "403::publish denied")))
        if connect is not None:
            await self._connect(connect[0], connect[1], reply)
        return reply

    # -- message helpers -------------------------------------------------------------------
    def _check(self, message: dict[str, Any]) -> dict[str, Any] | None:
        """A protocol error answer for a malformed message, or None."""
        mid = message.get("id")
        if "channel" not in message:
            self.counters.protocol_errors += 1
            answer: dict[str, Any] = {"successful": False, "error": "400::channel_missing"}
            if isinstance(mid, (str, int)) and not isinstance(mid, bool):
                answer["id"] = mid
            return answer
        if not _valid_channel(message["channel"]) or "*" in message["channel"]:
            self.counters.protocol_errors += 1
            return {"channel": str(message["channel"])[:200], "successful": False,
                    "error": "405::channel_invalid"}
        if mid is not None and (not isinstance(mid, (str, int)) or isinstance(mid, bool)):
            self.counters.protocol_errors += 1
            return {"channel": message["channel"], "successful": False,
                    "error": "405::id_invalid"}
        if message["channel"] != "/meta/handshake" and not isinstance(
                message.get("clientId"), str):
            self.counters.protocol_errors += 1
            return self._error(message, "402::session_unknown", reconnect="handshake")
        return None

    def _advice(self) -> dict[str, Any]:
        s = self.settings
        return {"reconnect": "retry", "interval": s.interval_ms, "timeout": s.timeout_ms}

    @staticmethod
    def _ok(message: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = {"channel": message["channel"], "successful": True}
        if "id" in message:
            answer["id"] = message["id"]
        return answer

    def _error(self, message: dict[str, Any], error: str,
               reconnect: str | None = None) -> dict[str, Any]:
        answer = {"channel": message["channel"], "successful": False, "error": error}
        if "id" in message:
            answer["id"] = message["id"]
        if reconnect is not None:
            answer["advice"] = {"reconnect": reconnect, "interval": 0}
        return answer

    def _unknown(self, message: dict[str, Any]) -> dict[str, Any]:
        self.counters.unknown_client += 1
        return self._error(message, "402::session_unknown", reconnect="handshake")

    def _session_for(self, message: dict[str, Any]) -> Session | None:
        return self.sessions.get(message.get("clientId", ""))

    def _handshake(self, message: dict[str, Any], user: str) -> dict[str, Any]:
        types = message.get("supportedConnectionTypes", ["long-polling"])
        if not isinstance(types, list) or "long-polling" not in types:
            answer = self._error(message, "301::unsupported connection types (GWS 8.5 offers "
                                 "long-polling only)")
            answer["supportedConnectionTypes"] = ["long-polling"]
            answer["advice"] = {"reconnect": "none", "interval": 0}
            return answer
        self.counters.handshakes += 1
        session = Session(secrets.token_hex(16), user)
        self.sessions[session.client_id] = session
        answer = self._ok(message)
        answer.update({"version": "1.0", "supportedConnectionTypes": ["long-polling"],
                       "clientId": session.client_id, "advice": self._advice()})
        return answer

    def _channels(self, message: dict[str, Any]) -> list[str] | None:
        """The subscription's channel names, or None when it is not a valid one."""
        subscription = message.get("subscription")
        names = subscription if isinstance(subscription, list) else [subscription]
        if not names or not all(_valid_channel(n) for n in names):
            return None
        return [str(n) for n in names]

    def _subscription_error(self, message: dict[str, Any], error: str) -> dict[str, Any]:
        answer = self._error(message, error)
        subscription = message.get("subscription")
        answer["subscription"] = subscription if isinstance(subscription, (str, list)) else None
        return answer

    def _subscribe(self, message: dict[str, Any], session: Session) -> dict[str, Any]:
        names = self._channels(message)
        if names is None:
            return self._subscription_error(message, "405::subscription_invalid")
        if any(n.startswith(("/meta/", "/service/")) for n in names):
            return self._subscription_error(message, "403::subscription_denied")
        for name in names:
            if name not in session.subscriptions:
                session.subscriptions.add(name)
                self._subscribers.setdefault(name, set()).add(session)
        self.counters.subscribes += 1
        answer = self._ok(message)
        answer["subscription"] = message["subscription"]
        return answer

    def _unsubscribe(self, message: dict[str, Any], session: Session) -> dict[str, Any]:
        names = self._channels(message)
        if names is None:
            return self._subscription_error(message, "405::subscription_invalid")
        for name in names:
            session.subscriptions.discard(name)
            subs = self._subscribers.get(name)
            if subs is not None:
                subs.discard(session)
                if not subs:
                    del self._subscribers[name]
        self.counters.unsubscribes += 1
        answer = self._ok(message)
        answer["subscription"] = message["subscription"]
        return answer

    async def _connect(self, message: dict[str, Any], session: Session, reply: Reply) -> None:
        self.counters.connects += 1
        if message.get("connectionType", "long-polling") != "long-polling":
            reply.parts.append(_dumps(self._error(message, "301::connectionType unsupported",
                                                  reconnect="handshake")))
            return
        advice = message.get("advice")
        asked_timeout = advice.get("timeout") if isinstance(advice, dict) else None
        first = not session.connected
        session.connected = True
        if session.waiter is not None and not session.waiter.done():
            # A second connect answers the held one; events go to the newest.
            self.counters.duplicate_connects += 1
            session.wake("duplicate")
        if self.hold_forever or (not first and asked_timeout != 0 and not session.queue):
            self.counters.held_connects += 1
            waiter: asyncio.Future[str] = asyncio.get_running_loop().create_future()
            session.waiter = waiter
            hold = None if self.hold_forever else self.settings.timeout_ms / 1000.0
            try:
                reason = await asyncio.wait_for(asyncio.shield(waiter), hold)
            except asyncio.TimeoutError:
                reason = "timeout"
            finally:
                if session.waiter is waiter:
                    session.waiter = None
            if reason in ("restart", "close"):
                reply.abort = True
                return
            if reason in ("gone", "disconnect"):
                reply.parts.append(_dumps(self._unknown(message)))
                return
            if reason == "duplicate":
                answer = self._ok(message)
                answer["advice"] = self._advice()
                reply.parts.append(_dumps(answer))
                return
        if self.sessions.get(session.client_id) is not session:
            reply.parts.append(_dumps(self._unknown(message)))
            return
        # Deliver what is queued, then the connect reply (the order of the GWS sample).
        queue = session.queue
        if queue:
            self.counters.events_delivered += len(queue)
            reply.parts.extend(queue)
            queue.clear()
        answer = self._ok(message)
        answer["advice"] = self._advice()
        if session.dropped_unreported:
            # Never silent: the client learns how many events its queue lost.
            answer["ext"] = {"sim": {"dropped": session.dropped_unreported}}
            session.dropped_unreported = 0
        reply.parts.append(_dumps(answer))
        session.last_seen = time.monotonic()

    def describe(self) -> list[dict[str, Any]]:
        """The sessions, for the simulator's state endpoint."""
        return [
            {"clientId": s.client_id, "user": s.user, "subscriptions": sorted(s.subscriptions),
             "queued": len(s.queue), "dropped": s.dropped,
             "held": s.waiter is not None and not s.waiter.done()}
            for s in self.sessions.values()
        ]
