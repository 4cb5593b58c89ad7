"""The Bayeux protocol as our CometD client speaks it: the messages it sends, the replies it
accepts, and the server's advice (shared/reference/bayeux.md). No I/O here: the stream
(console/gws/stream.py) does the HTTP and the timing.

A reply is accepted only when it is a JSON array of objects whose meta answer to our request
has a boolean `successful`, the request's `id` (when it carries one), an `advice` object of
well-typed fields, and (for a handshake) a `clientId`. Anything else is a `MalformedReply`
that carries a truncated copy of what came, for the status line and the journal.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, replace
from typing import Any

__all__ = ["Advice", "MalformedReply", "MetaReply", "Oversized", "parse_reply", "meta_reply", "snippet",
           "handshake", "connect", "subscribe", "disconnect", "MAX_INTERVAL_MS",
           "MAX_TIMEOUT_MS"]

#: Advice past these is taken as these: a server cannot make the client sleep for days, nor
#: make it wait that long before noticing a stuck poll.
MAX_INTERVAL_MS = 60_000
MAX_TIMEOUT_MS = 300_000
_RECONNECT = ("retry", "handshake", "none")


class MalformedReply(Exception):
    """A reply that does not follow Bayeux (the message says how, with a truncated copy)."""


@dataclass(frozen=True)
class Advice:
    """What the server advises; each reply's advice replaces the fields it names."""

    reconnect: str = "retry"
    """retry (connect again), handshake (new session), none (stop)."""
    interval_ms: int = 0
    """Wait this long after a connect reply before the next connect."""
    timeout_ms: int = 30_000
    """How long the server may hold a connect."""
    multiple_clients: bool = False
    """The server saw several clients of one browser (it then sets an interval)."""

    def updated(self, raw: dict[str, Any]) -> Advice:
        """This advice with the fields of a validated advice object replaced."""
        changes: dict[str, Any] = {}
        if "reconnect" in raw:
            changes["reconnect"] = raw["reconnect"]
        if "interval" in raw:
            changes["interval_ms"] = min(int(raw["interval"]), MAX_INTERVAL_MS)
        if "timeout" in raw:
            changes["timeout_ms"] = min(int(raw["timeout"]), MAX_TIMEOUT_MS)
        if "multiple-clients" in raw:
            changes["multiple_clients"] = raw["multiple-clients"]
        return replace(self, **changes) if changes else self


class MetaReply:
    """The server's answer to one of our meta messages (a plain class, read-only by
    convention: a dataclass costs ~1 ms of every start, and nothing compares or prints it)."""

    __slots__ = ("successful", "message", "advice")

    def __init__(self, successful: bool, message: dict[str, Any],
                 advice: dict[str, Any] | None) -> None:
        self.successful = successful
        """The server did what was asked."""
        self.message = message
        """The answer as received."""
        self.advice = advice
        """Its advice, validated, or None when it had none."""

    @property
    def error(self) -> str:
        error = self.message.get("error")
        return error if isinstance(error, str) and error else "no reason given"


def snippet(raw: bytes | str, limit: int = 160) -> str:
    """A truncated, printable copy of what the server sent."""
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    short = text[:limit].replace("\n", " ").replace("\r", " ")
    more = f"... ({len(raw):,} bytes)" if len(text) > limit else ""
    return repr(short) + more


def parse_reply(raw: bytes, max_message: int) -> tuple[list[dict[str, Any]], list[Oversized]]:
    """The messages of a reply (a JSON array of objects, nothing else), without those longer
    than `max_message` characters, which are listed apart (channel and size)."""
    if len(raw) <= max_message:  # no message can be over the limit: the fast path
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            raise MalformedReply(f"not JSON: {snippet(raw)}") from None
        if not isinstance(body, list):
            raise MalformedReply(f"not a JSON array of messages: {snippet(raw)}")
        if not all(isinstance(m, dict) for m in body):
            raise MalformedReply(f"an element is not a message object: {snippet(raw)}")
        return body, []
    return _parse_elements(raw, max_message)


@dataclass(frozen=True)
class Oversized:
    """A message left out of a reply for its size."""

    channel: str
    """Its channel (as far as it says)."""
    size: int
    """Its length in characters of JSON."""


_SPACE = re.compile(r"[ \t\n\r]*")


def _parse_elements(raw: bytes, max_message: int) -> tuple[list[dict[str, Any]], list[Oversized]]:
    """A big reply element by element, measuring each (json's own scanner, no copy)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedReply(f"not UTF-8 JSON: {snippet(raw)}") from None
    decoder = json.JSONDecoder()
    at = _SPACE.match(text, 0).end()  # type: ignore[union-attr]
    if text[at:at + 1] != "[":
        raise MalformedReply(f"not a JSON array of messages: {snippet(raw)}")
    at = _SPACE.match(text, at + 1).end()  # type: ignore[union-attr]
    messages: list[dict[str, Any]] = []
    oversized: list[Oversized] = []
    if text[at:at + 1] == "]":
        return messages, oversized
    while True:
        try:
            message, end = decoder.raw_decode(text, at)
        except (ValueError, RecursionError):
            raise MalformedReply(f"not JSON: {snippet(raw)}") from None
        if not isinstance(message, dict):
            raise MalformedReply(f"an element is not a message object: {snippet(raw)}")
        if end - at > max_message:
            oversized.append(Oversized(str(message.get("channel"))[:200], end - at))
        else:
            messages.append(message)
        at = _SPACE.match(text, end).end()  # type: ignore[union-attr]
        mark = text[at:at + 1]
        if mark == "]" and not text[at + 1:].strip(" \t\n\r"):
            return messages, oversized
        if mark != ",":
            raise MalformedReply(f"not JSON: {snippet(raw)}")
        at = _SPACE.match(text, at + 1).end()  # type: ignore[union-attr]


def meta_reply(messages: list[dict[str, Any]], channel: str, message_id: str, raw: bytes,
               subscription: str | None = None) -> MetaReply:
    """The well-formed answer to our `channel` message `message_id` (matched by id, or by
    `subscription` when the server leaves the id out), or MalformedReply."""
    ours = [m for m in messages if m.get("channel") == channel]
    answers = [m for m in ours if m.get("id") == message_id or "id" not in m and (
        subscription is None or m.get("subscription") == subscription)]
    if not answers:
        if ours:
            raise MalformedReply(f"{channel} answer with id {ours[0].get('id')!r:.40} for our "
                                 f"id {message_id!r}: {snippet(raw)}")
        raise MalformedReply(f"no {channel} answer: {snippet(raw)}")
    answer = answers[0]
    successful = answer.get("successful")
    if not isinstance(successful, bool):
        raise MalformedReply(f"{channel} answer without a boolean 'successful': {snippet(raw)}")
    advice = _advice(answer, raw)
    if channel == "/meta/handshake" and successful:
        client_id = answer.get("clientId")
        if not isinstance(client_id, str) or not client_id or len(client_id) > 256:
            raise MalformedReply(f"handshake answer without a clientId: {snippet(raw)}")
    return MetaReply(successful, answer, advice)


def _advice(answer: dict[str, Any], raw: bytes) -> dict[str, Any] | None:
    if "advice" not in answer:
        return None
    advice = answer["advice"]
    if not isinstance(advice, dict):
        raise MalformedReply(f"'advice' is not an object: {snippet(raw)}")
    reconnect = advice.get("reconnect", "retry")
    if reconnect not in _RECONNECT:
        raise MalformedReply(f"advice reconnect {reconnect!r:.40} is not retry, handshake or "
                             f"none: {snippet(raw)}")
    for key in ("interval", "timeout"):
        if key in advice and not _milliseconds(advice[key]):
            raise MalformedReply(f"advice {key} {advice[key]!r:.40} is not a number of "
                                 f"milliseconds: {snippet(raw)}")
    if not isinstance(advice.get("multiple-clients", False), bool):
        raise MalformedReply(f"advice multiple-clients is not true/false: {snippet(raw)}")
    return advice


def _milliseconds(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value) and value >= 0)


# -- the messages we send ------------------------------------------------------------------
def handshake(message_id: str) -> dict[str, Any]:
    return {"channel": "/meta/handshake", "version": "1.0", "minimumVersion": "1.0",
            "supportedConnectionTypes": ["long-polling"], "id": message_id}


def connect(client_id: str, message_id: str, answer_at_once: bool) -> dict[str, Any]:
    """A connect; `answer_at_once` (the first after a handshake) asks the server not to hold
    it (`advice.timeout: 0`)."""
    message: dict[str, Any] = {"channel": "/meta/connect", "clientId": client_id,
                               "connectionType": "long-polling", "id": message_id}
    if answer_at_once:
        message["advice"] = {"timeout": 0}
    return message


def subscribe(client_id: str, channel: str, message_id: str) -> dict[str, Any]:
    return {"channel": "/meta/subscribe", "clientId": client_id, "subscription": channel,
            "id": message_id}


def disconnect(client_id: str, message_id: str) -> dict[str, Any]:
    return {"channel": "/meta/disconnect", "clientId": client_id, "id": message_id}
