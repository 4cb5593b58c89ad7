"""A Bayeux 1.0 long-polling server core, independent of the HTTP framework.

It follows `shared/reference/bayeux.md` (server rules): handshake / connect / subscribe /
unsubscribe / disconnect, advice, immediate answer to the first connect and to
`advice.timeout: 0`, held connects, `402::session_unknown` with handshake advice, a sweep of
sessions silent for interval + maxInterval, a second connect answering the held one, a bounded
per-session queue whose drops are counted and reported, and wildcard subscriptions.

Delivery is counted exactly: an event is *delivered* when the connect reply carrying it has
been written to the client's connection (the HTTP layer calls `settle()`), and *lost*, with the
reason, when its session goes (restart, sweep, disconnect), its queue overflows or the write
fails. A `Delivery` follows the copies of one published message, so the simulator can say of
each record whether its acknowledgement reached anybody.

Events are JSON-encoded once when published and queued as text, so fan-out to many sessions
costs one `json.dumps` per event, not one per subscriber.

Labels (as in the README): the protocol rules, defaults and advice are the Bayeux specification's
and the CometD reference's [doc]; `[{}]` answered 402 because the official CometD server looks
the session up before the channel [doc: checked against the NodeJS server]; channel and id
validation (405::channel_invalid / 405::id_invalid, nothing invalid echoed) as the Java CometD
server GWS runs [inferred: its Bayeux.Validator]; one held connect per BAYEUX_BROWSER cookie when
`multiple_clients` is on (CometD's maxSessionsPerBrowser = 1, multiSessionInterval 2000 ms)
[doc]; the bounded queue, `ext.sim.dropped` and denied client publishes [ours].
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from collections import Counter as CounterDict
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

from console.tasks import cancel_and_wait

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

#: A channel segment, as the Bayeux grammar has it: alpha / digit / mark (- _ ! ~ ( ) $ @).
_SEGMENT = re.compile(r"[A-Za-z0-9\-_!~()$@]+")
#: A message id: the characters CometD's Bayeux.Validator lets through (no <, >, quotes).
_MESSAGE_ID = re.compile(r"[A-Za-z0-9 !#$()*+\-.@_{}~]{1,128}")
#: CometD's multiSessionInterval: the interval advised to a second session of one browser.
MULTI_SESSION_INTERVAL_MS = 2000
BROWSER_COOKIE = "BAYEUX_BROWSER"


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


@dataclass(frozen=True)
class BayeuxTuning:
    """Run-time deviations from the settings, switched by the simulator's faults."""

    hold_forever: bool = False
    """Hold every connect without ever answering (a stuck node)."""
    hold_extra_ms: float = 0.0
    """Hold connects this much longer than the advised timeout."""
    interval_ms: int | None = None
    """Advised interval instead of the settings' (None: the settings')."""
    timeout_ms: int | None = None
    """Advised and applied timeout instead of the settings' (None: the settings')."""
    reconnect: str = "retry"
    """The reconnect advice of connect replies."""
    multiple_clients: bool = False
    """Enforce one held connect per browser (CometD's maxSessionsPerBrowser = 1)."""


@dataclass
class Counters:
    """Protocol counters, exposed by the simulator's state endpoint."""

    handshakes: int = 0
    connects: int = 0
    held_connects: int = 0
    duplicate_connects: int = 0
    connects_abandoned: int = 0
    """Held connects whose client went away (connection closed or reset) before the answer."""
    early_connects: int = 0
    """Connects that came sooner after the previous reply than the advised interval."""
    multiple_clients: int = 0
    """Connects answered at once with `multiple-clients` advice."""
    subscribes: int = 0
    unsubscribes: int = 0
    disconnects: int = 0
    unknown_client: int = 0
    sessions_swept: int = 0
    events_published: int = 0
    events_queued: int = 0
    """Copies of events put in session queues (an event for two sessions counts twice)."""
    events_delivered: int = 0
    """Copies written to a client in a connect reply."""
    events_dropped: int = 0
    """Copies dropped by a full queue (the oldest first)."""
    events_lost: int = 0
    """Copies that never reached their client, whatever the reason (see `lost_by_reason`)."""
    protocol_errors: int = 0
    lost_by_reason: CounterDict[str] = field(default_factory=CounterDict)
    """events_lost by reason: restart, swept, disconnected, overflow, write_failed, stopped."""

    def as_json(self) -> dict[str, Any]:
        body = {k: v for k, v in vars(self).items() if k != "lost_by_reason"}
        body["lost_by_reason"] = dict(self.lost_by_reason)
        return body


class Delivery:
    """The copies of one published message in session queues: how many are pending, delivered
    and lost. `on_settle(delivery, delivered)` is called as each copy is delivered or lost."""

    __slots__ = ("pending", "delivered", "lost", "last_loss", "on_settle")

    def __init__(self, on_settle: Callable[[Delivery, bool], None] | None = None) -> None:
        self.pending = 0
        self.delivered = 0
        self.lost = 0
        self.last_loss: str | None = None
        self.on_settle = on_settle

    def settle(self, delivered: bool, reason: str = "") -> None:
        self.pending -= 1
        if delivered:
            self.delivered += 1
        else:
            self.lost += 1
            self.last_loss = reason
        if self.on_settle is not None:
            self.on_settle(self, delivered)


Entry = tuple[str, "Delivery | None"]


class Session:
    """One Bayeux client session."""

    __slots__ = ("client_id", "user", "browser", "subscriptions", "queue", "dropped",
                 "dropped_unreported", "waiter", "last_seen", "reply_sent_at", "connected")

    def __init__(self, client_id: str, user: str, browser: str) -> None:
        self.client_id = client_id
        self.user = user
        self.browser = browser
        self.subscriptions: set[str] = set()
        self.queue: deque[Entry] = deque()
        self.dropped = 0
        self.dropped_unreported = 0
        self.waiter: asyncio.Future[str] | None = None
        self.last_seen = time.monotonic()
        self.reply_sent_at: float | None = None
        self.connected = False

    @property
    def held(self) -> bool:
        return self.waiter is not None and not self.waiter.done()

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
    events: list[Entry] = field(default_factory=list)
    """The queued events this reply carries; `BayeuxServer.settle()` counts them."""
    session: Session | None = None
    """The session whose connect this reply answers (None: no connect in the batch)."""
    browser_cookie: str | None = None
    """A new BAYEUX_BROWSER cookie value to set (first handshake of a browser)."""

    def body(self) -> str:
        return "[" + ",".join(self.parts) + "]"


def _valid_channel(name: Any) -> bool:
    """A channel name: `/seg/seg` of Bayeux tokens; `*` / `**` only as the whole last segment."""
    if not isinstance(name, str) or not name.startswith("/") or len(name) > 512:
        return False
    segments = name[1:].split("/")
    *parents, last = segments
    if not all(_SEGMENT.fullmatch(s) for s in parents):
        return False
    return last in ("*", "**") or _SEGMENT.fullmatch(last) is not None


def _valid_id(mid: Any) -> bool:
    if isinstance(mid, bool):
        return False
    if isinstance(mid, int):
        return True
    return isinstance(mid, str) and _MESSAGE_ID.fullmatch(mid) is not None


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
        self.tuning = BayeuxTuning()
        self.counters = Counters()
        self.sessions: dict[str, Session] = {}
        self._subscribers: dict[str, set[Session]] = {}
        self._sweeper: asyncio.Task[None] | None = None

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def hold_forever(self) -> bool:
        return self.tuning.hold_forever

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
            self._remove(session, reason)
        return count

    async def _sweep_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.sweep_period_s)
            self.sweep()

    def interval_ms(self) -> int:
        tuned = self.tuning.interval_ms
        return self.settings.interval_ms if tuned is None else tuned

    def timeout_ms(self) -> int:
        tuned = self.tuning.timeout_ms
        return self.settings.timeout_ms if tuned is None else tuned

    def sweep(self, now: float | None = None) -> int:
        """Remove sessions with no connect for interval + maxInterval; returns how many."""
        now = time.monotonic() if now is None else now
        limit = (self.interval_ms() + self.settings.max_interval_ms) / 1000.0
        stale = [s for s in self.sessions.values()
                 if not s.held and now - s.last_seen > limit]
        for session in stale:
            self._remove(session, "swept")
        self.counters.sessions_swept += len(stale)
        return len(stale)

    def _remove(self, session: Session, reason: str) -> None:
        """Forget a session; what its queue still held is lost (counted, with the reason)."""
        self.sessions.pop(session.client_id, None)
        for pattern in session.subscriptions:
            subs = self._subscribers.get(pattern)
            if subs is not None:
                subs.discard(session)
                if not subs:
                    del self._subscribers[pattern]
        session.subscriptions.clear()
        loss = "stopped" if reason == "close" else reason
        while session.queue:
            self._lose(session.queue.popleft(), loss)
        session.wake(reason)

    def _lose(self, entry: Entry, reason: str) -> None:
        self.counters.events_lost += 1
        self.counters.lost_by_reason[reason] += 1
        delivery = entry[1]
        if delivery is not None:
            delivery.settle(False, reason)

    # -- delivery --------------------------------------------------------------------------
    def publish(self, channel: str, data: dict[str, Any], user: str | None = None,
                delivery: Delivery | None = None) -> int:
        """Queue an event for every matching session (of `user`, when given); returns how many
        sessions got a copy. `delivery`, when given, follows the copies."""
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
        queued = 0
        for session in targets:
            if user is not None and session.user != user:
                continue
            queue = session.queue
            if len(queue) >= limit:
                session.dropped += 1
                session.dropped_unreported += 1
                self.counters.events_dropped += 1
                self._lose(queue.popleft(), "overflow")
            if delivery is not None:
                delivery.pending += 1
            queue.append((encoded, delivery))
            queued += 1
            session.wake()
        self.counters.events_queued += queued
        return queued

    def settle(self, reply: Reply, written: bool) -> None:
        """Count the events of a reply as delivered (written to the client) or lost."""
        events, reply.events = reply.events, []
        if written:
            self.counters.events_delivered += len(events)
            for _, delivery in events:
                if delivery is not None:
                    delivery.settle(True)
            if reply.session is not None:
                now = time.monotonic()
                reply.session.reply_sent_at = now
                reply.session.last_seen = now
        else:
            for entry in events:
                self._lose(entry, "write_failed")

    # -- one POST --------------------------------------------------------------------------
    async def handle(self, messages: list[Any], user: str, browser: str | None = None) -> Reply:
        """Answer one batch of messages from an authenticated `user` whose BAYEUX_BROWSER
        cookie is `browser` (None: not set yet)."""
        reply = Reply()
        first = messages[0] if messages else None
        if isinstance(first, dict) and first.get("channel") == "/meta/handshake":
            # A handshake batched with other messages: only the handshake is processed.
            problem = self._check(first)
            answer = problem if problem is not None else self._handshake(first, user, browser,
                                                                           reply)
            reply.parts.append(_dumps(answer))
            return reply
        connect: tuple[dict[str, Any], Session] | None = None
        for message in messages:
            if not isinstance(message, dict):
                self.counters.protocol_errors += 1
                reply.parts.append(_dumps({"successful": False,
                                           "error": "400::message is not a JSON object"}))
                continue
            problem = self._check(message)
            if problem is not None:
                reply.parts.append(_dumps(problem))
                continue
            channel = message["channel"]
            if channel == "/meta/handshake":
                reply.parts.append(_dumps(self._handshake(message, user, browser, reply)))
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
                self._remove(session, "disconnected")
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
        """A protocol error answer for a malformed message, or None. Nothing invalid is echoed:
        an id or channel that fails validation is left out of the answer."""
        mid = message.get("id")
        id_ok = mid is None or _valid_id(mid)
        echo: dict[str, Any] = {"id": mid} if id_ok and mid is not None else {}
        channel = message.get("channel")
        if channel is None:
            client_id = message.get("clientId")
            if not isinstance(client_id, str) or client_id not in self.sessions:
                # The official CometD server looks the session up first: `[{}]` gets 402.
                self.counters.unknown_client += 1
                return {"successful": False, "error": "402::session_unknown", **echo}
            self.counters.protocol_errors += 1
            return {"successful": False, "error": "400::channel_missing", **echo}
        if not _valid_channel(channel) or "*" in channel:
            self.counters.protocol_errors += 1
            return {"successful": False, "error": "405::channel_invalid", **echo}
        if not id_ok:
            self.counters.protocol_errors += 1
            return {"channel": channel, "successful": False, "error": "405::id_invalid"}
        if channel != "/meta/handshake" and not isinstance(message.get("clientId"), str):
            self.counters.protocol_errors += 1
            return self._error(message, "402::session_unknown", reconnect="handshake")
        return None

    def _advice(self) -> dict[str, Any]:
        return {"reconnect": self.tuning.reconnect, "interval": self.interval_ms(),
                "timeout": self.timeout_ms()}

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

    def _handshake(self, message: dict[str, Any], user: str, browser: str | None,
                   reply: Reply) -> dict[str, Any]:
        types = message.get("supportedConnectionTypes", ["long-polling"])
        if not isinstance(types, list) or "long-polling" not in types:
            answer = self._error(message, "301::unsupported connection types (GWS 8.5 offers "
                                 "long-polling only)")
            answer["supportedConnectionTypes"] = ["long-polling"]
            answer["advice"] = {"reconnect": "none", "interval": 0}
            return answer
        self.counters.handshakes += 1
        if browser is None:
            # CometD marks each browser with a cookie to spot sessions sharing it.
            browser = reply.browser_cookie = secrets.token_hex(12)
        session = Session(secrets.token_hex(16), user, browser)
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

    def _subscription_error(self, message: dict[str, Any], error: str,
                            echo: bool) -> dict[str, Any]:
        answer = self._error(message, error)
        if echo:
            answer["subscription"] = message["subscription"]
        return answer

    def _subscribe(self, message: dict[str, Any], session: Session) -> dict[str, Any]:
        names = self._channels(message)
        if names is None:
            self.counters.protocol_errors += 1
            return self._subscription_error(message, "405::channel_invalid", echo=False)
        if any(n.startswith(("/meta/", "/service/")) for n in names):
            return self._subscription_error(message, "403::subscription_denied", echo=True)
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
            self.counters.protocol_errors += 1
            return self._subscription_error(message, "405::channel_invalid", echo=False)
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

    def _browser_busy(self, session: Session) -> bool:
        """Another session of the same browser holds a connect (CometD: one per browser)."""
        return any(other is not session and other.browser == session.browser and other.held
                   for other in self.sessions.values())

    async def _connect(self, message: dict[str, Any], session: Session, reply: Reply) -> None:
        counters = self.counters
        counters.connects += 1
        interval = self.interval_ms()
        if (session.reply_sent_at is not None and interval > 0
                and (time.monotonic() - session.reply_sent_at) * 1000.0 < interval):
            counters.early_connects += 1
        if message.get("connectionType", "long-polling") != "long-polling":
            reply.parts.append(_dumps(self._error(message, "301::connectionType unsupported",
                                                  reconnect="handshake")))
            return
        advice = message.get("advice")
        asked_timeout = advice.get("timeout") if isinstance(advice, dict) else None
        first = not session.connected
        session.connected = True
        if session.held:
            # A second connect answers the held one; events go to the newest.
            counters.duplicate_connects += 1
            session.wake("duplicate")
        tuning = self.tuning
        hold = tuning.hold_forever or (not first and asked_timeout != 0 and not session.queue)
        if hold and tuning.multiple_clients and self._browser_busy(session):
            counters.multiple_clients += 1
            answer = self._ok(message)
            answer["advice"] = {"reconnect": "retry", "interval": MULTI_SESSION_INTERVAL_MS,
                                "timeout": self.timeout_ms(), "multiple-clients": True}
            reply.parts.append(_dumps(answer))
            reply.session = session
            return
        if hold:
            counters.held_connects += 1
            waiter: asyncio.Future[str] = asyncio.get_running_loop().create_future()
            session.waiter = waiter
            hold_s = None if tuning.hold_forever else (
                self.timeout_ms() + tuning.hold_extra_ms) / 1000.0
            try:
                reason = await asyncio.wait_for(asyncio.shield(waiter), hold_s)
            except asyncio.TimeoutError:
                reason = "timeout"
            except asyncio.CancelledError:
                # The client went away under a held connect: the session lives on until the
                # sweep (interval + maxInterval from now), and what arrives meanwhile waits.
                counters.connects_abandoned += 1
                session.last_seen = time.monotonic()
                raise
            finally:
                if session.waiter is waiter:
                    session.waiter = None
            if reason in ("restart", "close"):
                reply.abort = True
                return
            if reason in ("swept", "disconnected"):
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
            reply.events = list(queue)
            reply.parts.extend(text for text, _ in queue)
            queue.clear()
        reply.session = session
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
             "queued": len(s.queue), "dropped": s.dropped, "held": s.held}
            for s in self.sessions.values()
        ]
