"""console/gws/bayeux.py on its own (no I/O): which replies are accepted, how advice is read
and bounded, and the messages we send. Fast, so that tools/mutate.py can run it per mutant;
the stream's behaviour on the wire is in test_stream.py and test_stream_hostile.py."""

from __future__ import annotations

import json
from typing import Any

import pytest

from console.gws import bayeux
from console.gws.bayeux import Advice, MalformedReply, meta_reply, parse_reply


def raw(messages: Any) -> bytes:
    return json.dumps(messages).encode()


def answer(channel: str = "/meta/connect", **fields: Any) -> dict[str, Any]:
    return {"channel": channel, "id": "7", "successful": True, **fields}


# -- advice ---------------------------------------------------------------------------------------
def test_the_default_advice() -> None:
    assert Advice() == Advice(reconnect="retry", interval_ms=0, timeout_ms=30_000,
                              multiple_clients=False)


def test_advice_replaces_only_what_it_names_and_is_bounded() -> None:
    base = Advice()
    assert base.updated({}) is base
    changed = base.updated({"interval": 2000, "multiple-clients": True})
    assert changed == Advice(interval_ms=2000, multiple_clients=True)
    assert changed.updated({"reconnect": "handshake"}) == Advice(
        reconnect="handshake", interval_ms=2000, multiple_clients=True)
    assert base.updated({"timeout": 45_000}).timeout_ms == 45_000
    assert base.updated({"interval": 2.9}).interval_ms == 2  # whole milliseconds
    assert base.updated({"interval": 60_000}).interval_ms == 60_000
    assert base.updated({"interval": 60_001}).interval_ms == 60_000 == bayeux.MAX_INTERVAL_MS
    assert base.updated({"timeout": 300_000}).timeout_ms == 300_000
    assert base.updated({"timeout": 10**9}).timeout_ms == 300_000 == bayeux.MAX_TIMEOUT_MS


@pytest.mark.parametrize(("advice", "words"), [
    ("retry", "'advice' is not an object"),
    ({"reconnect": "later"}, "advice reconnect 'later' is not retry"),
    ({"interval": -1}, "advice interval -1 is not a number"),
    ({"interval": True}, "advice interval True"),
    ({"timeout": "30000"}, "advice timeout '30000'"),
    ({"timeout": float("nan")}, "advice timeout nan"),
    ({"timeout": float("inf")}, "advice timeout inf"),
    ({"multiple-clients": "yes"}, "multiple-clients is not true/false"),
])
def test_bad_advice_is_a_malformed_reply(advice: Any, words: str) -> None:
    reply = [answer(advice=advice)]
    with pytest.raises(MalformedReply, match=words):
        meta_reply(reply, "/meta/connect", "7", raw(reply))


@pytest.mark.parametrize("advice", [
    {}, {"reconnect": "retry"}, {"reconnect": "handshake"}, {"reconnect": "none"},
    {"interval": 0, "timeout": 0}, {"interval": 1.5}, {"multiple-clients": False},
])
def test_good_advice_is_kept_as_sent(advice: dict[str, Any]) -> None:
    reply = [answer(advice=advice)]
    assert meta_reply(reply, "/meta/connect", "7", raw(reply)).advice == advice


# -- meta replies ---------------------------------------------------------------------------------
def test_the_answer_is_found_by_id_among_events_and_other_answers() -> None:
    reply = [{"channel": "/v2/me/outbound", "data": {}},
             answer(id="6", successful=False), answer(id="7", advice={"interval": 5})]
    got = meta_reply(reply, "/meta/connect", "7", raw(reply))
    assert got.successful is True and got.message is reply[2]
    assert got.advice == {"interval": 5}
    assert got.error == "no reason given"


def test_an_answer_without_id_is_matched_by_its_subscription() -> None:
    reply = [{"channel": "/meta/subscribe", "successful": True, "subscription": "/a"},
             {"channel": "/meta/subscribe", "successful": False, "subscription": "/b",
              "error": "403::denied"}]
    assert meta_reply(reply, "/meta/subscribe", "1", raw(reply), "/b").message is reply[1]
    refused = meta_reply(reply, "/meta/subscribe", "1", raw(reply), "/b")
    assert refused.successful is False and refused.error == "403::denied"
    assert meta_reply(reply, "/meta/subscribe", "1", raw(reply), "/a").successful is True
    # Without a subscription to match, the first id-less answer is ours.
    assert meta_reply(reply, "/meta/subscribe", "1", raw(reply)).message is reply[0]


def test_an_answer_for_another_id_or_none_at_all_is_malformed() -> None:
    reply = [answer(id="6")]
    with pytest.raises(MalformedReply, match="answer with id '6' for our id '7'"):
        meta_reply(reply, "/meta/connect", "7", raw(reply))
    with pytest.raises(MalformedReply, match="no /meta/handshake answer"):
        meta_reply(reply, "/meta/handshake", "7", raw(reply))


@pytest.mark.parametrize("successful", ["yes", None, 1, "true"])
def test_successful_must_be_a_boolean(successful: Any) -> None:
    reply = [answer(successful=successful)]
    with pytest.raises(MalformedReply, match="without a boolean 'successful'"):
        meta_reply(reply, "/meta/connect", "7", raw(reply))


@pytest.mark.parametrize("client_id", [None, "", 42, "x" * 257])
def test_a_successful_handshake_needs_a_client_id(client_id: Any) -> None:
    reply = [answer("/meta/handshake", clientId=client_id)]
    with pytest.raises(MalformedReply, match="without a clientId"):
        meta_reply(reply, "/meta/handshake", "7", raw(reply))


def test_handshake_client_ids_that_are_fine() -> None:
    for client_id in ("a", "x" * 256):
        reply = [answer("/meta/handshake", clientId=client_id)]
        assert meta_reply(reply, "/meta/handshake", "7", raw(reply)).message["clientId"] == client_id
    refused = [answer("/meta/handshake", successful=False, error="403::denied")]
    assert meta_reply(refused, "/meta/handshake", "7", raw(refused)).successful is False
    no_id_needed = [answer("/meta/connect", clientId=None)]
    assert meta_reply(no_id_needed, "/meta/connect", "7", raw(no_id_needed)).successful


# -- parsing replies ------------------------------------------------------------------------------
@pytest.mark.parametrize("limit", [10**6, 30], ids=["whole", "element-by-element"])
def test_a_reply_is_a_json_array_of_objects(limit: int) -> None:
    messages = [{"channel": "/a", "n": 1}, {"channel": "/b"}]
    body = b' \n[ {"channel": "/a", "n": 1} ,\r\n\t{"channel": "/b"} ] \n'
    assert parse_reply(body, limit) == (messages, [])
    assert parse_reply(b"[]", limit) == ([], [])
    assert parse_reply(b" [ ] ", limit) == ([], [])


@pytest.mark.parametrize("limit", [10**6, 3], ids=["whole", "element-by-element"])
@pytest.mark.parametrize(("body", "words"), [
    (b"<html>502 Bad Gateway</html>", "not "),
    (b'{"channel": "/a"}', "not a JSON array of messages"),
    (b'[{"channel": "/a"}, 3]', "an element is not a message object"),
    (b'[{"channel": "/a"}', "not JSON"),
    (b'[{"channel": "/a"}] x', "not JSON"),
    (b'[{"channel": "/a"} {"channel": "/b"}]', "not JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "not JSON|an element is not"),
])
def test_what_is_not_a_reply_is_malformed(body: bytes, words: str, limit: int) -> None:
    with pytest.raises(MalformedReply, match=words):
        parse_reply(body, limit)


def test_not_utf8_is_malformed() -> None:
    with pytest.raises(MalformedReply, match="not UTF-8 JSON"):
        parse_reply(b'[{"channel": "\xff\xfe"}]', 5)
    with pytest.raises(MalformedReply, match="not JSON"):
        parse_reply(b'[{"channel": "\xff\xfe"}]', 10**6)


def test_a_message_over_the_limit_is_left_out_and_named() -> None:
    small = {"channel": "/meta/connect", "id": "1", "successful": True}
    big = {"channel": "/v2/me/outbound", "data": {"pad": "x" * 500}}
    body = raw([small, big, small])
    limit = len(json.dumps(small))  # exactly the small one's size: kept
    messages, oversized = parse_reply(body, limit)
    assert messages == [small, small]
    assert oversized == [bayeux.Oversized("/v2/me/outbound", len(json.dumps(big)))]
    nameless = raw([["not", "a", "message"]])
    with pytest.raises(MalformedReply, match="an element is not a message object"):
        parse_reply(nameless, 5)


def test_the_limit_is_inclusive_on_the_fast_path() -> None:
    body = raw([{"channel": "/a"}])
    assert parse_reply(body, len(body)) == ([{"channel": "/a"}], [])


def test_snippet_is_short_and_printable() -> None:
    assert bayeux.snippet(b"a\nb\rc") == "'a b c'"
    long = b"x" * 200
    text = bayeux.snippet(long)
    assert text == repr("x" * 160) + "... (200 bytes)"
    assert bayeux.snippet("y" * 160) == repr("y" * 160)
    assert bayeux.snippet(b"y" * 10, limit=4) == "'yyyy'... (10 bytes)"
    assert bayeux.snippet(b"\xff") == repr("\ufffd")


# -- what we send ---------------------------------------------------------------------------------
def test_the_messages_we_send() -> None:
    assert bayeux.handshake("1") == {
        "channel": "/meta/handshake", "version": "1.0", "minimumVersion": "1.0",
        "supportedConnectionTypes": ["long-polling"], "id": "1"}
    assert bayeux.connect("c", "2", answer_at_once=False) == {
        "channel": "/meta/connect", "clientId": "c", "connectionType": "long-polling", "id": "2"}
    assert bayeux.connect("c", "3", answer_at_once=True)["advice"] == {"timeout": 0}
    assert bayeux.subscribe("c", "/v2/me/outbound", "4") == {
        "channel": "/meta/subscribe", "clientId": "c", "subscription": "/v2/me/outbound",
        "id": "4"}
    assert bayeux.disconnect("c", "5") == {"channel": "/meta/disconnect", "clientId": "c",
                                           "id": "5"}


@pytest.mark.parametrize("error", ["", 42, None])
def test_a_refusal_without_a_usable_error_says_so(error: Any) -> None:
    reply = [answer(successful=False, error=error)]
    assert meta_reply(reply, "/meta/connect", "7", raw(reply)).error == "no reason given"


def test_an_empty_array_read_element_by_element() -> None:
    assert parse_reply(b" [ ] ", 1) == ([], [])
    assert parse_reply(b"[]", 1) == ([], [])


def test_element_by_element_without_any_whitespace() -> None:
    body = b'[{"channel":"/a"},{"channel":"/b"}]'
    assert parse_reply(body, 20) == ([{"channel": "/a"}, {"channel": "/b"}], [])
    with pytest.raises(MalformedReply, match="not JSON"):
        parse_reply(b'[{"channel":"/a"}]x', 17)  # 19 bytes: read element by element
