"""The CometD stream: our own Bayeux long-polling client on the session's HTTP client.

`async for item in EventStream(connection)` yields `Event`s and `StreamStatus` changes
(connecting, connected, reconnecting, gap from-to, failed, closed). The rules it keeps
(shared/reference/bayeux.md, CometD's client), each tested against a hostile server:

- One request at a time: handshake, then one subscribe batch (every channel once per
  session), then connects, one outstanding. The first connect of a session carries
  `advice: {timeout: 0}`; "connected" means subscribed and that first connect answered.
  `subscribed` is set as soon as the subscribe batch is confirmed: what is published from then
  on is queued for the session, so a request may be sent without waiting for that connect.
- Advice is obeyed (interval and timeout in ms, reconnect retry / handshake / none); each
  reply's advice replaces the fields it names. An interval over 60 s is taken as 60 s.
- A connect is aborted at advice.timeout + max_network_delay (10 s) and retried on the same
  clientId; the stream re-handshakes only when told (advice `handshake`, or a refused connect
  without advice), and `reconnect: none` (or a handshake refused with it) stops it: status
  `failed`, with the server's words.
- Size: a reply is read up to `max_reply_bytes` (16 MiB) and one message may be up to
  `max_message_bytes` (1 MiB). A longer message is left out (a gap of one event, the rest of
  its reply kept); a longer reply is dropped unread past the limit (a gap, and a failure).
- Failures (no answer, reset, HTTP error, a reply that is not Bayeux, a reply over the
  limit) never raise: each adds `backoff_step` (1 s) to the wait before the next
  request, up to `max_backoff` (60 s); an HTTP error with `Retry-After` (429, 503) waits at
  least what it asks, up to `max_backoff` too. The backoff returns to 0 only after a connect that the
  server held (or that brought events): the first connect after a handshake, answered at once
  by design, proves nothing, so a server that fails right after every handshake sees request
  bursts ever further apart. A connect answered empty in under a second is followed by a wait
  of at least 1 s: no server can make the stream poll faster than once a second. Messages
  ignored as malformed (no channel, `data` not an object) are not events here: a reply of
  nothing else is empty. They are reported at most once a second, with how many.
- Gaps: events may be missing from the last good connect on, when a connect failed after it
  may have reached the server (its reply, with events, may be lost), when a new session had
  to be opened, or when a reply was dropped for its size; the gap is reported from-to when
  events flow again. A server that says it dropped events (`ext.sim.dropped`) is a gap too.
- A session the server forgets at once (handshake accepted, then its subscribe or first
  connect refused with advice `reconnect: handshake`, or a bare 402: `402::session_unknown`,
  CometD's `402::Unknown client`; the advice decides, not the wording) three times in a row means the requests land on
  different GWS nodes: a load balancer without session affinity. The stream stops (`failed`,
  saying so and what to do) instead of opening sessions that can never work.
- Two HTTP 401 replies in a row stop it too (`failed`, naming the user): each retry would be a
  failed login with the same password, and a directory locks an account after a few.
- Big replies are handed out 64 events at a time with a turn of the event loop between,
  so a UI stays responsive under a 10,000-event reply; after a reply of 32 events or more the
  next connect waits 2 ms (the server batches a flood), after a smaller one it goes at once
  (after one turn of the loop, so consumers act first).
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx

from console.domain.events import Event, StatusKind, StreamItem, StreamStatus
from console.errors import GwsOutcomeUnknown
from console.gws import bayeux
from console.gws.bayeux import Advice, MalformedReply, MetaReply
from console.gws.connection import REFUSED_LOGINS_AT_ONCE, Connection, refused_logins
from console.gws.transport import FAILURES, GwsHttp, ReplyTooLarge, transport_failure
from console.tasks import cancel_and_wait

__all__ = ["EventStream", "MAX_MESSAGE_BYTES", "MAX_REPLY_BYTES"]

#: The longest CometD reply read (a backlog of ~40,000 GWS acknowledgements); a longer one is
#: dropped unread past this point, reported as a gap, and the stream goes on.
MAX_REPLY_BYTES = 16 * 1024 * 1024
#: The longest single message kept (a GWS notification is about 1 KiB); a longer one is left
#: out, reported as a gap of one event, and the rest of its reply is kept.
MAX_MESSAGE_BYTES = 1024 * 1024

_JSON = [(b"Content-Type", b"application/json;charset=UTF-8")]
#: Messages handled in a row before giving the event loop a turn (a key press waits at most
#: this many events of parsing, journal and tracker work: ~4 ms in the console under a flood).
_BURST = 64
#: The pause after a reply of at least `_COALESCE_AT` events before the next connect (see
#: `_connect`): a flow that fills replies so is a flood, gathered better by the server.
_COALESCE_S = 0.002
_COALESCE_AT = 32
#: A connect answered empty faster than this (when the server could hold it) was not held.
_QUICK_S = 1.0
#: Malformed messages are reported at most once per this many seconds (with how many were
#: ignored meanwhile): a server sending nothing else must not flood the output and journal.
_IGNORED_EVERY_S = 1.0
#: New sessions forgotten at once, in a row, that mean "no session affinity": give up.
_FORGOTTEN_AT_ONCE = 3

log = logging.getLogger("console.gws.stream")
log.addHandler(logging.NullHandler())  # the journal records every status; logging is opt-in


class _Failure(Exception):
    """One exchange that did not give a usable answer."""

    def __init__(self, reason: str, delivered: bool, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.delivered = delivered
        """The request may have reached the server (its reply, and events in it, are lost)."""
        self.retry_after = retry_after
        """Seconds the server asked us to wait (an HTTP Retry-After), None when it did not."""


class _Stop(Exception):
    """The server said not to come back."""


class EventStream:
    """Events and status changes from GWS notifications, reconnecting by itself."""

    def __init__(self, connection: Connection, *, http: GwsHttp | None = None,
                 channels: tuple[str, ...] | None = None, max_network_delay: float = 10.0,
                 backoff_step: float = 1.0, max_backoff: float = 60.0,
                 max_reply_bytes: int = MAX_REPLY_BYTES,
                 max_message_bytes: int = MAX_MESSAGE_BYTES, queue_size: int = 0) -> None:
        self.connection = connection
        self.channels = channels or connection.channels
        self._own_http = http is None
        self._http = http if http is not None else GwsHttp(connection)
        self._url = connection.notifications_url
        self._endpoint = httpx.URL(self._url)
        self._max_network_delay = max_network_delay
        self._backoff_step = backoff_step
        self._max_backoff = max_backoff
        self._max_reply_bytes = max_reply_bytes
        self._max_message_bytes = max_message_bytes
        self._queue: asyncio.Queue[StreamItem | None] = asyncio.Queue(queue_size)
        self._task: asyncio.Task[None] | None = None
        self._seq = 0
        self._ids = 0
        self._state: StatusKind = "connecting"
        self._client_id: str | None = None
        self._first_connect = True
        self._advice = Advice()
        self._backoff = 0.0
        self._last_ok: float | None = None
        self._gap_from: float | None = None
        self._closed = False
        self._forgotten = 0  # sessions in a row forgotten right after their handshake
        self._refused_logins = 0  # 401 replies in a row
        self._ignored = 0  # malformed messages not reported yet
        self._ignored_why = ""  # what was wrong with the latest of them
        self._ignored_reported = -_IGNORED_EVERY_S  # time.monotonic() of the last report
        self.handshakes = 0
        """How many successful handshakes this stream made (1 + re-handshakes)."""
        self.server_dropped = 0
        """Events the server reported dropping from our queue (simulator `ext.sim.dropped`)."""
        self.failure: StreamStatus | None = None
        """The `failed` status, once the server has said not to reconnect."""
        self.failed = asyncio.Event()
        """Set when the stream has stopped for good (see `failure`)."""
        self.subscribed = asyncio.Event()
        """Set while the session's subscriptions are confirmed by the server: what is
        published from then on is queued for this session (even before the first connect is
        answered), so a request whose answer comes as a notification may be sent. Cleared when
        the session is dropped or the stream stops."""

    # -- public ----------------------------------------------------------------------------
    async def start(self) -> EventStream:
        if self._task is None and not self._closed:
            self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def __aenter__(self) -> EventStream:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __aiter__(self) -> AsyncIterator[StreamItem]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[StreamItem]:
        await self.start()
        queue = self._queue
        while True:
            item = await queue.get()
            burst = 0
            while True:  # what is already queued goes out without a trip round the loop...
                if item is None:
                    return
                yield item
                if queue.empty():
                    break
                burst += 1
                if burst % _BURST == 0:
                    await asyncio.sleep(0)  # ...but a long burst lets key presses through
                item = queue.get_nowait()

    async def close(self) -> None:
        """Stop, tell the server (a disconnect, bounded to a second), end every iterator."""
        if self._closed:
            return
        self._closed = True
        await cancel_and_wait(self._task)
        self._task = None
        self.subscribed.clear()
        self._report_ignored(now=True)
        # Not with the password in doubt (the last reply a 401): one more failed login.
        if self._client_id is not None and self.failure is None and not self._refused_logins:
            try:
                await self._exchange([bayeux.disconnect(self._client_id, self._next_id())], 1.0)
            except (_Failure, _Stop, asyncio.TimeoutError):
                pass  # the server forgets the session after its maxInterval anyway
            self._client_id = None
        if self._own_http:
            await self._http.aclose()
        self._put(StreamStatus("closed", "stream closed", time.time()))
        if not self._queue.full():
            self._queue.put_nowait(None)  # ends every iterator

    @property
    def state(self) -> str:
        return self._state

    # -- the client ------------------------------------------------------------------------
    async def _run(self) -> None:
        self._status("connecting", f"opening {self._url}")
        delay = 0.0
        try:
            while True:
                if delay > 0:
                    await asyncio.sleep(delay)
                try:
                    if self._client_id is None:
                        delay = await self._handshake()
                    elif not self.subscribed.is_set():
                        delay = await self._subscribe()
                    else:
                        delay = await self._connect()
                except _Failure as failure:
                    delay = self._failed(str(failure), failure.delivered, failure.retry_after)
        except _Stop as stop:
            self._stop(str(stop))
        except Exception as exc:  # never a dead task behind a "connected" status
            log.exception("the CometD stream stopped on an unexpected error")
            self._stop(f"the stream stopped on an unexpected error ({type(exc).__name__}: "
                       f"{bayeux.snippet(str(exc), 120)}); restart to try again, and report "
                       "this with the journal")

    def _stop(self, why: str) -> None:
        """Stop for good: status `failed`, saying why."""
        self.subscribed.clear()
        self.failure = StreamStatus("failed", why, time.time())
        self._state = "failed"
        self._put(self.failure)
        self.failed.set()

    async def _handshake(self) -> float:
        message_id = self._next_id()
        messages, raw, _ = await self._exchange([bayeux.handshake(message_id)],
                                                self._max_network_delay)
        answer = self._meta(messages, "/meta/handshake", message_id, raw)
        if not answer.successful:
            self._obey_none(answer, "the server refused the handshake")
            return self._failed(f"handshake refused: {answer.error}", False)
        if self.handshakes and self._last_ok is not None:
            self._open_gap()  # a new session has not seen what was published meanwhile
        self.handshakes += 1
        self._client_id = str(answer.message["clientId"])
        self.subscribed.clear()
        self._first_connect = True
        return 0.0

    async def _subscribe(self) -> float:
        assert self._client_id is not None
        ids = {channel: self._next_id() for channel in self.channels}
        batch = [bayeux.subscribe(self._client_id, c, i) for c, i in ids.items()]
        try:
            messages, raw, _ = await self._exchange(batch, self._max_network_delay)
            self._deliver_nowait(messages)
            answers = {c: self._meta(messages, "/meta/subscribe", i, raw, subscription=c)
                       for c, i in ids.items()}
        except _Failure as failure:
            # Whether the server took the subscriptions is unknown, and a session must never
            # subscribe a channel twice: start a new session instead.
            self._drop_session()
            raise failure
        refused = {c: a for c, a in answers.items() if not a.successful}
        if refused:
            for answer in refused.values():
                self._obey_none(answer, "the server refused a subscription")
            forgotten = [a for a in refused.values() if _unknown_session(a)]
            self._check_forgotten(bool(forgotten), forgotten[0].error if forgotten else "")
            self._drop_session()
            words = ", ".join(f"{c} ({a.error})" for c, a in refused.items())
            if not forgotten and all(_refused_for_good(a) for a in refused.values()):
                # The same channel would be refused again, every backoff step, forever.
                raise _Stop(f"subscription refused: {words}; the server will not take "
                            "that channel: check the channel names (--channel, the "
                            "profile's channels); nothing was subscribed")
            return self._failed(f"subscription refused: {words}", False)
        self.subscribed.set()  # what is published from now on is queued for us
        return 0.0

    async def _connect(self) -> float:
        assert self._client_id is not None
        first = self._first_connect
        message_id = self._next_id()
        wait = (0 if first else self._advice.timeout_ms / 1000.0) + self._max_network_delay
        messages, raw, elapsed = await self._exchange(
            [bayeux.connect(self._client_id, message_id, answer_at_once=first)], wait)
        events = [m for m in messages if not str(m.get("channel", "")).startswith("/meta/")]
        delivered = 0
        try:
            answer = self._meta(messages, "/meta/connect", message_id, raw)
        finally:
            # Whatever came is handed out, even beside bad meta. Only the events handed out
            # count below: a malformed message ignored is no reason to come back at once.
            delivered = await self._deliver(events)
            self._report_ignored(now=False)
        if not answer.successful:
            if answer.advice is not None:
                self._advice = self._advice.updated(answer.advice)
            self._obey_none(answer, "the server ended the session")
            self._check_forgotten(first and _unknown_session(answer), answer.error)
            reconnect = answer.advice.get("reconnect") if answer.advice else None
            if reconnect != "retry":  # told to, or refused without advice: a new session
                self._drop_session()
            return self._failed(f"connect refused: {answer.error}", False)
        if answer.advice is not None:
            self._advice = self._advice.updated(answer.advice)
        self._obey_none(answer, "the server ended the session")
        self._first_connect = False
        self._forgotten = 0
        now = time.time()
        self._last_ok = now
        dropped = _server_dropped(answer.message)
        if dropped:
            self.server_dropped += dropped
            self._put(StreamStatus("gap", f"the server dropped {dropped} events from this "
                                   "session's queue", now, now, now, {"dropped": dropped}))
        quick = not first and not delivered and elapsed < _QUICK_S
        if not first and not quick:
            self._backoff = 0.0  # the server held it, or sent events: it is working
        if self._state != "connected":
            if self._gap_from is not None:
                self._put(StreamStatus("gap", "events published meanwhile may be missing",
                                       now, self._gap_from, now))
                self._gap_from = None
            self._status("connected", f"subscribed to {', '.join(self.channels)}")
        if delivered >= _COALESCE_AT:
            # A short breath after a big reply: the consumers act on it first, and under a
            # flood the server gathers what comes meanwhile into the next reply instead of
            # answering one connect per event; at most _COALESCE_S of added latency. After a
            # small reply the next connect goes at once: a record sent one at a time waited
            # for that breath on every acknowledgement (bench/replay.py at concurrency 1:
            # x0.71 of the bare POST loop with it, x0.85 without).
            await asyncio.sleep(_COALESCE_S)
        elif delivered:
            await asyncio.sleep(0)  # the consumers still act on them before the next connect
        interval = self._advice.interval_ms / 1000.0
        return max(interval, _QUICK_S) if quick else interval

    # -- helpers ---------------------------------------------------------------------------
    async def _exchange(self, messages: list[dict[str, Any]],
                        wait_s: float) -> tuple[list[dict[str, Any]], bytes, float]:
        """POST one batch; its messages, the raw reply and how long it took. Any failure is
        a `_Failure` that says what came (a truncated copy) and whether the request may have
        reached the server."""
        body = json.dumps(messages).encode("utf-8")
        started = time.monotonic()
        timeout = httpx.Timeout(wait_s, connect=self._max_network_delay).as_dict()
        try:
            async with asyncio.timeout(wait_s):
                reply, raw = await self._http.post(self._endpoint, body, _JSON, timeout,
                                                   self._max_reply_bytes)
        except asyncio.TimeoutError:
            raise _Failure(f"no answer within {wait_s:g} s", delivered=True) from None
        except ReplyTooLarge as exc:
            raise _Failure(f"a reply (HTTP {exc.status}) longer than "
                           f"{self._max_reply_bytes / 1048576:g} MiB was dropped unread",
                           delivered=True) from None
        except FAILURES as exc:
            error = transport_failure(exc, "POST", self._url, wait_s)
            raise _Failure(str(error), isinstance(error, GwsOutcomeUnknown)) from None
        status = reply.status_code
        elapsed = time.monotonic() - started
        self._refused_logins = self._refused_logins + 1 if status == 401 else 0
        if self._refused_logins >= REFUSED_LOGINS_AT_ONCE:
            raise _Stop(refused_logins(self.connection.username,
                                       f"{self._refused_logins} times in a row", "start again"))
        if status != 200:
            log.warning("HTTP %s from %s: %s", status, self._url, bayeux.snippet(raw))
            raise _Failure(f"HTTP {status} {_http_hint(status)}: {bayeux.snippet(raw, 80)}",
                           delivered=True,
                           retry_after=_retry_after(reply.headers.get("Retry-After")))
        try:
            messages, oversized = bayeux.parse_reply(raw, self._max_message_bytes)
        except MalformedReply as exc:
            log.warning("malformed reply from %s: %s", self._url, exc)
            raise _Failure(f"malformed reply: {exc}", delivered=True) from None
        for left_out in oversized:
            now = time.time()
            self._put(StreamStatus(
                "gap", f"left out a message of {left_out.size / 1048576:.1f} MiB on "
                f"{left_out.channel} (over the {self._max_message_bytes / 1048576:g} MiB limit "
                "for one message)", now, now, now, {"dropped": 1, "bytes": left_out.size}))
        return messages, raw, elapsed

    def _meta(self, messages: list[dict[str, Any]], channel: str, message_id: str, raw: bytes,
              subscription: str | None = None) -> MetaReply:
        try:
            answer = bayeux.meta_reply(messages, channel, message_id, raw, subscription)
        except MalformedReply as exc:
            log.warning("malformed reply from %s: %s", self._url, exc)
            raise _Failure(f"malformed reply: {exc}", delivered=True) from None
        if channel == "/meta/handshake" and answer.advice is not None:
            self._advice = self._advice.updated(answer.advice)
        return answer

    def _obey_none(self, answer: MetaReply, what: str) -> None:
        """`reconnect: none` ends the stream, saying why."""
        if answer.advice is not None and answer.advice.get("reconnect") == "none":
            error = answer.message.get("error")
            why = f" ({error})" if isinstance(error, str) and error else ""
            raise _Stop(f"{what}{why} and advised not to reconnect; restart to try again")

    def _check_forgotten(self, forgotten: bool, why: str) -> None:
        """Stop after _FORGOTTEN_AT_ONCE new sessions in a row unknown to the server right
        after their handshake: the balancer sends each request to another node [inferred:
        GWS "Load Balancing" requires affinity on JSESSIONID; one node never forgets a
        session between its handshake and its subscribe]."""
        if not forgotten:
            return
        self._forgotten += 1
        if self._forgotten >= _FORGOTTEN_AT_ONCE:
            raise _Stop(
                f"GWS forgot each new CometD session right after its handshake "
                f"({self._forgotten} in a row: {why}): the requests are landing "
                f"on different GWS nodes, so the load balancer in front of "
                f"{self.connection.base_url} does not keep a client on one node (GWS needs "
                "sticky sessions on JSESSIONID). Point the profile's url at one node, or have "
                "the balancer made sticky; nothing was subscribed")

    def _failed(self, reason: str, delivered: bool, retry_after: float | None = None) -> float:
        """Note a failed exchange; the wait before the next request (at least what the
        server's Retry-After asked, up to `max_backoff`)."""
        if delivered and self.subscribed.is_set() and self._last_ok is not None:
            self._open_gap()  # the lost reply may have carried events
        self._backoff = min(self._backoff + self._backoff_step, self._max_backoff)
        delay = self._advice.interval_ms / 1000.0 + self._backoff
        asked = ""
        if retry_after is not None and retry_after > delay:
            delay = min(retry_after, self._max_backoff)
            asked = f" (the server asked for {retry_after:g} s with Retry-After" + (
                f", capped at {self._max_backoff:g} s)" if retry_after > delay else ")")
        self._status("reconnecting", f"{reason}; next attempt in {delay:g} s{asked}")
        return delay

    def _drop_session(self) -> None:
        """Forget the session: the next step is a handshake (which opens the gap)."""
        self._client_id = None
        self.subscribed.clear()

    def _open_gap(self) -> None:
        if self._gap_from is None:
            self._gap_from = self._last_ok

    async def _deliver(self, messages: list[dict[str, Any]]) -> int:
        """Hand out the messages; how many were events (not ignored as malformed)."""
        delivered = 0
        for count, message in enumerate(messages, 1):
            delivered += self._event(message)
            if count % _BURST == 0:
                await asyncio.sleep(0)  # a 10,000-event reply must not freeze a UI
        return delivered

    def _deliver_nowait(self, messages: list[dict[str, Any]]) -> None:
        for message in messages:
            if not str(message.get("channel", "")).startswith("/meta/"):
                self._event(message)

    def _event(self, message: dict[str, Any]) -> bool:
        """Hand out one message as an Event; False when it is ignored as malformed."""
        data = message.get("data")
        channel = message.get("channel")
        if not isinstance(channel, str) or not isinstance(data, dict):
            self._ignored += 1
            self._ignored_why = (f"on {channel!r:.80}: data is not an object"
                                 if isinstance(channel, str) else "without a channel")
            self._report_ignored(now=False)
            return False
        self._seq += 1
        self._put(Event(channel, data, time.time(), self._seq))
        return True

    def _report_ignored(self, now: bool) -> None:
        """One status for the malformed messages ignored since the last (at most one per
        _IGNORED_EVERY_S, unless `now`), saying how many."""
        clock = time.monotonic()
        if not self._ignored or (not now and clock - self._ignored_reported < _IGNORED_EVERY_S):
            return
        count, self._ignored = self._ignored, 0
        self._ignored_reported = clock
        what = "a malformed message" if count == 1 else \
            f"{count:,} malformed messages (the latest"
        self._put(StreamStatus(self._state, f"ignored {what} {self._ignored_why}"
                               + ("" if count == 1 else ")"), time.time(),
                               extra={"ignored": count}))

    def _next_id(self) -> str:
        self._ids += 1
        return str(self._ids)

    def _status(self, kind: StatusKind, detail: str) -> None:
        self._state = kind
        self._put(StreamStatus(kind, detail, time.time()))

    def _put(self, item: StreamItem) -> None:
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            pass


def _unknown_session(answer: MetaReply) -> bool:
    """The server no longer knows our session: it advises a new handshake, or (without a
    reconnect advice) says 402 — the advice decides, not the words, which differ between
    servers (`402::session_unknown`, CometD 2.x/3.x `402::Unknown client`, `403::Unknown
    client` with handshake advice)."""
    reconnect = answer.advice.get("reconnect") if answer.advice else None
    if reconnect is not None:
        return bool(reconnect == "handshake")
    return _error_code(answer) == "402"


def _error_code(answer: MetaReply) -> str:
    """The code of a Bayeux error (`402` of `402::session_unknown`), "" when it has none."""
    return str(answer.message.get("error") or "").split(":", 1)[0].strip()


def _refused_for_good(answer: MetaReply) -> bool:
    """A subscription the server will refuse again: a 4xx Bayeux error (`405::channel_invalid`,
    `403::denied`...) other than 402 (a session it forgot), with no advice to handshake or
    retry."""
    if answer.advice and answer.advice.get("reconnect") in ("handshake", "retry"):
        return False
    code = _error_code(answer)
    return code.isdigit() and 400 <= int(code) < 500 and code != "402"


def _server_dropped(answer: dict[str, Any]) -> int:
    ext = answer.get("ext")
    sim = ext.get("sim") if isinstance(ext, dict) else None
    dropped = sim.get("dropped") if isinstance(sim, dict) else None
    return dropped if isinstance(dropped, int) and not isinstance(dropped, bool) and dropped > 0 \
        else 0


def _retry_after(value: str | None) -> float | None:
    """An HTTP Retry-After (seconds, or an HTTP date) as seconds from now; None when absent or
    unreadable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def _http_hint(status: int) -> str:
    if status in (401, 403):
        return "(check the user and password)"
    if status == 404:
        return "(is this a GWS node? the CometD endpoint is /api/v2/notifications)"
    if status >= 500:
        return "(GWS or a load balancer is failing)"
    return ""
