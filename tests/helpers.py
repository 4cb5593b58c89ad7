"""Test tooling: a raw GWS/Bayeux client over real sockets, and polling helpers."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any, Awaitable, Callable

import httpx

from console.domain.events import Event, StreamItem, StreamStatus
from console.gws.stream import EventStream

DATA = Path(__file__).parent / "data"


def sample() -> dict[str, Any]:
    """The documentation sample (request, response, notifications)."""
    return json.loads((DATA / "create-record-sample.json").read_text())


def sample_request(**changes: Any) -> dict[str, Any]:
    body = dict(sample()["request"])
    for key, value in changes.items():
        if value is ...:
            body.pop(key, None)
        else:
            body[key] = value
    return body


async def eventually(check: Callable[[], Any | Awaitable[Any]], timeout: float = 5.0,
                     interval: float = 0.02) -> Any:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last value {value!r})")
        await asyncio.sleep(interval)


class Gws:
    """A plain GWS REST client for tests: Basic auth, cookie and CSRF kept by hand."""

    def __init__(self, url: str, user: str, password: str) -> None:
        self.http = httpx.AsyncClient(base_url=url, auth=(user, password), timeout=10.0)
        self.csrf: dict[str, str] = {}

    async def start(self) -> httpx.Response:
        reply = await self.http.get("/api/v2/me", params={"subresources": "*"})
        name = reply.headers.get("X-CSRF-HEADER")
        if name:
            self.csrf = {name: reply.headers["X-CSRF-TOKEN"]}
        return reply

    async def add_record(self, body: Any) -> httpx.Response:
        return await self.http.post("/api/v2/me/outbound-records", json=body, headers=self.csrf)

    async def close(self) -> None:
        await self.http.aclose()


class RawBayeux:
    """Hand-built Bayeux messages over httpx, to test the server's rules one by one."""

    def __init__(self, url: str, user: str, password: str) -> None:
        self.http = httpx.AsyncClient(base_url=url, auth=(user, password), timeout=40.0)
        self.client_id: str | None = None
        self._id = 0

    def next_id(self) -> str:
        self._id += 1
        return str(self._id)

    async def post(self, payload: Any) -> httpx.Response:
        content = payload if isinstance(payload, (str, bytes)) else json.dumps(payload)
        return await self.http.post("/api/v2/notifications", content=content,
                                    headers={"Content-Type": "application/json"})

    async def send(self, *messages: dict[str, Any]) -> list[dict[str, Any]]:
        reply = await self.post(list(messages))
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert isinstance(body, list)
        return body

    async def handshake(self) -> dict[str, Any]:
        [answer] = await self.send({"channel": "/meta/handshake", "version": "1.0",
                                    "supportedConnectionTypes": ["long-polling"],
                                    "id": self.next_id()})
        assert answer["successful"], answer
        self.client_id = answer["clientId"]
        return answer

    async def connect(self, timeout0: bool = False) -> list[dict[str, Any]]:
        message: dict[str, Any] = {"channel": "/meta/connect", "clientId": self.client_id,
                                   "connectionType": "long-polling", "id": self.next_id()}
        if timeout0:
            message["advice"] = {"timeout": 0}
        return await self.send(message)

    async def subscribe(self, *channels: str) -> list[dict[str, Any]]:
        return await self.send(*[{"channel": "/meta/subscribe", "clientId": self.client_id,
                                  "subscription": c, "id": self.next_id()} for c in channels])

    async def open(self, *channels: str) -> None:
        """Handshake, first connect, subscribe: ready to receive."""
        await self.handshake()
        await self.connect()
        if channels:
            answers = await self.subscribe(*channels)
            assert all(a["successful"] for a in answers), answers

    async def close(self) -> None:
        await self.http.aclose()


def events_of(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in messages if not m["channel"].startswith("/meta/")]


def meta_of(messages: list[dict[str, Any]], channel: str) -> dict[str, Any]:
    [answer] = [m for m in messages if m["channel"] == channel]
    return answer


class Collector:
    """Runs a stream and keeps what it yields."""

    def __init__(self, stream: EventStream) -> None:
        self.stream = stream
        self.items: list[StreamItem] = []
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        async for item in self.stream:
            self.items.append(item)

    @property
    def events(self) -> list[Event]:
        return [i for i in self.items if isinstance(i, Event)]

    def statuses(self, kind: str | None = None) -> list[StreamStatus]:
        return [i for i in self.items if isinstance(i, StreamStatus)
                and (kind is None or i.kind == kind)]

    async def close(self) -> None:
        await self.stream.close()
        await asyncio.wait_for(self.task, 5)


def process_ended(pid: int) -> bool:
    """The process is gone, or a zombie (exited; its parent has yet to reap it)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def ended_within(pids: list[int], timeout: float) -> bool:
    """Every process in `pids` ended (`process_ended`) within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not all(process_ended(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def simulator_children(pid: int) -> list[int]:
    """Processes whose parent is `pid` and that run the simulator child."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid and b"console.sim.child" in cmdline:
            found.append(int(entry.name))
    return found


async def read_terminal(master: int, until: bytes | None, timeout: float = 60.0) -> bytes:
    """What the terminal shows until `until` appears (None: until the child closes it)."""
    loop = asyncio.get_running_loop()
    seen = b""
    deadline = time.monotonic() + timeout
    while until is None or until not in seen:
        ready = asyncio.Event()
        loop.add_reader(master, ready.set)
        try:
            await asyncio.wait_for(ready.wait(), max(0.01, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            raise AssertionError(f"{until!r} not seen; got {seen!r}") from None
        finally:
            loop.remove_reader(master)
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    return seen
