"""A scriptable GWS + Bayeux look-alike for the stream's hostile-server tests.

It listens on a free loopback port and speaks HTTP/1.1 by hand (asyncio streams), so that a
scenario can make it misbehave in ways a real framework would not let it: reset a connection
(RST) mid-request, never answer, answer with broken or huge bodies, go away and come back on
the same port. Unless a scenario's `script` says otherwise it is a small, correct Bayeux
server (CometD's rules: first connect and `advice.timeout: 0` answered at once, others held
until an event or the timeout, 402 + handshake advice for an unknown client, sessions swept
after interval + maxInterval) with just enough REST (`GET /api/v2/me`) for the CLI to start.

Every request it reads is recorded (`requests`) with the time it arrived and the time it was
answered; connection attempts while it is "down" are counted too (`refused_at`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import socket
import ssl
import struct
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

__all__ = ["HostileServer", "LoopbackProxy", "Seen", "Reply", "Reset", "Hang", "Delay"]


@dataclass
class Seen:
    """One request the server read."""

    at: float
    """time.monotonic() when it was read."""
    method: str
    path: str
    body: bytes
    messages: list[dict[str, Any]]
    """Its Bayeux messages (empty for REST or a body that is not a list of objects)."""
    headers: dict[str, str] = field(default_factory=dict)
    """Its headers, names in lower case."""
    answered_at: float | None = None
    """time.monotonic() when the reply was written (None: no reply)."""
    outcome: str = ""
    """What the server did: replied, reset, hung."""

    @property
    def channel(self) -> str | None:
        return str(self.messages[0].get("channel")) if self.messages else None

    @property
    def client_id(self) -> str | None:
        return self.messages[0].get("clientId") if self.messages else None


@dataclass
class Reply:
    """Answer with this body (a JSON-able value, or bytes/str as is) and status."""

    body: Any
    status: int = 200
    content_type: str = "application/json"
    headers: list[str] = field(default_factory=list)
    """More header lines (`Name: value`)."""
    trickle_s: float = 0.0
    """When > 0, the body is written one byte at a time, this many seconds apart."""


@dataclass
class Reset:
    """Drop the connection with a TCP reset, no reply."""


@dataclass
class Hang:
    """Never answer (until the client gives up or the server restarts)."""


@dataclass
class Delay:
    """Wait, then behave normally."""

    seconds: float


Action = Reply | Reset | Hang | Delay
Script = Callable[[Seen], "Action | None | Awaitable[Action | None]"]


@dataclass
class _Session:
    client_id: str
    subscriptions: list[str] = field(default_factory=list)
    queue: list[dict[str, Any]] = field(default_factory=list)
    waiter: asyncio.Future[None] | None = None
    last_seen: float = field(default_factory=time.monotonic)
    connected: bool = False


class HostileServer:
    """See the module docstring. Times are in seconds unless named _ms."""

    def __init__(self, *, timeout_ms: int = 1000, interval_ms: int = 0,
                 max_interval_ms: int = 5000, tls: ssl.SSLContext | None = None) -> None:
        self.tls = tls
        self.timeout_ms = timeout_ms
        self.interval_ms = interval_ms
        self.max_interval_ms = max_interval_ms
        self.script: Script | None = None
        self.requests: list[Seen] = []
        self.refused_at: list[float] = []
        """Connection attempts reset at once while down (mode "reset")."""
        self.sessions: dict[str, _Session] = {}
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._down: str | None = None
        self._blackhole = False
        self._hanging: set[asyncio.Future[None]] = set()
        self._handlers: set[asyncio.Task[Any]] = set()

    # -- lifecycle -------------------------------------------------------------------------
    async def __aenter__(self) -> HostileServer:
        await self._listen()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port,
                                                  reuse_address=True, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self._drop_connections()
        for session in self.sessions.values():
            if session.waiter is not None and not session.waiter.done():
                session.waiter.set_result(None)
        if self._handlers:
            await asyncio.wait(list(self._handlers), timeout=2)
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
            self._server = None

    def _drop_connections(self) -> None:
        for writer in list(self._writers):
            _reset(writer)
        self._writers.clear()
        for hanging in list(self._hanging):
            if not hanging.done():
                hanging.set_result(None)

    async def restart(self, down_s: float = 0.0, mode: str = "reset") -> None:
        """A node killed (-9) and started again after `down_s`: every connection reset, every
        session lost. While down, connections are reset at once and counted ("reset") or
        refused by the kernel ("refuse")."""
        self.sessions.clear()
        self._drop_connections()
        if down_s <= 0:
            return
        if mode == "refuse":
            assert self._server is not None
            self._server.close()
            await asyncio.sleep(down_s)
            await self._listen()
        else:
            self._down = mode
            await asyncio.sleep(down_s)
            self._down = None

    async def blackhole(self, seconds: float) -> None:
        """Requests arrive but nothing comes back (sessions and their queues are kept)."""
        self._blackhole = True
        for session in self.sessions.values():  # a held connect goes silent too
            if session.waiter is not None and not session.waiter.done():
                session.waiter.set_exception(_Swallowed())
        await asyncio.sleep(seconds)
        self._blackhole = False

    # -- what tests look at ----------------------------------------------------------------
    def seen(self, channel: str) -> list[Seen]:
        return [r for r in self.requests if r.channel == channel]

    def seen_path(self, path: str) -> list[Seen]:
        return [r for r in self.requests if r.path == path]

    def subscribes_per_session(self) -> dict[tuple[str, str], int]:
        """(clientId, channel) -> how many subscribe messages the server read."""
        counts: dict[tuple[str, str], int] = {}
        for request in self.seen("/meta/subscribe"):
            for message in request.messages:
                key = (str(message.get("clientId")), str(message.get("subscription")))
                counts[key] = counts.get(key, 0) + 1
        return counts

    def publish(self, channel: str, data: dict[str, Any]) -> int:
        count = 0
        for session in self.sessions.values():
            if any(_matches(pattern, channel) for pattern in session.subscriptions):
                session.queue.append({"channel": channel, "data": data})
                count += 1
                if session.waiter is not None and not session.waiter.done():
                    session.waiter.set_result(None)
        return count

    # -- HTTP ------------------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._down == "reset":
            self.refused_at.append(time.monotonic())
            _reset(writer)
            return
        self._writers.add(writer)
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                    lines = head.decode("latin-1").split("\r\n")
                    method, path, _ = lines[0].split(" ", 2)
                    headers = {k.strip().lower(): v.strip() for k, _, v in
                               (line.partition(":") for line in lines[1:] if line)}
                    length = int(headers.get("content-length", "0"))
                    body = await reader.readexactly(length) if length else b""
                except (asyncio.IncompleteReadError, ConnectionError, ValueError,
                        asyncio.LimitOverrunError, ssl.SSLError):
                    return
                if path.startswith(("http://", "https://")):  # absolute form, from a proxy
                    path = urlsplit(path).path
                seen = Seen(time.monotonic(), method, path.split("?")[0], body, _messages(body),
                            headers)
                self.requests.append(seen)
                answer = await self._answer(seen)
                if isinstance(answer, Reset):
                    seen.outcome = "reset"
                    _reset(writer)
                    return
                if isinstance(answer, Hang):
                    seen.outcome = "hung"
                    await self._hang(reader)
                    _reset(writer)
                    return
                status, content, extra, trickle_s = answer
                head_out = [f"HTTP/1.1 {status} X", f"Content-Length: {len(content)}",
                            *extra]
                try:
                    head_bytes = ("\r\n".join(head_out) + "\r\n\r\n").encode("latin-1")
                    if trickle_s > 0:
                        writer.write(head_bytes)
                        for byte in content:
                            await writer.drain()
                            await asyncio.sleep(trickle_s)
                            writer.write(bytes([byte]))
                    else:
                        writer.write(head_bytes + content)
                    await writer.drain()
                except ConnectionError:
                    return
                seen.answered_at = time.monotonic()
                seen.outcome = "replied"
        finally:
            self._handlers.discard(task)
            self._writers.discard(writer)
            writer.close()

    async def _hang(self, reader: asyncio.StreamReader) -> None:
        hanging: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._hanging.add(hanging)
        client_gone = asyncio.ensure_future(reader.read(1))
        try:
            await asyncio.wait([hanging, client_gone], return_when=asyncio.FIRST_COMPLETED)
        finally:
            client_gone.cancel()
            self._hanging.discard(hanging)

    async def _answer(self, seen: Seen) -> tuple[int, bytes, list[str], float] | Reset | Hang:
        if self._blackhole:
            return Hang()
        action: Action | None = None
        if self.script is not None:
            result = self.script(seen)
            action = await result if asyncio.iscoroutine(result) else result  # type: ignore[assignment]
        if isinstance(action, Delay):
            await asyncio.sleep(action.seconds)
            action = None
        if isinstance(action, (Reset, Hang)):
            return action
        if isinstance(action, Reply):
            body = action.body
            content = body if isinstance(body, bytes) else (
                body.encode() if isinstance(body, str) else json.dumps(body).encode())
            return action.status, content, [f"Content-Type: {action.content_type}",
                                            *action.headers], action.trickle_s
        if seen.path.endswith("/notifications"):
            try:
                replies = await self._bayeux(seen.messages)
            except _Swallowed:
                return Hang()
            return 200, json.dumps(replies).encode(), ["Content-Type: application/json"], 0.0
        if seen.method == "GET" and seen.path == "/api/v2/me":
            user = {"userName": "agent", "devices": [{"id": "d1", "path": "/devices/d1"}],
                    "features": ["api-voice-outbound"]}
            return 200, json.dumps({"statusCode": 0, "user": user}).encode(), [
                "Content-Type: application/json", "Set-Cookie: JSESSIONID=S1; Path=/",
                "X-CSRF-HEADER: X-CSRF-TOKEN", "X-CSRF-TOKEN: T1"], 0.0
        if seen.method == "POST" and seen.path == "/api/v2/me/outbound-records":
            if seen.headers.get("x-csrf-token") != "T1":
                return 403, b'{"statusCode": 3, "statusMessage": "Missing or invalid Csrf token"}', [
                    "Content-Type: application/json"], 0.0
            return 200, b'{"statusCode": 0}', ["Content-Type: application/json"], 0.0
        return 404, b'{"statusCode": 6}', ["Content-Type: application/json"], 0.0

    # -- Bayeux ----------------------------------------------------------------------------
    def _advice(self) -> dict[str, Any]:
        return {"reconnect": "retry", "interval": self.interval_ms, "timeout": self.timeout_ms}

    def _session(self, client_id: Any) -> _Session | None:
        session = self.sessions.get(client_id) if isinstance(client_id, str) else None
        limit = (self.interval_ms + self.max_interval_ms) / 1000
        if session is not None and (session.waiter is None or session.waiter.done()) \
                and time.monotonic() - session.last_seen > limit:
            del self.sessions[session.client_id]  # swept
            return None
        return session

    async def _bayeux(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        replies: list[dict[str, Any]] = []
        for message in messages:
            channel = message.get("channel")
            base = {"channel": channel, "id": message.get("id")}
            if channel == "/meta/handshake":
                session = _Session(secrets.token_hex(8))
                self.sessions[session.client_id] = session
                replies.append({**base, "successful": True, "version": "1.0",
                                "supportedConnectionTypes": ["long-polling"],
                                "clientId": session.client_id, "advice": self._advice()})
                continue
            session = self._session(message.get("clientId"))
            if session is None:
                replies.append({**base, "successful": False, "error": "402::session_unknown",
                                "advice": {"reconnect": "handshake", "interval": 0}})
                continue
            if channel == "/meta/subscribe":
                session.subscriptions.append(str(message.get("subscription")))
                replies.append({**base, "successful": True,
                                "subscription": message.get("subscription")})
            elif channel == "/meta/disconnect":
                self.sessions.pop(session.client_id, None)
                replies.append({**base, "successful": True})
            elif channel == "/meta/connect":
                replies.extend(await self._connect(message, session, base))
        return replies

    async def _connect(self, message: dict[str, Any], session: _Session,
                       base: dict[str, Any]) -> list[dict[str, Any]]:
        advice = message.get("advice")
        now_please = isinstance(advice, dict) and advice.get("timeout") == 0
        first = not session.connected
        session.connected = True
        if not (first or now_please or session.queue):
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            session.waiter = waiter
            try:
                await asyncio.wait_for(asyncio.shield(waiter), self.timeout_ms / 1000)
            except asyncio.TimeoutError:
                pass
            finally:
                session.waiter = None
        events, session.queue = session.queue, []
        session.last_seen = time.monotonic()
        return [*events, {**base, "successful": True, "advice": self._advice()}]


class _Swallowed(Exception):
    """A held connect caught by a blackhole: it never answers."""


def _messages(body: bytes) -> list[dict[str, Any]]:
    try:
        value = json.loads(body) if body else []
    except ValueError:
        return []
    return [m for m in value if isinstance(m, dict)] if isinstance(value, list) else []


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST (SO_LINGER 0), as a killed process's kernel would."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class LoopbackProxy:
    """An HTTP proxy on loopback: CONNECT tunnels and absolute-form requests, each piped to
    its target. `asked` lists the first line of every connection it was given."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> LoopbackProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            first = head.split(b"\r\n", 1)[0].decode("latin-1")
            self.asked.append(first)
            method, target, _ = first.split(" ", 2)
            if method == "CONNECT":
                host, port = target.rsplit(":", 1)
                up_reader, up_writer = await asyncio.open_connection(host, int(port))
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            else:
                parts = urlsplit(target)
                up_reader, up_writer = await asyncio.open_connection(parts.hostname, parts.port)
                up_writer.write(head)
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        except (ConnectionError, asyncio.IncompleteReadError, ValueError, OSError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


def _matches(pattern: str, channel: str) -> bool:
    """Bayeux channel globbing: `/a/*` matches one more segment, `/a/**` any number."""
    if pattern.endswith("/**"):
        return channel.startswith(pattern[:-2])
    if pattern.endswith("/*"):
        head = pattern[:-1]
        return channel.startswith(head) and "/" not in channel[len(head):]
    return pattern == channel
